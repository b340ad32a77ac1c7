// Differential test: spf.Check against blitiri.com.ar/go/spf v1.6.0 on
// the same DNS data, served by resolver/resolvertest on 127.0.0.1.
//
// blitiri is a differential oracle only: agreement is not proof of
// correctness and disagreement is not proof of a bug here. Every case also
// states the RFC 7208 result it expects from spf.Check (want), and every
// disagreement must be listed in knownDiff with the section of RFC 7208
// that decides it and which side is right. The test fails on a
// disagreement that is not listed, on a listed one that changed, and on a
// listed one that no longer occurs, so the map stays honest.
//
// blitiri queries through a net.Resolver (PreferGo) whose Dial always
// reaches the test server. Names are made absolute (a trailing dot) before
// they reach it, so that the search list in /etc/resolv.conf, or the one Go
// derives from the host name, can never add queries whose answer would
// replace the one for the name itself (Go keeps the last error of the
// search list). This changes nothing else: blitiri hands the resolver the
// names it would query anyway.

package spf_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	blspf "blitiri.com.ar/go/spf"
	"github.com/miekg/dns"

	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
	"github.com/mailpolicy/mailpolicy/spf"
)

// diffCase is one check run through both engines.
type diffCase struct {
	name         string
	ip           string
	sender, helo string // sender "" is the null reverse-path
	want         string // the RFC 7208 result, asserted for spf.Check
}

// diffKnown is one documented disagreement.
type diffKnown struct {
	blitiri, ours string // result words each side gives
	right         string // "mailpolicy", "blitiri" or "either"
	why           string // RFC 7208 reasoning, with the section
}

// knownDiff lists every case where the two engines disagree, by case name.
var knownDiff = map[string]diffKnown{
	"void-a-aaaa-only/ip4": {
		blitiri: "fail", ours: "permerror", right: "mailpolicy",
		why: "§5.3: for an IPv4 client the a mechanism queries A only, and §4.6.4 counts an " +
			"A query with no answer (NODATA) as a void lookup, so the third such term " +
			"exceeds the limit of two. blitiri resolves a with LookupIPAddr (A and AAAA) " +
			"and counts a void lookup only when both are empty, so names with only AAAA " +
			"records never count.",
	},
	"void-exists-aaaa-only": {
		blitiri: "fail", ours: "permerror", right: "mailpolicy",
		why: "§5.7: exists always queries A; NODATA is a void lookup (§4.6.4). blitiri " +
			"uses LookupIPAddr and sees the AAAA records, so the lookups are not void " +
			"and the limit is never reached.",
	},
	"macro-l-null-sender": {
		blitiri: "fail", ours: "pass", right: "mailpolicy",
		why: "§2.4 and §4.3: with a null reverse-path the sender is postmaster@<HELO>, " +
			"and a sender without a local-part gets \"postmaster\", so %{l} is " +
			"\"postmaster\". blitiri leaves the sender empty and expands %{l} to \"\".",
	},
	"macro-slash-delimiter": {
		blitiri: "permerror", ours: "pass", right: "mailpolicy",
		why: "§7.1: \"/\" is one of the macro delimiters (delimiter = \".\" / \"-\" / \"+\" / " +
			"\",\" / \"/\" / \"_\" / \"=\"), so exists:%{l/}.… is a valid domain-spec. blitiri " +
			"rejects any domain-spec containing \"/\" before expanding it.",
	},
	"macro-p-validated": {
		blitiri: "fail", ours: "pass", right: "mailpolicy",
		why: "§7.3: %{p} is the validated domain name of the client (§5.5), \"unknown\" " +
			"only when none is found. blitiri always expands it to \"unknown\" by design; " +
			"the RFC's advice not to use %{p} is addressed to record publishers.",
	},
	"exp-empty": {
		blitiri: "fail", ours: "permerror", right: "mailpolicy",
		why: "§6.2: explanation = \"exp\" \"=\" domain-spec, and a domain-spec cannot be " +
			"empty; §4.6: a syntax error anywhere in the record gives permerror before " +
			"evaluation (openspf rfc7208 suite: exp-empty-domain, after the erratum on " +
			"§6.2/4). blitiri skips exp= " +
			"without parsing it.",
	},
	"exp-duplicate": {
		blitiri: "fail", ours: "permerror", right: "mailpolicy",
		why: "§6: redirect and exp MUST NOT appear more than once; if they do, " +
			"check_host() returns permerror. blitiri ignores every exp= and only checks " +
			"redirect for duplicates.",
	},
	"unknown-mech-after-match": {
		blitiri: "pass", ours: "permerror", right: "mailpolicy",
		why: "§4.6: if there are any syntax errors anywhere in the record, check_host() " +
			"returns permerror without further interpretation; an unknown mechanism is " +
			"one (§5 ABNF; openspf rfc7208 suite: detect-errors-anywhere). blitiri " +
			"evaluates left to right " +
			"and returns at the first match, never seeing the bad term.",
	},
	"ip4-with-ipv6-literal": {
		blitiri: "fail", ours: "permerror", right: "mailpolicy",
		why: "§5.6: ip4-network = qnum \".\" qnum \".\" qnum \".\" qnum; an IPv6 literal after " +
			"ip4: is a syntax error, so permerror (§4.6). blitiri parses the value with " +
			"net.ParseIP, which takes either family, and the term just fails to match.",
	},
	"cidr-leading-zero": {
		blitiri: "pass", ours: "permerror", right: "mailpolicy",
		why: "§5.6: ip4-cidr-length = \"/\" (\"0\" / %x31-39 0*1DIGIT): no leading zero, so " +
			"/024 is a syntax error and the result is permerror (§4.6; openspf rfc7208 " +
			"suite: cidr4-032). blitiri uses " +
			"net.ParseCIDR, which accepts /024 as /24.",
	},
	"unknown-modifier-bad-macro": {
		blitiri: "fail", ours: "permerror", right: "mailpolicy",
		why: "§6 and §7.1: unknown-modifier = name \"=\" macro-string, so its value must " +
			"be a valid macro-string; %{z} is not a macro letter, a syntax error, so " +
			"permerror (§4.6). blitiri ignores unknown modifiers without parsing them.",
	},
	"dns-refused": {
		blitiri: "permerror", ours: "temperror", right: "mailpolicy",
		why: "§4.4: an RCODE other than 0 or 3 (here 5, REFUSED) gives temperror. Go's " +
			"resolver reports REFUSED as \"server misbehaving\" without IsTemporary, " +
			"and blitiri turns every error that is neither not-found nor temporary " +
			"into permerror.",
	},
	"void-ptr-nxdomain": {
		blitiri: "permerror", ours: "fail", right: "either",
		why: "§4.6.4 counts terms whose DNS query returns NODATA or NXDOMAIN as void " +
			"lookups, and blitiri counts the ptr term's PTR query answered NXDOMAIN as " +
			"the third one. spf.Check never lets PTR answers count: §5.5 says only that " +
			"a DNS error on the PTR query makes ptr fail to match, and §4.6.4 itself " +
			"treats PTR data apart because it is controlled by whoever controls the " +
			"client's address, not by the domain. The wording supports either reading.",
	},
}

// diffZone is the test data: one name per behaviour, see the cases.
func diffZone(t *testing.T) *resolvertest.Zone {
	z := resolvertest.NewZone()
	rev := func(ip string) string {
		r, err := dns.ReverseAddr(ip)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// %{ir}.%{v} for an IPv6 client: the reversed nibbles, then "ip6".
	nibbles := strings.TrimSuffix(rev("2001:db8::5"), "ip6.arpa.") + "ip6"
	z.MustAdd(t,
		// Basic results and qualifiers.
		`pass.example. 300 IN TXT "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8:1::/48 -all"`,
		`soft.example. 300 IN TXT "v=spf1 ip4:192.0.2.1 ~all"`,
		`neutral.example. 300 IN TXT "v=spf1 ?ip4:192.0.2.1"`,
		`qual.example. 300 IN TXT "v=spf1 -ip4:192.0.2.1 +all"`,
		`nospf.example. 300 IN TXT "google-site-verification=xyz"`,
		`nospf.example. 300 IN TXT "spf2.0/mfrom,pra +all"`,
		`multi.example. 300 IN TXT "v=spf1 +all"`,
		`multi.example. 300 IN TXT "v=spf1 -all"`,
		`split.example. 300 IN TXT "v=spf1 ip4:192.0.2.9" " -all"`,
		`case.example. 300 IN TXT "V=SPF1 IP4:192.0.2.3 -ALL"`,
		`empty.example. 300 IN TXT "v=spf1"`,
		`spf10.example. 300 IN TXT "v=spf10 +all"`,

		// a, with and without dual CIDR.
		`a.example. 300 IN TXT "v=spf1 a -all"`,
		`a.example. 300 IN A 198.51.100.10`,
		`a.example. 300 IN AAAA 2001:db8:a::10`,
		`acidr.example. 300 IN TXT "v=spf1 a:host.acidr.example/24//64 -all"`,
		`host.acidr.example. 300 IN A 198.51.100.20`,
		`host.acidr.example. 300 IN AAAA 2001:db8:b::20`,
		`void.example. 300 IN TXT "v=spf1 a:v6only1.void.example a:v6only2.void.example a:v6only3.void.example -all"`,
		`v6only1.void.example. 300 IN AAAA 2001:db8:e::1`,
		`v6only2.void.example. 300 IN AAAA 2001:db8:e::2`,
		`v6only3.void.example. 300 IN AAAA 2001:db8:e::3`,
		`voidex.example. 300 IN TXT "v=spf1 exists:v6only1.void.example exists:v6only2.void.example exists:v6only3.void.example -all"`,
		`voidnx.example. 300 IN TXT "v=spf1 a:nx1.voidnx.example a:nx2.voidnx.example a:nx3.voidnx.example -all"`,
		`voidtwo.example. 300 IN TXT "v=spf1 a:nx1.voidnx.example a:nx2.voidnx.example -all"`,
		`lim10.example. 300 IN TXT "v=spf1 a:a.example a:a.example a:a.example a:a.example a:a.example a:a.example a:a.example a:a.example a:a.example a:a.example ip4:192.0.2.1 -all"`,
		`lim11.example. 300 IN TXT "v=spf1 a:a.example a:a.example a:a.example a:a.example a:a.example a:a.example a:a.example a:a.example a:a.example a:a.example a:a.example ip4:192.0.2.1 -all"`,

		// mx.
		`mx.example. 300 IN TXT "v=spf1 mx -all"`,
		`mx.example. 300 IN MX 10 mx1.mx.example.`,
		`mx.example. 300 IN MX 20 mx2.mx.example.`,
		`mx1.mx.example. 300 IN A 198.51.100.31`,
		`mx2.mx.example. 300 IN A 198.51.100.32`,
		`mx2.mx.example. 300 IN AAAA 2001:db8:d::32`,
		`mxcidr.example. 300 IN TXT "v=spf1 mx:mx.example/30 -all"`,
		`mxnull.example. 300 IN TXT "v=spf1 mx -all"`,
		`mxnull.example. 300 IN MX 0 .`,
		`mxnx.example. 300 IN TXT "v=spf1 mx:nomx.example -all"`,
		`mxnoa.example. 300 IN TXT "v=spf1 mx ip4:192.0.2.77 -all"`,
		`mxnoa.example. 300 IN MX 10 ghost.mxnoa.example.`,
		`mxsf.example. 300 IN TXT "v=spf1 mx -all"`,
		`mxsf.example. 300 IN MX 10 sf.mxsf.example.`,
	)
	mxmany := make([]string, 0, 12)
	mxmany = append(mxmany, `mxmany.example. 300 IN TXT "v=spf1 mx -all"`)
	for i := 1; i <= 11; i++ {
		mxmany = append(mxmany, fmt.Sprintf("mxmany.example. 300 IN MX %d mx%d.mxmany.example.", i, i))
	}
	z.MustAdd(t, mxmany...)
	z.MustAdd(t,
		// include and redirect.
		`inc.example. 300 IN TXT "v=spf1 include:pass.example -all"`,
		`incnone.example. 300 IN TXT "v=spf1 include:nospf.example -all"`,
		`incperm.example. 300 IN TXT "v=spf1 include:multi.example +all"`,
		`incsoft.example. 300 IN TXT "v=spf1 include:soft.example ?all"`,
		`incdot.example. 300 IN TXT "v=spf1 include:pass.example. -all"`,
		`redir.example. 300 IN TXT "v=spf1 redirect=pass.example"`,
		`redirnone.example. 300 IN TXT "v=spf1 redirect=nospf.example"`,
		`redirall.example. 300 IN TXT "v=spf1 -all redirect=pass.example"`,
		`redirmacro.example. 300 IN TXT "v=spf1 redirect=%{d}.tail.example"`,
		`redirmacro.example.tail.example. 300 IN TXT "v=spf1 ip4:192.0.2.50 -all"`,
		`redirdup.example. 300 IN TXT "v=spf1 redirect=pass.example redirect=soft.example"`,
		`loop.example. 300 IN TXT "v=spf1 include:loop.example -all"`,

		// exists and macros.
		`exists.example. 300 IN TXT "v=spf1 exists:%{i}._ip.exists.example -all"`,
		`192.0.2.5._ip.exists.example. 300 IN A 127.0.0.2`,
		`exists6.example. 300 IN TXT "v=spf1 exists:%{ir}.%{v}._rev.exists6.example -all"`,
		nibbles+`._rev.exists6.example. 300 IN A 127.0.0.2`,
		`user.example. 300 IN TXT "v=spf1 exists:%{l}.user.example -all"`,
		`alice.user.example. 300 IN A 127.0.0.2`,
		`postmaster.user.example. 300 IN A 127.0.0.2`,
		`macro.example. 300 IN TXT "v=spf1 exists:%{l1r-}.lr.macro.example -all"`,
		`first.lr.macro.example. 300 IN A 127.0.0.2`,
		`dmacro.example. 300 IN TXT "v=spf1 exists:%{o}.%{d2}._o.dmacro.example -all"`,
		`dmacro.example.dmacro.example._o.dmacro.example. 300 IN A 127.0.0.2`,
		`helo.example. 300 IN TXT "v=spf1 exists:%{h}._h.helo.example -all"`,
		`mail.client.example._h.helo.example. 300 IN A 127.0.0.2`,
		`slash.example. 300 IN TXT "v=spf1 exists:%{l/}.slash.example -all"`,
		`x.y.slash.example. 300 IN A 127.0.0.2`,
		`ptrmac.example. 300 IN TXT "v=spf1 exists:%{p}._p.ptrmac.example -all"`,
		`host.ptr.example._p.ptrmac.example. 300 IN A 127.0.0.2`,
		`badmacro.example. 300 IN TXT "v=spf1 exists:%{q}.badmacro.example -all"`,

		// ptr, with validated and unvalidated names.
		`ptr.example. 300 IN TXT "v=spf1 ptr -all"`,
		`ptrother.example. 300 IN TXT "v=spf1 ptr:ptr.example -all"`,
		`host.ptr.example. 300 IN A 192.0.2.20`,
		`host6.ptr.example. 300 IN AAAA 2001:db8::20`,
		`liar.ptr.example. 300 IN A 192.0.2.99`,
		rev("192.0.2.20")+` 300 IN PTR host.ptr.example.`,
		rev("192.0.2.21")+` 300 IN PTR liar.ptr.example.`,
		rev("2001:db8::20")+` 300 IN PTR host6.ptr.example.`,
		`ptrvoid.example. 300 IN TXT "v=spf1 a:nx1.voidnx.example a:nx2.voidnx.example ptr -all"`,
		`ptrsf.example. 300 IN TXT "v=spf1 ptr ip4:192.0.2.23 -all"`,

		// exp and syntax errors.
		`exp.example. 300 IN TXT "v=spf1 -all exp=why.exp.example"`,
		`why.exp.example. 300 IN TXT "%{i} is not allowed"`,
		`expempty.example. 300 IN TXT "v=spf1 exp= -all"`,
		`expdup.example. 300 IN TXT "v=spf1 exp=why.exp.example exp=why.exp.example -all"`,
		`unkmech.example. 300 IN TXT "v=spf1 ip4:192.0.2.1 foo:bar -all"`,
		`badip4.example. 300 IN TXT "v=spf1 ip4:2001:db8::1 -all"`,
		`badcidr.example. 300 IN TXT "v=spf1 ip4:192.0.2.0/024 -all"`,
		`bigcidr.example. 300 IN TXT "v=spf1 ip4:192.0.2.0/33 -all"`,
		`badmod.example. 300 IN TXT "v=spf1 foo=%{z} -all"`,
		`goodmod.example. 300 IN TXT "v=spf1 moo=bar ip4:192.0.2.1 -all"`,
		`allarg.example. 300 IN TXT "v=spf1 -all:foo"`,
		`incslash.example. 300 IN TXT "v=spf1 include:pass.example/24 -all"`,

		// DNS failures, set up below.
		`incsf.example. 300 IN TXT "v=spf1 include:servfail.example -all"`,
		`asf.example. 300 IN TXT "v=spf1 a:sf.asf.example -all"`,
	)
	z.SetRcode("servfail.example.", dns.TypeTXT, dns.RcodeServerFailure)
	z.SetRcode("refused.example.", dns.TypeTXT, dns.RcodeRefused)
	z.SetRcode("sf.asf.example.", 0, dns.RcodeServerFailure)
	z.SetRcode("sf.mxsf.example.", 0, dns.RcodeServerFailure)
	z.SetRcode(rev("192.0.2.23"), dns.TypePTR, dns.RcodeServerFailure)
	z.SetTimeout("timeout.example.", dns.TypeTXT)
	return z
}

var diffCases = []diffCase{
	// Basic results and qualifiers.
	{"ip4-pass", "192.0.2.1", "a@pass.example", "", "pass"},
	{"ip4-pass-last", "192.0.2.255", "a@pass.example", "", "pass"},
	{"ip4-fail", "198.51.100.1", "a@pass.example", "", "fail"},
	{"ip6-pass", "2001:db8:1::5", "a@pass.example", "", "pass"},
	{"ip6-fail", "2001:db8:2::5", "a@pass.example", "", "fail"},
	{"ip4-mapped-ip6-client", "::ffff:192.0.2.7", "a@pass.example", "", "pass"},
	{"ip6-softfail", "2001:db8::1", "a@soft.example", "", "softfail"},
	{"ip6-no-spf-record", "2001:db8::1", "a@nospf.example", "", "none"},
	{"softfail", "192.0.2.2", "a@soft.example", "", "softfail"},
	{"softfail-pass", "192.0.2.1", "a@soft.example", "", "pass"},
	{"neutral-qualifier", "192.0.2.1", "a@neutral.example", "", "neutral"},
	{"neutral-default", "192.0.2.2", "a@neutral.example", "", "neutral"},
	{"fail-qualifier", "192.0.2.1", "a@qual.example", "", "fail"},
	{"plus-all", "192.0.2.2", "a@qual.example", "", "pass"},
	{"no-spf-record", "192.0.2.1", "a@nospf.example", "", "none"},
	{"nxdomain", "192.0.2.1", "a@nx.example", "", "none"},
	{"single-label-domain", "192.0.2.1", "a@localhost", "", "none"},
	{"multiple-records", "192.0.2.1", "a@multi.example", "", "permerror"},
	{"txt-split-strings", "192.0.2.9", "a@split.example", "", "pass"},
	{"txt-split-strings-fail", "192.0.2.10", "a@split.example", "", "fail"},
	{"uppercase-record", "192.0.2.3", "a@case.example", "", "pass"},
	{"uppercase-record-fail", "192.0.2.4", "a@case.example", "", "fail"},
	{"empty-record", "192.0.2.1", "a@empty.example", "", "neutral"},
	{"not-version-1", "192.0.2.1", "a@spf10.example", "", "none"},
	{"null-sender-helo", "192.0.2.1", "", "pass.example", "pass"},
	{"sender-without-at", "192.0.2.1", "pass.example", "pass.example", "pass"},
	{"sender-empty-local", "198.51.100.1", "@pass.example", "", "fail"},

	// a.
	{"a-pass", "198.51.100.10", "a@a.example", "", "pass"},
	{"a-fail", "198.51.100.11", "a@a.example", "", "fail"},
	{"a-ip6-pass", "2001:db8:a::10", "a@a.example", "", "pass"},
	{"a-cidr4", "198.51.100.99", "a@acidr.example", "", "pass"},
	{"a-cidr6", "2001:db8:b::ffff", "a@acidr.example", "", "pass"},
	{"a-cidr6-fail", "2001:db8:c::1", "a@acidr.example", "", "fail"},
	{"void-a-aaaa-only/ip4", "192.0.2.1", "a@void.example", "", "permerror"},
	{"void-a-aaaa-only/ip6", "2001:db8::99", "a@void.example", "", "fail"},
	{"void-exists-aaaa-only", "192.0.2.1", "a@voidex.example", "", "permerror"},
	{"void-limit-nxdomain", "192.0.2.1", "a@voidnx.example", "", "permerror"},
	{"void-two-ok", "192.0.2.1", "a@voidtwo.example", "", "fail"},
	{"lookup-limit-10", "192.0.2.1", "a@lim10.example", "", "pass"},
	{"lookup-limit-11", "192.0.2.1", "a@lim11.example", "", "permerror"},

	// mx.
	{"mx-pass-second", "198.51.100.32", "a@mx.example", "", "pass"},
	{"mx-pass-first", "198.51.100.31", "a@mx.example", "", "pass"},
	{"mx-fail", "198.51.100.33", "a@mx.example", "", "fail"},
	{"mx-ip6", "2001:db8:d::32", "a@mx.example", "", "pass"},
	{"mx-ip6-fail", "2001:db8:d::33", "a@mx.example", "", "fail"},
	{"mx-cidr", "198.51.100.29", "a@mxcidr.example", "", "pass"},
	{"mx-cidr-fail", "198.51.100.40", "a@mxcidr.example", "", "fail"},
	{"mx-null", "192.0.2.1", "a@mxnull.example", "", "fail"},
	{"mx-too-many", "192.0.2.1", "a@mxmany.example", "", "permerror"},
	{"mx-nxdomain", "192.0.2.1", "a@mxnx.example", "", "fail"},
	{"mx-host-missing", "192.0.2.77", "a@mxnoa.example", "", "pass"},
	{"mx-host-servfail", "192.0.2.1", "a@mxsf.example", "", "temperror"},

	// include and redirect.
	{"include-pass", "192.0.2.1", "a@inc.example", "", "pass"},
	{"include-fail", "198.51.100.1", "a@inc.example", "", "fail"},
	{"include-ip6-pass", "2001:db8:1::9", "a@inc.example", "", "pass"},
	{"include-none", "192.0.2.1", "a@incnone.example", "", "permerror"},
	{"include-permerror", "192.0.2.1", "a@incperm.example", "", "permerror"},
	{"include-softfail-no-match", "192.0.2.2", "a@incsoft.example", "", "neutral"},
	{"include-trailing-dot", "192.0.2.1", "a@incdot.example", "", "pass"},
	{"include-with-cidr", "192.0.2.1", "a@incslash.example", "", "permerror"},
	{"include-temperror", "192.0.2.1", "a@incsf.example", "", "temperror"},
	{"include-loop", "192.0.2.1", "a@loop.example", "", "permerror"},
	{"redirect-pass", "192.0.2.1", "a@redir.example", "", "pass"},
	{"redirect-fail", "198.51.100.1", "a@redir.example", "", "fail"},
	{"redirect-ip6-fail", "2001:db8:9::1", "a@redir.example", "", "fail"},
	{"redirect-none", "192.0.2.1", "a@redirnone.example", "", "permerror"},
	{"redirect-after-all", "192.0.2.1", "a@redirall.example", "", "fail"},
	{"redirect-macro", "192.0.2.50", "a@redirmacro.example", "", "pass"},
	{"redirect-duplicate", "192.0.2.1", "a@redirdup.example", "", "permerror"},

	// exists and macros.
	{"exists-ip", "192.0.2.5", "a@exists.example", "", "pass"},
	{"exists-ip-fail", "192.0.2.6", "a@exists.example", "", "fail"},
	{"exists-ip4-mapped-client", "::ffff:192.0.2.5", "a@exists.example", "", "pass"},
	{"exists-ip6-client-a-query", "2001:db8::1", "alice@user.example", "", "pass"},
	{"exists-ip6-reversed", "2001:db8::5", "a@exists6.example", "", "pass"},
	{"exists-ip6-reversed-fail", "2001:db8::6", "a@exists6.example", "", "fail"},
	{"macro-l", "192.0.2.1", "alice@user.example", "", "pass"},
	{"macro-l-fail", "192.0.2.1", "bob@user.example", "", "fail"},
	{"macro-l-null-sender", "192.0.2.1", "", "user.example", "pass"},
	{"macro-l-reverse-delim", "192.0.2.1", "first-last@macro.example", "", "pass"},
	{"macro-l-reverse-delim-fail", "192.0.2.1", "x-first@macro.example", "", "fail"},
	{"macro-o-d2", "192.0.2.1", "a@dmacro.example", "", "pass"},
	{"macro-h", "192.0.2.1", "a@helo.example", "mail.client.example", "pass"},
	{"macro-h-fail", "192.0.2.1", "a@helo.example", "other.client.example", "fail"},
	{"macro-slash-delimiter", "192.0.2.1", "x/y@slash.example", "", "pass"},
	{"macro-p-validated", "192.0.2.20", "a@ptrmac.example", "", "pass"},
	{"macro-invalid-letter", "192.0.2.1", "a@badmacro.example", "", "permerror"},

	// ptr.
	{"ptr-pass", "192.0.2.20", "a@ptr.example", "", "pass"},
	{"ptr-unvalidated", "192.0.2.21", "a@ptr.example", "", "fail"},
	{"ptr-no-ptr", "192.0.2.22", "a@ptr.example", "", "fail"},
	{"ptr-ip6", "2001:db8::20", "a@ptr.example", "", "pass"},
	{"ptr-other-domain", "192.0.2.20", "a@ptrother.example", "", "pass"},
	{"void-ptr-nxdomain", "192.0.2.22", "a@ptrvoid.example", "", "fail"},
	{"ptr-servfail", "192.0.2.23", "a@ptrsf.example", "", "pass"},

	// exp and syntax.
	{"exp-fail", "192.0.2.1", "a@exp.example", "", "fail"},
	{"exp-empty", "192.0.2.1", "a@expempty.example", "", "permerror"},
	{"exp-duplicate", "192.0.2.1", "a@expdup.example", "", "permerror"},
	{"unknown-mech-after-match", "192.0.2.1", "a@unkmech.example", "", "permerror"},
	{"unknown-mech", "192.0.2.2", "a@unkmech.example", "", "permerror"},
	{"ip4-with-ipv6-literal", "192.0.2.1", "a@badip4.example", "", "permerror"},
	{"cidr-leading-zero", "192.0.2.1", "a@badcidr.example", "", "permerror"},
	{"cidr-too-long", "192.0.2.1", "a@bigcidr.example", "", "permerror"},
	{"unknown-modifier-bad-macro", "192.0.2.1", "a@badmod.example", "", "permerror"},
	{"unknown-modifier", "192.0.2.1", "a@goodmod.example", "", "pass"},
	{"all-with-argument", "192.0.2.1", "a@allarg.example", "", "permerror"},

	// DNS failures.
	{"dns-servfail", "192.0.2.1", "a@servfail.example", "", "temperror"},
	{"dns-refused", "192.0.2.1", "a@refused.example", "", "temperror"},
	{"dns-servfail-a", "192.0.2.1", "a@asf.example", "", "temperror"},
	{"dns-timeout", "192.0.2.1", "a@timeout.example", "", "temperror"},
}

// rootedResolver hands blitiri's queries to a net.Resolver with every
// name made absolute; see the file comment.
type rootedResolver struct{ r *net.Resolver }

func rooted(name string) string {
	if name == "" || strings.HasSuffix(name, ".") {
		return name
	}
	return name + "."
}

func (r rootedResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	return r.r.LookupTXT(ctx, rooted(name))
}

func (r rootedResolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	return r.r.LookupMX(ctx, rooted(name))
}

func (r rootedResolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	return r.r.LookupIPAddr(ctx, rooted(host))
}

func (r rootedResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	return r.r.LookupAddr(ctx, addr)
}

func TestDifferentialBlitiri(t *testing.T) {
	srv := resolvertest.Start(t, diffZone(t))
	theirs := rootedResolver{&net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, srv.Addr)
		},
	}}

	seen := map[string]bool{}
	v4, v6 := 0, 0
	for _, c := range diffCases {
		if seen[c.name] {
			t.Fatalf("duplicate case name %q", c.name)
		}
		seen[c.name] = true
		if netip.MustParseAddr(c.ip).Unmap().Is4() {
			v4++
		} else {
			v6++
		}
	}
	for name := range knownDiff {
		if !seen[name] {
			t.Errorf("knownDiff[%q] names no case", name)
		}
	}
	t.Logf("%d cases (%d IPv4, %d IPv6), %d known disagreements", len(diffCases), v4, v6, len(knownDiff))

	agree := 0
	for _, c := range diffCases {
		t.Run(c.name, func(t *testing.T) {
			helo := c.helo
			if helo == "" {
				helo = "mail.client.example"
			}
			ip := netip.MustParseAddr(c.ip)

			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			o := spf.Check(ctx, ip, c.sender, helo,
				spf.WithResolver(nsResolver(t, srv.Addr, time.Second)),
				spf.WithLocalhostPass(false),
				spf.WithReceiver("mx.example.org"))
			ours := o.Result.String()

			// net.Resolver waits 5s per try by default; the deadline caps
			// that for the timeout case and is generous for the others.
			limit := 5 * time.Second
			if c.name == "dns-timeout" {
				limit = time.Second
			}
			bctx, bcancel := context.WithTimeout(context.Background(), limit)
			defer bcancel()
			res, berr := blspf.CheckHostWithSender(net.ParseIP(c.ip), helo, c.sender,
				blspf.WithResolver(theirs), blspf.WithContext(bctx))
			blitiri := string(res)
			t.Logf("spf.Check %s, blitiri %s", ours, blitiri)

			if ours != c.want {
				t.Errorf("spf.Check = %s (err %v), RFC 7208 wants %s", ours, o.Err, c.want)
			}
			known, listed := knownDiff[c.name]
			switch {
			case ours == blitiri && listed:
				t.Errorf("knownDiff[%q] is stale: both engines now say %s", c.name, ours)
			case ours == blitiri:
				agree++
			case !listed:
				t.Errorf("undocumented disagreement: blitiri %s (err %v), spf.Check %s (err %v)",
					blitiri, berr, ours, o.Err)
			case known.blitiri != blitiri || known.ours != ours:
				t.Errorf("disagreement changed: blitiri %s (err %v), spf.Check %s (err %v); knownDiff says blitiri %s, spf.Check %s",
					blitiri, berr, ours, o.Err, known.blitiri, known.ours)
			}
		})
	}
	t.Logf("engines agree on %d of %d cases", agree, len(diffCases))
}

// TestKnownDiffDocumented keeps every knownDiff entry complete.
func TestKnownDiffDocumented(t *testing.T) {
	words := map[string]bool{}
	for _, w := range []blspf.Result{blspf.None, blspf.Neutral, blspf.Pass, blspf.Fail,
		blspf.SoftFail, blspf.TempError, blspf.PermError} {
		words[string(w)] = true
	}
	for name, k := range knownDiff {
		if !words[k.blitiri] || !words[k.ours] || k.blitiri == k.ours {
			t.Errorf("knownDiff[%q]: result words %q/%q", name, k.blitiri, k.ours)
		}
		switch k.right {
		case "mailpolicy", "blitiri", "either":
		default:
			t.Errorf("knownDiff[%q]: right = %q", name, k.right)
		}
		if !strings.Contains(k.why, "§") {
			t.Errorf("knownDiff[%q]: reason cites no RFC 7208 section", name)
		}
	}
}
