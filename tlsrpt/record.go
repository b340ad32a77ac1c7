package tlsrpt

import (
	"fmt"
	"net/url"
	"strings"
)

// version is the required first field of a TLSRPT record (RFC 8460 §3),
// matched case-sensitively as its ABNF (%s) requires.
const version = "v=TLSRPTv1"

// Record is a parsed TLSRPT TXT record (RFC 8460 §3):
//
//	v=TLSRPTv1; rua=mailto:tlsrpt@example.com,https://reports.example.com/tlsrpt
type Record struct {
	// RUA holds the rua= URIs in record order, as written (commas and
	// "!" in them percent-encoded, as §3 requires). Every one has a
	// scheme; schemes other than mailto and https are kept, and a
	// reporter skips them (MailAddresses and HTTPSURLs do).
	RUA []string
}

// String returns the record in its DNS form.
func (r *Record) String() string {
	return version + "; rua=" + strings.Join(r.RUA, ",")
}

// MailAddresses returns the addresses of the rua mailto: URIs, percent-
// decoded and without any ?header part, in record order.
func (r *Record) MailAddresses() []string {
	var addrs []string
	for _, s := range r.RUA {
		u, err := url.Parse(s)
		if err != nil || !strings.EqualFold(u.Scheme, "mailto") {
			continue
		}
		addr := u.Opaque
		if addr == "" {
			addr = u.Path
		}
		if a, err := url.PathUnescape(addr); err == nil && strings.Contains(a, "@") {
			addrs = append(addrs, a)
		}
	}
	return addrs
}

// HTTPSURLs returns the rua https: URIs in record order.
func (r *Record) HTTPSURLs() []string {
	var urls []string
	for _, s := range r.RUA {
		if u, err := url.Parse(s); err == nil && strings.EqualFold(u.Scheme, "https") && u.Host != "" {
			urls = append(urls, s)
		}
	}
	return urls
}

// SyntaxError is a TXT record that starts with v=TLSRPTv1 but is not a
// valid TLSRPT record. A sender treats the domain as having no TLSRPT
// record.
type SyntaxError struct {
	Record string // the whole TXT record
	Offset int    // byte offset of the problem in Record
	Reason string
}

func (e *SyntaxError) Error() string {
	rec := e.Record
	if len(rec) > 256 {
		rec = rec[:256] + "..."
	}
	return fmt.Sprintf("tlsrpt: invalid record %q at offset %d: %s", rec, e.Offset, e.Reason)
}

// isTLSRPT reports whether txt is a TLSRPT record at all: one that
// begins with the version field. §3 says records that do not are
// discarded, so they are not syntax errors; "v=TLSRPTv10" is another
// version, not a broken v1 record.
func isTLSRPT(txt string) bool {
	if !strings.HasPrefix(txt, version) {
		return false
	}
	rest := txt[len(version):]
	return rest == "" || rest[0] == ';' || rest[0] == ' ' || rest[0] == '\t'
}

// ParseRecord parses a TLSRPT TXT record (RFC 8460 §3). Extension fields
// are checked for syntax and otherwise ignored, as §3 requires; the rua
// field may appear more than once, its URIs then concatenated. A record
// without a rua URI is an error.
func ParseRecord(txt string) (*Record, error) {
	p := recordParser{s: txt}
	if !isTLSRPT(txt) {
		return nil, p.errorf("does not start with %q", version)
	}
	p.pos = len(version)
	rec := &Record{}
	sawRUA := false
	for {
		if !p.delim() {
			if p.pos < len(p.s) {
				return nil, p.errorf("expected \";\"")
			}
			break
		}
		if p.pos == len(p.s) { // the optional final delimiter
			break
		}
		name, err := p.name()
		if err != nil {
			return nil, err
		}
		if !p.take('=') {
			return nil, p.errorf("expected \"=\" after %q", name)
		}
		if name == "rua" {
			uris, err := p.uris()
			if err != nil {
				return nil, err
			}
			rec.RUA = append(rec.RUA, uris...)
			sawRUA = true
			continue
		}
		if err := p.extValue(); err != nil {
			return nil, err
		}
	}
	if !sawRUA {
		return nil, p.errorf("no rua field")
	}
	return rec, nil
}

type recordParser struct {
	s   string
	pos int
}

func (p *recordParser) errorf(format string, a ...any) *SyntaxError {
	return &SyntaxError{Record: p.s, Offset: p.pos, Reason: fmt.Sprintf(format, a...)}
}

func isWSP(c byte) bool { return c == ' ' || c == '\t' }

func (p *recordParser) wsp() {
	for p.pos < len(p.s) && isWSP(p.s[p.pos]) {
		p.pos++
	}
}

func (p *recordParser) take(c byte) bool {
	if p.pos < len(p.s) && p.s[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

// delim consumes field-delim (*WSP ";" *WSP). Trailing white space
// without a ";" is accepted too, as publishers leave it and it is
// unambiguous.
func (p *recordParser) delim() bool {
	start := p.pos
	p.wsp()
	if p.take(';') {
		p.wsp()
		return true
	}
	if p.pos == len(p.s) {
		return false
	}
	p.pos = start
	return false
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// name reads a field name: (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" /
// "-" / ".").
func (p *recordParser) name() (string, error) {
	start := p.pos
	if p.pos >= len(p.s) || !isAlnum(p.s[p.pos]) {
		return "", p.errorf("expected a field name")
	}
	p.pos++
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if !isAlnum(c) && c != '_' && c != '-' && c != '.' {
			break
		}
		p.pos++
	}
	if p.pos-start > 32 {
		p.pos = start
		return "", p.errorf("field name longer than 32 characters")
	}
	return p.s[start:p.pos], nil
}

// extValue reads an extension value: 1*(%x21-3A / %x3C / %x3E-7E).
func (p *recordParser) extValue() error {
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if c < 0x21 || c > 0x7e || c == ';' || c == '=' {
			break
		}
		p.pos++
	}
	if p.pos == start {
		return p.errorf("empty field value")
	}
	return nil
}

// uris reads tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri).
func (p *recordParser) uris() ([]string, error) {
	var out []string
	for {
		u, err := p.uri()
		if err != nil {
			return nil, err
		}
		out = append(out, u)
		save := p.pos
		p.wsp()
		if !p.take(',') {
			p.pos = save
			return out, nil
		}
		p.wsp()
	}
}

// uri reads one URI: printable ASCII up to a delimiter, with a scheme,
// parseable by net/url. "!" must be percent-encoded (§3), so a bare one
// is an error rather than a DMARC-style size suffix.
func (p *recordParser) uri() (string, error) {
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if c <= ' ' || c >= 0x7f || c == ',' || c == ';' {
			break
		}
		p.pos++
	}
	s := p.s[start:p.pos]
	if s == "" {
		return "", p.errorf("expected a URI")
	}
	if i := strings.IndexByte(s, '!'); i >= 0 {
		p.pos = start + i
		return "", p.errorf("unencoded \"!\" in URI")
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		p.pos = start
		return "", p.errorf("not a URI with a scheme: %q", s)
	}
	return s, nil
}
