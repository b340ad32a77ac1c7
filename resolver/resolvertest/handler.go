package resolvertest

import (
	"github.com/miekg/dns"
)

// serverUDPSize is what the server advertises in its own OPT record.
const serverUDPSize = 1232

// handler answers queries from a zone.
type handler struct{ zone *Zone }

func (h handler) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := h.reply(req, isUDP(w))
	if m == nil {
		return
	}
	_ = w.WriteMsg(m)
}

// reply builds the response to req, or nil when the zone says to stay
// silent. The server's accept function has already refused messages
// that are not queries with exactly one question.
func (h handler) reply(req *dns.Msg, udp bool) *dns.Msg {
	if len(req.Question) != 1 {
		m := new(dns.Msg)
		m.SetRcode(req, dns.RcodeFormatError)
		return m
	}
	a := h.zone.lookup(req.Question[0])
	if a.drop {
		return nil
	}
	m := new(dns.Msg)
	m.SetReply(req)
	m.Compress = true
	m.Authoritative = true
	m.AuthenticatedData = a.authentic
	m.Rcode = a.rcode
	m.Answer = a.records
	if a.soa != nil && (a.rcode == dns.RcodeNameError || a.rcode == dns.RcodeSuccess) {
		m.Ns = []dns.RR{a.soa}
	}

	limit := dns.MinMsgSize
	if opt := req.IsEdns0(); opt != nil {
		if opt.UDPSize() > dns.MinMsgSize {
			limit = int(opt.UDPSize())
		}
		m.SetEdns0(serverUDPSize, opt.Do())
	}
	// Truncate by dropping every record rather than trimming, so a
	// client that fails to retry over TCP sees an obviously empty answer.
	if udp && (a.truncate || m.Len() > limit) {
		m.Truncated = true
		m.Answer, m.Ns = nil, nil
	}
	return m
}

func isUDP(w dns.ResponseWriter) bool {
	return w.LocalAddr().Network() == "udp"
}
