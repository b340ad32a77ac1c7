package resolver

import (
	"errors"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func rrs(t testing.TB, lines ...string) []dns.RR {
	t.Helper()
	var out []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rr)
	}
	return out
}

func owners(rs []dns.RR) string {
	var s []string
	for _, rr := range rs {
		s = append(s, strings.ToLower(rr.Header().Name)+"/"+dns.TypeToString[rr.Header().Rrtype])
	}
	return strings.Join(s, " ")
}

func TestAnswerRecords(t *testing.T) {
	chain := []string{}
	for i := range maxCNAMEChain + 1 {
		chain = append(chain, "c"+string(rune('0'+i))+". CNAME c"+string(rune('1'+i))+".")
	}
	chain = append(chain, "c"+string(rune('0'+maxCNAMEChain+1))+". A 192.0.2.9", "c8. A 192.0.2.8")

	tests := []struct {
		name   string
		answer []string
		qname  string
		qtype  uint16
		want   string
	}{
		{"direct", []string{"a. A 192.0.2.1", "a. A 192.0.2.2"}, "a.", dns.TypeA, "a./A a./A"},
		{"case-insensitive owner", []string{"A. A 192.0.2.1"}, "a.", dns.TypeA, "a./A"},
		{"other type dropped", []string{"a. TXT x", "a. A 192.0.2.1"}, "a.", dns.TypeA, "a./A"},
		{"unrelated owner dropped", []string{"evil. A 192.0.2.66", "a. A 192.0.2.1"}, "a.", dns.TypeA, "a./A"},
		{"other class dropped", []string{"a. CH A 192.0.2.1"}, "a.", dns.TypeA, ""},
		{"chain out of order", []string{"b. A 192.0.2.1", "b2. CNAME b.", "a. CNAME b2."}, "a.", dns.TypeA, "b./A"},
		{"record off the chain dropped", []string{"a. CNAME b.", "b. A 192.0.2.1", "c. A 192.0.2.2"}, "a.", dns.TypeA, "b./A"},
		{"cname query not followed", []string{"a. CNAME b.", "b. CNAME c."}, "a.", dns.TypeCNAME, "a./CNAME"},
		{"loop", []string{"a. CNAME b.", "b. CNAME a."}, "a.", dns.TypeA, ""},
		// c0 -> ... -> c9: only the first 8 hops count, so c9's A is dropped
		// and c8's is kept.
		{"chain capped", chain, "c0.", dns.TypeA, "c8./A"},
		{"any", []string{"a. A 192.0.2.1", "a. TXT x", "b. A 192.0.2.2"}, "a.", dns.TypeANY, "a./A a./TXT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, _ := answerRecords(rrs(t, tt.answer...), tt.qname, tt.qtype)
			if got := owners(recs); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestADTrusted(t *testing.T) {
	tests := []struct {
		server   string
		trustAll bool
		want     bool
	}{
		{"127.0.0.1:53", false, true},
		{"127.53.0.1:5353", false, true},
		{"[::1]:53", false, true},
		{"[::ffff:127.0.0.1]:53", false, true},
		{"192.0.2.1:53", false, false},
		{"[2001:db8::1]:53", false, false},
		{"[::ffff:192.0.2.1]:53", false, false},
		{"192.0.2.1:53", true, true},
		{"not-an-address", false, false},
	}
	for _, tt := range tests {
		if got := adTrusted(tt.server, tt.trustAll); got != tt.want {
			t.Errorf("adTrusted(%q, %v) = %v", tt.server, tt.trustAll, got)
		}
	}
}

func TestInterpretAuthentic(t *testing.T) {
	r := new(dns.Msg)
	r.SetQuestion("a.", dns.TypeA)
	r.Response, r.AuthenticatedData = true, true
	r.Answer = rrs(t, "a. A 192.0.2.1")
	for _, tt := range []struct {
		server  string
		trustAD bool
		want    bool
	}{
		{"127.0.0.1:53", false, true},
		{"192.0.2.53:53", false, false},
		{"192.0.2.53:53", true, true},
	} {
		resp, kind, final := interpret(r, "a.", dns.TypeA, tt.server, tt.trustAD)
		if kind != nil || !final || resp.Authentic != tt.want {
			t.Errorf("%s trust=%v: kind %v final %v authentic %v", tt.server, tt.trustAD, kind, final, resp.Authentic)
		}
	}
}

func TestDecodeReply(t *testing.T) {
	q := new(dns.Msg)
	q.SetQuestion("example.com.", dns.TypeTXT)
	pack := func(edit func(r *dns.Msg)) []byte {
		r := new(dns.Msg)
		r.SetReply(q)
		edit(r)
		b, err := r.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	truncatedGarbage := pack(func(r *dns.Msg) { r.Truncated = true; r.Answer = rrs(t, `example.com. TXT "x"`) })
	truncatedGarbage = truncatedGarbage[:len(truncatedGarbage)-3]

	tests := []struct {
		name string
		raw  []byte
		want error
	}{
		{"ok", pack(func(*dns.Msg) {}), nil},
		{"question case differs", pack(func(r *dns.Msg) { r.Question[0].Name = "EXAMPLE.com." }), nil},
		{"short", []byte{1, 2, 3}, errMalformed},
		{"other id", pack(func(r *dns.Msg) { r.Id++ }), errMismatch},
		{"not a response", pack(func(r *dns.Msg) { r.Response = false }), errMismatch},
		{"other name", pack(func(r *dns.Msg) { r.Question[0].Name = "example.org." }), errMismatch},
		{"other type", pack(func(r *dns.Msg) { r.Question[0].Qtype = dns.TypeA }), errMismatch},
		{"no question in answer", pack(func(r *dns.Msg) { r.Question = nil }), errMismatch},
		{"no question in REFUSED", pack(func(r *dns.Msg) { r.Question = nil; r.Rcode = dns.RcodeRefused }), nil},
		{"cut short", pack(func(r *dns.Msg) { r.Answer = rrs(t, `example.com. TXT "x"`) })[:40], errMalformed},
		{"cut short with TC", truncatedGarbage, errTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeReply(q, tt.raw)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// TestStrayAndMalformedReplies checks the UDP read loop against servers
// that misbehave on the wire.
func TestStrayAndMalformedReplies(t *testing.T) {
	reply := func(query []byte, edit func(r *dns.Msg)) []byte {
		q := new(dns.Msg)
		if err := q.Unpack(query); err != nil {
			return nil
		}
		r := new(dns.Msg)
		r.SetReply(q)
		r.Answer = rrs(t, `example.com. TXT "good"`)
		edit(r)
		b, _ := r.Pack()
		return b
	}
	stray := fakeServer(t, func(query []byte) [][]byte {
		// Spoofs and late replies first; the client must skip them.
		return [][]byte{
			reply(query, func(r *dns.Msg) { r.Id++; r.Answer = rrs(t, `example.com. TXT "spoofed"`) }),
			reply(query, func(r *dns.Msg) { r.Question[0].Name = "other.example." }),
			reply(query, func(*dns.Msg) {}),
		}
	})
	garbage := fakeServer(t, func(query []byte) [][]byte {
		b := reply(query, func(*dns.Msg) {})
		return [][]byte{b[:len(b)-2]}
	})
	oversized := fakeServer(t, func(query []byte) [][]byte {
		// Ignores the advertised size; the client notices and moves to
		// TCP, where nobody listens.
		return [][]byte{reply(query, func(r *dns.Msg) {
			r.Answer = rrs(t, `example.com. TXT "`+strings.Repeat("z", 250)+`" "`+strings.Repeat("z", 250)+`" "`+strings.Repeat("z", 250)+`"`)
		})}
	})

	c := newClient(t, WithNameservers(stray))
	txt, _, err := c.LookupTXT(ctxT(t), "example.com")
	if err != nil || len(txt) != 1 || txt[0] != "good" {
		t.Errorf("stray replies: got %q, %v", txt, err)
	}

	c = newClient(t, WithNameservers(garbage))
	_, _, err = c.LookupTXT(ctxT(t), "example.com")
	if e := asError(t, err, ErrPermanent); !errors.Is(e.Err, errMalformed) {
		t.Errorf("garbage: %v", err)
	}

	c = newClient(t, WithNameservers(oversized), WithUDPSize(512))
	_, _, err = c.LookupTXT(ctxT(t), "example.com")
	if e := asError(t, err, ErrTemporary); !strings.Contains(e.Err.Error(), "tcp") {
		t.Errorf("oversized datagram did not lead to TCP: %v", err)
	}
}

// FuzzParseReply feeds arbitrary replies through everything that looks at
// a server's bytes before callers see them. None of it may panic.
func FuzzParseReply(f *testing.F) {
	q := new(dns.Msg)
	q.SetQuestion("example.com.", dns.TypeA)
	q.Id = 0x1234
	seed := func(edit func(r *dns.Msg)) {
		r := new(dns.Msg)
		r.SetReply(q)
		edit(r)
		if b, err := r.Pack(); err == nil {
			f.Add(b)
		}
	}
	seed(func(r *dns.Msg) {
		r.Answer = rrs(f, "example.com. CNAME a.example.", "a.example. CNAME example.com.", "a.example. A 192.0.2.1", "x. A 192.0.2.2")
	})
	seed(func(r *dns.Msg) { r.Rcode = dns.RcodeNameError; r.AuthenticatedData = true })
	seed(func(r *dns.Msg) { r.Truncated = true; r.SetEdns0(1232, true) })
	seed(func(r *dns.Msg) { r.Answer = rrs(f, `example.com. TXT "a\"b" "\200"`, "example.com. MX 10 .") })
	f.Add([]byte{0x12, 0x34, 0x80})

	f.Fuzz(func(t *testing.T, raw []byte) {
		// Match the ID so the fuzzer gets past the first check.
		if len(raw) >= 2 {
			raw[0], raw[1] = 0x12, 0x34
		}
		if r, err := decodeReply(q, raw); err == nil {
			resp, _, _ := interpret(r, "example.com.", dns.TypeA, "127.0.0.1:53", false)
			_ = resp
		}
		// Whatever unpacks at all, even if it answers another question.
		r := new(dns.Msg)
		if r.Unpack(raw) != nil {
			return
		}
		for _, qtype := range []uint16{dns.TypeA, dns.TypeTXT, dns.TypeCNAME, dns.TypeANY} {
			resp, _, _ := interpret(r, "example.com.", qtype, "192.0.2.1:53", true)
			if resp == nil {
				continue
			}
			for _, rr := range resp.Answer {
				if rr.Header().Rrtype != qtype && qtype != dns.TypeANY {
					t.Fatalf("Answer holds %v for a %s query", rr, dns.TypeToString[qtype])
				}
				if txt, ok := rr.(*dns.TXT); ok {
					for _, s := range txt.Txt {
						_ = unescapeTXT(s)
					}
				}
			}
		}
	})
}
