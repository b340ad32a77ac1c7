package spf

import (
	"errors"
	"testing"
)

func TestParseRecordValid(t *testing.T) {
	cases := []struct {
		txt   string
		terms int
		redir string
		exp   string
	}{
		{"v=spf1", 0, "", ""},
		{"V=SpF1 -ALL", 1, "", ""},
		{"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 mx -all", 4, "", ""},
		{"v=spf1  a  -all ", 2, "", ""},
		{"v=spf1 a:%{d}/24//64 mx:example.com//128 ptr ptr:example.org ?exists:%{i}.x.example ~include:_spf.example.com", 6, "", ""},
		{"v=spf1 redirect=_spf.example.com exp=explain.%{d}", 0, "_spf.example.com", "explain.%{d}"},
		{"v=spf1 foo=bar.%{d} -all", 1, "", ""},
		{"v=spf1 a:example.com.", 1, "", ""},
		{"v=spf1 a:foo.co-m a:1.2-3", 2, "", ""},
	}
	for _, c := range cases {
		r, err := parseRecord(c.txt)
		if err != nil {
			t.Errorf("parseRecord(%q): %v", c.txt, err)
			continue
		}
		if r.nterms != c.terms || r.redirect != c.redir || r.exp != c.exp {
			t.Errorf("parseRecord(%q) = %d terms, redirect %q, exp %q", c.txt, r.nterms, r.redirect, r.exp)
		}
	}
}

func TestParseRecordCIDR(t *testing.T) {
	r, err := parseRecord("v=spf1 a:example.com/24//64 foo=bar mx/30 a//96 ip4:192.0.2.77/24")
	if err != nil {
		t.Fatal(err)
	}
	terms := directives(r)
	want := []struct{ c4, c6 int }{{24, 64}, {30, -1}, {-1, 96}}
	for i, w := range want {
		if int(terms[i].cidr4) != w.c4 || int(terms[i].cidr6) != w.c6 {
			t.Errorf("term %d cidr = %d/%d, want %d/%d", i, terms[i].cidr4, terms[i].cidr6, w.c4, w.c6)
		}
	}
	if terms[0].domain != "example.com" {
		t.Errorf("domain = %q", terms[0].domain)
	}
	if got := terms[3].prefix.String(); got != "192.0.2.0/24" {
		t.Errorf("ip4 prefix = %s", got)
	}
}

func TestParseRecordErrors(t *testing.T) {
	cases := map[string]ErrCode{
		"v=spf1 ip4:192.0.2.300":                       ErrCodeInvalidIP4,
		"v=spf1 ip4:2001:db8::1":                       ErrCodeInvalidIP4,
		"v=spf1 ip6:192.0.2.1":                         ErrCodeInvalidIP6,
		"v=spf1 ip4:192.0.2.1/33":                      ErrCodeInvalidCIDR,
		"v=spf1 ip4:192.0.2.1/024":                     ErrCodeInvalidCIDR,
		"v=spf1 a/33":                                  ErrCodeInvalidCIDR,
		"v=spf1 mx//129":                               ErrCodeInvalidCIDR,
		"v=spf1 foo":                                   ErrCodeUnknownMech,
		"v=spf1 -redirect=x.example":                   ErrCodeUnknownMech,
		"v=spf1 include":                               ErrCodeMissingOpt,
		"v=spf1 exists:":                               ErrCodeMissingOpt,
		"v=spf1 all:foo":                               ErrCodeSyntax,
		"v=spf1 a:museum":                              ErrCodeBadHostTLD,
		"v=spf1 a:foo.123":                             ErrCodeBadHostTLD,
		"v=spf1 a:%{x}.example.com":                    ErrCodeInvalidMacro,
		"v=spf1 a:%{c}.example.com":                    ErrCodeInvalidMacro,
		"v=spf1 redirect=a.example redirect=b.example": ErrCodeDupModifier,
		"v=spf1 exp=a.example exp=b.example":           ErrCodeDupModifier,
		"v=spf1 a:ctrl.example.com\rptr":               ErrCodeInvalidChar,
		"v=spf1 \x80a":                                 ErrCodeInvalidChar,
		"v=spf1 foo=%":                                 ErrCodeInvalidMacro,
		"v=spf10":                                      ErrCodeNotSPF,
	}
	for txt, code := range cases {
		_, err := parseRecord(txt)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("parseRecord(%q) err = %v, want SyntaxError", txt, err)
			continue
		}
		if se.Code != code {
			t.Errorf("parseRecord(%q) code = %v, want %v", txt, se.Code, code)
		}
	}
}

func TestIsSPFRecord(t *testing.T) {
	for s, want := range map[string]bool{"v=spf1": true, "v=spf1 -all": true, "V=SPF1 a": true, "v=spf10": false, "v=spf1\t-all": false, "spf1": false, " v=spf1": false} {
		if isSPFRecord(s) != want {
			t.Errorf("isSPFRecord(%q) != %v", s, want)
		}
	}
}

// directives collects what evaluation would walk through.
func directives(r record) []term {
	var out []term
	for rest := r.text; ; {
		t, tail, ok := nextDirective(rest)
		if !ok {
			return out
		}
		out, rest = append(out, t), tail
	}
}
