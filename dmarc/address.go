package dmarc

import (
	"errors"
	"strings"
)

// The From field's address list (RFC 5322 §3.4 with the obsolete forms
// of §4.4 a receiver must accept: CFWS anywhere between tokens, obs-
// phrase, obs-local-part, obs-domain, obs-route, empty list elements)
// and UTF-8 text (RFC 6532). net/mail refuses much of this, and what it
// refuses must not become "no From".

// fromMailbox is one address of a From field.
type fromMailbox struct {
	domain  string // as written
	literal bool   // domain is a [domain-literal]
}

type addrTok struct {
	kind byte   // 'a' atom, 'q' quoted string, 'l' domain literal, else the special itself
	text string // atom or literal text
}

var errAddrSyntax = errors.New("address syntax")

// isAtext is RFC 5322 atext, with every non-ASCII byte allowed (RFC 6532).
func isAtext(c byte) bool {
	switch {
	case c >= 0x80, 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// tokenizeAddress splits v into tokens, dropping CFWS.
func tokenizeAddress(v string) ([]addrTok, error) {
	var toks []addrTok
	for i := 0; i < len(v); {
		c := v[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '(':
			depth := 0
			for ; i < len(v); i++ {
				switch v[i] {
				case '\\':
					i++
				case '(':
					depth++
				case ')':
					depth--
				}
				if depth == 0 {
					break
				}
			}
			if depth != 0 {
				return nil, errors.New("unterminated comment")
			}
			i++
		case c == '"':
			i++
			for ; i < len(v) && v[i] != '"'; i++ {
				if v[i] == '\\' {
					i++
				}
			}
			if i >= len(v) {
				return nil, errors.New("unterminated quoted string")
			}
			i++
			toks = append(toks, addrTok{kind: 'q'})
		case c == '[':
			j := strings.IndexByte(v[i:], ']')
			if j < 0 {
				return nil, errors.New("unterminated domain literal")
			}
			toks = append(toks, addrTok{kind: 'l', text: v[i : i+j+1]})
			i += j + 1
		case isAtext(c):
			j := i
			for j < len(v) && isAtext(v[j]) {
				j++
			}
			toks = append(toks, addrTok{kind: 'a', text: v[i:j]})
			i = j
		case strings.IndexByte("<>@,;:.", c) >= 0:
			toks = append(toks, addrTok{kind: c})
			i++
		default:
			return nil, errAddrSyntax
		}
	}
	return toks, nil
}

type addrParser struct {
	toks []addrTok
	i    int
}

func (p *addrParser) peek() byte {
	if p.i < len(p.toks) {
		return p.toks[p.i].kind
	}
	return 0
}

// parseFromMailboxes reads a From field value: a mailbox list, or (RFC
// 6854) groups, whose members count as mailboxes.
func parseFromMailboxes(v string) ([]fromMailbox, error) {
	toks, err := tokenizeAddress(v)
	if err != nil {
		return nil, err
	}
	p := &addrParser{toks: toks}
	var out []fromMailbox
	for {
		for p.peek() == ',' {
			p.i++
		}
		if p.peek() == 0 {
			return out, nil
		}
		mbs, err := p.address(true)
		if err != nil {
			return out, err
		}
		out = append(out, mbs...)
		if k := p.peek(); k != ',' && k != 0 {
			return out, errAddrSyntax
		}
	}
}

// address reads a mailbox, or a group when allowed.
func (p *addrParser) address(groupOK bool) ([]fromMailbox, error) {
	start := p.i
	for k := p.peek(); k == 'a' || k == 'q' || k == '.'; k = p.peek() {
		p.i++
	}
	words := p.i - start
	switch p.peek() {
	case '@':
		if words == 0 {
			return nil, errAddrSyntax
		}
		p.i++
		mb, err := p.domain()
		return []fromMailbox{mb}, err
	case '<':
		p.i++
		mb, err := p.angleAddr()
		return []fromMailbox{mb}, err
	case ':':
		if !groupOK || words == 0 {
			return nil, errAddrSyntax
		}
		p.i++
		var out []fromMailbox
		for {
			for p.peek() == ',' {
				p.i++
			}
			switch p.peek() {
			case ';':
				p.i++
				return out, nil
			case 0:
				return out, errors.New("group without ';'")
			}
			mbs, err := p.address(false)
			out = append(out, mbs...)
			if err != nil {
				return out, err
			}
			if k := p.peek(); k != ',' && k != ';' {
				return out, errAddrSyntax
			}
		}
	}
	return nil, errAddrSyntax
}

// angleAddr reads what follows "<": an optional obs-route, an
// addr-spec and ">".
func (p *addrParser) angleAddr() (fromMailbox, error) {
	if p.peek() == '@' || p.peek() == ',' {
		for p.peek() != ':' {
			switch p.peek() {
			case ',':
				p.i++
			case '@':
				p.i++
				if _, err := p.domain(); err != nil {
					return fromMailbox{}, err
				}
			default:
				return fromMailbox{}, errAddrSyntax
			}
		}
		p.i++
	}
	start := p.i
	for k := p.peek(); k == 'a' || k == 'q' || k == '.'; k = p.peek() {
		p.i++
	}
	if p.i == start || p.peek() != '@' {
		return fromMailbox{}, errAddrSyntax
	}
	p.i++
	mb, err := p.domain()
	if err != nil {
		return mb, err
	}
	if p.peek() != '>' {
		return mb, errAddrSyntax
	}
	p.i++
	return mb, nil
}

// domain reads a dot-atom or obs-domain (a trailing dot tolerated) or a
// domain literal.
func (p *addrParser) domain() (fromMailbox, error) {
	if p.peek() == 'l' {
		t := p.toks[p.i]
		p.i++
		return fromMailbox{domain: t.text, literal: true}, nil
	}
	var b strings.Builder
	for {
		if p.peek() != 'a' {
			return fromMailbox{}, errAddrSyntax
		}
		b.WriteString(p.toks[p.i].text)
		p.i++
		if p.peek() != '.' {
			break
		}
		p.i++
		if p.peek() != 'a' {
			break
		}
		b.WriteByte('.')
	}
	return fromMailbox{domain: b.String()}, nil
}
