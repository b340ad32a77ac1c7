package config

import (
	"reflect"
	"strings"
	"testing"
)

// WriteTOML's output is a configuration file that reads back as the
// same settings, secrets aside.
func TestWriteTOMLRoundTrip(t *testing.T) {
	p := writeFile(t, "mta.toml", `
domains = ["a.example", "b.example"]
relay_from = "<; 2001:db8::/32 ; 192.0.2.0/24"
spool = "/var/spool/mta"
srs_secret = ["s3cret", "older"]
log_level = "warn"
data_timeout = "-1s"
spamd_none_score = 12.5
[[dkim]]
domain = "a.example"
selectors = [{selector = "s1", private_key = "/k1.pem"}, {selector = "s2", private_key = "/k2.pem"}]
timestamps = "72h"
strict = true
`)
	s := mustParse(t, "-config", p, "-max-size", "12345")
	var out strings.Builder
	if err := s.WriteTOML(&out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if strings.Contains(text, "s3cret") || strings.Contains(text, "older") {
		t.Fatalf("secret in the output:\n%s", text)
	}
	if strings.Count(text, Redacted) != 2 {
		t.Fatalf("want two %s:\n%s", Redacted, text)
	}
	for k := range tomlFields(reflect.TypeFor[Settings]()) {
		if !strings.Contains(text, "\n"+k+" = ") && !strings.HasPrefix(text, k+" = ") && !strings.Contains(text, "[["+k+"]]") {
			t.Errorf("output has no %s", k)
		}
	}
	var back Settings
	if err := back.decode("printed", text); err != nil {
		t.Fatalf("%v in\n%s", err, text)
	}
	back.src, s.src = nil, nil
	s.SRSSecret = []string{Redacted, Redacted}
	if !reflect.DeepEqual(back, s) {
		t.Fatalf("read back\n%+v\nwrote\n%+v\n%s", back, s, text)
	}
}
