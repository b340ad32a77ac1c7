package signing

import (
	"context"
	"io"

	"github.com/mailpolicy/mailpolicy/dkim"
)

// headerScan bounds the read for the From field: a header section
// larger than dkim.MaxHeaderBytes cannot be signed anyway (the signer
// refuses it), and the read ahead of a bufio.Reader fits in the rest.
const headerScan = dkim.MaxHeaderBytes + 64<<10

// Outcome is what Apply did with one message.
type Outcome struct {
	// Header is the DKIM-Signature fields to put in front of the
	// message, each ending CRLF; nil when it goes unsigned.
	Header []byte
	// FromDomain is the message's From domain (lower case, A-labels),
	// "" when it has none that can be used; NoFrom then says why.
	FromDomain string
	NoFrom     string
	// Domain is the configured domain chosen for FromDomain (d=), ""
	// when none is configured for it.
	Domain     string
	Signatures []dkim.SignatureInfo
	// Err is why Domain's signatures could not be made (a
	// *dkim.SignError). With Defer the message must not go out now:
	// Domain is Strict (dkim_strict), or ctx ended. Without Defer it
	// goes out unsigned and Err is for the log.
	Err   error
	Defer bool
}

// Apply signs msg (header, empty line, body; CRLF or LF) with the
// signer of its From domain, if one is configured. msg is read as it
// goes, with ReadAt only (so others may read it at the same time):
// once for the From field, no further than dkim.MaxHeaderBytes, and
// once by the dkim.Signer, which holds only the header; the whole
// message is never in memory.
func (s *Signers) Apply(ctx context.Context, msg *io.SectionReader) Outcome {
	var o Outcome
	if s == nil || len(s.byDomain) == 0 {
		return o
	}
	o.FromDomain, o.NoFrom = fromDomain(io.NewSectionReader(msg, 0, min(msg.Size(), headerScan)))
	if o.FromDomain == "" {
		return o
	}
	e := s.lookup(o.FromDomain)
	if e == nil {
		return o
	}
	o.Domain = e.domain
	res, err := e.signer.Sign(ctx, io.NewSectionReader(msg, 0, msg.Size()))
	switch {
	case err != nil:
		// Strict, or the context ended: either way not now.
		o.Err, o.Defer = err, true
	case res.Err != nil:
		o.Err = res.Err
	default:
		o.Header, o.Signatures = res.Header, res.Signatures
	}
	return o
}

// Sign is Apply for a caller that only needs the fields: header is
// what to prepend (signed reports whether there is any), and a non-nil
// err means the message must be deferred (Domain.Strict, or ctx
// ended). A failure without Strict gives an unsigned message and no
// error; use Apply to log it.
func (s *Signers) Sign(ctx context.Context, msg *io.SectionReader) (header string, signed bool, err error) {
	o := s.Apply(ctx, msg)
	if o.Defer {
		return "", false, o.Err
	}
	return string(o.Header), o.Header != nil, nil
}
