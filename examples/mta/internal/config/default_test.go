package config

import (
	"reflect"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// The embedded file and Default must say the same: decoded over the
// zero Settings (not over Default, which would hide a missing key), the
// file gives Default exactly.
func TestDefaultTOMLIsDefault(t *testing.T) {
	var got Settings
	if err := got.decode("default.toml", DefaultTOML); err != nil {
		t.Fatal(err)
	}
	got.src = nil
	if want := Default(); !reflect.DeepEqual(got, want) {
		t.Fatalf("default.toml decodes to\n%+v\nDefault() is\n%+v", got, want)
	}
}

// Every key is written out in the embedded file (except dkim, whose
// entries have no default), so an operator copying it sees them all.
func TestDefaultTOMLHasEveryKey(t *testing.T) {
	var m map[string]any
	if _, err := toml.Decode(DefaultTOML, &m); err != nil {
		t.Fatal(err)
	}
	for k := range tomlFields(reflect.TypeFor[Settings]()) {
		if _, ok := m[k]; !ok && k != "dkim" {
			t.Errorf("default.toml has no %s", k)
		}
	}
}

// The commented [[dkim]] example in default.toml is a working entry:
// uncommented, it decodes and gives DefaultDKIM's values where it
// shows the defaults.
func TestDefaultTOMLDKIMExample(t *testing.T) {
	_, example, ok := strings.Cut(DefaultTOML, "# [[dkim]]")
	if !ok {
		t.Fatal("no [[dkim]] example")
	}
	example = "[[dkim]]" + strings.ReplaceAll(example, "\n# ", "\n")
	var s Settings
	if err := s.decode("example", example); err != nil {
		t.Fatal(err)
	}
	if len(s.DKIM) != 1 || len(s.DKIM[0].Selectors) != 2 {
		t.Fatalf("got %+v", s.DKIM)
	}
	e, d := s.DKIM[0], DefaultDKIM()
	if e.Canon != d.Canon || e.Hash != d.Hash || e.Identity != "" || e.Timestamps != 0 || e.Strict {
		t.Fatalf("example's defaults %+v differ from DefaultDKIM %+v", e, d)
	}
}

// With no arguments the MTA gets a working loopback server: the
// defaults pass validation once Parse has filled in the host name.
func TestNoArgumentsIsValid(t *testing.T) {
	s, err := Load(nil, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Listen != "127.0.0.1:2525" || s.Maildir != "./Maildir" || len(s.Domains) != 1 || s.Spool != "" {
		t.Fatalf("got listen %q maildir %q domains %v spool %q", s.Listen, s.Maildir, s.Domains, s.Spool)
	}
	if s.SRSDomain != "example.test" || s.MaxDataMemory != DefaultDataMemory {
		t.Fatalf("not filled in: srs_domain %q max_data_memory %d", s.SRSDomain, s.MaxDataMemory)
	}
}
