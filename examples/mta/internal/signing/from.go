package signing

import (
	"errors"
	"io"
	"mime"
	"net/mail"
	"strings"

	"github.com/mailpolicy/mailpolicy/dmarc"
)

// Why a message has no From domain to sign for (Outcome.NoFrom).
const (
	NoFromField       = "no From field"
	SeveralFromFields = "several From fields"
	FromUnreadable    = "From field cannot be read"
	FromNoAddress     = "From field has no address"
	FromSeveralDomain = "From field names addresses in several domains"
	HeaderMalformed   = "header section open to more than one reading"
)

// addrParser reads From fields; an encoded-word in an unknown charset
// is kept as it is, since only the address matters here.
var addrParser = mail.AddressParser{WordDecoder: &mime.WordDecoder{
	CharsetReader: func(_ string, r io.Reader) (io.Reader, error) { return r, nil },
}}

// fromDomain returns the domain of the message's one From field (lower
// case, A-labels), or "" and why there is none. The header is found as
// DMARC finds it (dmarc.FromHeaders), so the domain signed for is the
// one a receiver's DMARC check aligns with. Only the header section
// of msg is read.
func fromDomain(msg io.Reader) (domain, reason string) {
	froms, err := dmarc.FromHeaders(msg)
	var he *dmarc.HeaderError
	if err != nil && !errors.As(err, &he) {
		return "", FromUnreadable
	}
	switch {
	case len(froms) == 0:
		return "", NoFromField
	case len(froms) > 1:
		return "", SeveralFromFields
	case he != nil:
		// A receiver may see other fields, or another From, than
		// the ones found here: no signature vouches for that.
		return "", HeaderMalformed
	}
	addrs, err := addrParser.ParseList(froms[0])
	if err != nil {
		return "", FromUnreadable
	}
	if len(addrs) == 0 {
		return "", FromNoAddress
	}
	for _, a := range addrs {
		at := strings.LastIndexByte(a.Address, '@')
		if at < 0 {
			return "", FromUnreadable
		}
		d, err := normDomain(a.Address[at+1:])
		if err != nil || strings.HasPrefix(d, "[") {
			return "", FromUnreadable
		}
		if domain != "" && d != domain {
			return "", FromSeveralDomain
		}
		domain = d
	}
	return domain, ""
}
