package authres

import (
	"net/netip"
	"strings"
	"testing"

	msgauth "github.com/emersion/go-msgauth/authres"

	"github.com/mailpolicy/mailpolicy/dkim"
	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/spf"
)

func names(h *Header) string {
	var n []string
	for _, m := range h.Methods {
		n = append(n, m.Name+"="+m.Result)
	}
	return strings.Join(n, " ")
}

// TestBuildOrder: Exim's order whatever the order given; signatures
// keep theirs; unknown methods last in the order given; zero methods
// dropped.
func TestBuildOrder(t *testing.T) {
	h := Build("mx",
		Method{Name: "x-later", Result: "pass"},
		FromDMARC(&dmarc.Outcome{Status: dmarc.StatusAccept}),
		Method{Name: "dkim", Result: "fail"},
		Method{Name: "arc", Result: "none"},
		FromSPF(&spf.Outcome{Result: spf.Pass}),
		Method{Name: "dkim", Result: "pass"},
		Method{Name: "x-last", Result: "fail"},
		Auth("PLAIN", "u"),
		Method{},
		IPrev("pass", "h.example", netip.Addr{}),
		Local("mx", ""),
		FromSPF(nil), FromDMARC(nil), Auth("", ""), IPrev("", "", netip.Addr{}),
	)
	want := "local=pass iprev=pass auth=pass spf=pass dkim=fail dkim=pass dmarc=pass arc=none x-later=pass x-last=fail"
	if got := names(h); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	checkField(t, h.String(), 10)
}

// TestNoMethods: "; none" by default, nothing with OmitEmpty.
func TestNoMethods(t *testing.T) {
	h := Build("mx.example", FromSPF(nil), Method{})
	if got := h.String(); got != "Authentication-Results: mx.example; none" {
		t.Errorf("got %q", got)
	}
	checkField(t, h.String(), 0)
	if got := h.Value(); got != "mx.example; none" {
		t.Errorf("Value %q", got)
	}
	h.OmitEmpty = true
	if h.String() != "" || h.Field() != "" || h.Value() != "" {
		t.Errorf("OmitEmpty: %q %q %q", h.String(), h.Field(), h.Value())
	}
	h.Methods = []Method{{Name: "spf", Result: "none"}}
	if got := h.Field(); got != "Authentication-Results: mx.example;\r\n\tspf=none\r\n" {
		t.Errorf("got %q", got)
	}
}

// TestExactTypical: the layout, byte for byte.
func TestExactTypical(t *testing.T) {
	h := Build("mx.example.net",
		FromSPF(&spf.Outcome{Result: spf.SoftFail, UsedDomain: "example.com", Identity: "mfrom", Guessed: true}),
		IPrev("pass", "mail.example.com", netip.MustParseAddr("::ffff:192.0.2.1")),
		FromDMARC(&dmarc.Outcome{Status: dmarc.StatusNone, FromDomain: "example.com", Record: &dmarc.Record{}}),
	)
	h.Methods = append(h.Methods[:2], append(FromDKIM([]dkim.Result{{Domain: "example.com", Selector: "s1",
		Algorithm: "rsa-sha256", Status: dkim.StatusFail, Reason: dkim.ReasonBodyHashMismatch}}), h.Methods[2:]...)...)
	want := "Authentication-Results: mx.example.net;\r\n" +
		"\tiprev=pass (mail.example.com) smtp.remote-ip=192.0.2.1;\r\n" +
		"\tspf=softfail (best guess record for domain) smtp.mailfrom=example.com;\r\n" +
		"\tdkim=fail (body hash mismatch, body probably modified in transit)\r\n" +
		"\t\theader.d=example.com header.s=s1 header.a=rsa-sha256;\r\n" +
		"\tdmarc=fail header.from=example.com"
	if got := h.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	checkField(t, h.String(), 4)
}

// TestFold78: lines are folded before they pass 78 octets, at spaces,
// comments included, and only there.
func TestFold78(t *testing.T) {
	var sigs []dkim.Result
	for i := 0; i < 20; i++ {
		sigs = append(sigs, dkim.Result{Domain: strings.Repeat("d", i*3) + ".example", Identifier: "user@" + strings.Repeat("i", i) + ".example",
			Selector: "selector" + strings.Repeat("s", i), Algorithm: "rsa-sha256", Status: dkim.StatusFail, Reason: dkim.ReasonSignatureIncorrect})
	}
	h := Build("mx.example", FromDKIM(sigs)...)
	h.Methods = append(h.Methods, Method{Name: "x", Result: "pass", Comment: strings.Repeat("word ", 40), Reason: "short reason"})
	s := h.String()
	checkField(t, s, 21)
	folds := 0
	for _, l := range strings.Split(s, "\r\n") {
		if len(l) > 78 {
			t.Errorf("line of %d octets: %q", len(l), l)
		}
		if strings.HasPrefix(l, "\t\t") {
			folds++
		}
	}
	if folds < 20 {
		t.Errorf("%d folds:\n%s", folds, s)
	}
	// Folding changes no token: unfolded, the text is the one-line text.
	one := strings.ReplaceAll(strings.ReplaceAll(s, "\r\n\t\t", " "), "\r\n\t", " ")
	if strings.Contains(one, "  ") || !strings.Contains(one, "(word word word") {
		t.Errorf("unfolded %q", one)
	}
}

// TestLine998: hostile lengths are cut, marked, and no line is long.
func TestLine998(t *testing.T) {
	long := strings.Repeat("a", 5000)
	spaced := strings.Repeat("x ", 5000)
	h := Build(long,
		Method{Name: long, Result: long, Comment: long, Reason: long,
			Props: []Prop{{Type: long, Property: long, Value: long}, {Type: "header", Property: "d", Value: long + ".example"}}},
		IPrev("pass", long, netip.Addr{}),
		Method{Name: "y", Result: "pass", Comment: spaced},
	)
	h.Methods = append(h.Methods, FromDKIM([]dkim.Result{{Domain: long, Selector: long, Identifier: "u@" + long, Algorithm: long}})...)
	s := h.String()
	checkField(t, s, 4)
	if !strings.Contains(s, `..."`) {
		t.Error("cut values not marked")
	}
	if len(s) > 20000 {
		t.Errorf("%d octets", len(s))
	}
}

// TestHostile: CR, LF, controls, 8-bit, ";", "(", ")", quotes and
// backslashes in a DKIM d=/i=/s=, a PTR name, a reason, an SPF domain,
// an Auth user or mechanism, a method name: never a new line, field,
// method or property.
func TestHostile(t *testing.T) {
	evil := []string{
		"a.example\r\nX-Injected: 1",
		"a.example\nAuthentication-Results: mx.example; dkim=pass",
		"a.example; dkim=pass header.d=bank.example",
		"a.example) ; dkim=pass (",
		"a.example (comment",
		`a.example" ; dkim=pass header.d="bank`,
		`a\"b\\`,
		"\x00\x01\x7f\x1b[31m",
		"caf\xc3\xa9.example",
		"\xff\xfe\x85bad utf-8",
		"\u202eelpmaxe.a",
		"a.example\r",
		"((((((",
		"))))))",
		"\\",
		"=;=;=",
		" ",
		"a.example\u0085next",
		"victim.example\r\n\tdkim=pass",
		strings.Repeat(`"\\`, 2500),
		strings.Repeat("\u202e", 2000),
		strings.Repeat("é", 300) + strings.Repeat("a", 300),
		strings.Repeat("a", 5000) + ".example",
	}
	for _, e := range evil {
		h := Build("mx.example",
			IPrev("pass", e, netip.MustParseAddr("192.0.2.1")),
			Auth(e, e),
			FromSPF(&spf.Outcome{Result: spf.Fail, UsedDomain: e, Identity: "helo"}),
			FromDMARC(&dmarc.Outcome{Status: dmarc.StatusReject, FromDomain: e}),
			Method{Name: e + "x", Result: e, Comment: e, Reason: e, Props: []Prop{{Type: e, Property: e + "p", Value: e}}},
		)
		h.Methods = append(h.Methods, FromDKIM([]dkim.Result{{Domain: e, Identifier: e, Selector: e, Algorithm: e,
			Status: dkim.StatusFail}})...)
		s := h.String()
		checkField(t, s, 6)
		for _, bad := range []string{"X-Injected", "bank.example", "\r\nAuthentication-Results"} {
			if i := strings.Index(s, bad); i >= 0 && !inQuotesOrComment(s, i) {
				t.Errorf("%q: %q outside quotes and comments in %q", e, bad, s)
			}
		}
		if _, rs, err := msgauth.Parse(unfold(h.Value())); err == nil {
			for _, r := range rs {
				if d, ok := r.(*msgauth.DKIMResult); ok && d.Value == msgauth.ResultPass {
					t.Errorf("%q: go-msgauth reads a dkim pass in %q", e, s)
				}
			}
		}
	}
}

func inQuotesOrComment(s string, at int) bool {
	inQ, depth := false, 0
	for i := 0; i < at; i++ {
		switch c := s[i]; {
		case c == '\\' && (inQ || depth > 0):
			i++
		case inQ:
			inQ = c != '"'
		case c == '"' && depth == 0:
			inQ = true
		case c == '(':
			depth++
		case c == ')':
			depth--
		}
	}
	return inQ || depth > 0
}

// TestValueQuoting: tokens bare, the rest quoted.
func TestValueQuoting(t *testing.T) {
	for in, want := range map[string]string{
		"example.com":          "example.com",
		"user+tag@example.com": "user+tag@example.com",
		"@example.com":         "@example.com",
		"user@":                `"user@"`,
		"a@b@c":                `"a@b@c"`,
		"2001:db8::1":          `"2001:db8::1"`,
		"<>":                   `"<>"`,
		`a "b"`:                `"a \"b\""`,
		"a;b(c)":               `"a?b?c?"`,
		"é":                    `"?"`,
	} {
		if got := value(in, true); got != want {
			t.Errorf("value(%q) = %s, want %s", in, got, want)
		}
	}
	if got := value("a@b", false); got != `"a@b"` {
		t.Errorf("non-identity @: %s", got)
	}
}
