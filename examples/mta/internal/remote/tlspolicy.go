package remote

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"time"

	"github.com/mailpolicy/mailpolicy/dane"
	"github.com/mailpolicy/mailpolicy/mtasts"
	"github.com/mailpolicy/mailpolicy/tlsrpt"
)

// The TLS policy of a delivery (RFC 8461 §2): per host, DANE when it
// applies (secure, usable TLSA records: dane.ActionDANE, or a DANE
// decision that fails or defers the host), else the recipient domain's
// MTA-STS policy in enforce or testing mode, else none (opportunistic
// TLS). Under mta-sts(enforce) only MX hosts the policy names are used,
// STARTTLS is required and the certificate must be PKIX-valid for the
// MX host name (TLSConfig.RootCAs, the system roots when nil); any
// failure defers the host ("MTA-STS error: ..."), never clear text.
// Under mta-sts(testing) delivery goes on as under none and the
// failures are only reported. Log lines carry tls_policy, and every
// session's outcome goes to TLSReports (RFC 8460) under the policy
// that applied: tlsa (policy domain: the TLSA base domain), sts or
// no-policy-found (the recipient domain).
const (
	policyNone       = "none"
	policyDANE       = "dane"
	policySTSEnforce = "mta-sts(enforce)"
	policySTSTesting = "mta-sts(testing)"
)

// stsPolicy is the MTA-STS policy for domain that asks for something
// (enforce or testing; nil: none), after recording a failed fetch.
func (q *Courier) stsPolicy(ctx context.Context, id, domain string) *mtasts.Policy {
	if q.MTASTS == nil {
		return nil
	}
	r := q.MTASTS.Get(ctx, domain)
	if r.FetchFailed() {
		q.Logger.Info("mta-sts policy fetch failed", "id", id, "domain", domain, "cached", r.Policy != nil, "error", r.Err)
		if q.TLSReports != nil {
			p := tlsrpt.Policy{Type: tlsrpt.PolicySTS, Domain: domain}
			if r.Policy != nil {
				p = stsReportPolicy(domain, r.Policy)
			}
			var fe *mtasts.FetchError
			errors.As(r.Err, &fe)
			q.TLSReports.Failure(p, tlsrpt.Failure{Result: fetchResult(fe), AdditionalInfo: r.Err.Error(), FailureReasonCode: fe.Reason.String()})
		}
	}
	if !r.Enforce() && !r.Testing() {
		return nil
	}
	q.Logger.Debug("mta-sts policy", "id", id, "domain", domain, "policy_id", r.ID, "mode", string(r.Policy.Mode), "cached", r.Cached)
	return r.Policy
}

// fetchResult is the RFC 8460 result type of a failed policy fetch.
func fetchResult(fe *mtasts.FetchError) tlsrpt.ResultType {
	switch fe.Reason {
	case mtasts.ReasonTLS:
		return tlsrpt.ResultSTSWebPKIInvalid
	case mtasts.ReasonPolicy:
		return tlsrpt.ResultSTSPolicyInvalid
	}
	return tlsrpt.ResultSTSPolicyFetchError
}

func stsReportPolicy(domain string, p *mtasts.Policy) tlsrpt.Policy {
	return tlsrpt.Policy{Type: tlsrpt.PolicySTS, Domain: domain, Strings: p.Lines(), MXHosts: append([]string(nil), p.MX...)}
}

// tlsaReportPolicy is a DANE policy for the report: its domain is the
// TLSA base domain (RFC 8460 §1.3), its strings the records.
func tlsaReportPolicy(host string, set *dane.TLSASet) tlsrpt.Policy {
	p := tlsrpt.Policy{Type: tlsrpt.PolicyTLSA, Domain: host}
	if set != nil {
		if set.BaseDomain != "" {
			p.Domain = set.BaseDomain
		}
		for _, r := range set.Records {
			p.Strings = append(p.Strings, r.String())
		}
	}
	return p
}

// decideTLSPolicy names the policy of the session once the DANE
// decision is known (s.dane, or daneSet from a DANE decision that
// failed or deferred).
func (s *remoteSession) decideTLSPolicy(daneDecided bool, set *dane.TLSASet) {
	p := s.t.sts
	s.stsEnforce, s.stsTesting, s.stsErr, s.report = false, false, nil, sessionReport{}
	switch {
	case s.dane || daneDecided:
		s.tlsPolicy = policyDANE
		s.report.policy = tlsaReportPolicy(s.t.host, set)
	case p != nil && p.Mode == mtasts.ModeEnforce:
		s.tlsPolicy, s.stsEnforce = policySTSEnforce, true
		s.report.policy = stsReportPolicy(s.t.domain, p)
	case p != nil:
		s.tlsPolicy, s.stsTesting = policySTSTesting, true
		s.report.policy = stsReportPolicy(s.t.domain, p)
	default:
		s.tlsPolicy = policyNone
		s.report.policy = tlsrpt.Policy{Type: tlsrpt.PolicyNone, Domain: s.t.domain}
	}
}

// stsMatch checks the host against the MTA-STS policy (RFC 8461 §4.1):
// under enforce a host it does not name is not used.
func (s *remoteSession) stsMatch() *hostDefer {
	if !s.stsEnforce && !s.stsTesting || s.t.sts.Match(s.t.host) {
		return nil
	}
	s.tlsFailure(tlsrpt.ResultValidationFailure, "MX host "+s.t.host+" does not match the MTA-STS policy", "mx-not-in-policy")
	if !s.stsEnforce {
		return nil
	}
	return &hostDefer{message: "MTA-STS error: " + s.t.host + " is not an MX host of the policy of " + s.t.domain, policy: true}
}

// verifyPKIX checks the peer chain as MTA-STS requires (RFC 8461
// §4.2): chained to a trusted root, in date, valid for the MX host.
func (s *remoteSession) verifyPKIX(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("no certificate presented")
	}
	opts := x509.VerifyOptions{DNSName: s.t.host, Intermediates: x509.NewCertPool()}
	if b := s.q.TLSConfig; b != nil {
		opts.Roots = b.RootCAs
		if b.Time != nil {
			opts.CurrentTime = b.Time()
		}
	}
	if opts.CurrentTime.IsZero() {
		opts.CurrentTime = time.Now()
	}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(opts)
	return err
}

// certResult is the RFC 8460 result type of a failed verification.
func certResult(err error) tlsrpt.ResultType {
	var (
		he  x509.HostnameError
		cie x509.CertificateInvalidError
		uae x509.UnknownAuthorityError
	)
	switch {
	case errors.As(err, &he):
		return tlsrpt.ResultCertificateHostMismatch
	case errors.As(err, &cie) && cie.Reason == x509.Expired:
		return tlsrpt.ResultCertificateExpired
	case errors.As(err, &uae):
		return tlsrpt.ResultCertificateNotTrusted
	}
	return tlsrpt.ResultValidationFailure
}

// sessionReport is what one session tells TLS reporting.
type sessionReport struct {
	policy  tlsrpt.Policy
	failure *tlsrpt.Failure // the first failure; nil: none
}

// tlsFailure notes the session's failure (the first one counts).
func (s *remoteSession) tlsFailure(result tlsrpt.ResultType, info, code string) {
	if s.report.failure == nil {
		s.report.failure = &tlsrpt.Failure{Result: result, AdditionalInfo: info, FailureReasonCode: code}
	}
}

// recordTLS reports the session: a failure, or a success when TLS was
// up; nothing for a session that never got to TLS (a refused
// connection is not a TLS session).
func (s *remoteSession) recordTLS() {
	rec := s.q.TLSReports
	if rec == nil || s.report.policy.Type == "" {
		return
	}
	if s.report.failure == nil && s.daneFail != "" {
		s.tlsFailure(tlsrpt.ResultType(s.daneFail), "", "")
	}
	if f := s.report.failure; f != nil {
		ff := *f
		ff.SendingMTAIP, ff.ReceivingMXHostname, ff.ReceivingIP = s.base.SendingIP, s.t.host, s.t.ip
		ff.ReceivingMXHelo = heloName(s.heloResp)
		rec.Failure(s.report.policy, ff)
		return
	}
	if s.tlsOn {
		rec.Success(s.report.policy)
	}
}

// heloName is the host name in the first line of an EHLO or HELO
// reply ("250-mx.example.com Hello"), or "".
func heloName(line string) string {
	if len(line) < 4 {
		return ""
	}
	f := strings.Fields(line[4:])
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
