package config

import (
	"errors"
	"testing"
)

// FuzzLoad: any text as the configuration file. Decoding never panics
// and fails only with a *SyntaxError or *KeyErrors; what decodes either
// validates or fails with *KeyErrors, each naming a key.
func FuzzLoad(f *testing.F) {
	f.Add(DefaultTOML)
	f.Add("max_size = 5\nmax_data_memory = 1")
	f.Add("max_size = 1099511627776\nmax_data_memory = 0")
	f.Add(`relay_from = "<; ::1 ; 10.0.0.0/8"` + "\nspool = \"/s\"")
	f.Add("[[dkim]]\ndomain = \"example.test\"\nselectors = [{selector = \"s\", private_key = \"k.pem\"}]\ncanon = \"simple/relaxed\"")
	f.Add("tls_certificate = [\"/nonexistent\"]\ntls_ocsp_file = \"<; PEM /a ; DER /b\"")
	f.Add("timeout = 5\ndomains = []\nforward = [\"=\"]\noptin = [\"@=\"]")
	f.Add("dkim = [{selectors = [{}]}, {}]\n[x]\n")
	f.Fuzz(func(t *testing.T, text string) {
		s := Default()
		err := s.decode("fuzz.toml", text)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				checkKeyErrors(t, err)
			}
			return
		}
		s.fill()
		if err := s.Validate(); err != nil {
			checkKeyErrors(t, err)
		}
		// What passed gives the MTA values it can use.
		if err := s.Validate(); err == nil {
			if s.MaxDataMemory < DataMemoryNeed(s.MaxHeaderSize) {
				t.Fatalf("valid with max_data_memory %d below %d", s.MaxDataMemory, DataMemoryNeed(s.MaxHeaderSize))
			}
			if _, err := s.OCSPFiles(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func checkKeyErrors(t *testing.T, err error) {
	t.Helper()
	for _, ke := range keyErrors(t, err) {
		if ke.Key == "" || ke.Err == nil {
			t.Fatalf("KeyError without a key or cause: %#v", ke)
		}
	}
}
