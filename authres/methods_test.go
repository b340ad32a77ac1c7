package authres

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/dkim"
	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/iprev"
	"github.com/mailpolicy/mailpolicy/spf"
)

// one is the text of a single method, unfolded, without the field.
func one(m Method) string {
	s := Build("id", m).String()
	s = strings.TrimPrefix(s, "Authentication-Results: id;\r\n\t")
	return strings.ReplaceAll(s, "\r\n\t\t", " ")
}

func TestFromSPF(t *testing.T) {
	for _, c := range []struct {
		o    spf.Outcome
		want string
	}{
		{spf.Outcome{Result: spf.Pass, UsedDomain: "example.com", Identity: "mfrom"}, "spf=pass smtp.mailfrom=example.com"},
		{spf.Outcome{Result: spf.Neutral, UsedDomain: "helo.example", Identity: "helo"}, "spf=neutral smtp.helo=helo.example"},
		{spf.Outcome{Result: spf.None, Guessed: true, UsedDomain: "example.com", Identity: "mfrom"}, "spf=none (best guess record for domain) smtp.mailfrom=example.com"},
		{spf.Outcome{Result: spf.TempError}, `spf=temperror smtp.mailfrom="<>"`},
		{spf.Outcome{Result: spf.Invalid, UsedDomain: "x.example", Identity: "mfrom"}, "spf=permerror smtp.mailfrom=x.example"},
	} {
		if got := one(FromSPF(&c.o)); got != c.want {
			t.Errorf("%+v:\n got %s\nwant %s", c.o, got, c.want)
		}
	}
}

// TestFromDKIM: Exim's words and comments (";" as ","), property order
// d, i, s, a, one method per signature in order.
func TestFromDKIM(t *testing.T) {
	base := dkim.Result{Domain: "example.com", Selector: "sel", Algorithm: "rsa-sha256"}
	with := func(s dkim.Status, r dkim.Reason, tmp bool) dkim.Result {
		x := base
		x.Status, x.Reason, x.Temporary, x.KeyBits = s, r, tmp, 512
		return x
	}
	props := " header.d=example.com header.s=sel header.a=rsa-sha256"
	for _, c := range []struct {
		r    dkim.Result
		want string
	}{
		{with(dkim.StatusPass, "", false), "dkim=pass"},
		{with(dkim.StatusNone, "", false), "dkim=none"},
		{with(dkim.StatusInvalid, dkim.ReasonPubkeyUnavailable, true), "dkim=temperror (pubkey unavailable)"},
		{with(dkim.StatusInvalid, dkim.ReasonPubkeyUnavailable, false), "dkim=permerror (pubkey unavailable)"},
		{with(dkim.StatusInvalid, dkim.ReasonPubkeyDNSSyntax, false), "dkim=neutral (public key record import problem)"},
		{with(dkim.StatusInvalid, dkim.ReasonPubkeyDERSyntax, false), "dkim=neutral (public key record import problem)"},
		{with(dkim.StatusInvalid, dkim.ReasonSignatureTag, false), "dkim=neutral (signature tag missing or invalid)"},
		{with(dkim.StatusInvalid, dkim.ReasonVersion, false), "dkim=neutral (unsupported DKIM version)"},
		{with(dkim.StatusInvalid, dkim.ReasonExpired, false), "dkim=permerror (signature expired)"},
		{with(dkim.StatusInvalid, "", false), "dkim=permerror (unspecified problem)"},
		{with(dkim.StatusFail, dkim.ReasonBodyHashMismatch, false), "dkim=fail (body hash mismatch, body probably modified in transit)"},
		{with(dkim.StatusFail, dkim.ReasonSignatureIncorrect, false), "dkim=fail (signature did not verify, headers probably modified in transit)"},
		{with(dkim.StatusFail, dkim.ReasonPubkeyTooShort, false), "dkim=fail (public key too short: 512 bits)"},
		{with(dkim.StatusFail, "", false), "dkim=fail (unspecified reason)"},
		{with(dkim.Status(9), "", false), "dkim=permerror"},
	} {
		ms := FromDKIM([]dkim.Result{c.r})
		if len(ms) != 1 {
			t.Fatalf("%d methods", len(ms))
		}
		if got := one(ms[0]); got != c.want+props {
			t.Errorf("%v/%v:\n got %s\nwant %s", c.r.Status, c.r.Reason, got, c.want+props)
		}
	}
	// Exim's test-suite example (with its fold where ours falls).
	ex := FromDKIM([]dkim.Result{{Status: dkim.StatusFail, Reason: dkim.ReasonPubkeyTooShort, KeyBits: 512, Domain: "test.ex", Selector: "ses", Algorithm: "rsa-sha1"}})
	if got := Build("x", ex...).String(); got != "Authentication-Results: x;\r\n\tdkim=fail (public key too short: 512 bits) header.d=test.ex header.s=ses\r\n\t\theader.a=rsa-sha1" {
		t.Errorf("Exim's example: %q", got)
	}
	if ms := FromDKIM(nil); ms != nil {
		t.Errorf("no signatures: %v", ms)
	}
	ms := FromDKIM([]dkim.Result{{Domain: "a.example", Identifier: "u@a.example", Status: dkim.StatusPass}, {Domain: "b.example", Status: dkim.StatusFail}})
	if got := one(ms[0]); got != "dkim=pass header.d=a.example header.i=u@a.example header.a=err" {
		t.Errorf("got %s", got)
	}
	if ms[1].Props[0].Value != "b.example" {
		t.Errorf("order: %+v", ms)
	}
	// Each method owns its properties: appending to one does not touch the next.
	ms[0].Props = append(ms[0].Props, Prop{Type: "x", Property: "y", Value: "z"})
	if ms[1].Props[0].Value != "b.example" {
		t.Error("properties shared between methods")
	}
}

// TestFromDMARC: RFC 7489 words by default, Exim's with the option.
func TestFromDMARC(t *testing.T) {
	rec := &dmarc.Record{Policy: dmarc.PolicyNone}
	for _, c := range []struct {
		o         dmarc.Outcome
		rfc, exim string
	}{
		{dmarc.Outcome{Status: dmarc.StatusAccept, FromDomain: "f.example", Record: rec}, "dmarc=pass header.from=f.example", "dmarc=pass header.from=f.example"},
		{dmarc.Outcome{Status: dmarc.StatusReject, FromDomain: "f.example", Record: rec}, "dmarc=fail header.from=f.example", "dmarc=fail header.from=f.example"},
		{dmarc.Outcome{Status: dmarc.StatusQuarantine, FromDomain: "f.example", Record: rec}, "dmarc=fail header.from=f.example", "dmarc=fail header.from=f.example"},
		{dmarc.Outcome{Status: dmarc.StatusNone, FromDomain: "f.example", Record: rec}, "dmarc=fail header.from=f.example", "dmarc=none header.from=f.example"},
		{dmarc.Outcome{Status: dmarc.StatusNone, FromDomain: "f.example"}, "dmarc=none header.from=f.example", "dmarc=none header.from=f.example"},
		{dmarc.Outcome{Status: dmarc.StatusNoRecord, FromDomain: "f.example"}, "dmarc=none header.from=f.example", "dmarc=none header.from=f.example"},
		{dmarc.Outcome{Status: dmarc.StatusNoFrom}, "dmarc=permerror", "dmarc=temperror"},
		{dmarc.Outcome{Status: dmarc.StatusTempError, FromDomain: "f.example"}, "dmarc=temperror header.from=f.example", "dmarc=temperror header.from=f.example"},
		{dmarc.Outcome{Status: dmarc.StatusOff}, "", "dmarc=skipped"},
		{dmarc.Outcome{}, "", ""},
	} {
		m := FromDMARC(&c.o)
		got := ""
		if m.Name != "" {
			got = one(m)
		}
		if got != c.rfc {
			t.Errorf("%s: got %q, want %q", c.o.Status, got, c.rfc)
		}
		m = FromDMARC(&c.o, WithEximDMARCWords())
		got = ""
		if m.Name != "" {
			got = one(m)
		}
		if got != c.exim {
			t.Errorf("%s Exim: got %q, want %q", c.o.Status, got, c.exim)
		}
	}
	if FromDMARC(nil).Name != "" {
		t.Error("nil outcome gave a method")
	}
}

func TestAuthIPrevLocal(t *testing.T) {
	for _, c := range []struct {
		m    Method
		want string
	}{
		{Auth("PLAIN", "alice@example.com"), "auth=pass (PLAIN) smtp.auth=alice@example.com"},
		{Auth("LOGIN", ""), "auth=pass (LOGIN, no id saved)"},
		{Auth("tls", "CN=client"), `auth=pass (tls) x509.auth="CN=client"`},
		{Auth("tls", ""), "auth=pass (tls) reason=x509.auth"},
		{IPrev("pass", "mail.example.com", netip.MustParseAddr("2001:db8::1")), `iprev=pass (mail.example.com) smtp.remote-ip="2001:db8::1"`},
		{IPrev("fail", "ignored", netip.MustParseAddr("192.0.2.1")), "iprev=fail smtp.remote-ip=192.0.2.1"},
		{IPrev("temperror", "", netip.Addr{}), "iprev=temperror"},
		{Local("mx.example", "root"), "local=pass (non-smtp, mx.example) u=root"},
		{Local("mx.example", ""), "local=pass (non-smtp, mx.example)"},
		{FromIPrev(&iprev.Outcome{Result: iprev.Pass, Name: "mail.example.com", IP: netip.MustParseAddr("192.0.2.1")}), "iprev=pass (mail.example.com) smtp.remote-ip=192.0.2.1"},
		{FromIPrev(&iprev.Outcome{Result: iprev.PermError, IP: netip.MustParseAddr("192.0.2.1")}), "iprev=permerror smtp.remote-ip=192.0.2.1"},
	} {
		if got := one(c.m); got != c.want {
			t.Errorf("got %s\nwant %s", got, c.want)
		}
	}
	if Auth("", "x").Name != "" || FromIPrev(nil).Name != "" || IPrev("", "h", netip.Addr{}).Name != "" {
		t.Error("no result gave a method")
	}
	// Result None is a check never made: no method, as Exim writes no
	// iprev entry then, and no "iprev=none" in the header.
	for _, o := range []*iprev.Outcome{{}, {Result: iprev.None, Name: "mail.example.com", IP: netip.MustParseAddr("192.0.2.1")}} {
		if m := FromIPrev(o); m.Name != "" {
			t.Errorf("FromIPrev(%+v) = %+v, want no method", o, m)
		}
		if got := Build("mx.example", FromIPrev(o), Auth("PLAIN", "u")).String(); strings.Contains(got, "iprev") {
			t.Errorf("FromIPrev(None) in the header: %q", got)
		}
	}
}

// TestComment: sanitising keeps a comment one comment.
func TestComment(t *testing.T) {
	for in, want := range map[string]string{
		"plain text":              "(plain text)",
		"  spaced   out  ":        "(spaced out)",
		"a (nested) b":            `(a \(nested\) b)`,
		`back\slash "q"`:          `(back\\slash \"q\")`,
		"semi; colon":             "(semi, colon)",
		"cr\r\nlf\x00\x7f":        "(cr??lf??)",
		"caf\u00e9 \xff":          "(caf? ?)",
		"   ":                     "",
		strings.Repeat("a", 1000): "(" + strings.Repeat("a", commentMax-2) + ")",
	} {
		got := strings.TrimPrefix(one(Method{Name: "x", Result: "pass", Comment: in}), "x=pass")
		got = strings.TrimPrefix(got, " ")
		if got != want {
			t.Errorf("comment %q: got %q, want %q", in, got, want)
		}
	}
	// An escape is never split by the length cut.
	got := one(Method{Name: "x", Result: "pass", Comment: strings.Repeat("(", 1000)})
	if strings.HasSuffix(got, `\)`) || !strings.HasSuffix(got, `\()`) {
		t.Errorf("cut comment ends %q", got[len(got)-8:])
	}
}
