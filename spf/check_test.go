package spf_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
	"github.com/mailpolicy/mailpolicy/spf"
)

// testZone is served by a real DNS server on 127.0.0.1 for these tests.
var testZone = []string{
	`example.com. TXT "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 mx -all"`,
	`example.com. MX 10 mx.example.com.`,
	`mx.example.com. A 198.51.100.25`,
	`soft.example.com. TXT "v=spf1 ~all"`,
	`neutral.example.com. TXT "v=spf1 ?all"`,
	`default.example.com. TXT "v=spf1 ip4:203.0.113.1"`,
	`exp.example.com. TXT "v=spf1 -all exp=why.example.com"`,
	`why.example.com. TXT "%{i} may not send for %{d} (sender %{s})"`,
	`badexp.example.com. TXT "v=spf1 -all exp=badwhy.example.com"`,
	`badwhy.example.com. TXT "line one\013\010X-Injected: yes"`,
	`nospf.example.com. A 192.0.2.10`,
	`nospf.example.com. MX 10 mx.example.com.`,
	`other.example.com. TXT "some other text"`,
	`perm.example.com. TXT "v=spf1 ip4:192.0.2.300 -all"`,
	`multi.example.com. TXT "v=spf1 -all"`,
	`multi.example.com. TXT "v=spf1 +all"`,
	`slow.example.com. TXT "v=spf1 include:timeout.example.com -all"`,
	`servfail.example.com. TXT "v=spf1 a:broken.example.com -all"`,
	`helo.example.net. TXT "v=spf1 a -all"`,
	`helo.example.net. A 192.0.2.99`,
	`limits.example.com. TXT "v=spf1 a:a1.example.com a:a2.example.com a:a3.example.com -all"`,
	`a1.example.com. A 203.0.113.1`,
	`a2.example.com. A 203.0.113.2`,
	`a3.example.com. A 203.0.113.3`,
	`voids.example.com. TXT "v=spf1 a:nx1.example.com a:nx2.example.com a:nx3.example.com -all"`,
	`loop.example.com. TXT "v=spf1 include:loop.example.com -all"`,
	`ping.example.com. TXT "v=spf1 include:pong.example.com -all"`,
	`pong.example.com. TXT "v=spf1 redirect=ping.example.com"`,
	`twice.example.com. TXT "v=spf1 include:soft.example.com include:soft.example.com -all"`,
}

func startZone(t *testing.T, extra ...string) (*resolvertest.Zone, *resolvertest.Server) {
	t.Helper()
	z := resolvertest.NewZone()
	z.MustAdd(t, testZone...)
	z.MustAdd(t, extra...)
	z.SetTimeout("timeout.example.com.", 0)
	z.SetRcode("broken.example.com.", 0, dns.RcodeServerFailure)
	return z, resolvertest.Start(t, z)
}

func opts(srv *resolvertest.Server, more ...spf.Option) []spf.Option {
	return append([]spf.Option{
		spf.WithResolver(nsResolver(nil, srv.Addr, time.Second)), // a whole query's budget, retries included
		spf.WithReceiver("mx.receiver.test"),
	}, more...)
}

var ctx = context.Background()

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestCheckPassStrings(t *testing.T) {
	_, srv := startZone(t)
	o := spf.Check(ctx, ip("192.0.2.1"), "user@example.com", "mail.example.com", opts(srv)...)
	require.NoError(t, o.Err)
	assert.Equal(t, spf.Pass, o.Result)
	assert.Equal(t, "pass", o.Result.String())
	assert.Equal(t, "example.com", o.UsedDomain)
	assert.Equal(t, "mfrom", o.Identity)
	assert.Equal(t, "ip4:192.0.2.0/24", o.Mechanism)
	assert.Equal(t, "mx.receiver.test: domain of example.com designates 192.0.2.1 as permitted sender", o.HeaderComment)
	assert.Equal(t, "Received-SPF: pass (mx.receiver.test: domain of example.com designates 192.0.2.1 as permitted sender)"+
		" client-ip=192.0.2.1; envelope-from=user@example.com; helo=mail.example.com;"+
		" receiver=mx.receiver.test; identity=mailfrom; mechanism=ip4:192.0.2.0/24;", o.Received)
	assert.Empty(t, o.SMTPComment, "no smtp comment for pass")
	assert.False(t, o.Guessed)
	assert.Equal(t, 0, o.Lookups)
	assert.Equal(t, "spf=pass smtp.mailfrom=example.com", o.AuthResult())
}

func TestCheckResultTexts(t *testing.T) {
	_, srv := startZone(t)
	cases := []struct {
		sender, ip string
		result     spf.Result
		comment    string
		smtp       string
	}{
		{"a@example.com", "203.0.113.9", spf.Fail,
			"mx.receiver.test: domain of example.com does not designate 203.0.113.9 as permitted sender",
			"Please see http://www.open-spf.org/Why : Reason: mechanism"},
		{"a@soft.example.com", "203.0.113.9", spf.SoftFail,
			"mx.receiver.test: transitioning domain of soft.example.com does not designate 203.0.113.9 as permitted sender",
			"Please see http://www.open-spf.org/Why : Reason: mechanism"},
		{"a@neutral.example.com", "203.0.113.9", spf.Neutral,
			"mx.receiver.test: 203.0.113.9 is neither permitted nor denied by domain of neutral.example.com",
			"Please see http://www.open-spf.org/Why : Reason: mechanism"},
		{"a@default.example.com", "203.0.113.9", spf.Neutral,
			"mx.receiver.test: 203.0.113.9 is neither permitted nor denied by domain of default.example.com",
			"Please see http://www.open-spf.org/Why : Reason: default"},
		{"a@other.example.com", "203.0.113.9", spf.None,
			"mx.receiver.test: domain of other.example.com does not provide an SPF record", ""},
		{"a@perm.example.com", "203.0.113.9", spf.PermError,
			"mx.receiver.test: error in processing during lookup of domain of perm.example.com: Invalid IPv4 address literal", ""},
		{"a@multi.example.com", "203.0.113.9", spf.PermError,
			"mx.receiver.test: error in processing during lookup of domain of multi.example.com: Multiple SPF or TXT records for domain.", ""},
		{"a@servfail.example.com", "203.0.113.9", spf.TempError,
			"mx.receiver.test: encountered temporary error during SPF processing of domain of servfail.example.com", ""},
		{"a@example.com", "2001:db8::5", spf.Pass,
			"mx.receiver.test: domain of example.com designates 2001:db8::5 as permitted sender", ""},
		{"a@example.com", "198.51.100.25", spf.Pass,
			"mx.receiver.test: domain of example.com designates 198.51.100.25 as permitted sender", ""},
	}
	for _, c := range cases {
		t.Run(c.sender+"/"+c.ip, func(t *testing.T) {
			o := spf.Check(ctx, ip(c.ip), c.sender, "helo.example.org", opts(srv)...)
			assert.Equal(t, c.result, o.Result, "err %v", o.Err)
			assert.Equal(t, c.comment, o.HeaderComment)
			assert.Equal(t, c.smtp, o.SMTPComment)
			assert.True(t, strings.HasPrefix(o.Received, "Received-SPF: "+c.result.String()+" ("+c.comment+")"), o.Received)
			if c.result == spf.TempError || c.result == spf.PermError {
				assert.Error(t, o.Err)
			}
		})
	}
}

func TestNullSenderUsesHELO(t *testing.T) {
	_, srv := startZone(t)
	o := spf.Check(ctx, ip("192.0.2.99"), "", "helo.example.net", opts(srv)...)
	assert.Equal(t, spf.Pass, o.Result)
	assert.Equal(t, "helo", o.Identity)
	assert.Equal(t, "helo.example.net", o.UsedDomain)
	assert.Contains(t, o.Received, " envelope-from=postmaster@helo.example.net;")
	assert.Contains(t, o.Received, " identity=helo;")
	assert.Equal(t, "spf=pass smtp.helo=helo.example.net", o.AuthResult())

	// A sender without "@" is checked as postmaster@<it>.
	o = spf.Check(ctx, ip("192.0.2.99"), "helo.example.net", "x.example", opts(srv)...)
	assert.Equal(t, spf.Pass, o.Result)
	assert.Equal(t, "mfrom", o.Identity)
	assert.Contains(t, o.Received, " envelope-from=postmaster@helo.example.net;")
}

func TestBestGuess(t *testing.T) {
	_, srv := startZone(t)
	// No record: plain Check says none, the guess record passes on a/24.
	o := spf.Check(ctx, ip("192.0.2.200"), "u@nospf.example.com", "h.example", opts(srv)...)
	assert.Equal(t, spf.None, o.Result)
	assert.False(t, o.Guessed)

	o = spf.CheckGuess(ctx, ip("192.0.2.200"), "u@nospf.example.com", "h.example", opts(srv)...)
	assert.Equal(t, spf.Pass, o.Result)
	assert.True(t, o.Guessed)
	assert.Equal(t, "a/24", o.Mechanism)
	assert.Equal(t, "spf=pass (best guess record for domain) smtp.mailfrom=nospf.example.com", o.AuthResult())

	// mx/24 of the guess record.
	o = spf.CheckGuess(ctx, ip("198.51.100.1"), "u@nospf.example.com", "h.example", opts(srv)...)
	assert.Equal(t, spf.Pass, o.Result)
	assert.Equal(t, "mx/24", o.Mechanism)

	// Nothing matches: the guess record's ?all.
	o = spf.CheckGuess(ctx, ip("203.0.113.50"), "u@nospf.example.com", "h.example", opts(srv)...)
	assert.Equal(t, spf.Neutral, o.Result)
	assert.True(t, o.Guessed)

	// A published record is never replaced by the guess.
	o = spf.CheckGuess(ctx, ip("203.0.113.50"), "u@example.com", "h.example", opts(srv)...)
	assert.Equal(t, spf.Fail, o.Result)
	assert.False(t, o.Guessed)

	// temperror and permerror do not trigger the guess.
	o = spf.CheckGuess(ctx, ip("192.0.2.200"), "u@perm.example.com", "h.example", opts(srv)...)
	assert.Equal(t, spf.PermError, o.Result)
	assert.False(t, o.Guessed)

	// A custom guess record.
	o = spf.CheckGuess(ctx, ip("203.0.113.50"), "u@nospf.example.com", "h.example",
		opts(srv, spf.WithGuessRecord("v=spf1 ip4:203.0.113.0/24 -all"))...)
	assert.Equal(t, spf.Pass, o.Result)
	assert.True(t, o.Guessed)

	// A broken guess record is reported, not silently ignored.
	o = spf.CheckGuess(ctx, ip("203.0.113.50"), "u@nospf.example.com", "h.example",
		opts(srv, spf.WithGuessRecord("v=spf1 bogus"))...)
	assert.Equal(t, spf.PermError, o.Result)
	assert.Error(t, o.Err)
}

func TestLocalhostPass(t *testing.T) {
	z, srv := startZone(t)
	for _, a := range []string{"127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1"} {
		o := spf.Check(ctx, ip(a), "u@example.com", "h.example", opts(srv, spf.WithLocalhostPass(true))...)
		assert.Equal(t, spf.Pass, o.Result, a)
		assert.Equal(t, "mx.receiver.test: localhost is always allowed.", o.HeaderComment)
	}
	assert.Zero(t, z.Queries(), "localhost pass needs no DNS")

	o := spf.Check(ctx, ip("127.0.0.1"), "u@example.com", "h.example", opts(srv, spf.WithLocalhostPass(false))...)
	assert.Equal(t, spf.Fail, o.Result)
	assert.NotZero(t, z.Queries())
}

func TestDNSFaultsAreTempError(t *testing.T) {
	_, srv := startZone(t)
	// Timeout inside an include.
	o := spf.Check(ctx, ip("192.0.2.1"), "u@slow.example.com", "h.example", opts(srv)...)
	assert.Equal(t, spf.TempError, o.Result)
	var de *spf.DNSError
	require.ErrorAs(t, o.Err, &de)
	assert.Equal(t, "timeout.example.com", de.Name)
	assert.ErrorIs(t, o.Err, spf.ErrTemporary)

	// The context's deadline bounds the whole evaluation, whatever the
	// per-query timeout.
	c, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	o = spf.Check(c, ip("192.0.2.1"), "u@timeout.example.com", "h.example",
		spf.WithResolver(nsResolver(t, srv.Addr, 30*time.Second)))
	assert.Equal(t, spf.TempError, o.Result)
	assert.Less(t, time.Since(start), 10*time.Second, "deadline not honoured")

	// A dead nameserver.
	o = spf.Check(ctx, ip("192.0.2.1"), "u@example.com", "h.example",
		spf.WithResolver(nsResolver(t, "127.0.0.1:1", 200*time.Millisecond)))
	assert.Equal(t, spf.TempError, o.Result)
}

func TestLimits(t *testing.T) {
	_, srv := startZone(t)
	o := spf.Check(ctx, ip("203.0.113.3"), "u@limits.example.com", "h.example", opts(srv)...)
	assert.Equal(t, spf.Pass, o.Result)
	assert.Equal(t, 3, o.Lookups)

	o = spf.Check(ctx, ip("203.0.113.3"), "u@limits.example.com", "h.example", opts(srv, spf.WithLookupLimits(2, 2))...)
	assert.Equal(t, spf.PermError, o.Result)
	assert.Contains(t, o.HeaderComment, "Mechanisms used too many DNS lookups")

	o = spf.Check(ctx, ip("203.0.113.3"), "u@voids.example.com", "h.example", opts(srv)...)
	assert.Equal(t, spf.PermError, o.Result)
	assert.Equal(t, 3, o.VoidLookups)
	assert.Contains(t, o.HeaderComment, "Too many void DNS lookups")

	o = spf.Check(ctx, ip("203.0.113.3"), "u@voids.example.com", "h.example", opts(srv, spf.WithLookupLimits(10, 3))...)
	assert.Equal(t, spf.Fail, o.Result)
}

func TestExplanation(t *testing.T) {
	_, srv := startZone(t)
	o := spf.Check(ctx, ip("203.0.113.9"), "bob@exp.example.com", "h.example", opts(srv)...)
	assert.Equal(t, spf.Fail, o.Result)
	assert.Equal(t, "203.0.113.9 may not send for exp.example.com (sender bob@exp.example.com)", o.Explanation)
	assert.Equal(t, o.Explanation+" : Reason: mechanism", o.SMTPComment)

	// Exim's own behaviour: the default text.
	o = spf.Check(ctx, ip("203.0.113.9"), "bob@exp.example.com", "h.example", opts(srv, spf.WithExpFetch(false))...)
	assert.Equal(t, spf.DefaultExplanation, o.Explanation)

	// A configured template, with macros.
	o = spf.Check(ctx, ip("203.0.113.9"), "bob@example.com", "h.example",
		opts(srv, spf.WithDefaultExplanation("See%_https://help.test/%{d}"))...)
	assert.Equal(t, "See https://help.test/example.com : Reason: mechanism", o.SMTPComment)

	// An explanation with control characters is not used.
	o = spf.Check(ctx, ip("203.0.113.9"), "bob@badexp.example.com", "h.example", opts(srv)...)
	assert.Equal(t, spf.DefaultExplanation, o.Explanation)
}

func TestHeaderInjection(t *testing.T) {
	_, srv := startZone(t)
	hostile := []struct{ sender, helo string }{
		{"evil\r\nX-Injected: yes@example.com", "h.example"},
		{"user@example.com", "h.example\r\nX-Injected: yes"},
		{"", "h.example\nX-Injected: yes"},
		{"a;b=c\"(x)\\@example.com", "h (x); receiver=forged;"},
		{"user@exa)mple.com\r", "h\x00.example"},
	}
	for _, h := range hostile {
		o := spf.Check(ctx, ip("203.0.113.9"), h.sender, h.helo, opts(srv)...)
		for _, v := range o.Variables() {
			assert.NotContains(t, v.Value, "\r", v.Name)
			assert.NotContains(t, v.Value, "\n", v.Name)
			assert.NotContains(t, v.Value, "\x00", v.Name)
		}
		assert.NotContains(t, o.AuthResult(), "\n")
		// Exactly one receiver= key: remote text cannot forge one.
		keys := receivedKeys(t, o.Received)
		require.GreaterOrEqual(t, len(keys), 5, o.Received)
		assert.Equal(t, []string{"client-ip", "envelope-from", "helo", "receiver", "identity"}, keys[:5], o.Received)
		assert.LessOrEqual(t, len(keys), 6, o.Received)
		assert.True(t, balancedComment(o.Received), o.Received)
	}
}

// receivedKeys parses the key=value list after the comment of a
// Received-SPF line, honouring quoted strings, and returns the keys.
func receivedKeys(t *testing.T, s string) []string {
	t.Helper()
	i := strings.Index(s, ") ")
	for i >= 0 && i > 0 && s[i-1] == '\\' {
		j := strings.Index(s[i+1:], ") ")
		if j < 0 {
			i = -1
			break
		}
		i += j + 1
	}
	require.GreaterOrEqual(t, i, 0, s)
	var keys []string
	rest := s[i+2:]
	for rest != "" {
		eq := strings.IndexByte(rest, '=')
		require.Greater(t, eq, 0, rest)
		keys = append(keys, strings.TrimSpace(rest[:eq]))
		rest = rest[eq+1:]
		if strings.HasPrefix(rest, "\"") {
			j := 1
			for ; j < len(rest) && rest[j] != '"'; j++ {
				if rest[j] == '\\' {
					j++
				}
			}
			rest = rest[j+1:]
		}
		semi := strings.IndexByte(rest, ';')
		require.GreaterOrEqual(t, semi, 0, rest)
		rest = strings.TrimPrefix(rest[semi+1:], " ")
	}
	return keys
}

// balancedComment checks that the first comment of a Received-SPF line
// closes where the header comment ends (escaped parentheses inside).
func balancedComment(s string) bool {
	i := strings.IndexByte(s, '(')
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return !strings.ContainsAny(s[j+1:], "()") || strings.Contains(s[j+1:], "\"")
			}
		}
	}
	return false
}

func TestReceivedLength(t *testing.T) {
	_, srv := startZone(t)
	long := strings.Repeat("x", 300) + "@example.com"
	o := spf.Check(ctx, ip("203.0.113.9"), long, strings.Repeat("h", 200)+".example", opts(srv)...)
	assert.LessOrEqual(t, len(o.Received), 480)
	assert.True(t, strings.HasPrefix(o.Received, "Received-SPF: fail ("), o.Received)
	assert.True(t, strings.HasSuffix(o.Received, ";") || strings.HasSuffix(o.Received, ")"), o.Received)
	assert.LessOrEqual(t, len(o.SMTPComment), 319)
}

func TestAuthentic(t *testing.T) {
	z, srv := startZone(t)
	o := spf.Check(ctx, ip("192.0.2.1"), "u@example.com", "h.example", opts(srv)...)
	assert.False(t, o.Authentic)
	z.SetAuthentic(true)
	o = spf.Check(ctx, ip("198.51.100.25"), "u@example.com", "h.example", opts(srv)...)
	assert.Equal(t, spf.Pass, o.Result)
	assert.True(t, o.Authentic, "AD from a loopback server is trusted")
}

func TestLookup(t *testing.T) {
	_, srv := startZone(t)
	r, err := spf.Lookup(ctx, ip("203.0.113.9"), "u@example.com", opts(srv)...)
	require.NoError(t, err)
	assert.Equal(t, spf.Fail, r)
	r, err = spf.Lookup(ctx, ip("192.0.2.7"), "u@example.com", opts(srv)...)
	require.NoError(t, err)
	assert.Equal(t, "pass", r.String())
	r, err = spf.Lookup(ctx, ip("::ffff:192.0.2.7"), "u@example.com", opts(srv)...)
	require.NoError(t, err)
	assert.Equal(t, spf.Pass, r, "IPv4-mapped IPv6 is the IPv4 address")

	for _, bad := range []struct {
		addr string
		ip   netip.Addr
	}{
		{"u@example.com", netip.Addr{}},
		{"", ip("192.0.2.1")},
		{"u@", ip("192.0.2.1")},
		{"a b@example.com", ip("192.0.2.1")},
		{"u@example.com", ip("fe80::1%eth0")},
	} {
		_, err := spf.Lookup(ctx, bad.ip, bad.addr, opts(srv)...)
		assert.Error(t, err, "%q %v", bad.addr, bad.ip)
	}
}

// countingResolver wraps the real client to show WithResolver is used,
// and can replace answers with net.DNSError values.
type countingResolver struct {
	*resolver.Resolver
	txt     int
	failTXT error
}

func (c *countingResolver) LookupTXT(ctx context.Context, name string) ([]string, bool, error) {
	c.txt++
	if c.failTXT != nil {
		return nil, false, c.failTXT
	}
	return c.Resolver.LookupTXT(ctx, name)
}

func TestWithResolver(t *testing.T) {
	_, srv := startZone(t)
	cl, err := resolver.New(resolver.WithNameservers(srv.Addr))
	require.NoError(t, err)
	r := &countingResolver{Resolver: cl}
	o := spf.Check(ctx, ip("192.0.2.1"), "u@example.com", "h.example", spf.WithResolver(r))
	assert.Equal(t, spf.Pass, o.Result)
	assert.Equal(t, 1, r.txt)

	// net.DNSError is understood: not-found is "none", timeouts temperror.
	r.failTXT = &net.DNSError{Err: "no such host", Name: "example.com", IsNotFound: true}
	assert.Equal(t, spf.None, spf.Check(ctx, ip("192.0.2.1"), "u@example.com", "h", spf.WithResolver(r)).Result)
	r.failTXT = &net.DNSError{Err: "i/o timeout", Name: "example.com", IsTimeout: true}
	assert.Equal(t, spf.TempError, spf.Check(ctx, ip("192.0.2.1"), "u@example.com", "h", spf.WithResolver(r)).Result)
	r.failTXT = errors.New("something odd")
	assert.Equal(t, spf.TempError, spf.Check(ctx, ip("192.0.2.1"), "u@example.com", "h", spf.WithResolver(r)).Result)
}

func TestVariables(t *testing.T) {
	_, srv := startZone(t)
	o := spf.CheckGuess(ctx, ip("192.0.2.200"), "u@nospf.example.com", "h.example", opts(srv)...)
	var names []string
	vals := map[string]string{}
	for _, v := range o.Variables() {
		names = append(names, v.Name)
		vals[v.Name] = v.Value
	}
	assert.Equal(t, []string{"spf_result", "spf_header_comment", "spf_received", "spf_smtp_comment",
		"spf_used_domain", "spf_result_guessed", "spf_explanation", "spf_mechanism"}, names)
	assert.Equal(t, "pass", vals["spf_result"])
	assert.Equal(t, "yes", vals["spf_result_guessed"])
	assert.Equal(t, "nospf.example.com", vals["spf_used_domain"])
}

func TestRecursion(t *testing.T) {
	_, srv := startZone(t)
	for _, d := range []string{"loop.example.com", "ping.example.com", "pong.example.com"} {
		o := spf.Check(ctx, ip("203.0.113.9"), "u@"+d, "h.example", opts(srv)...)
		assert.Equal(t, spf.PermError, o.Result, d)
		// libspf2's text, which Exim shows.
		assert.True(t, strings.HasSuffix(o.HeaderComment, ": include: or redirect= caused unlimited recursion"), o.HeaderComment)
		assert.Less(t, o.Lookups, 10, "the loop is found before the lookup limit")
	}
	// The same include twice in one record is not a loop.
	o := spf.Check(ctx, ip("203.0.113.9"), "u@twice.example.com", "h.example", opts(srv)...)
	assert.Equal(t, spf.Fail, o.Result, "err %v", o.Err)
	assert.Equal(t, 2, o.Lookups)
}
