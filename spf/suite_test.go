package spf_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"gopkg.in/yaml.v3"

	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
	"github.com/mailpolicy/mailpolicy/spf"
)

// The openspf.org suites are run through a real DNS server on loopback
// serving each scenario's zonedata, with the pyspf harness conventions:
// SPF-type records are served as TXT when a name has no TXT (unless
// "TXT: NONE"), unlisted names are NXDOMAIN, TIMEOUT never answers.

type suiteScenario struct {
	Description string
	Tests       map[string]suiteCase
	Zonedata    map[string][]any
}

type suiteCase struct {
	Description string
	Spec        any
	Helo        string
	Host        string
	Mailfrom    string
	Result      any
	Explanation string
}

func (c suiteCase) results() []string {
	switch v := c.Result.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return nil
}

func suitePath(name string) string {
	if d := os.Getenv("MAILPOLICY_SHARED"); d != "" {
		return filepath.Join(d, "suites", "spf", name)
	}
	return filepath.Join("..", "..", "shared", "suites", "spf", name)
}

func loadSuite(t *testing.T, name string) []suiteScenario {
	t.Helper()
	f, err := os.Open(suitePath(name))
	if err != nil {
		t.Skipf("suite not available (%v); set MAILPOLICY_SHARED", err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var out []suiteScenario
	for {
		var s suiteScenario
		err := dec.Decode(&s)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, s)
	}
	return out
}

// latin1 turns the YAML's "\x80"-style escapes (decoded as code points
// below 256) back into the raw bytes the suite means.
func latin1(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r < 256 {
			b = append(b, byte(r))
		} else {
			b = append(b, string(r)...)
		}
	}
	return string(b)
}

// txtEscape renders raw bytes as a miekg/dns TXT string (presentation
// format: backslash and quote escaped, other bytes as \DDD).
func txtEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' || c == '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func txtStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{txtEscape(latin1(x))}
	case []any:
		out := []string{}
		for _, s := range x {
			out = append(out, txtEscape(latin1(fmt.Sprint(s))))
		}
		return out
	}
	return []string{fmt.Sprint(v)}
}

// presentation turns a raw zonedata name into the escaped presentation
// form that miekg/dns uses for names read off the wire.
func presentation(t *testing.T, name string) string {
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(dns.Fqdn(latin1(name)), buf, 0, nil, false)
	if err != nil {
		t.Fatalf("zone name %q: %v", name, err)
	}
	out, _, err := dns.UnpackDomainName(buf[:n], 0)
	if err != nil {
		t.Fatalf("zone name %q: %v", name, err)
	}
	return out
}

func buildZone(t *testing.T, zd map[string][]any) *resolvertest.Zone {
	t.Helper()
	z := resolvertest.NewZone()
	for name, entries := range zd {
		fq := presentation(t, name)
		hdr := func(rrtype uint16) dns.RR_Header {
			return dns.RR_Header{Name: fq, Rrtype: rrtype, Class: dns.ClassINET, Ttl: 300}
		}
		z.AddName(fq)
		var txts, spfs [][]string
		txtNone, timeout := false, false
		has := map[uint16]bool{}
		for _, e := range entries {
			if s, ok := e.(string); ok {
				if s == "TIMEOUT" {
					timeout = true
					continue
				}
				t.Fatalf("zone %s: unknown entry %q", name, s)
			}
			m, ok := e.(map[string]any)
			if !ok {
				t.Fatalf("zone %s: entry %#v", name, e)
			}
			for typ, v := range m {
				if rt, ok := dns.StringToType[typ]; ok {
					has[rt] = true
				}
				switch typ {
				case "TXT":
					if s, ok := v.(string); ok && s == "NONE" {
						txtNone = true
						continue
					}
					txts = append(txts, txtStrings(v))
				case "SPF":
					spfs = append(spfs, txtStrings(v))
				case "A":
					z.AddRR(&dns.A{Hdr: hdr(dns.TypeA), A: netip.MustParseAddr(fmt.Sprint(v)).AsSlice()})
				case "AAAA":
					z.AddRR(&dns.AAAA{Hdr: hdr(dns.TypeAAAA), AAAA: netip.MustParseAddr(fmt.Sprint(v)).AsSlice()})
				case "MX":
					mx := v.([]any)
					pref := mx[0].(int)
					z.AddRR(&dns.MX{Hdr: hdr(dns.TypeMX), Preference: uint16(pref), Mx: dns.Fqdn(fmt.Sprint(mx[1]))})
				case "PTR":
					z.AddRR(&dns.PTR{Hdr: hdr(dns.TypePTR), Ptr: dns.Fqdn(fmt.Sprint(v))})
				case "CNAME":
					z.AddRR(&dns.CNAME{Hdr: hdr(dns.TypeCNAME), Target: dns.Fqdn(fmt.Sprint(v))})
				default:
					t.Fatalf("zone %s: unknown type %s", name, typ)
				}
			}
		}
		if len(txts) == 0 && !txtNone {
			txts = spfs
		}
		has[dns.TypeTXT] = len(txts) > 0
		// As in the pyspf harness, TIMEOUT affects only the types the
		// name has no records of.
		if timeout {
			for _, rt := range []uint16{dns.TypeTXT, dns.TypeSPF, dns.TypeA, dns.TypeAAAA, dns.TypeMX, dns.TypePTR, dns.TypeCNAME} {
				if !has[rt] {
					z.SetTimeout(fq, rt)
				}
			}
		}
		for _, s := range txts {
			z.AddRR(&dns.TXT{Hdr: hdr(dns.TypeTXT), Txt: s})
		}
		for _, s := range spfs {
			z.AddRR(&dns.SPF{Hdr: hdr(dns.TypeSPF), Txt: s})
		}
	}
	return z
}

// suiteExpectedFailures lists cases this engine deliberately answers
// differently, with the reason. Empty means the suite passes entirely.
var suiteExpectedFailures = map[string]string{}

func runSuite(t *testing.T, file string, expectedFailures map[string]string) {
	scenarios := loadSuite(t, file)
	total, passed := 0, 0
	var failed []string
	for _, sc := range scenarios {
		srv := resolvertest.Start(t, buildZone(t, sc.Zonedata))
		names := make([]string, 0, len(sc.Tests))
		for n := range sc.Tests {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, name := range names {
			tc := sc.Tests[name]
			total++
			ok := t.Run(name, func(t *testing.T) {
				if why, skip := expectedFailures[name]; skip {
					t.Skip("known difference: " + why)
				}
				ip := netip.MustParseAddr(tc.Host)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				o := spf.Check(ctx, ip, tc.Mailfrom, tc.Helo,
					spf.WithResolver(nsResolver(t, srv.Addr, time.Second)),
					spf.WithLocalhostPass(false),
					spf.WithReceiver("receiver.example"))
				want := tc.results()
				got := o.Result.String()
				match := false
				for _, w := range want {
					match = match || w == got
				}
				if !match {
					t.Fatalf("%s: result %s, want %v (err %v; desc %q)", name, got, want, o.Err, tc.Description)
				}
				if tc.Explanation != "" && got == "fail" {
					wantExp := tc.Explanation
					if wantExp == "DEFAULT" {
						wantExp = spf.DefaultExplanation
					}
					// The suite's IPv6 nibble case differs from RFC 7208
					// §7.4's lowercase examples; compare caselessly.
					if !strings.EqualFold(o.Explanation, wantExp) {
						t.Fatalf("%s: explanation %q, want %q", name, o.Explanation, wantExp)
					}
				}
			})
			if ok {
				passed++
			} else {
				failed = append(failed, name)
			}
		}
	}
	t.Logf("%s: %d/%d passed (%d known differences skipped)", file, passed-len(expectedFailures), total, len(expectedFailures))
	if len(failed) > 0 {
		t.Logf("failed: %v", failed)
	}
}

func TestRFC7208Suite(t *testing.T) { runSuite(t, "rfc7208-tests.yml", suiteExpectedFailures) }

// RFC 4408 results that RFC 7208 changed (see rfc7208-tests.CHANGES);
// this engine implements RFC 7208.
var rfc4408Differences = map[string]string{}

func TestRFC4408Suite(t *testing.T) { runSuite(t, "rfc4408-tests.yml", rfc4408Differences) }
