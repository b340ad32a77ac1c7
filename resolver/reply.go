package resolver

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// maxCNAMEChain bounds how far an answer's CNAME chain is followed, so a
// hostile reply cannot make us loop or chase a long list.
const maxCNAMEChain = 8

const (
	headerLen = 12
	bitQR     = 0x80 // in the third header octet
	bitTC     = 0x02
)

var (
	// errMalformed marks replies that cannot be used; it makes the
	// failure permanent for that server.
	errMalformed = errors.New("malformed reply")
	// errMismatch marks a datagram that is not the reply to our query
	// (late, stray or spoofed); over UDP we keep listening for ours.
	errMismatch = errors.New("reply does not match query")
	// errTruncated asks for the query to be repeated over TCP.
	errTruncated = errors.New("reply truncated")
)

// Response is a successful or negative (NXDOMAIN, NODATA) answer.
type Response struct {
	// Msg is the reply as received.
	Msg *dns.Msg
	// Answer holds the answer records of the queried type owned by the
	// query name or a name reached from it through the CNAME chain in the
	// answer section; everything else in that section is dropped.
	Answer []dns.RR
	// Authentic reports that the resolver validated the answer with
	// DNSSEC (AD bit) and the client trusts it to say so: the server is on
	// loopback or WithTrustAD(true) was given. For NXDOMAIN and NODATA it
	// means authenticated denial of existence.
	Authentic bool
	// Server is the server that answered, as "ip:port".
	Server string
	// CNAMEs is the alias chain the answer section leads through from
	// the query name, in order and without trailing dots: for a query
	// for www.example that is a CNAME for web.example, ["web.example"].
	// It is reported for denials too (an alias to a missing name).
	CNAMEs []string
}

// Target is the name the CNAME chain ends at, or name itself when there
// was none.
func (r *Response) Target(name string) string {
	if r == nil || len(r.CNAMEs) == 0 {
		return trimDot(name)
	}
	return r.CNAMEs[len(r.CNAMEs)-1]
}

// decodeReply unpacks raw and checks that it answers q. Only the ID, QR
// bit and question are checked; the answer section is filtered later by
// interpret.
func decodeReply(q *dns.Msg, raw []byte) (*dns.Msg, error) {
	if len(raw) < headerLen {
		return nil, fmt.Errorf("%w: %d octets is shorter than a header", errMalformed, len(raw))
	}
	if binary.BigEndian.Uint16(raw) != q.Id || raw[2]&bitQR == 0 {
		return nil, errMismatch
	}
	r := new(dns.Msg)
	if err := r.Unpack(raw); err != nil {
		// A server may cut a reply mid-record when it sets TC; the full
		// reply is fetched over TCP anyway.
		if raw[2]&bitTC != 0 {
			return nil, errTruncated
		}
		return nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if !questionMatches(q, r) {
		return nil, errMismatch
	}
	return r, nil
}

// questionMatches reports whether r echoes q's question. Error replies
// (FORMERR, REFUSED, ...) often omit the question, so that is tolerated
// for them; an answer or a denial must say what it is about.
func questionMatches(q, r *dns.Msg) bool {
	if len(r.Question) == 0 {
		return r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError
	}
	if len(r.Question) != 1 || len(q.Question) != 1 {
		return false
	}
	a, b := q.Question[0], r.Question[0]
	return a.Qtype == b.Qtype && a.Qclass == b.Qclass && strings.EqualFold(a.Name, b.Name)
}

// interpret classifies a decoded reply. final means no other server
// should be asked: the answer (positive or negative) is authoritative
// for the question. kind is nil for a usable answer.
func interpret(r *dns.Msg, qname string, qtype uint16, server string, trustAD bool) (resp *Response, kind error, final bool) {
	switch r.Rcode {
	case dns.RcodeSuccess, dns.RcodeNameError:
	case dns.RcodeServerFailure:
		return nil, ErrTemporary, false
	default:
		return nil, ErrPermanent, false
	}
	resp = &Response{
		Msg:       r,
		Server:    server,
		Authentic: r.AuthenticatedData && adTrusted(server, trustAD),
	}
	var owners []string
	resp.Answer, owners = answerRecords(r.Answer, qname, qtype)
	for _, o := range owners[1:] {
		resp.CNAMEs = append(resp.CNAMEs, trimDot(o))
	}
	if r.Rcode == dns.RcodeNameError {
		resp.Answer = nil
		return resp, ErrNotFound, true
	}
	if len(resp.Answer) == 0 {
		return resp, ErrNoData, true
	}
	return resp, nil, true
}

// answerRecords keeps the records of qtype owned by qname or by a name its
// CNAME chain reaches. Anything else a server put in the answer section
// is at best noise and at worst a cache-poisoning attempt.
// It also returns those owner names, qname first.
func answerRecords(answer []dns.RR, qname string, qtype uint16) ([]dns.RR, []string) {
	owners := []string{qname}
	// A query for the CNAME itself, or for everything, is answered by
	// the CNAME and must not be redirected.
	if qtype != dns.TypeCNAME && qtype != dns.TypeANY {
		cur := qname
		for range maxCNAMEChain {
			next := cnameTarget(answer, cur)
			if next == "" || slices.ContainsFunc(owners, func(o string) bool { return strings.EqualFold(o, next) }) {
				break
			}
			owners = append(owners, next)
			cur = next
		}
	}
	var out []dns.RR
	for _, rr := range answer {
		if rr == nil {
			continue
		}
		h := rr.Header()
		if h.Class != dns.ClassINET || (h.Rrtype != qtype && qtype != dns.TypeANY) {
			continue
		}
		if slices.ContainsFunc(owners, func(o string) bool { return strings.EqualFold(o, h.Name) }) {
			out = append(out, rr)
		}
	}
	return out, owners
}

func cnameTarget(answer []dns.RR, owner string) string {
	for _, rr := range answer {
		if c, ok := rr.(*dns.CNAME); ok && c.Hdr.Class == dns.ClassINET && strings.EqualFold(c.Hdr.Name, owner) {
			return c.Target
		}
	}
	return ""
}

// adTrusted decides whether an AD bit from server may be believed. The
// bit is not protected on the wire, so it only means something when the
// validating resolver is on this host (loopback) or the operator vouches
// for the path.
func adTrusted(server string, trustAll bool) bool {
	if trustAll {
		return true
	}
	ap, err := netip.ParseAddrPort(server)
	if err != nil {
		return false
	}
	return ap.Addr().Unmap().IsLoopback()
}
