package dmarc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"net/textproto"
	"strings"
)

// fromDomains returns the distinct domains (lower-cased, in order of
// appearance) of the addresses in the From: header field values.
// Unparseable values are searched leniently for addr-spec@domain, so a
// malformed header cannot hide a domain from the check.
func fromDomains(values []string) []string {
	var out []string
	add := func(d string) {
		d = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(d), "."))
		if !plausibleDomain(d) {
			return
		}
		for _, o := range out {
			if o == d {
				return
			}
		}
		out = append(out, d)
	}
	for _, v := range values {
		addrs, err := mail.ParseAddressList(v)
		if err == nil {
			for _, a := range addrs {
				if i := strings.LastIndexByte(a.Address, '@'); i >= 0 {
					add(a.Address[i+1:])
				}
			}
			continue
		}
		for _, d := range lenientDomains(v) {
			add(d)
		}
	}
	return out
}

// lenientDomains finds "@domain" runs in text that net/mail rejects.
func lenientDomains(v string) []string {
	var out []string
	for {
		i := strings.IndexByte(v, '@')
		if i < 0 {
			return out
		}
		v = v[i+1:]
		end := strings.IndexFunc(v, func(r rune) bool {
			return r == '>' || r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\r' || r == '\n' || r == ')' || r == '"'
		})
		if end < 0 {
			end = len(v)
		}
		out = append(out, v[:end])
		v = v[end:]
	}
}

// plausibleDomain accepts a multi-label host name (Unicode allowed) and
// rejects domain literals and junk.
func plausibleDomain(d string) bool {
	if len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, l := range strings.Split(d, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if r < 0x80 && !(r == '-' || r == '_' || r < 0x80 && isAlnum(byte(r))) {
				return false
			}
		}
	}
	return true
}

// FromHeaders reads a message's header section from r and returns the
// raw values of its From: fields (not Resent-From:), unfolded, in order:
// the HeaderFrom of an Input. It stops at the end of the header section.
func FromHeaders(r io.Reader) ([]string, error) {
	tr := textproto.NewReader(bufio.NewReader(r))
	h, err := tr.ReadMIMEHeader()
	if err != nil && !(errors.Is(err, io.EOF) && len(h) > 0) {
		return nil, fmt.Errorf("dmarc: reading message header: %w", err)
	}
	return h.Values("From"), nil
}
