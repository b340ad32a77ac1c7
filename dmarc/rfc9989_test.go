package dmarc_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailpolicy/mailpolicy/authres"
	"github.com/mailpolicy/mailpolicy/dkim"
	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
	"github.com/mailpolicy/mailpolicy/spf"
)

// logResolver is the real resolver (talking to a resolvertest server)
// that also records the names asked, so tests can check the tree walk's
// queries against the lists RFC 9989 gives.
type logResolver struct {
	r     dmarc.Resolver
	mu    sync.Mutex
	names []string
}

func (l *logResolver) LookupTXT(ctx context.Context, name string) ([]string, bool, error) {
	l.mu.Lock()
	l.names = append(l.names, strings.TrimSuffix(name, "."))
	l.mu.Unlock()
	return l.r.LookupTXT(ctx, name)
}

func (l *logResolver) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.names
	l.names = nil
	return n
}

// zone9989 serves records on loopback and returns the zone (for
// injected failures) and a logging resolver pointed at it.
func zone9989(t *testing.T, rrs ...string) (*resolvertest.Zone, *logResolver) {
	t.Helper()
	z := resolvertest.NewZone()
	z.MustAdd(t, rrs...)
	srv := resolvertest.Start(t, z)
	return z, &logResolver{r: nsResolver(t, srv.Addr, time.Second)}
}

func eval(l *logResolver, m dmarc.Mode, in dmarc.Input, more ...dmarc.Option) *dmarc.Outcome {
	opts := append([]dmarc.Option{dmarc.WithResolver(l), dmarc.WithMode(m), dmarc.WithRand(func() int { return 99 })}, more...)
	return dmarc.Evaluate(context.Background(), in, opts...)
}

// ar is the dmarc method package authres writes for o.
func ar(o *dmarc.Outcome) string {
	s := authres.Build("mx.test", authres.FromDMARC(o)).String()
	return strings.ReplaceAll(strings.TrimPrefix(s, "Authentication-Results: mx.test;\r\n\t"), "\r\n\t\t", " ")
}

func pass(d string) []dkim.Result {
	return []dkim.Result{{Domain: d, Selector: "s", Algorithm: "rsa-sha256", Status: dkim.StatusPass}}
}

func TestMode(t *testing.T) {
	for _, m := range []dmarc.Mode{dmarc.ModeRFC7489, dmarc.ModeRFC9989} {
		got, err := dmarc.ParseMode(strings.ToUpper(m.String()))
		require.NoError(t, err)
		assert.Equal(t, m, got)
	}
	_, err := dmarc.ParseMode("rfc7490")
	assert.Error(t, err)
	assert.Equal(t, "Mode(7)", dmarc.Mode(7).String())
	var zero dmarc.Mode
	assert.Equal(t, dmarc.ModeRFC7489, zero, "the default mode")
}

// §4.10: the eight queries of a full tree walk for a long Author
// Domain, as the RFC lists them; RFC 7489 asks two names.
func TestRFC9989TreeWalkQueries(t *testing.T) {
	_, l := zone9989(t, `_dmarc.elsewhere.example. TXT "v=DMARC1; p=none"`)
	in := dmarc.Input{HeaderFrom: from("a@a.b.c.d.e.f.g.h.i.j.mail.example.com")}
	o := eval(l, dmarc.ModeRFC9989, in)
	assert.Equal(t, dmarc.StatusNoRecord, o.Status)
	assert.Equal(t, []string{
		"_dmarc.a.b.c.d.e.f.g.h.i.j.mail.example.com",
		"_dmarc.g.h.i.j.mail.example.com",
		"_dmarc.h.i.j.mail.example.com",
		"_dmarc.i.j.mail.example.com",
		"_dmarc.j.mail.example.com",
		"_dmarc.mail.example.com",
		"_dmarc.example.com",
		"_dmarc.com",
	}, l.take())
	assert.Equal(t, "dmarc=none header.from=a.b.c.d.e.f.g.h.i.j.mail.example.com", ar(o))

	eval(l, dmarc.ModeRFC7489, in)
	assert.Equal(t, []string{"_dmarc.a.b.c.d.e.f.g.h.i.j.mail.example.com", "_dmarc.example.com"}, l.take())

	// Eight labels: one label off, like any shorter name (§4.10 step 4).
	eval(l, dmarc.ModeRFC9989, dmarc.Input{HeaderFrom: from("a@a.b.c.d.e.f.example.com")})
	assert.Equal(t, []string{
		"_dmarc.a.b.c.d.e.f.example.com", "_dmarc.b.c.d.e.f.example.com", "_dmarc.c.d.e.f.example.com",
		"_dmarc.d.e.f.example.com", "_dmarc.e.f.example.com", "_dmarc.f.example.com", "_dmarc.example.com", "_dmarc.com",
	}, l.take())
}

// §5.1.8: a psd=n record below the skipped labels is never found; the
// walk asks exactly the names the RFC lists and takes the apex record.
// §4.10.1: publishing at the Author Domain itself is always found.
func TestRFC9989SkippedLabels(t *testing.T) {
	z, l := zone9989(t,
		`_dmarc.example.com. TXT "v=DMARC1; p=reject"`,
		`_dmarc.b.c.d.e.f.g.example.com. TXT "v=DMARC1; p=none; psd=n"`,
	)
	in := dmarc.Input{HeaderFrom: from("a@mail.a.b.c.d.e.f.g.example.com")}
	o := eval(l, dmarc.ModeRFC9989, in)
	assert.Equal(t, []string{
		"_dmarc.mail.a.b.c.d.e.f.g.example.com",
		"_dmarc.c.d.e.f.g.example.com",
		"_dmarc.d.e.f.g.example.com",
		"_dmarc.e.f.g.example.com",
		"_dmarc.f.g.example.com",
		"_dmarc.g.example.com",
		"_dmarc.example.com",
		"_dmarc.com",
	}, l.take())
	assert.Equal(t, "example.com", o.UsedDomain)
	assert.Equal(t, "example.com", o.OrgDomain)
	assert.Equal(t, dmarc.StatusReject, o.Status)

	z.MustAdd(t, `_dmarc.mail.a.b.c.d.e.f.g.example.com. TXT "v=DMARC1; p=quarantine"`)
	o = eval(l, dmarc.ModeRFC9989, in)
	assert.Equal(t, "mail.a.b.c.d.e.f.g.example.com", o.UsedDomain)
	assert.Equal(t, dmarc.StatusQuarantine, o.Status)
	assert.Equal(t, []string{"_dmarc.mail.a.b.c.d.e.f.g.example.com"}, l.take(), "nothing else is needed without an identifier to align")
}

// §4.10.1 and §4.7 (p, sp, np), §4.10.2's examples as policy discovery.
func TestRFC9989PolicyDiscovery(t *testing.T) {
	z, l := zone9989(t,
		`_dmarc.org.example. TXT "v=DMARC1; p=reject; sp=quarantine; np=none"`,
		`exists.org.example. A 192.0.2.1`,
		`_dmarc.nonp.example. TXT "v=DMARC1; p=reject; sp=quarantine"`,
		`_dmarc.onlyp.example. TXT "v=DMARC1; p=reject"`,
		`_dmarc.npnosp.example. TXT "v=DMARC1; p=quarantine; np=reject"`,
		`exists.npnosp.example. A 192.0.2.1`,
		`_dmarc.mail.deep.example. TXT "v=DMARC1; p=none"`,
		`_dmarc.deep.example. TXT "v=DMARC1; p=reject"`,
		`_dmarc.mail.psdn.example. TXT "v=DMARC1; p=none; psd=n"`,
		`_dmarc.psdn.example. TXT "v=DMARC1; p=reject"`,
		`_dmarc.mail.psdu.example. TXT "v=DMARC1; p=none; psd=u"`,
		`_dmarc.psdu.example. TXT "v=DMARC1; p=reject"`,
		`_dmarc.psdtld. TXT "v=DMARC1; p=quarantine; psd=y; np=reject"`,
		`host.example.psdtld. A 192.0.2.1`,
		`_dmarc.npsd. TXT "v=DMARC1; psd=y; np=reject"`,
		`_dmarc.multi.org2.example. TXT "v=DMARC1; p=none"`,
		`_dmarc.multi.org2.example. TXT "v=DMARC1; p=none"`,
		`_dmarc.org2.example. TXT "v=DMARC1; p=reject"`,
		`_dmarc.bad.example. TXT "v=DMARC1; p=bogus"`,
		`_dmarc.sub.bad2.example. TXT "v=DMARC1; p=bogus"`,
		`_dmarc.bad2.example. TXT "v=DMARC1; p=reject"`,
		`_dmarc.badrua.example. TXT "v=DMARC1; p=bogus; sp=reject; rua=mailto:d@badrua.example"`,
		`_dmarc.norua.example. TXT "v=DMARC1; sp=reject"`,
		`_dmarc.tw.example. TXT "v=DMARC1; p=reject"`,
	)
	z.SetRcode("_dmarc.tw.example.", dns.TypeTXT, dns.RcodeServerFailure)
	z.SetRcode("ghost2.org.example.", dns.TypeTXT, dns.RcodeServerFailure)
	for _, c := range []struct {
		name, from   string
		status       dmarc.Status
		policy, used string
		org          string // "" when not asserted
		ar           string
	}{
		{"§4.10.1 the Author Domain's own record: p", "org.example", dmarc.StatusReject, "reject", "org.example", "",
			"dmarc=fail header.from=org.example policy.dmarc=reject"},
		{"§4.10.1 existing subdomain: sp", "exists.org.example", dmarc.StatusQuarantine, "quarantine", "org.example", "org.example",
			"dmarc=fail header.from=exists.org.example policy.dmarc=quarantine"},
		{"§4.10.1 non-existent subdomain: np", "ghost.org.example", dmarc.StatusNone, "none", "org.example", "org.example",
			"dmarc=fail header.from=ghost.org.example policy.dmarc=none"},
		{"§4.7 np absent: sp for non-existent", "ghost.nonp.example", dmarc.StatusQuarantine, "quarantine", "nonp.example", "nonp.example", ""},
		{"§4.7 sp and np absent: p", "ghost.onlyp.example", dmarc.StatusReject, "reject", "onlyp.example", "onlyp.example", ""},
		{"§4.7 np without sp: existing subdomain gets p", "exists.npnosp.example", dmarc.StatusQuarantine, "quarantine", "npnosp.example", "", ""},
		{"§4.7 np without sp: non-existent gets np", "ghost.npnosp.example", dmarc.StatusReject, "reject", "npnosp.example", "", ""},
		{"§4.10.2 ex. 1: the record with the fewest labels", "a.mail.deep.example", dmarc.StatusReject, "reject", "deep.example", "deep.example", ""},
		{"§4.10.2 ex. 2: psd=n ends the walk", "a.mail.psdn.example", dmarc.StatusNone, "none", "mail.psdn.example", "mail.psdn.example", ""},
		{"§4.7 psd=u (the default) does not end the walk", "a.mail.psdu.example", dmarc.StatusReject, "reject", "psdu.example", "psdu.example", ""},
		{"§4.10.2 ex. 3: psd=y at the TLD, org one below, PSD policy np", "a.mail.example.psdtld", dmarc.StatusReject, "reject", "psdtld", "example.psdtld",
			"dmarc=fail header.from=a.mail.example.psdtld policy.dmarc=reject"},
		{"§4.10.1 PSD policy for an existing subdomain: p (no sp)", "host.example.psdtld", dmarc.StatusQuarantine, "quarantine", "psdtld", "example.psdtld", ""},
		{"§4.7 a PSD record with np= and no p=", "gone.reg.npsd", dmarc.StatusReject, "reject", "npsd", "reg.npsd", ""},
		{"§4.10 step 2 several records are discarded, the walk goes on", "multi.org2.example", dmarc.StatusReject, "reject", "org2.example", "org2.example", ""},
		{"§4.10.1 invalid p without rua: no DMARC processing, §9.2 permerror", "bad.example", dmarc.StatusNoRecord, "", "bad.example", "",
			"dmarc=permerror header.from=bad.example"},
		{"§4.10.1 an unusable own record is still the one retrieved", "sub.bad2.example", dmarc.StatusNoRecord, "", "sub.bad2.example", "",
			"dmarc=permerror header.from=sub.bad2.example"},
		{"§4.10.1 invalid p with rua: p=none, sp dropped", "x.badrua.example", dmarc.StatusNone, "none", "badrua.example", "", ""},
		{"§4.7 p absent: p=none, sp kept", "x.norua.example", dmarc.StatusReject, "reject", "norua.example", "", ""},
		{"§4.7 p absent on the Author Domain: none", "norua.example", dmarc.StatusNone, "none", "norua.example", "",
			"dmarc=fail header.from=norua.example policy.dmarc=none"},
		{"§5.3.6 a DNS failure in the walk: temperror", "a.tw.example", dmarc.StatusTempError, "", "a.tw.example", "",
			"dmarc=temperror header.from=a.tw.example"},
		{"§5.3.6 the existence query fails: temperror", "ghost2.org.example", dmarc.StatusTempError, "quarantine", "org.example", "",
			"dmarc=temperror header.from=ghost2.org.example"},
		{"no record anywhere", "nothing.example", dmarc.StatusNoRecord, "", "nothing.example", "nothing.example",
			"dmarc=none header.from=nothing.example"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := eval(l, dmarc.ModeRFC9989, dmarc.Input{HeaderFrom: from("x@" + c.from), SPF: spf.Fail, SPFDomain: "evil.test"})
			assert.Equal(t, c.status, o.Status, "err %v", o.Err)
			assert.Equal(t, c.policy, o.DomainPolicy, "policy")
			assert.Equal(t, c.used, o.UsedDomain, "used domain")
			if c.org != "" {
				assert.Equal(t, c.org, o.OrgDomain, "org domain")
			}
			if c.ar != "" {
				assert.Equal(t, c.ar, ar(o))
			}
			assert.Equal(t, dmarc.ModeRFC9989, o.Mode)
		})
	}
	// The same names under RFC 7489, where they differ.
	for _, c := range []struct {
		from   string
		status dmarc.Status
		used   string
	}{
		{"multi.org2.example", dmarc.StatusNoRecord, "multi.org2.example"}, // several records: no policy
		{"a.mail.psdn.example", dmarc.StatusReject, "psdn.example"},        // PSL org domain, psd= unknown
		{"x.norua.example", dmarc.StatusNoRecord, "norua.example"},         // p= required
		{"a.mail.example.psdtld", dmarc.StatusNoRecord, "example.psdtld"},  // no PSD policy
		{"ghost.org.example", dmarc.StatusQuarantine, "org.example"},       // np= not read
		{"sub.bad2.example", dmarc.StatusNoRecord, "sub.bad2.example"},     // same outcome, word none
	} {
		o := eval(l, dmarc.ModeRFC7489, dmarc.Input{HeaderFrom: from("x@" + c.from)})
		assert.Equal(t, c.status, o.Status, "RFC 7489 %s: err %v", c.from, o.Err)
		assert.Equal(t, c.used, o.UsedDomain, "RFC 7489 %s", c.from)
	}
	o := eval(l, dmarc.ModeRFC7489, dmarc.Input{HeaderFrom: from("x@bad.example")})
	assert.Equal(t, "dmarc=none header.from=bad.example", ar(o))
}

// Identifier alignment with tree-walk organizational domains: §4.4's
// table, Appendix B.1 and B.4, and where the Public Suffix List of RFC
// 7489 gives another answer.
func TestRFC9989Alignment(t *testing.T) {
	z, l := zone9989(t,
		`_dmarc.example.com. TXT "v=DMARC1; p=reject"`,
		`_dmarc.signing.example.com. TXT "v=DMARC1; p=none"`,
		`_dmarc.strict.example.com. TXT "v=DMARC1; p=reject; aspf=s; adkim=s"`,
		`_dmarc.bank.example. TXT "v=DMARC1; p=reject; psd=y"`,
		`_dmarc.giant.bank.example. TXT "v=DMARC1; p=reject"`,
		`_dmarc.blogspot.com. TXT "v=DMARC1; p=reject"`,
		`_dmarc.mail.psdn.example. TXT "v=DMARC1; p=reject; psd=n"`,
		`_dmarc.psdn.example. TXT "v=DMARC1; p=reject"`,
		`_dmarc.org3.example. TXT "v=DMARC1; p=reject"`,
	)
	z.SetRcode("_dmarc.mail.org3.example.", dns.TypeTXT, dns.RcodeServerFailure)
	type in = dmarc.Input
	for _, c := range []struct {
		name          string
		in            in
		spfOK, dkimOK bool
		status        dmarc.Status
		org           string
		rfc7489       dmarc.Status // the same message under RFC 7489 (PSL)
	}{
		{"§4.4 table row 1: relaxed, same organizational domain", in{HeaderFrom: from("a@news.example.com"), SPF: spf.Pass, SPFDomain: "foo.example.com"},
			true, false, dmarc.StatusAccept, "example.com", dmarc.StatusAccept},
		{"§4.4 table row 3: different organizational domains", in{HeaderFrom: from("a@news.example.com"), SPF: spf.Pass, SPFDomain: "foo.example.net"},
			false, false, dmarc.StatusReject, "", dmarc.StatusReject},
		{"B.1.1 ex. 1: SPF strict alignment", in{HeaderFrom: from("sender@strict.example.com"), SPF: spf.Pass, SPFDomain: "strict.example.com"},
			true, false, dmarc.StatusAccept, "", dmarc.StatusAccept},
		{"B.1.1 ex. 2: SPF relaxed (child MAIL FROM)", in{HeaderFrom: from("sender@example.com"), SPF: spf.Pass, SPFDomain: "child.example.com"},
			true, false, dmarc.StatusAccept, "example.com", dmarc.StatusAccept},
		{"B.1.1 ex. 3: no SPF alignment", in{HeaderFrom: from("sender@child.example.com"), SPF: spf.Pass, SPFDomain: "example.net"},
			false, false, dmarc.StatusReject, "", dmarc.StatusReject},
		{"B.1.2 ex. 2: DKIM relaxed (parent d=)", in{HeaderFrom: from("sender@child.example.com"), DKIM: pass("example.com")},
			false, true, dmarc.StatusAccept, "example.com", dmarc.StatusAccept},
		{"B.1.2 ex. 3: no DKIM alignment", in{HeaderFrom: from("sender@child.example.com"), DKIM: pass("example.net")},
			false, false, dmarc.StatusReject, "example.com", dmarc.StatusReject},
		{"§3.2.10.2 strict mode: a child is not aligned", in{HeaderFrom: from("a@strict.example.com"), DKIM: pass("mail.strict.example.com")},
			false, false, dmarc.StatusReject, "", dmarc.StatusReject},
		{"§4.4 comparisons ignore case", in{HeaderFrom: from("a@Strict.Example.COM"), DKIM: pass("STRICT.example.com.")},
			false, true, dmarc.StatusAccept, "", dmarc.StatusAccept},
		{"B.4.1 DKIM signing.example.com aligns with example.com", in{HeaderFrom: from("a@example.com"), SPF: spf.Fail, SPFDomain: "example.com", DKIM: pass("signing.example.com")},
			false, true, dmarc.StatusAccept, "example.com", dmarc.StatusAccept},
		{"B.4.3 SPF mail.giant.bank.example aligns", in{HeaderFrom: from("a@giant.bank.example"), SPF: spf.Pass, SPFDomain: "mail.giant.bank.example", DKIM: pass("mail.mega.bank.example")},
			true, false, dmarc.StatusAccept, "giant.bank.example", dmarc.StatusAccept},
		{"B.4.3 DKIM mail.mega.bank.example does not (psd=y at bank.example)", in{HeaderFrom: from("a@giant.bank.example"), SPF: spf.Fail, DKIM: pass("mail.mega.bank.example")},
			false, false, dmarc.StatusReject, "giant.bank.example", dmarc.StatusAccept},
		{"tree walk, not PSL: blogspot.com's record makes one organization", in{HeaderFrom: from("a@x.blogspot.com"), DKIM: pass("y.blogspot.com")},
			false, true, dmarc.StatusAccept, "blogspot.com", dmarc.StatusNoRecord},
		{"tree walk, not PSL: psd=n splits an organization", in{HeaderFrom: from("a@a.mail.psdn.example"), DKIM: pass("psdn.example")},
			false, false, dmarc.StatusReject, "mail.psdn.example", dmarc.StatusAccept},
		{"§5.3.6 the identifier's walk fails: temperror", in{HeaderFrom: from("a@org3.example"), SPF: spf.Pass, SPFDomain: "x.mail.org3.example"},
			false, false, dmarc.StatusTempError, "org3.example", dmarc.StatusAccept},
		{"§5.3.6 an aligned pass does not need the failed query", in{HeaderFrom: from("a@org3.example"), SPF: spf.Pass, SPFDomain: "x.mail.org3.example", DKIM: pass("org3.example")},
			false, true, dmarc.StatusAccept, "", dmarc.StatusAccept},
		{"SPF temperror of an aligned domain: temperror", in{HeaderFrom: from("a@example.com"), SPF: spf.TempError, SPFDomain: "bounce.example.com"},
			false, false, dmarc.StatusTempError, "example.com", dmarc.StatusTempError},
		{"SPF temperror of an unaligned domain: the policy", in{HeaderFrom: from("a@example.com"), SPF: spf.TempError, SPFDomain: "bounce.example.net"},
			false, false, dmarc.StatusReject, "", dmarc.StatusReject},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := eval(l, dmarc.ModeRFC9989, c.in)
			assert.Equal(t, c.status, o.Status, "err %v", o.Err)
			assert.Equal(t, c.spfOK, o.AlignedSPF, "aligned spf")
			assert.Equal(t, c.dkimOK, o.AlignedDKIM, "aligned dkim")
			if c.org != "" {
				assert.Equal(t, c.org, o.OrgDomain)
			}
			o7 := eval(l, dmarc.ModeRFC7489, c.in)
			assert.Equal(t, c.rfc7489, o7.Status, "RFC 7489: err %v", o7.Err)
		})
	}
}

// B.4.2: the deep tree walk's queries for the Author Domain, then one
// more for the DKIM identifier (the rest are shared), and example.com
// as organizational and policy domain.
func TestRFC9989DeepTreeWalkExample(t *testing.T) {
	_, l := zone9989(t,
		`_dmarc.example.com. TXT "v=DMARC1; p=reject"`,
		`_dmarc.signing.example.com. TXT "v=DMARC1; p=none"`,
	)
	in := dmarc.Input{HeaderFrom: from("a@a.b.c.d.e.f.g.h.i.j.k.example.com"), SPF: spf.Fail, SPFDomain: "example.com",
		DKIM: pass("signing.example.com")}
	o := eval(l, dmarc.ModeRFC9989, in)
	assert.Equal(t, []string{
		"_dmarc.a.b.c.d.e.f.g.h.i.j.k.example.com",
		"_dmarc.g.h.i.j.k.example.com",
		"_dmarc.h.i.j.k.example.com",
		"_dmarc.i.j.k.example.com",
		"_dmarc.j.k.example.com",
		"_dmarc.k.example.com",
		"_dmarc.example.com",
		"_dmarc.com",
		"_dmarc.signing.example.com",
	}, l.take())
	assert.Equal(t, dmarc.StatusAccept, o.Status)
	assert.True(t, o.AlignedDKIM)
	assert.Equal(t, "example.com", o.OrgDomain)
	assert.Equal(t, "example.com", o.UsedDomain, "the policy domain")
	assert.Equal(t, "dmarc=pass header.from=a.b.c.d.e.f.g.h.i.j.k.example.com policy.dmarc=reject", ar(o))

	// With SPF passing for example.com the organizational domain
	// already found serves; no more queries.
	in.SPF, in.DKIM = spf.Pass, nil
	o = eval(l, dmarc.ModeRFC9989, in)
	assert.True(t, o.AlignedSPF)
	assert.Len(t, l.take(), 8)
}

// §4.7 t= and Appendix A.6 (pct): the policy applied, Sampled, and
// policy.dmarc (§9.1); RFC 7489 samples pct= instead.
func TestRFC9989TestingAndPct(t *testing.T) {
	_, l := zone9989(t,
		`_dmarc.trej.example. TXT "v=DMARC1; p=reject; t=y"`,
		`_dmarc.tquar.example. TXT "v=DMARC1; p=quarantine; t=y"`,
		`_dmarc.tnone.example. TXT "v=DMARC1; p=none; t=y"`,
		`_dmarc.pct0.example. TXT "v=DMARC1; p=reject; pct=0"`,
		`_dmarc.pct0t.example. TXT "v=DMARC1; p=reject; pct=0; t=n"`,
		`_dmarc.pct50.example. TXT "v=DMARC1; p=reject; pct=50"`,
		`_dmarc.hist.example. TXT "v=DMARC1; p=reject; pct=bad; rf=x.y; ri=-1; future=1"`,
		`_dmarc.sub.example. TXT "v=DMARC1; p=none; sp=reject; t=y"`,
	)
	for _, c := range []struct {
		name, from  string
		status      dmarc.Status
		sampled     bool
		applied, ar string
		rfc7489     dmarc.Status
	}{
		{"§4.7 t=y: reject becomes quarantine", "trej.example", dmarc.StatusQuarantine, false, "quarantine",
			"dmarc=fail header.from=trej.example policy.dmarc=quarantine", dmarc.StatusQuarantine},
		{"§4.7 t=y: quarantine becomes none", "tquar.example", dmarc.StatusNone, false, "none",
			"dmarc=fail header.from=tquar.example policy.dmarc=none", dmarc.StatusNone},
		{"§4.7 t=y has no effect on none", "tnone.example", dmarc.StatusNone, true, "none",
			"dmarc=fail header.from=tnone.example policy.dmarc=none", dmarc.StatusNone},
		{"§4.7 t=y applies to sp too", "x.sub.example", dmarc.StatusQuarantine, false, "quarantine", "", dmarc.StatusQuarantine},
		{"A.6 pct=0 is t=y", "pct0.example", dmarc.StatusQuarantine, false, "quarantine", "", dmarc.StatusQuarantine},
		{"A.6 t=n overrides pct=0", "pct0t.example", dmarc.StatusReject, true, "reject", "", dmarc.StatusQuarantine},
		{"A.6 pct=50 no longer samples", "pct50.example", dmarc.StatusReject, true, "reject",
			"dmarc=fail header.from=pct50.example policy.dmarc=reject", dmarc.StatusQuarantine},
		{"§9.3 bad historic tags and unknown tags are ignored", "hist.example", dmarc.StatusReject, true, "reject", "", dmarc.StatusNoRecord},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := eval(l, dmarc.ModeRFC9989, dmarc.Input{HeaderFrom: from("a@" + c.from)})
			assert.Equal(t, c.status, o.Status, "err %v", o.Err)
			assert.Equal(t, c.sampled, o.Sampled, "sampled")
			assert.Equal(t, dmarc.Policy(c.applied), o.AppliedPolicy)
			if c.ar != "" {
				assert.Equal(t, c.ar, ar(o))
			}
			// RFC 7489, rand 99: pct=50 and pct=0 leave the message out.
			assert.Equal(t, c.rfc7489, eval(l, dmarc.ModeRFC7489, dmarc.Input{HeaderFrom: from("a@" + c.from)}).Status)
		})
	}
	// A passing message names the policy it would have had; t= does not
	// mark it as left out.
	o := eval(l, dmarc.ModeRFC9989, dmarc.Input{HeaderFrom: from("a@trej.example"), DKIM: pass("trej.example")})
	assert.Equal(t, dmarc.StatusAccept, o.Status)
	assert.True(t, o.Sampled)
	assert.Equal(t, "dmarc=pass header.from=trej.example policy.dmarc=quarantine", ar(o))
}

// §5.3.1: a U-label Author Domain is looked up and compared as A-labels.
func TestRFC9989ALabels(t *testing.T) {
	_, l := zone9989(t, `_dmarc.xn--bcher-kva.example. TXT "v=DMARC1; p=reject"`)
	o := eval(l, dmarc.ModeRFC9989, dmarc.Input{HeaderFrom: from("a@Bücher.example"), SPF: spf.Pass, SPFDomain: "mail.xn--bcher-kva.example"})
	assert.Equal(t, dmarc.StatusAccept, o.Status, "err %v", o.Err)
	assert.Equal(t, "xn--bcher-kva.example", o.FromDomain)
	assert.Equal(t, "xn--bcher-kva.example", o.UsedDomain)
	assert.Equal(t, "_dmarc.xn--bcher-kva.example", l.take()[0])
	o = eval(l, dmarc.ModeRFC9989, dmarc.Input{HeaderFrom: from("a@bücher.example"), DKIM: pass("bücher.example")})
	assert.True(t, o.AlignedDKIM, "a U-label d= compares equal")

	o = eval(l, dmarc.ModeRFC9989, dmarc.Input{HeaderFrom: from("a@\u0301a.example")})
	var fe *dmarc.FromError
	assert.True(t, errors.As(o.Err, &fe), "an invalid IDNA name is an unusable From: %v", o.Err)
	assert.Equal(t, dmarc.StatusNoFrom, o.Status)
}

// Several From domains are each evaluated in RFC 9989 mode too (§5.3.1
// allows going forward); the most severe wins, and the walks share
// their answers.
func TestRFC9989MultipleFromDomains(t *testing.T) {
	_, l := zone9989(t,
		`_dmarc.example.com. TXT "v=DMARC1; p=reject"`,
		`_dmarc.none.example. TXT "v=DMARC1; p=none"`,
	)
	o := eval(l, dmarc.ModeRFC9989, dmarc.Input{HeaderFrom: []string{"a@none.example, b@example.com"}, DKIM: pass("none.example")})
	assert.Equal(t, dmarc.StatusReject, o.Status)
	assert.Equal(t, "example.com", o.FromDomain)
}
