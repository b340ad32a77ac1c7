package dmarc

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/mailpolicy/mailpolicy/internal/header"
)

// forensicHeader reads the received header section with
// internal/header, the reader DKIM and the From discovery use, so that
// the report shows the fields the verdict was made on. lines are the
// section's lines without their CRLF (a bare CR or NUL stays: the text
// parts encode them); fields are its "Name: value" fields, each with
// the lines it spans.
func forensicHeader(msg []byte) (lines []string, fields []forensicHdrField) {
	// The message is in memory already, so no bound but its size: the
	// CRLF copy is at most twice the input.
	s, _, err := header.Parse(msg, header.Options{Max: 2*len(msg) + 2})
	if err != nil {
		return nil, nil // cannot happen: Max covers the whole input
	}
	for i := range s.Fields {
		first := len(lines)
		for raw := s.Raw(i); len(raw) > 0; {
			j := bytes.IndexByte(raw, '\n')
			lines = append(lines, string(raw[:j-1]))
			raw = raw[j+1:]
		}
		// A line without a colon (an mbox "From " line), an empty name
		// and a continuation before the first field name no field.
		if name := s.Name(i); len(name) > 0 && name[0] != ' ' && name[0] != '\t' {
			fields = append(fields, forensicHdrField{name: string(name), first: first, end: len(lines), sec: s, i: i})
		}
	}
	return lines, fields
}

// forensicHeaderLines returns the header section's lines of msg (see
// forensicHeader).
func forensicHeaderLines(msg []byte) []string {
	lines, _ := forensicHeader(msg)
	return lines
}

// forensicFields returns the fields of a section given as the lines
// forensicHeaderLines returned.
func forensicFields(lines []string) []forensicHdrField {
	var b []byte
	for _, l := range lines {
		b = append(append(b, l...), '\r', '\n')
	}
	_, fields := forensicHeader(b)
	return fields
}

// forensicHdrField is one field of the received header section: its
// name and the lines it spans in the section.
type forensicHdrField struct {
	name       string
	first, end int
	sec        *header.Section
	i          int
}

// value is the field's unfolded value.
func (f forensicHdrField) value() string { return f.sec.Unfolded(f.i) }

// forensicReferences builds References: for a reply to the received
// message (RFC 5322 §3.6.4): its References: (or its In-Reply-To: when
// that has a single id) followed by its Message-ID:. Like Exim it keeps
// at most 12 ids, the first (the thread's root) and the last 11. Ids
// that could not be copied safely are dropped.
func forensicReferences(fields []forensicHdrField) string {
	get := func(name string) []string {
		for _, f := range fields {
			if strings.EqualFold(f.name, name) {
				return forensicMsgIDs(f.value())
			}
		}
		return nil
	}
	ids := get("References")
	if len(ids) == 0 {
		if irt := get("In-Reply-To"); len(irt) == 1 {
			ids = irt
		}
	}
	if own := get("Message-ID"); len(own) > 0 {
		dup := false
		for _, id := range ids {
			dup = dup || id == own[0]
		}
		if !dup {
			ids = append(ids, own[0])
		}
	}
	if len(ids) > 12 {
		ids = append(ids[:1], ids[len(ids)-11:]...)
	}
	return strings.Join(ids, " ")
}

// forensicMsgIDs extracts the "<...>" ids of a field value, keeping
// those of printable ASCII that fit a folded line.
func forensicMsgIDs(v string) []string {
	var ids []string
	for {
		i := strings.IndexByte(v, '<')
		if i < 0 {
			return ids
		}
		v = v[i+1:]
		j := strings.IndexAny(v, "<>")
		if j < 0 {
			return ids
		}
		if v[j] == '<' {
			continue
		}
		id := v[:j]
		v = v[j+1:]
		ok := id != "" && len(id) < forensicMaxLine-8
		for k := 0; ok && k < len(id); k++ {
			ok = id[k] > ' ' && id[k] < 0x7f
		}
		if ok {
			ids = append(ids, "<"+id+">")
		}
	}
}

// forensicFromField checks a From: text (one address, optionally with a
// display name) and returns the field value and the plain address.
// Printable ASCII text is used as written, as Exim does; other text is
// re-rendered by net/mail, which encodes the name per RFC 2047.
func forensicFromField(s string) (value, addr string, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "", errors.New("empty; WithForensicSender or WithForensicReporter is needed")
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return "", "", fmt.Errorf("%q: %w", s, err)
	}
	if !forensicMailbox(a.Address) {
		return "", "", fmt.Errorf("%q is not a plain mailbox", a.Address)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c >= 0x7f {
			return a.String(), a.Address, nil
		}
	}
	return s, a.Address, nil
}

// forensicMailbox reports whether s is local@domain with a dot-atom
// local part and a host-name domain: an address that can go into an
// envelope and a header as it is.
func forensicMailbox(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at > 64 || !forensicHostname(s[at+1:]) {
		return false
	}
	local := s[:at]
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if !forensicAlnum(c) && c != '.' && !strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", rune(c)) {
			return false
		}
	}
	return true
}

// forensicHostname reports whether s is an ASCII domain name of
// letters, digits, hyphens and underscores.
func forensicHostname(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !forensicAlnum(c) && c != '-' && c != '_' {
				return false
			}
		}
	}
	return true
}

// forensicASCII makes remote text safe for one of the report's fields:
// control characters, DEL and non-ASCII bytes become "?", so the text
// can neither end the field nor make the part 8-bit.
func forensicASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] < 0x20 || b[j] >= 0x7f {
					b[j] = '?'
				}
			}
			return string(b)
		}
	}
	return s
}

// forensicBodyText makes remote text safe for one line of the text
// part: control characters and bytes that are not UTF-8 become "?";
// valid UTF-8 stays (the part is then quoted-printable utf-8).
func forensicBodyText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
}

// forensicSubject keeps Exim's subject text as it is when ASCII, and
// RFC 2047-encodes it when the domain is (valid) UTF-8.
func forensicSubject(s string) string {
	s = forensicBodyText(s)
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return mime.QEncoding.Encode("utf-8", s)
		}
	}
	return s
}

func forensicAlnum(c byte) bool {
	return (c|0x20) >= 'a' && (c|0x20) <= 'z' || c >= '0' && c <= '9'
}
