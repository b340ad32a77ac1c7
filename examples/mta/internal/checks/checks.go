package checks

import (
	"bytes"
	"io"

	"github.com/mailpolicy/mailpolicy/smtp"

	"context"
	"log/slog"
	"net/netip"
	"strings"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/auth"

	"github.com/mailpolicy/mailpolicy/authres"
	"github.com/mailpolicy/mailpolicy/bmi"
	"github.com/mailpolicy/mailpolicy/dcc"
	"github.com/mailpolicy/mailpolicy/dkim"
	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/iprev"
	"github.com/mailpolicy/mailpolicy/prdr"
	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/spf"
)

// Checks holds the engines and their settings.
type Checks struct {
	Resolver *resolver.Resolver // every DNS query
	Hostname string             // receiver for SPF, authserv-id
	// SPFLocalhostPass is libspf2's rule that loopback clients pass.
	// Exim's default is true; off fails closed when a PROXY list
	// misses the balancer and every client looks local.
	SPFLocalhostPass bool

	DMARCEnforce bool
	DMARCMode    dmarc.Mode // dmarc.WithMode

	DCC        *dcc.Client // nil: no DCC
	DCCDeferOK bool

	Scanner bmi.Scanner // nil: no content scan
	// ScanDeferOK delivers a message the Scanner failed on as
	// unscanned (Exim's defer_ok); false: 451.
	ScanDeferOK bool

	Logger *slog.Logger
}

// SPF is the MAIL-time check (Exim's "spf" ACL condition).
func (c *Checks) SPF(ctx context.Context, client netip.Addr, helo, from string) *spf.Outcome {
	return spf.Check(ctx, client, from, strings.TrimSuffix(helo, "."),
		spf.WithResolver(c.Resolver), spf.WithReceiver(c.Hostname), spf.WithLocalhostPass(c.SPFLocalhostPass))
}

// Message is what the DATA-time checks look at.
type Message struct {
	ID     string
	Client netip.Addr
	HELO   string
	From   string
	Rcpts  []string
	SPF    *spf.Outcome  // from MAIL
	Env    *bmi.Envelope // the bmi opt-ins gathered at RCPT; nil: none
	// AuthMechanism and AuthUser are the client's successful AUTH
	// ("" when it did not authenticate).
	AuthMechanism, AuthUser string
	// AuthSender is the AUTH= mailbox accepted with the message.
	AuthSender string
	// Header is the header section (fields only, LF or CRLF line ends);
	// Data reads the whole message from the start (header included),
	// Body the body after the empty line. Each check opens its own
	// reader, so none loads the message into memory.
	Header []byte
	Data   func() io.Reader
	Body   func() io.Reader
	// BodySize is the body's length, for the scanners that announce it.
	BodySize int64
}

// Plan is what the checks decided for one recipient.
type Plan struct {
	Decision prdr.Decision
	Folder   string // "" inbox, else the label of a folder (maildir.FolderName makes its name)
	Reason   string // why refused, for the log and metrics
}

// Decision is the outcome of the DATA-time checks.
type Decision struct {
	// Refuse, when set, is the one reply for the whole message.
	Refuse *Refusal
	// Headers are the fields to add below Received, in order (each
	// may span lines, LF or CRLF).
	Headers []string
	Plans   []Plan // one per recipient
	// DMARC is the outcome and its input, for the history file.
	DMARC      *dmarc.Outcome
	DMARCInput *dmarc.Input
	// Results are per-engine result words, for the log and metrics.
	Results map[string]string
}

// Data runs the DATA-time checks in the architecture's order: iprev,
// DKIM and DMARC (with the SPF outcome from MAIL), DCC, bmi.
func (c *Checks) Data(ctx context.Context, m *Message) *Decision {
	log := c.log()
	d := &Decision{Plans: make([]Plan, len(m.Rcpts)), Results: map[string]string{}}
	if m.AuthUser != "" {
		// Submission by an authenticated client: nothing to judge, only
		// the record of who sent it.
		d.Results["auth"] = "pass"
		d.Headers = append(d.Headers, authres.Build(c.Hostname, auth.ARMethod(m.AuthMechanism, m.AuthUser, m.AuthSender)).String())
		return d
	}
	if m.SPF != nil {
		d.Headers = append(d.Headers, m.SPF.Received)
		d.Results["spf"] = m.SPF.Result.String()
	}

	ipr := iprev.Check(ctx, m.Client, iprev.WithResolver(c.Resolver))
	d.Results["iprev"] = ipr.Result.String()
	dm, in, hdrErr := c.dmarc(ctx, m)
	d.DMARC, d.DMARCInput = dm, in
	d.Results["dmarc"] = string(dm.Status)
	methods := []authres.Method{authres.FromIPrev(ipr), authres.FromSPF(m.SPF), authres.FromDMARC(dm)}
	methods = append(methods, authres.FromDKIM(in.DKIM)...)
	for _, r := range in.DKIM {
		d.Results["dkim"] = r.Status.String()
		if r.Status == dkim.StatusPass {
			break
		}
	}
	d.Headers = append(d.Headers, authres.Build(c.Hostname, methods...).String())
	log.Debug("dmarc", "id", m.ID, "status", string(dm.Status), "domain", dm.FromDomain, "text", dm.StatusText, "err", dm.Err, "header", hdrErr)

	dv := decideDMARC(dm, hdrErr, c.DMARCEnforce)
	if dv.refuse != nil {
		d.Refuse = dv.refuse
		return d
	}

	if c.DCC != nil {
		if !c.checkDCC(ctx, m, d) {
			return d
		}
	}
	verdicts, ok := c.scan(ctx, m, d)
	if !ok {
		return d
	}
	for i, rcpt := range m.Rcpts {
		p := &d.Plans[i]
		if p.Decision.Verdict != prdr.Accept {
			continue
		}
		ev := verdicts.ForRecipient(rcpt)
		switch {
		case ev.DontDeliver():
			p.Decision = prdr.Decision{Verdict: prdr.Permanent, Enhanced: "5.7.1", Text: "Message refused by content scan"}
			p.Reason = "content scan"
		case ev.DeliverAlternate():
			p.Folder = ev.AltLocation()
		case dv.quarantine:
			p.Folder = "Junk"
		}
	}
	return d
}

// dmarc verifies the DKIM signatures and evaluates DMARC with the SPF
// outcome of MAIL. hdrErr is the header reader's complaint about the
// message (defects, several From fields, an oversized header).
func (c *Checks) dmarc(ctx context.Context, m *Message) (o *dmarc.Outcome, in *dmarc.Input, hdrErr error) {
	dkimRes, err := dkim.Verify(ctx, m.Data(), dkim.WithResolver(c.Resolver))
	if err != nil {
		c.log().Warn("dkim", "id", m.ID, "err", err)
	}
	from, hdrErr := dmarc.FromHeaders(io.MultiReader(bytes.NewReader(m.Header), strings.NewReader("\n")))
	in = &dmarc.Input{
		HeaderFrom: from,
		MailFrom:   m.From,
		HELO:       strings.TrimSuffix(m.HELO, "."),
		ClientIP:   m.Client,
		DKIM:       dkimRes,
	}
	if m.SPF != nil {
		in.SPF, in.SPFDomain = m.SPF.Result, m.SPF.UsedDomain
	}
	return dmarc.Evaluate(ctx, *in, dmarc.WithResolver(c.Resolver), dmarc.WithAuthservID(c.Hostname),
		dmarc.WithMode(c.DMARCMode)), in, hdrErr
}

// checkDCC asks dccifd; false when the message is deferred.
func (c *Checks) checkDCC(ctx context.Context, m *Message, d *Decision) bool {
	header, _ := dcc.SplitMessage(m.Header)
	req := dcc.Request{ClientIP: m.Client, HELO: m.HELO, Sender: m.From, Header: header, Body: m.Body()}
	for _, r := range m.Rcpts {
		req.Recipients = append(req.Recipients, dcc.Recipient{Addr: r})
	}
	res, err := c.DCC.Check(ctx, req)
	if dcc.Decide(res, err, c.DCCDeferOK) == dcc.Defer {
		c.log().Warn("dcc defer", "id", m.ID, "err", err)
		d.Results["dcc"] = "defer"
		d.Refuse = &Refusal{Code: smtp.ReplyLocalError, Enhanced: "4.7.1", Text: "Temporary local problem (DCC), try again later", Reason: "dcc defer"}
		return false
	}
	if res == nil {
		return true
	}
	if h, err := res.HeadersToAdd(""); err == nil && h != "" {
		d.Headers = append(d.Headers, h)
	}
	d.Results["dcc"] = res.DCCResult
	c.log().Info("dcc", "id", m.ID, "result", res.DCCResult)
	if res.Outcome == dcc.Defer {
		return true
	}
	for i := range d.Plans {
		switch {
		case res.RecipientOutcome(i) != dcc.Fail:
		case res.Recipients[i] == 'G':
			d.Plans[i].Decision = prdr.Decision{Verdict: prdr.Temporary, Enhanced: "4.7.1", Text: "Greylisted by DCC, try again later"}
			d.Plans[i].Reason = "dcc greylist"
		default:
			d.Plans[i].Decision = prdr.Decision{Verdict: prdr.Permanent, Enhanced: "5.7.1", Text: "Rejected as bulk mail by DCC"}
			d.Plans[i].Reason = "dcc bulk"
		}
	}
	return true
}

// scan runs the bmi scanner; false when the message is deferred.
func (c *Checks) scan(ctx context.Context, m *Message, d *Decision) (bmi.Verdicts, bool) {
	if c.Scanner == nil || m.Env == nil || !m.Env.Run {
		return nil, true
	}
	log := c.log()
	vs, err := c.Scanner.Scan(ctx, &bmi.Message{
		ClientIP:   m.Client,
		Sender:     m.From,
		Recipients: m.Env.Recipients,
		Header:     m.Header,
		BodyReader: m.Body(),
		BodySize:   m.BodySize,
	})
	for _, e := range vs.Errors() {
		log.Warn("bmi verdict error", "id", m.ID, "err", e)
	}
	if err != nil || len(vs.Errors()) > 0 {
		d.Results["bmi"] = "error"
		// Like Exim's spam condition without defer_ok: a message the
		// scanner could not judge is not let through unjudged.
		if !c.ScanDeferOK {
			log.Warn("bmi scan failed, message deferred", "id", m.ID, "err", err)
			d.Refuse = &Refusal{Code: smtp.ReplyLocalError, Enhanced: "4.7.1", Text: "Temporary local problem (content scan), try again later", Reason: "scan failed"}
			return nil, false
		}
		log.Warn("bmi scan failed, message accepted unscanned (-spamd-defer-ok)", "id", m.ID, "err", err)
	} else {
		d.Results["bmi"] = "scanned"
	}
	return vs, true
}

func (c *Checks) log() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}
