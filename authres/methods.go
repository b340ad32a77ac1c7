package authres

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"

	"github.com/mailpolicy/mailpolicy/dkim"
	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/iprev"
	"github.com/mailpolicy/mailpolicy/spf"
)

// Option changes what a builder writes.
type Option func(*options)

type options struct {
	eximDMARC bool
}

// WithEximDMARCWords makes FromDMARC write Exim's words (its
// dmarc_pass_fail): a failure under p=none (status none) is
// "dmarc=none", a message without a usable From: domain (nofrom) is
// "dmarc=temperror", and a disabled check (off) is "dmarc=skipped".
// By default the words are RFC 7489 §11.2's: see FromDMARC.
func WithEximDMARCWords() Option { return func(o *options) { o.eximDMARC = true } }

// Local is Exim's "local" method for a message that did not come over
// SMTP: "local=pass (non-smtp, <authserv-id>) u=<user>", u= only when
// user is not empty.
func Local(authservID, user string) Method {
	return Method{Name: "local", Result: "pass", Comment: "non-smtp, " + authservID,
		Props: []Prop{{Property: "u", Value: user}}}
}

// FromIPrev is Exim's iprev method (authres_iprev) for iprev.Check's
// outcome: "iprev=pass (<host name>) smtp.remote-ip=<ip>", or fail,
// temperror or permerror without the comment. The zero Method (left
// out by Build) for a nil Outcome and for Result None, a check that
// was never made: Exim writes no iprev method without a host lookup.
func FromIPrev(o *iprev.Outcome) Method {
	if o == nil || o.Result == iprev.None {
		return Method{}
	}
	return IPrev(o.Result.String(), o.Name, o.IP)
}

// IPrev is the iprev method (RFC 8601 §3) from plain values, for a
// caller with its own reverse lookup: result "pass" with the verified
// host name as the comment, "fail", "temperror" or "permerror" (Exim
// writes no comment then), and smtp.remote-ip when ip is valid; the
// zero Method (left out by Build) when result is "".
func IPrev(result, hostName string, ip netip.Addr) Method {
	if result == "" {
		return Method{}
	}
	m := Method{Name: "iprev", Result: result}
	if result == "pass" {
		m.Comment = hostName
	}
	if ip.IsValid() {
		m.Props = []Prop{{Type: "smtp", Property: "remote-ip", Value: ip.Unmap().String()}}
	}
	return m
}

// Auth is Exim's auth method for an authenticated SMTP client:
// "auth=pass (<mechanism>) smtp.auth=<user>", or "(<mechanism>, no id
// saved)" without a user. For Exim's "tls" authenticator (a client
// certificate) the property is x509.auth=<user>, or reason="x509.auth"
// without one. The zero Method when mechanism is "" (not
// authenticated). A caller that accepted an AUTH= sender appends
// Prop{"smtp", "mailfrom", sender}, as Exim does.
func Auth(mechanism, user string) Method {
	if mechanism == "" {
		return Method{}
	}
	m := Method{Name: "auth", Result: "pass", Comment: mechanism}
	switch {
	case strings.EqualFold(mechanism, "tls") && user != "":
		m.Props = []Prop{{Type: "x509", Property: "auth", Value: user}}
	case strings.EqualFold(mechanism, "tls"):
		m.Reason = "x509.auth"
	case user != "":
		m.Props = []Prop{{Type: "smtp", Property: "auth", Value: user}}
	default:
		m.Comment += ", no id saved"
	}
	return m
}

// FromSPF is Exim's spf method (authres_spf): "spf=<result>", the
// comment "best guess record for domain" when the best-guess record
// decided, then smtp.mailfrom=<domain> (or smtp.helo=<name> when the
// HELO identity was checked), or smtp.mailfrom="<>" when there is no
// domain. The zero Method for a nil Outcome. Exim writes libspf2's
// "(invalid)" for the Invalid result, which is not an RFC 8601 word:
// here it is permerror.
func FromSPF(o *spf.Outcome) Method {
	if o == nil {
		return Method{}
	}
	res := o.Result.String()
	if o.Result == spf.Invalid {
		res = "permerror"
	}
	m := Method{Name: "spf", Result: res}
	if o.Guessed {
		m.Comment = "best guess record for domain"
	}
	p := Prop{Type: "smtp", Property: "mailfrom", Value: "<>"}
	if o.UsedDomain != "" {
		p.Value = o.UsedDomain
		if o.Identity == "helo" {
			p.Property = "helo"
		}
	}
	m.Props = []Prop{p}
	return m
}

// FromDKIM is Exim's dkim methods (authres_dkim): one per signature, in
// the order given, with Exim's result and comment, then header.d,
// header.i and header.s when known and header.a (the a= tag, "err"
// when unknown). The words and comments:
//
//	pass                   pass
//	none (not verified)    none
//	invalid                temperror (pubkey unavailable)      the key lookup failed (Temporary)
//	                       permerror (pubkey unavailable)      no key
//	                       neutral (public key record import problem)
//	                       neutral (signature tag missing or invalid)
//	                       neutral (unsupported DKIM version)
//	                       permerror (signature expired)
//	                       permerror (unspecified problem)
//	fail                   fail (body hash mismatch, body probably modified in transit)
//	                       fail (signature did not verify, headers probably modified in transit)
//	                       fail (public key too short: <n> bits)
//	                       fail (unspecified reason)
//
// Deliberate differences from Exim (dkim's former ARResult had them too): "temperror" where
// Exim misspells it "tmperror", a missing key a permerror (RFC 6376
// §6.1.2), an expired signature reported. Exim's ";" inside the two
// fail comments is "," here (every comment's ";" is): go-msgauth and
// other parsers split results at every ";", comments included. No
// signature gives no method, as in Exim.
func FromDKIM(sigs []dkim.Result) []Method {
	if len(sigs) == 0 {
		return nil
	}
	ms := make([]Method, len(sigs))
	props := make([]Prop, 4*len(sigs))
	for i, r := range sigs {
		res, comment := dkimWord(r)
		alg := r.Algorithm
		if alg == "" {
			alg = "err"
		}
		p := props[4*i : 4*i+4 : 4*i+4]
		p[0] = Prop{Type: "header", Property: "d", Value: r.Domain}
		p[1] = Prop{Type: "header", Property: "i", Value: r.Identifier}
		p[2] = Prop{Type: "header", Property: "s", Value: r.Selector}
		p[3] = Prop{Type: "header", Property: "a", Value: alg}
		ms[i] = Method{Name: "dkim", Result: res, Comment: comment, Props: p}
	}
	return ms
}

func dkimWord(r dkim.Result) (result, comment string) {
	switch r.Status {
	case dkim.StatusPass:
		return "pass", ""
	case dkim.StatusNone:
		return "none", ""
	case dkim.StatusInvalid:
		switch r.Reason {
		case dkim.ReasonPubkeyUnavailable:
			if r.Temporary {
				return "temperror", "pubkey unavailable"
			}
			return "permerror", "pubkey unavailable"
		case dkim.ReasonPubkeyDNSSyntax, dkim.ReasonPubkeyDERSyntax:
			return "neutral", "public key record import problem"
		case dkim.ReasonSignatureTag:
			return "neutral", "signature tag missing or invalid"
		case dkim.ReasonVersion:
			return "neutral", "unsupported DKIM version"
		case dkim.ReasonExpired:
			return "permerror", "signature expired"
		}
		return "permerror", "unspecified problem"
	case dkim.StatusFail:
		switch r.Reason {
		case dkim.ReasonBodyHashMismatch:
			return "fail", "body hash mismatch, body probably modified in transit"
		case dkim.ReasonSignatureIncorrect:
			return "fail", "signature did not verify, headers probably modified in transit"
		case dkim.ReasonPubkeyTooShort:
			return "fail", "public key too short: " + strconv.Itoa(r.KeyBits) + " bits"
		}
		return "fail", "unspecified reason"
	}
	return "permerror", ""
}

// FromDMARC is Exim's dmarc method (authres_dmarc): "dmarc=<word>
// header.from=<From domain>". The zero Method for a nil Outcome or one
// with no status.
//
// The word follows RFC 7489 §11.2 by default: pass for an aligned pass
// (accept); fail whenever a published policy's check failed, whatever
// p= asks for (reject, quarantine, and none, which includes a policy
// that pct= sampled down to none; status none without a record is
// none); none when there is no usable record
// (norecord); temperror for temperror; permerror for nofrom (a From:
// that is missing or unreadable stays so on every retry). A check that
// was turned off (status off) gives no method: nothing was checked.
// WithEximDMARCWords gives Exim's words instead.
//
// An outcome of dmarc.ModeRFC9989 gets RFC 9989's words (§9.2): the
// same, except that a policy record that could not be used (norecord
// with a *dmarc.RecordError) is permerror; and after header.from the
// policy.dmarc property (§9.1) gives the policy applied after t=
// (Outcome.AppliedPolicy) for a pass or fail.
func FromDMARC(o *dmarc.Outcome, opts ...Option) Method {
	if o == nil || o.Status == "" {
		return Method{}
	}
	var c options
	for _, f := range opts {
		f(&c)
	}
	word := ""
	switch o.Status {
	case dmarc.StatusAccept:
		word = "pass"
	case dmarc.StatusReject, dmarc.StatusQuarantine:
		word = "fail"
	case dmarc.StatusNone:
		word = "fail"
		if c.eximDMARC || o.Record == nil {
			word = "none"
		}
	case dmarc.StatusNoRecord:
		word = "none"
		var re *dmarc.RecordError
		if o.Mode == dmarc.ModeRFC9989 && !c.eximDMARC && errors.As(o.Err, &re) {
			word = "permerror"
		}
	case dmarc.StatusNoFrom:
		word = "permerror"
		if c.eximDMARC {
			word = "temperror"
		}
	case dmarc.StatusTempError:
		word = "temperror"
	case dmarc.StatusOff:
		if !c.eximDMARC {
			return Method{}
		}
		return Method{Name: "dmarc", Result: "skipped"}
	default:
		return Method{}
	}
	m := Method{Name: "dmarc", Result: word}
	if o.FromDomain != "" {
		m.Props = []Prop{{Type: "header", Property: "from", Value: o.FromDomain}}
	}
	if o.Mode == dmarc.ModeRFC9989 && !c.eximDMARC && o.AppliedPolicy != "" {
		m.Props = append(m.Props, Prop{Type: "policy", Property: "dmarc", Value: string(o.AppliedPolicy)})
	}
	return m
}
