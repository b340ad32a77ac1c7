package main

import (
	"bytes"
	"context"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/mailpolicy/mailpolicy/authres"
	"github.com/mailpolicy/mailpolicy/dkim"
	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/spf"
	"github.com/mailpolicy/mailpolicy/srs"
)

// Backend is a go-smtp Backend running mailpolicy's checks. Accepted messages
// go to Deliver once per envelope sender: original (local) or SRS (forwards).
type Backend struct {
	Hostname string             // SPF receiver, authserv-id
	Resolver *resolver.Resolver // the one DNS client of every engine
	SRS      *srs.Rewriter      // rewrites senders of forwarded mail
	Forward  map[string]string  // lower-cased recipient → forwarding target
	Deliver  func(from string, to []string, msg []byte) error
}

const policyTimeout = 30 * time.Second // the DNS work of one command

// NewSession runs at the first HELO; RemoteAddr is the PROXY header's client.
func (be *Backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	ap, err := netip.ParseAddrPort(c.Conn().RemoteAddr().String())
	if err != nil {
		return nil, reply(421, 4, 3, 0, "Unknown client address")
	}
	return &session{be: be, conn: c, client: ap.Addr().Unmap()}, nil
}

type session struct {
	be         *Backend
	conn       *smtp.Conn
	client     netip.Addr
	from, helo string
	spf        *spf.Outcome
	byFrom     map[string][]string // envelope sender (original or SRS) → recipients
}

func reply(code, a, b, c int, msg string) error {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{a, b, c}, Message: msg}
}

// Mail is Exim's "spf" condition: fail refused with $spf_smtp_comment.
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	ctx, cancel := context.WithTimeout(context.Background(), policyTimeout)
	defer cancel()
	helo := strings.TrimSuffix(s.conn.Hostname(), ".")
	o := spf.Check(ctx, s.client, from, helo, spf.WithResolver(s.be.Resolver), spf.WithReceiver(s.be.Hostname))
	switch o.Result {
	case spf.Fail:
		return reply(550, 5, 7, 23, o.SMTPComment)
	case spf.TempError:
		return reply(451, 4, 7, 24, "Temporary SPF error, try again later")
	}
	s.Reset()
	s.from, s.helo, s.spf = from, helo, o
	return nil
}

// Rcpt takes every address as local but the forwarding ones (SRS sender).
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	from := s.from
	if target, ok := s.be.Forward[strings.ToLower(to)]; ok && s.be.SRS != nil {
		var err error
		if to = target; from != "" { // a bounce keeps its null sender
			if from, err = s.be.SRS.Forward(from); err != nil {
				return reply(550, 5, 1, 7, "Cannot forward mail from this sender")
			}
		}
	}
	s.byFrom[from] = append(s.byFrom[from], to)
	return nil
}

// Data runs DKIM and DMARC (with MAIL's SPF outcome) and adds their headers.
func (s *session) Data(r io.Reader) error {
	msg, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), policyTimeout)
	defer cancel()
	sigs, _ := dkim.Verify(ctx, bytes.NewReader(msg), dkim.WithResolver(s.be.Resolver))
	from, hdrErr := dmarc.FromHeaders(bytes.NewReader(msg))
	dm := dmarc.Evaluate(ctx, dmarc.Input{HeaderFrom: from, MailFrom: s.from, HELO: s.helo, ClientIP: s.client,
		SPF: s.spf.Result, SPFDomain: s.spf.UsedDomain, DKIM: sigs}, dmarc.WithResolver(s.be.Resolver))
	switch {
	case hdrErr != nil: // a From a mail reader may read otherwise would dodge p=reject
		return reply(550, 5, 6, 0, "Malformed header section")
	case dm.Status == dmarc.StatusReject:
		return reply(550, 5, 7, 1, "Rejected by DMARC policy for "+dm.FromDomain)
	case dm.Status == dmarc.StatusTempError:
		return reply(451, 4, 7, 5, "Temporary DMARC error, try again later")
	}
	ar := authres.Build(s.be.Hostname, append([]authres.Method{authres.FromSPF(s.spf), authres.FromDMARC(dm)}, authres.FromDKIM(sigs)...)...)
	msg, _ = authres.RemoveOwn(msg, s.be.Hostname) // forged ones (RFC 8601 §5)
	msg = append([]byte(s.spf.Received+"\r\n"+ar.Field()), msg...)
	for from, to := range s.byFrom {
		if err := s.be.Deliver(from, to, msg); err != nil {
			return reply(451, 4, 3, 0, "Delivery failed, try again later")
		}
	}
	return nil
}

func (s *session) Reset() { s.from, s.helo, s.spf, s.byFrom = "", "", nil, map[string][]string{} }

func (s *session) Logout() error { return nil }
