package ocsp

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadOCSPFile feeds random tls_ocsp_file contents through the
// loader, the stapler and the client-side parser; nothing may panic.
func FuzzLoadOCSPFile(f *testing.F) {
	p := newPKI(f)
	good := mkResp(f, p.a, p.ca1, respOpts{})
	f.Add(good, false)
	f.Add(pemResp(good), true)
	f.Add(append(pemResp(mkResp(f, p.b, p.ca2, respOpts{})), pemResp(good)...), true)
	f.Add([]byte("-----BEGIN X-----\nMAMKAQM=\n-----END X-----\n"), true)
	f.Add([]byte{0x30, 0x03, 0x0A, 0x01, 0x01}, false)
	f.Add([]byte{}, false)
	certs := p.certs()
	f.Fuzz(func(t *testing.T, data []byte, isPEM bool) {
		path := filepath.Join(t.TempDir(), "r")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		list := path
		if isPEM {
			list = "PEM " + path
		}
		s, err := NewStapler(StaplerConfig{Certificates: certs, Files: list, Now: fixedNow, AcceptMissingNextUpdate: true})
		if err != nil {
			t.Fatal(err)
		}
		s.Staple(0)
		s.Staple(1)
		if ders, err := DecodeFile(data, isPEM); err == nil {
			for _, der := range ders {
				if pr, err := parseRaw(der); err == nil {
					verify(pr, p.a.cert, p.ca1.cert)
				}
			}
		}
		ParseFileList(string(data))
	})
}

func TestParseFileList(t *testing.T) {
	got, err := ParseFileList("/a : PEM /b:/c : DER /d::x : <e")
	if err != nil {
		t.Fatal(err)
	}
	want := []FileSpec{{"/a", false}, {"/b", true}, {"/c", true}, {"/d:x", false}, {"<e", false}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("item %d: %v, want %v", i, got[i], want[i])
		}
	}
	got, _ = ParseFileList("<; PEM /a:b ; /c")
	if len(got) != 2 || got[0] != (FileSpec{"/a:b", true}) || got[1] != (FileSpec{"/c", true}) {
		t.Errorf("separator change: %v", got)
	}
	if got, _ := ParseFileList("  "); got != nil {
		t.Errorf("empty: %v", got)
	}
	if _, err := ParseFileList("/a : : /b"); err == nil {
		t.Error("empty element accepted")
	}
}
