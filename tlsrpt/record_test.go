package tlsrpt

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseRecord(t *testing.T) {
	ok := []struct {
		txt  string
		rua  []string
		mail []string
		web  []string
	}{
		{"v=TLSRPTv1; rua=mailto:tlsrpt@example.com", []string{"mailto:tlsrpt@example.com"}, []string{"tlsrpt@example.com"}, nil},
		{"v=TLSRPTv1;rua=https://reports.example.com/v1", []string{"https://reports.example.com/v1"}, nil, []string{"https://reports.example.com/v1"}},
		{"v=TLSRPTv1; rua=mailto:a@example.com, https://r.example.com/x ,mailto:b@example.net;",
			[]string{"mailto:a@example.com", "https://r.example.com/x", "mailto:b@example.net"},
			[]string{"a@example.com", "b@example.net"}, []string{"https://r.example.com/x"}},
		// Extensions are ignored; rua may come after them and twice.
		{"v=TLSRPTv1 ; ext.one=val ; rua=mailto:a@example.com; x-2=y; rua=mailto:c@example.com ",
			[]string{"mailto:a@example.com", "mailto:c@example.com"}, []string{"a@example.com", "c@example.com"}, nil},
		// "," and "!" are percent-encoded in URIs; the address is decoded.
		{"v=TLSRPTv1; rua=mailto:tls%21rpt@example.com?subject=x", []string{"mailto:tls%21rpt@example.com?subject=x"}, []string{"tls!rpt@example.com"}, nil},
		// Other schemes are kept but are no destination of either kind.
		{"v=TLSRPTv1; rua=ftp://x.example/; rua=http://insecure.example/", []string{"ftp://x.example/", "http://insecure.example/"}, nil, nil},
	}
	for _, c := range ok {
		rec, err := ParseRecord(c.txt)
		if err != nil {
			t.Errorf("ParseRecord(%q): %v", c.txt, err)
			continue
		}
		if !slices.Equal(rec.RUA, c.rua) {
			t.Errorf("ParseRecord(%q).RUA = %q, want %q", c.txt, rec.RUA, c.rua)
		}
		if got := rec.MailAddresses(); !slices.Equal(got, c.mail) {
			t.Errorf("ParseRecord(%q).MailAddresses() = %q, want %q", c.txt, got, c.mail)
		}
		if got := rec.HTTPSURLs(); !slices.Equal(got, c.web) {
			t.Errorf("ParseRecord(%q).HTTPSURLs() = %q, want %q", c.txt, got, c.web)
		}
		again, err := ParseRecord(rec.String())
		if err != nil || !slices.Equal(again.RUA, rec.RUA) {
			t.Errorf("ParseRecord(%q.String() = %q) = %v, %v", c.txt, rec.String(), again, err)
		}
	}

	bad := []struct{ txt, reason string }{
		{"v=TLSRPTv1", "no rua"},
		{"v=TLSRPTv1;", "no rua"},
		{"v=TLSRPTv1; ext=1", "no rua"},
		{"v=TLSRPTv1; RUA=mailto:a@example.com", "no rua"}, // %s: names are case-sensitive
		{"v=TLSRPTv1; rua=", "expected a URI"},
		{"v=TLSRPTv1; rua=mailto:a@example.com,", "expected a URI"},
		{"v=TLSRPTv1; rua=nothing-but-a-path", "scheme"},
		{"v=TLSRPTv1; rua=mailto:a@example.com!10m", "unencoded"},
		{"v=TLSRPTv1; rua=mailto:a@example.com junk", "expected \";\""},
		{"v=TLSRPTv1;; rua=mailto:a@example.com", "field name"},
		{"v=TLSRPTv1; =x; rua=mailto:a@example.com", "field name"},
		{"v=TLSRPTv1; ext; rua=mailto:a@example.com", "expected \"=\""},
		{"v=TLSRPTv1; ext=; rua=mailto:a@example.com", "empty field value"},
		{"v=TLSRPTv1; ext=a=b; rua=mailto:a@example.com", "expected \";\""},
		{"v=TLSRPTv1; " + strings.Repeat("a", 33) + "=1; rua=mailto:a@example.com", "longer than 32"},
		{"v=TLSRPTv1; rua=mailto:caf\xc3\xa9@example.com", "expected \";\""},
		{"v=TLSRPTv2; rua=mailto:a@example.com", "does not start"},
		{"v=TLSRPTv10; rua=mailto:a@example.com", "does not start"},
		{"v=tlsrptv1; rua=mailto:a@example.com", "does not start"},
	}
	for _, c := range bad {
		rec, err := ParseRecord(c.txt)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("ParseRecord(%q) = %v, %v; want a *SyntaxError", c.txt, rec, err)
			continue
		}
		if !strings.Contains(se.Reason, c.reason) || se.Record != c.txt || se.Offset < 0 || se.Offset > len(c.txt) {
			t.Errorf("ParseRecord(%q): %+v; want reason with %q", c.txt, se, c.reason)
		}
	}
}

func TestSyntaxErrorQuotes(t *testing.T) {
	_, err := ParseRecord("v=TLSRPTv1; rua=mailto:a@example.com\r\nBcc: x\x00" + strings.Repeat("z", 400))
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\r\n\x00") || len(msg) > 400 {
		t.Errorf("error message %q: control characters or not cut", msg)
	}
}

func FuzzParseRecord(f *testing.F) {
	for _, s := range []string{
		"v=TLSRPTv1; rua=mailto:tlsrpt@example.com",
		"v=TLSRPTv1;rua=mailto:a@example.com,https://r.example.com/x;ext=1;",
		"v=TLSRPTv1 ; rua=mailto:a%21b@example.com ",
		"v=TLSRPTv1",
		"v=spf1 -all",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, txt string) {
		rec, err := ParseRecord(txt)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseRecord(%q): error %T %v is not a *SyntaxError", txt, err, err)
			}
			if se.Offset < 0 || se.Offset > len(txt) {
				t.Fatalf("ParseRecord(%q): offset %d out of range", txt, se.Offset)
			}
			return
		}
		if !isTLSRPT(txt) || len(rec.RUA) == 0 {
			t.Fatalf("ParseRecord(%q) accepted %+v", txt, rec)
		}
		for _, u := range rec.RUA {
			if u == "" || strings.ContainsAny(u, ",;! \t") {
				t.Fatalf("ParseRecord(%q): URI %q", txt, u)
			}
		}
		again, err := ParseRecord(rec.String())
		if err != nil || !slices.Equal(again.RUA, rec.RUA) {
			t.Fatalf("ParseRecord(%q): String %q does not parse back: %v", txt, rec.String(), err)
		}
	})
}
