package resolver

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strings"
)

// parseResolvConf extracts the "nameserver" entries of a resolv.conf.
// Everything else (search, ndots, options) is ignored on purpose: names
// given to this client are always absolute and its timeouts are set in
// code. Entries that are not IP addresses are skipped, as libc does.
func parseResolvConf(r io.Reader) ([]string, error) {
	var servers []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "nameserver" {
			continue
		}
		if s, err := parseServer(f[1]); err == nil {
			servers = append(servers, s)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading resolv.conf: %w", err)
	}
	return servers, nil
}

// parseServer normalises a nameserver address to "ip:port", so the AD
// trust decision and error messages see one canonical form.
func parseServer(s string) (string, error) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if ap.Port() == 0 {
			return "", fmt.Errorf("nameserver %q: port 0", s)
		}
		return ap.String(), nil
	}
	host := s
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return "", fmt.Errorf("nameserver %q: not an IP address with optional port", s)
	}
	return netip.AddrPortFrom(a, 53).String(), nil
}
