package config

import (
	"errors"
	"flag"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

// keyErrors flattens a joined error into its *KeyErrors; anything
// else fails the test.
func keyErrors(t *testing.T, err error) []*KeyError {
	t.Helper()
	var out []*KeyError
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var ke *KeyError
		if !errors.As(e, &ke) {
			t.Errorf("error %q (%T) is not a *KeyError", e, e)
			return
		}
		out = append(out, ke)
	}
	if err != nil {
		walk(err)
	}
	return out
}

func hasKey(kes []*KeyError, key string) *KeyError {
	for _, k := range kes {
		if k.Key == key {
			return k
		}
	}
	return nil
}

// writeFile puts text in a file in a fresh temporary directory.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func parse(t *testing.T, args ...string) (Settings, error) {
	t.Helper()
	fs := flag.NewFlagSet("mta", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return Parse(fs, args)
}

func mustParse(t *testing.T, args ...string) Settings {
	t.Helper()
	s, err := parse(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
