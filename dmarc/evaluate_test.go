package dmarc_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
	"github.com/mailpolicy/mailpolicy/spf"

	"github.com/mailpolicy/mailpolicy/authres"
	"github.com/mailpolicy/mailpolicy/dkim"
)

var zone = []string{
	`_dmarc.example.com. TXT "v=DMARC1; p=reject; sp=quarantine; rua=mailto:agg@example.com; ruf=mailto:forensic@example.com!10m"`,
	`_dmarc.none.example. TXT "v=DMARC1; p=none; ruf=mailto:f@none.example; fo=1"`,
	`_dmarc.quar.example. TXT "v=DMARC1; p=quarantine; pct=50"`,
	`_dmarc.strict.example. TXT "v=DMARC1; p=reject; adkim=s; aspf=s"`,
	`_dmarc.multi.example. TXT "v=DMARC1; p=reject"`,
	`_dmarc.multi.example. TXT "v=DMARC1; p=none"`,
	`_dmarc.broken.example. TXT "v=DMARC1; p=bogus"`,
	`_dmarc.testing.example. TXT "v=DMARC1; p=reject; t=y"`,
	`_dmarc.fo.example. TXT "v=DMARC1; p=reject; ruf=mailto:d@fo.example,https://x.example/r; fo=d:s"`,
	// DMARCbis tree walk: a PSD record at the top and np= for
	// non-existent subdomains.
	`_dmarc.psd. TXT "v=DMARC1; p=quarantine; psd=y; np=reject"`,
	`real.org.psd. A 192.0.2.1`,
	`_dmarc.a.b.c.d.e.f.g.h.i.deep.example. TXT "v=DMARC1; p=none"`,
	`_dmarc.deep.example. TXT "v=DMARC1; p=reject"`,
}

func start(t *testing.T) (*resolvertest.Zone, *resolvertest.Server) {
	t.Helper()
	z := resolvertest.NewZone()
	z.MustAdd(t, zone...)
	z.SetRcode("_dmarc.tempfail.example.", dns.TypeTXT, dns.RcodeServerFailure)
	return z, resolvertest.Start(t, z)
}

func opts(srv *resolvertest.Server, more ...dmarc.Option) []dmarc.Option {
	return append([]dmarc.Option{dmarc.WithResolver(nsResolver(nil, srv.Addr, time.Second)),
		dmarc.WithAuthservID("mx.receiver.test"), dmarc.WithRand(func() int { return 0 })}, more...)
}

var ctx = context.Background()

func from(addr string) []string { return []string{"Someone <" + addr + ">"} }

func TestStatusWords(t *testing.T) {
	_, srv := start(t)
	cases := []struct {
		name     string
		in       dmarc.Input
		status   dmarc.Status
		text     string
		policy   string
		used     string
		ar       string
		extraOpt []dmarc.Option
	}{
		{"aligned spf pass", dmarc.Input{HeaderFrom: from("a@example.com"), SPF: spf.Pass, SPFDomain: "bounce.example.com", MailFrom: "b@bounce.example.com"},
			dmarc.StatusAccept, "Accept", "reject", "example.com", "dmarc=pass header.from=example.com", nil},
		{"aligned dkim pass", dmarc.Input{HeaderFrom: from("a@example.com"), SPF: spf.Fail, SPFDomain: "other.example",
			DKIM: []dkim.Result{{Domain: "example.com", Selector: "s1", Algorithm: "rsa-sha256", Status: dkim.StatusPass}}},
			dmarc.StatusAccept, "Accept", "reject", "example.com", "dkim=pass header.d=example.com header.s=s1 header.a=rsa-sha256", nil},
		{"reject", dmarc.Input{HeaderFrom: from("a@example.com"), SPF: spf.Pass, SPFDomain: "evil.example"},
			dmarc.StatusReject, "Reject", "reject", "example.com", "dmarc=fail header.from=example.com", nil},
		{"sp for subdomain via org domain", dmarc.Input{HeaderFrom: from("a@sub.example.com"), SPF: spf.None},
			dmarc.StatusQuarantine, "Quarantine", "quarantine", "example.com", "dmarc=fail header.from=sub.example.com", nil},
		{"p=none", dmarc.Input{HeaderFrom: from("a@none.example"), SPF: spf.None},
			dmarc.StatusNone, "None, Accept", "none", "none.example", "dmarc=fail header.from=none.example", nil}, // RFC 7489: fail whatever p=
		{"no record", dmarc.Input{HeaderFrom: from("a@norecord.example"), SPF: spf.Pass, SPFDomain: "norecord.example"},
			dmarc.StatusNoRecord, "No DMARC record", "", "norecord.example", "dmarc=none header.from=norecord.example", nil},
		{"multiple records", dmarc.Input{HeaderFrom: from("a@multi.example")},
			dmarc.StatusNoRecord, "No DMARC record", "", "multi.example", "dmarc=none", nil},
		{"malformed record", dmarc.Input{HeaderFrom: from("a@broken.example")},
			dmarc.StatusNoRecord, "No DMARC record", "", "broken.example", "dmarc=none", nil},
		{"no From", dmarc.Input{HeaderFrom: []string{"undisclosed-recipients:;"}},
			dmarc.StatusNoFrom, "No From: domain found", "", "", "dmarc=permerror", nil},
		{"no From header at all", dmarc.Input{},
			dmarc.StatusNoFrom, "No From: domain found", "", "", "dmarc=permerror", nil},
		{"dns temperror", dmarc.Input{HeaderFrom: from("a@tempfail.example")},
			dmarc.StatusTempError, "Internal Policy Error", "", "tempfail.example", "dmarc=temperror", nil},
		{"disabled", dmarc.Input{HeaderFrom: from("a@example.com"), Disabled: true},
			dmarc.StatusOff, "", "", "", "", nil}, // nothing checked: no dmarc method
		{"strict alignment fails for subdomain", dmarc.Input{HeaderFrom: from("a@strict.example"), SPF: spf.Pass, SPFDomain: "mail.strict.example",
			DKIM: []dkim.Result{{Domain: "mail.strict.example", Status: dkim.StatusPass}}},
			dmarc.StatusReject, "Reject", "reject", "strict.example", "dmarc=fail", nil},
		{"strict alignment is caseless", dmarc.Input{HeaderFrom: from("a@STRICT.example"), SPF: spf.Pass, SPFDomain: "Strict.Example"},
			dmarc.StatusAccept, "Accept", "reject", "strict.example", "dmarc=pass", nil},
		{"spf temperror on an aligned domain", dmarc.Input{HeaderFrom: from("a@example.com"), SPF: spf.TempError, SPFDomain: "example.com"},
			dmarc.StatusTempError, "Internal Policy Error", "reject", "example.com", "dmarc=temperror", nil},
		{"testing t=y applies the next weaker policy", dmarc.Input{HeaderFrom: from("a@testing.example")},
			dmarc.StatusQuarantine, "Quarantine", "reject", "testing.example", "dmarc=fail", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := dmarc.Evaluate(ctx, c.in, opts(srv, c.extraOpt...)...)
			assert.Equal(t, c.status, o.Status, "err %v", o.Err)
			assert.Equal(t, c.text, o.StatusText)
			assert.Equal(t, c.policy, o.DomainPolicy)
			assert.Equal(t, c.used, o.UsedDomain)
			// The dmarc method package authres writes for the outcome.
			field := authres.Build("mx.receiver.test", append(authres.FromDKIM(c.in.DKIM), authres.FromDMARC(o))...).String()
			if c.ar == "" {
				assert.Equal(t, "Authentication-Results: mx.receiver.test; none", field)
			} else {
				assert.Contains(t, field, c.ar)
			}
			ok, err := dmarc.Match(o.Status, string(c.status))
			assert.NoError(t, err)
			assert.True(t, ok)
		})
	}
}

func TestPctSampling(t *testing.T) {
	_, srv := start(t)
	in := dmarc.Input{HeaderFrom: from("a@quar.example")}
	o := dmarc.Evaluate(ctx, in, opts(srv, dmarc.WithRand(func() int { return 49 }))...)
	assert.Equal(t, dmarc.StatusQuarantine, o.Status)
	assert.True(t, o.Sampled)
	o = dmarc.Evaluate(ctx, in, opts(srv, dmarc.WithRand(func() int { return 50 }))...)
	assert.Equal(t, dmarc.StatusNone, o.Status, "pct=50 leaves out rand>=50: one step weaker")
	assert.False(t, o.Sampled)
	assert.Equal(t, "quarantine", o.DomainPolicy, "the published policy is still reported")
}

func TestTreeWalk(t *testing.T) {
	z, srv := start(t)
	tw := dmarc.WithTreeWalk(true)
	// A PSD record: existing subdomain gets p, a non-existent one np.
	o := dmarc.Evaluate(ctx, dmarc.Input{HeaderFrom: from("a@real.org.psd")}, opts(srv, tw)...)
	assert.Equal(t, "psd", o.UsedDomain)
	assert.Equal(t, "org.psd", o.OrgDomain, "psd=y: the organizational domain is one below")
	assert.Equal(t, "quarantine", o.DomainPolicy)
	o = dmarc.Evaluate(ctx, dmarc.Input{HeaderFrom: from("a@ghost.org.psd")}, opts(srv, tw)...)
	assert.Equal(t, "reject", o.DomainPolicy, "np= for a non-existent domain")
	assert.Equal(t, dmarc.StatusReject, o.Status)

	// At most 8 queries: the walk skips from 11 labels to 7.
	before := z.Queries()
	o = dmarc.Evaluate(ctx, dmarc.Input{HeaderFrom: from("a@z.a.b.c.d.e.f.g.h.i.deep.example")}, opts(srv, tw)...)
	assert.LessOrEqual(t, z.Queries()-before, int64(8))
	assert.Equal(t, "deep.example", o.UsedDomain, "the record 10 labels down is skipped by the walk")

	// Without the tree walk, RFC 7489 finds deep.example only as the
	// organizational domain.
	o = dmarc.Evaluate(ctx, dmarc.Input{HeaderFrom: from("a@x.a.b.c.d.e.f.g.h.i.deep.example")}, opts(srv)...)
	assert.Equal(t, "deep.example", o.UsedDomain)
}

func TestMultipleFromDomains(t *testing.T) {
	_, srv := start(t)
	// An aligned pass for one From domain cannot hide a failing one.
	in := dmarc.Input{HeaderFrom: []string{"<a@none.example>", "<b@example.com>"}, SPF: spf.Pass, SPFDomain: "none.example"}
	o := dmarc.Evaluate(ctx, in, opts(srv)...)
	assert.Equal(t, dmarc.StatusReject, o.Status)
	assert.Equal(t, "example.com", o.FromDomain)
	// Several addresses in one field count too.
	in.HeaderFrom = []string{"a@none.example, b@example.com"}
	assert.Equal(t, dmarc.StatusReject, dmarc.Evaluate(ctx, in, opts(srv)...).Status)
	// The same domain twice is one domain.
	in.HeaderFrom = []string{"a@none.example", "B@NONE.example"}
	assert.Equal(t, dmarc.StatusAccept, dmarc.Evaluate(ctx, in, opts(srv)...).Status)
}

func TestForensicFO(t *testing.T) {
	_, srv := start(t)
	// fo=0 (default): only when nothing aligned.
	o := dmarc.Evaluate(ctx, dmarc.Input{HeaderFrom: from("a@example.com")}, opts(srv)...)
	assert.Equal(t, []string{"forensic@example.com"}, o.Forensic)
	o = dmarc.Evaluate(ctx, dmarc.Input{HeaderFrom: from("a@example.com"), SPF: spf.Pass, SPFDomain: "example.com"}, opts(srv)...)
	assert.Empty(t, o.Forensic)
	// fo=1: when any mechanism did not give an aligned pass.
	o = dmarc.Evaluate(ctx, dmarc.Input{HeaderFrom: from("a@none.example"), SPF: spf.Pass, SPFDomain: "none.example"}, opts(srv)...)
	assert.Equal(t, []string{"f@none.example"}, o.Forensic, "DKIM did not pass")
	// fo=d:s: DKIM failure or SPF failure, whatever the alignment; only
	// mailto: URIs.
	o = dmarc.Evaluate(ctx, dmarc.Input{HeaderFrom: from("a@fo.example"), DKIM: []dkim.Result{{Domain: "x.example", Status: dkim.StatusFail}}}, opts(srv)...)
	assert.Equal(t, []string{"d@fo.example"}, o.Forensic)
	o = dmarc.Evaluate(ctx, dmarc.Input{HeaderFrom: from("a@fo.example"), SPF: spf.Fail}, opts(srv)...)
	assert.Equal(t, []string{"d@fo.example"}, o.Forensic)
	o = dmarc.Evaluate(ctx, dmarc.Input{HeaderFrom: from("a@fo.example"), SPF: spf.SoftFail}, opts(srv)...)
	assert.Empty(t, o.Forensic)
}

func TestConfigErrors(t *testing.T) {
	var ce *dmarc.ConfigError
	o := dmarc.Evaluate(ctx, dmarc.Input{HeaderFrom: from("a@example.com")}, dmarc.WithPSLFile("/nonexistent/psl.dat"))
	require.True(t, errors.As(o.Err, &ce))
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		s    dmarc.Status
		list string
		want bool
	}{
		{dmarc.StatusAccept, "accept : none", true},
		{dmarc.StatusReject, "accept : none", false},
		{dmarc.StatusReject, "!accept", true},
		{dmarc.StatusAccept, "!accept : !none", false},
		{dmarc.StatusQuarantine, "!accept : !none", true},
		{dmarc.StatusOff, "*", true},
		{dmarc.StatusNoRecord, "NORECORD", true},
	} {
		got, err := dmarc.Match(c.s, c.list)
		require.NoError(t, err)
		assert.Equal(t, c.want, got, "%s vs %q", c.s, c.list)
	}
	_, err := dmarc.Match(dmarc.StatusAccept, "acept")
	assert.Error(t, err)
}

// A From that cannot be read in full never authenticates the message,
// and never hides a domain that can be read.
func TestUnreadableFrom(t *testing.T) {
	_, srv := start(t)
	for _, c := range []struct {
		name   string
		from   []string
		spf    spf.Result
		status dmarc.Status
	}{
		{"comment in the domain", []string{"ceo@(c)example.com"}, spf.None, dmarc.StatusReject},
		{"obs-route", []string{"<@relay.example:ceo@example.com>"}, spf.None, dmarc.StatusReject},
		{"broken field still names a reject domain", []string{"ceo@example.com, <junk"}, spf.None, dmarc.StatusReject},
		{"broken field beside a p=none domain", []string{"a@none.example, <junk"}, spf.None, dmarc.StatusNoFrom},
		{"aligned pass does not excuse the unreadable part", []string{"a@example.com, x@[192.0.2.1]"}, spf.Pass, dmarc.StatusNoFrom},
		{"second field with the reject domain", []string{"a@none.example", "ceo@example.com"}, spf.None, dmarc.StatusReject},
		{"second address with the reject domain", []string{"a@none.example, ceo@example.com"}, spf.None, dmarc.StatusReject},
		{"group only", []string{"undisclosed-recipients:;"}, spf.None, dmarc.StatusNoFrom},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := dmarc.Evaluate(ctx, dmarc.Input{HeaderFrom: c.from, SPF: c.spf, SPFDomain: "example.com"}, opts(srv)...)
			assert.Equal(t, c.status, o.Status, "err %v", o.Err)
			if c.status == dmarc.StatusNoFrom {
				var fe *dmarc.FromError
				assert.ErrorAs(t, o.Err, &fe)
				assert.Equal(t, "permerror", authres.FromDMARC(o).Result)
			}
		})
	}
}
