package dmarc

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
	"github.com/mailpolicy/mailpolicy/spf"

	"github.com/mailpolicy/mailpolicy/dkim"
)

// Everything remote-controlled that reaches the Authentication-Results
// header (d=, i=, s=, a= of a signature, the MAIL FROM domain, the HELO
// name, the From domain, the authserv-id) must come out 7-bit
// printable, as one value, in one header whose lines are at most 998
// octets.

// arHostileValues are values a sender controls: C1 NEL and the
// right-to-left override (valid UTF-8 a terminal or mail reader acts
// on), invalid UTF-8, NUL, bare CR and LF, header injection, quotes and
// backslashes (which double when escaped), and absurd lengths.
var arHostileValues = map[string]string{
	"U+0085":        "victim.example\u0085",
	"U+202E":        "\u202eelpmaxe.mitciv",
	"invalid UTF-8": "victim\xff\xfe.example",
	"NUL":           "victim.example\x00",
	"CR":            "victim.example\rX-Injected: yes",
	"LF":            "victim.example\nX-Injected: yes",
	"CRLF":          "victim.example\r\n\tdkim=pass",
	"injection":     `x" dmarc=pass; dkim=pass (`,
	"long":          strings.Repeat("a", 5000) + ".example",
	"long quotes":   strings.Repeat(`"\`, 2500),
	"long UTF-8":    strings.Repeat("\u202e", 2000),
	"long UTF-8 A":  strings.Repeat("é", 300) + strings.Repeat("a", 300),
	"DEL and ESC":   "victim\x7f\x1b[31m.example",
}

// checkARText checks a header's text: only printable ASCII, tab and
// folds; lines at most 998 octets once the caller's prefix (pre) and
// suffix (post) are counted; no line made only of white space.
func checkARText(t *testing.T, text string, pre, post int) {
	t.Helper()
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '\n':
			if i+1 == len(text) || text[i+1] != '\t' {
				t.Fatalf("line break not followed by a tab at %d: %q", i, text)
			}
		case c == '\t', c >= 0x20 && c < 0x7f:
		default:
			t.Fatalf("octet %#x at %d: %q", c, i, text)
		}
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		n := len(l)
		if i == 0 {
			n += pre
		}
		if i == len(lines)-1 {
			n += post
		}
		if n > 998 {
			t.Errorf("line %d is %d octets", i, n)
		}
		if strings.Trim(l, " \t") == "" {
			t.Errorf("line %d is only white space: %q", i, text)
		}
	}
}

// arOutside is text with the quoted-strings taken out; ok is false when
// a quoted-string is not closed.
func arOutside(s string) (out string, ok bool) {
	var b strings.Builder
	in := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case !in:
			b.WriteByte(c)
		}
	}
	return b.String(), !in
}

func TestARResultHostile(t *testing.T) {
	for name, v := range arHostileValues {
		for _, field := range []string{"d", "i", "s", "a"} {
			r := dkim.Result{Status: dkim.StatusFail, Reason: dkim.ReasonBodyHashMismatch,
				Domain: "victim.example", Identifier: "@victim.example", Selector: "sel", Algorithm: "rsa-sha256"}
			switch field {
			case "d":
				r.Domain = v
			case "i":
				r.Identifier = "ceo@" + v
			case "s":
				r.Selector = v
			case "a":
				r.Algorithm = v
			}
			t.Run(name+"/"+field, func(t *testing.T) {
				ar := r.ARResult()
				// The caller writes ";\n\t" before the element and ";" after it.
				checkARText(t, ar, 1, 1)
				comment := strings.Index(ar, ")")
				outside, ok := arOutside(ar[comment+1:])
				if !ok || strings.ContainsAny(outside, ";()") || strings.Count(outside, "=") != 4 {
					t.Fatalf("unsafe: %q (outside quotes %q)", ar, outside)
				}
				if got := strings.Count(outside, " header."); got != 4 {
					t.Errorf("%d properties outside quotes, want 4: %q", got, ar)
				}
				if strings.Contains(outside, "X-Injected") || strings.Contains(outside, "pass") {
					t.Errorf("injected text outside quotes: %q", ar)
				}
			})
		}
	}
}

// TestARResultLongValueIsMarked: a cut value stays quoted and ends in
// "...", so it is not read as a whole (plain-looking) domain.
func TestARResultLongValueIsMarked(t *testing.T) {
	r := dkim.Result{Status: dkim.StatusPass, Domain: arHostileValues["long"], Selector: "s", Algorithm: "rsa-sha256"}
	ar := r.ARResult()
	checkARText(t, ar, 1, 1)
	if !strings.Contains(ar, ` header.d="aaaa`) || !strings.Contains(ar, `a..."`) {
		t.Errorf("long d= not quoted and marked: %.120q", ar)
	}
	// A value at the limit that is plain stays as it is.
	long := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 61)
	r.Domain = long
	if ar := r.ARResult(); !strings.Contains(ar, " header.d="+long+" ") {
		t.Errorf("253-octet domain altered: %q", ar)
	}
}

func arHostileZone(t *testing.T) *resolvertest.Server {
	z := resolvertest.NewZone()
	z.MustAdd(t, `_dmarc.victim.example. TXT "v=DMARC1; p=reject"`)
	return resolvertest.Start(t, z)
}

func TestARHeaderHostile(t *testing.T) {
	srv := arHostileZone(t)
	base := func() Input {
		return Input{HeaderFrom: []string{"ceo@victim.example"}, MailFrom: "a@victim.example", SPF: spf.Fail,
			DKIM: []dkim.Result{{Status: dkim.StatusInvalid, Reason: dkim.ReasonPubkeyUnavailable,
				Domain: "victim.example", Identifier: "@victim.example", Selector: "sel", Algorithm: "rsa-sha256"}}}
	}
	for name, v := range arHostileValues {
		for _, field := range []string{"d", "i", "s", "a", "mailfrom", "helo", "from", "authserv-id"} {
			in := base()
			id := "mx.test"
			switch field {
			case "d":
				in.DKIM[0].Domain = v
			case "i":
				in.DKIM[0].Identifier = "ceo@" + v
			case "s":
				in.DKIM[0].Selector = v
			case "a":
				in.DKIM[0].Algorithm = v
			case "mailfrom":
				in.MailFrom = "forger@" + v
			case "helo":
				in.MailFrom, in.HELO = "", v
			case "from":
				in.HeaderFrom = []string{"CEO <ceo@" + v + ">"}
			case "authserv-id":
				id = v
			}
			t.Run(name+"/"+field, func(t *testing.T) {
				o := Evaluate(context.Background(), in, WithResolver(nsResolver(t, srv.Addr, time.Second)),
					WithAuthservID(id), WithRand(func() int { return 0 }))
				ar := o.ARHeader
				if !strings.HasPrefix(ar, "Authentication-Results: ") {
					t.Fatalf("not one header: %q", ar)
				}
				checkARText(t, ar, 0, 0)
				outside, ok := arOutside(ar)
				if !ok {
					t.Fatalf("unclosed quoted-string: %q", ar)
				}
				if strings.Count(outside, ";") != 3 || strings.Count(outside, "spf=") != 1 ||
					strings.Count(outside, "dkim=") != 1 || strings.Count(outside, "dmarc=") != 1 ||
					strings.ContainsAny(outside, "()") || strings.Contains(outside, "X-Injected") {
					t.Errorf("structure changed (outside quotes %q): %q", outside, ar)
				}
			})
		}
	}
}

// TestARHeaderManySignatures: the header folds rather than grow one
// line without bound when a message carries many long signatures.
func TestARHeaderManySignatures(t *testing.T) {
	srv := arHostileZone(t)
	in := Input{HeaderFrom: []string{"ceo@victim.example"}, SPF: spf.None, HELO: "h.example"}
	for range 40 {
		in.DKIM = append(in.DKIM, dkim.Result{Status: dkim.StatusFail, Domain: strings.Repeat("d", 300),
			Selector: strings.Repeat("s", 300), Identifier: "@" + strings.Repeat("i", 300), Algorithm: "rsa-sha256"})
	}
	o := Evaluate(context.Background(), in, WithResolver(nsResolver(t, srv.Addr, time.Second)), WithAuthservID("mx.test"))
	checkARText(t, o.ARHeader, 0, 0)
	outside, _ := arOutside(o.ARHeader)
	if got := strings.Count(outside, "dkim=fail"); got != 40 {
		t.Errorf("%d dkim results, want 40", got)
	}
	if !strings.Contains(o.ARHeader, "\n\t") {
		t.Errorf("not folded")
	}
}

// TestARHeaderUnchangedWhenClean: ordinary values give Exim-style
// output on one line, as before.
func TestARHeaderUnchangedWhenClean(t *testing.T) {
	srv := arHostileZone(t)
	in := Input{HeaderFrom: []string{"ceo@victim.example"}, MailFrom: "b@bounce.victim.example", SPF: spf.Pass, SPFDomain: "bounce.victim.example",
		DKIM: []dkim.Result{{Status: dkim.StatusPass, Domain: "victim.example", Identifier: "first.last+tag@victim.example", Selector: "s1", Algorithm: "rsa-sha256"}}}
	o := Evaluate(context.Background(), in, WithResolver(nsResolver(t, srv.Addr, time.Second)), WithAuthservID("mx.test"))
	want := "Authentication-Results: mx.test; spf=pass smtp.mailfrom=bounce.victim.example; " +
		"dkim=pass header.a=rsa-sha256 header.d=victim.example header.i=first.last+tag@victim.example header.s=s1; " +
		"dmarc=pass header.from=victim.example"
	if o.ARHeader != want {
		t.Errorf("\n got %q\nwant %q", o.ARHeader, want)
	}
}

func FuzzARValue(f *testing.F) {
	for _, v := range arHostileValues {
		f.Add(v, v, true)
	}
	f.Add("example.com", "user@example.com", false)
	f.Fuzz(func(t *testing.T, a, b string, temporary bool) {
		r := dkim.Result{Status: dkim.StatusInvalid, Reason: dkim.ReasonPubkeyUnavailable, Temporary: temporary,
			Domain: a, Identifier: b, Selector: b, Algorithm: a}
		ar := r.ARResult()
		checkARText(t, ar, 1, 1)
		if _, ok := arOutside(ar); !ok {
			t.Fatalf("unclosed quoted-string: %q", ar)
		}
		for _, identity := range []bool{false, true} {
			v := arValue(a, identity)
			if len(v) > arValueMax || strings.ContainsAny(v, "\r\n\t;()") {
				t.Fatalf("arValue(%q) = %q", a, v)
			}
			if out, ok := arOutside(v); !ok || (out != "" && out != v) {
				t.Fatalf("arValue(%q) = %q is not one value", a, v)
			}
		}
	})
}
