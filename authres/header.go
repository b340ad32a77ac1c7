package authres

import "strings"

// Prop is one RFC 8601 property of a method result: Type "smtp",
// Property "mailfrom" and Value "example.com" write
// "smtp.mailfrom=example.com". Type is one of RFC 8601's ptypes (smtp,
// header, body, policy) or "" for Exim's bare "u=" of the local method.
type Prop struct {
	Type     string
	Property string
	Value    string
}

// Method is one method result ("resinfo") of the header: Name=Result,
// an optional comment, an optional reason= and the properties, written
// in that order:
//
//	dkim=fail (body hash mismatch, body probably modified in transit) header.d=example.com
//
// A caller may add methods of its own (arc, a local check). Name and
// Result are written as tokens (characters other than letters, digits,
// "-", "_" and "." are dropped; an empty Result is written "none"); a
// Method with an empty Name is left out of the header.
type Method struct {
	Name    string // "spf", "dkim", "dmarc", "iprev", "auth", "local", ...
	Result  string // "pass", "fail", ...
	Comment string // written as an RFC 5322 comment after Result, sanitised
	Reason  string // reason=, quoted; "" for none
	Props   []Prop // in order; a Prop with an empty Value is left out
}

// Header is an Authentication-Results header field: the authserv-id
// and the method results, in the order they are written (Build puts
// them in Exim's order).
type Header struct {
	AuthservID string
	Methods    []Method
	// OmitEmpty makes a Header without methods write nothing, as Exim's
	// ${authresults} does (it writes "Authentication-Results: id" with
	// no result at all, which RFC 8601 does not allow). By default a
	// Header without methods is "Authentication-Results: id; none",
	// RFC 8601's way of saying that nothing was checked.
	OmitEmpty bool
}

// FieldName is the header field name.
const FieldName = "Authentication-Results"

// Exim's method order (misc_mod_authres and the expansion before it);
// methods it does not know come after, in the order given.
var eximOrder = map[string]int{"local": 1, "iprev": 2, "auth": 3, "spf": 4, "dkim": 5, "dmarc": 6, "arc": 7}

func rank(name string) int {
	if r, ok := eximOrder[strings.ToLower(name)]; ok {
		return r
	}
	return len(eximOrder) + 1
}

// Build returns the header for authservID with methods in Exim's order
// — local, iprev, auth, spf, dkim, dmarc, arc, then any other method —
// keeping the given order within one method name (so DKIM signatures
// stay in verification order). Methods with an empty Name (what the
// From* builders return for "no result") are dropped.
func Build(authservID string, methods ...Method) *Header {
	h := &Header{AuthservID: authservID, Methods: make([]Method, 0, len(methods))}
	for _, m := range methods {
		if m.Name != "" {
			h.Methods = append(h.Methods, m)
		}
	}
	// Insertion sort: stable, allocation-free, and headers are short.
	ms := h.Methods
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && rank(ms[j].Name) < rank(ms[j-1].Name); j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
	return h
}

// String returns the whole field, "Authentication-Results: id;" and
// each method on a line of its own ("\r\n\t"), folded with "\r\n\t\t"
// before a token that would take a line past 78 octets, without a final
// CRLF. It is "" when the header has no methods and OmitEmpty is set.
// See the package documentation for what is guaranteed about the text.
func (h *Header) String() string {
	if len(h.Methods) == 0 && h.OmitEmpty {
		return ""
	}
	w := writer{}
	w.b = make([]byte, 0, 64+96*len(h.Methods))
	w.b = append(w.b, FieldName+": "...)
	w.b = append(w.b, value(h.AuthservID, false)...)
	w.col = len(w.b)
	n := 0
	for i := range h.Methods {
		if w.method(&h.Methods[i]) {
			n++
		}
	}
	if n == 0 {
		w.b = append(w.b, ';')
		w.col++
		w.token("none")
	}
	return string(w.b)
}

// Field is String followed by CRLF, ready to be put before a message's
// header section; "" when String is.
func (h *Header) Field() string {
	s := h.String()
	if s == "" {
		return ""
	}
	return s + "\r\n"
}

// Value is String without the field name and the space after the
// colon: the field body, folded the same way.
func (h *Header) Value() string {
	s := h.String()
	if s == "" {
		return ""
	}
	return strings.TrimPrefix(s, FieldName+": ")
}
