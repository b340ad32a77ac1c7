package signing

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/dkim"
)

// TestNewErrors: each configuration that cannot sign is refused with
// the domain and, when one is at fault, the selector.
func TestNewErrors(t *testing.T) {
	testKeys(t)
	dir := t.TempDir()
	good := keyFile(t, dir, "ed", edKey)
	sel := func(name, key string) []Selector { return []Selector{{Selector: name, PrivateKey: key}} }
	for _, c := range []struct {
		name             string
		domains          []Domain
		domain, selector string
		dkimField        string // the *dkim.SignConfigError's Field, "" for none
	}{
		{"no selector", []Domain{{Domain: "example.com"}}, "example.com", "", ""},
		{"empty domain", []Domain{{Domain: " ", Selectors: sel("s", good)}}, " ", "", ""},
		{"twice", []Domain{{Domain: "example.com", Selectors: sel("s", good)}, {Domain: "EXAMPLE.com.", Selectors: sel("t", good)}}, "EXAMPLE.com.", "", ""},
		{"relative key", []Domain{{Domain: "example.com", Selectors: sel("s", "keys/ed.pem")}}, "example.com", "s", ""},
		{"missing key file", []Domain{{Domain: "example.com", Selectors: sel("s2", filepath.Join(dir, "none.pem"))}}, "example.com", "s2", "PrivateKey"},
		{"bad selector", []Domain{{Domain: "example.com", Selectors: sel("bad sel", good)}}, "example.com", "bad sel", "Selector"},
		{"bad domain", []Domain{{Domain: "exa mple.com", Selectors: sel("s", good)}}, "exa mple.com", "", "Domains"},
		{"bad canon", []Domain{{Domain: "example.com", Canon: "loose", Selectors: sel("s", good)}}, "example.com", "", "Canon"},
		{"bad hash", []Domain{{Domain: "example.com", Hash: "md5", Selectors: sel("s", good)}}, "example.com", "", "Hash"},
		{"identity elsewhere", []Domain{{Domain: "example.com", Identity: "a@example.org", Selectors: sel("s", good)}}, "example.com", "", "Identity"},
		{"headers without From", []Domain{{Domain: "example.com", SignHeaders: "Subject:To", Selectors: sel("s", good)}}, "example.com", "", "SignHeaders"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := New(c.domains)
			var ce *ConfigError
			if s != nil || !errors.As(err, &ce) {
				t.Fatalf("New: %v, %v", s, err)
			}
			if ce.Domain != c.domain || ce.Selector != c.selector {
				t.Errorf("error for domain %q selector %q, want %q %q: %v", ce.Domain, ce.Selector, c.domain, c.selector, err)
			}
			if !strings.Contains(err.Error(), c.domain) || (c.selector != "" && !strings.Contains(err.Error(), c.selector)) {
				t.Errorf("message does not name them: %v", err)
			}
			var de *dkim.SignConfigError
			if got := errors.As(err, &de); got != (c.dkimField != "") || (got && de.Field != c.dkimField) {
				t.Errorf("dkim error %v, want field %q", de, c.dkimField)
			}
		})
	}
	// A selector switched off is no error, and signs nothing.
	s, err := New([]Domain{{Domain: "example.com", Selectors: sel("s", "0")}})
	if err != nil {
		t.Fatal(err)
	}
	if o := s.Apply(t.Context(), sec(message("a@example.com"))); o.Header != nil || o.Err != nil || o.Domain != "example.com" {
		t.Errorf("switched-off selector: %+v", o)
	}
}
