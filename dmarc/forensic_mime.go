package dmarc

import (
	"strings"
	"unicode/utf8"
)

// forensicTextPart appends a body part holding lines: 7bit when every
// line is printable ASCII of at most 998 bytes, else quoted-printable
// (charset utf-8 if the text is valid UTF-8, else unknown-8bit, RFC
// 1428). The part ends with the last line's CRLF, or with its header
// when there are no lines.
func forensicTextPart(m []byte, ctype string, lines []string) []byte {
	clean7, ascii, valid := true, true, true
	for _, l := range lines {
		if len(l) > forensicMaxLine {
			clean7 = false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if c >= 0x80 {
				ascii = false
			}
			if (c < 0x20 && c != '\t') || c >= 0x7f {
				clean7 = false
			}
		}
		if !ascii && valid && !utf8.ValidString(l) {
			valid = false
		}
	}
	charset := "us-ascii"
	switch {
	case ascii:
	case valid:
		charset = "utf-8"
	default:
		charset = "unknown-8bit"
	}
	m = forensicField(m, "Content-Type", ctype+"; charset="+charset)
	if clean7 {
		m = forensicField(m, "Content-Transfer-Encoding", "7bit")
		m = append(m, "\r\n"...)
		for _, l := range lines {
			m = append(append(m, l...), "\r\n"...)
		}
		return m
	}
	m = forensicField(m, "Content-Transfer-Encoding", "quoted-printable")
	m = append(m, "\r\n"...)
	for _, l := range lines {
		m = forensicQP(m, l)
	}
	return m
}

// forensicQP appends line quoted-printable encoded (RFC 2045 §6.7) with
// soft breaks, and a hard CRLF. Everything but printable ASCII other
// than "=" is encoded, and so is white space ending the line, so bare
// CR, NUL and 8-bit bytes pass through unchanged after decoding.
func forensicQP(m []byte, line string) []byte {
	const hexd = "0123456789ABCDEF"
	n := 0 // length of the current output line
	for i := 0; i < len(line); i++ {
		c := line[i]
		lit := (c >= '!' && c <= '~' && c != '=') || ((c == ' ' || c == '\t') && i < len(line)-1)
		w := 3
		if lit {
			w = 1
		}
		if n+w > forensicQPLine-1 {
			m = append(m, "=\r\n"...)
			n = 0
		}
		if lit {
			m = append(m, c)
		} else {
			m = append(m, '=', hexd[c>>4], hexd[c&15])
		}
		n += w
	}
	return append(m, "\r\n"...)
}

// forensicField appends "Name: value" folded at white space to lines of
// at most 78 bytes where possible (RFC 5322 §2.2.3). A word longer than
// a whole line is split with an added space, which only hostile input
// reaches; no line exceeds 998 bytes. value must not contain CR or LF.
func forensicField(m []byte, name, value string) []byte {
	m = append(append(m, name...), ':')
	n := len(name) + 1
	value = strings.TrimRight(value, " \t")
	for first := true; value != ""; first = false {
		// The next word: its leading white space and the text up to
		// the next white space. Folding happens before the white space.
		i := 0
		for i < len(value) && (value[i] == ' ' || value[i] == '\t') {
			i++
		}
		j := i
		for j < len(value) && value[j] != ' ' && value[j] != '\t' {
			j++
		}
		word := value[:j]
		value = value[j:]
		if first {
			word = " " + word[i:]
		}
		if !first && n+len(word) > forensicFoldAt {
			m = append(m, "\r\n"...)
			n = 0
		}
		for n+len(word) > forensicMaxLine {
			cut := forensicMaxLine - n
			if cut < 2 {
				m = append(m, "\r\n"...)
				n = 0
				continue
			}
			m = append(append(m, word[:cut]...), "\r\n"...)
			word = " " + word[cut:]
			n = 0
		}
		m = append(m, word...)
		n += len(word)
	}
	return append(m, "\r\n"...)
}
