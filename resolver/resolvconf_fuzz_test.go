package resolver

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseResolvConf checks parseResolvConf, the one parser of
// untrusted-ish text this package has of its own: it never panics, every
// server it returns is a canonical "ip:port" with a real port that
// parseServer gives back unchanged, and the servers are those of the
// file's nameserver lines, in order.
func FuzzParseResolvConf(f *testing.F) {
	for _, s := range []string{
		"",
		"nameserver 192.0.2.53\n",
		"# comment\n; comment\nsearch example.com\noptions ndots:2\nnameserver 2001:db8::53\nnameserver fe80::1%eth0\n",
		"nameserver [::1]:5353\nnameserver 192.0.2.1:53\nnameserver 192.0.2.1:0\n",
		"nameserver\nnameserver resolver.example\n  nameserver   192.0.2.9   extra\r\n",
		"nameserver [192.0.2.1]\nnameserver ::ffff:192.0.2.1\nnameserver 0.0.0.0",
		"\x00nameserver 1.1.1.1\n\xffnameserver 1.0.0.1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		servers, err := parseResolvConf(strings.NewReader(data))
		if err != nil {
			// Only a line longer than bufio.Scanner's buffer can fail.
			for line := range strings.SplitSeq(data, "\n") {
				if len(line) >= 64*1024 {
					return
				}
			}
			t.Fatalf("error %v on input without an overlong line", err)
		}
		for _, s := range servers {
			ap, err := netip.ParseAddrPort(s)
			if err != nil || ap.Port() == 0 || ap.String() != s {
				t.Errorf("server %q is not a canonical ip:port (%v, %v)", s, ap, err)
			}
			if again, err := parseServer(s); err != nil || again != s {
				t.Errorf("parseServer(%q) = %q, %v; want it unchanged", s, again, err)
			}
		}
		var want []string
		for line := range strings.SplitSeq(data, "\n") {
			line = strings.TrimSpace(line)
			if line == "" || line[0] == '#' || line[0] == ';' {
				continue
			}
			if fields := strings.Fields(line); len(fields) >= 2 && fields[0] == "nameserver" {
				if s, err := parseServer(fields[1]); err == nil {
					want = append(want, s)
				}
			}
		}
		if !reflect.DeepEqual(servers, want) {
			t.Errorf("servers %q, want %q", servers, want)
		}
	})
}
