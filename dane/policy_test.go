package dane

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/hostlist"
	"github.com/mailpolicy/mailpolicy/smtp"
)

type eventLog []string

func (l *eventLog) add(name, data string) { *l = append(*l, name+" "+data) }

func TestDecideTable(t *testing.T) {
	ip := netip.MustParseAddr("192.0.2.1")
	usable := []TLSA{{3, 1, 1, make([]byte, 32)}}
	set := func(s State, recs []TLSA) *TLSASet {
		return &TLSASet{Host: "mx.example.com", Port: 25, State: s, Records: recs}
	}
	tests := []struct {
		name       string
		require    bool
		try        string // "" = default "*"
		addrSecure bool
		set        *TLSASet
		action     Action
		event      string
		msg        string
	}{
		{"require, address insecure", true, "", false, nil, ActionFail, "dane-required", "DANE error: mx.example.com lookup not DNSSEC"},
		{"try, address insecure", false, "", false, nil, ActionNoDANE, "", ""},
		{"not listed", false, "!*", true, set(StateSecure, usable), ActionNoDANE, "", ""},
		{"require, secure", true, "", true, set(StateSecure, usable), ActionDANE, "", ""},
		{"try, secure", false, "", true, set(StateSecure, usable), ActionDANE, "", ""},
		{"try, secure, PKIX only", false, "", true, set(StateSecure, []TLSA{{1, 1, 1, make([]byte, 32)}}), ActionDefer, "", "DANE error: No usable TLSA records"},
		{"require, insecure", true, "", true, set(StateInsecure, usable), ActionFail, "dane-required", "DANE error: TLSA lookup for mx.example.com not DNSSEC"},
		{"try, insecure", false, "", true, set(StateInsecure, usable), ActionNoDANE, "", "DANE error: TLSA lookup for mx.example.com not DNSSEC"},
		{"require, none", true, "", true, set(StateNone, nil), ActionFail, "dane-required", "DANE error: tlsa lookup FAIL"},
		{"try, none", false, "", true, set(StateNone, nil), ActionNoDANE, "", ""},
		{"require, tempfail", true, "", true, set(StateTempFail, nil), ActionDefer, "dane-required", "DANE error: tlsa lookup DEFER"},
		{"try, tempfail", false, "", true, set(StateTempFail, nil), ActionDefer, "dnssec-invalid", "DANE error: tlsa lookup DEFER"},
		{"require, bogus", true, "", true, set(StateBogus, nil), ActionFail, "dane-required", "DANE error: tlsa lookup FAIL"},
		{"try, bogus", false, "", true, set(StateBogus, nil), ActionDefer, "dnssec-invalid", "DANE error: tlsa lookup DEFER"},
		{"require, failed", true, "", true, set(StateFailed, nil), ActionFail, "dane-required", "DANE error: tlsa lookup FAIL"},
		{"try, failed", false, "", true, set(StateFailed, nil), ActionDefer, "dnssec-invalid", "DANE error: tlsa lookup DEFER"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ev eventLog
			p := &Policy{Event: ev.add}
			if tc.require {
				p.RequireHosts = hostlist.MustParse("*.example.com")
			}
			if tc.try != "" {
				p.TryHosts = hostlist.MustParse(tc.try)
			}
			d := p.Decide("mx.example.com", ip, tc.addrSecure, tc.set)
			if d.Action != tc.action || d.EventData != tc.event || d.Message != tc.msg {
				t.Errorf("decision %v %q %q, want %v %q %q", d.Action, d.EventData, d.Message, tc.action, tc.event, tc.msg)
			}
			wantEv := 0
			if tc.event != "" {
				wantEv = 1
				if len(ev) == 1 && ev[0] != "dane:fail "+tc.event {
					t.Errorf("event %q", ev[0])
				}
			}
			if len(ev) != wantEv {
				t.Errorf("events %v", ev)
			}
		})
	}
}

func TestCheckSkipsLookup(t *testing.T) {
	z, ns := testZone(t, true)
	p := &Policy{TryHosts: hostlist.MustParse("other.example.com")}
	ip := netip.MustParseAddr("127.0.0.1")
	before := z.Queries()
	if d := p.Check(context.Background(), "mx.example.com", ip, 25, true, WithResolver(nsResolver(t, ns, 0))); d.Action != ActionNoDANE || d.Set != nil {
		t.Errorf("decision %+v", d)
	}
	if d := (&Policy{}).Check(context.Background(), "mx.example.com", ip, 25, false, WithResolver(nsResolver(t, ns, 0))); d.Action != ActionNoDANE || d.Set != nil {
		t.Errorf("decision %+v", d)
	}
	if z.Queries() != before {
		t.Error("TLSA looked up needlessly")
	}
	if d := (&Policy{}).Check(context.Background(), "mx.example.com", ip, 25, true, WithResolver(nsResolver(t, ns, 0))); d.Action != ActionDANE || d.Set.UsageBits() != 8 {
		t.Errorf("decision %+v", d)
	}
}

// smtpServer is a minimal SMTP server on loopback offering STARTTLS
// (unless cert is nil) and refusing it when refuse is set.
func smtpServer(t testing.TB, cert *tls.Certificate, refuse bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveSMTP(c, cert, refuse)
		}
	}()
	return ln.Addr().String()
}

func serveSMTP(c net.Conn, cert *tls.Certificate, refuse bool) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	c.Write([]byte("220 test ESMTP\r\n"))
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			if cert != nil {
				c.Write([]byte("250-test\r\n250-PIPELINING\r\n250 STARTTLS\r\n"))
			} else {
				c.Write([]byte("250-test\r\n250 PIPELINING\r\n"))
			}
		case cmd == "STARTTLS" && cert != nil && !refuse:
			c.Write([]byte("220 go ahead\r\n"))
			tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{*cert}})
			if tc.Handshake() != nil {
				return
			}
			c, r = tc, bufio.NewReader(tc)
		case cmd == "STARTTLS":
			c.Write([]byte("454 TLS not available\r\n"))
		case cmd == "QUIT":
			c.Write([]byte("221 bye\r\n"))
			return
		default:
			c.Write([]byte("250 ok\r\n"))
		}
	}
}

func TestConnect(t *testing.T) {
	good := newPKI(t, nil, "mx.example.com")
	cert := good.tlsCert(good.leaf, good.inter, good.root)
	secure := func(recs ...TLSA) *Decision {
		return &Decision{Host: "mx.example.com", Action: ActionDANE, Set: &TLSASet{
			Host: "mx.example.com", Port: 25, State: StateSecure, Records: recs, Names: []string{"mx.example.com"}}}
	}
	tests := []struct {
		name      string
		cert      *tls.Certificate
		refuse    bool
		d         *Decision
		wantErr   error
		event     string
		dane, cv  string
		usageBits int
	}{
		{"DANE-EE ok", &cert, false, secure(spkiSHA256(good.leaf)), nil, "", "yes", "dane", 8},
		{"DANE-TA ok", &cert, false, secure(taRecord(good.inter)), nil, "", "yes", "dane", 4},
		{"mismatch", &cert, false, secure(spkiSHA256(good.inter)), ErrNoMatch, "validation-failure", "no", "no", 8},
		{"no STARTTLS", nil, false, secure(spkiSHA256(good.leaf)), ErrNoSTARTTLS, "starttls-not-supported", "no", "no", 8},
		{"STARTTLS refused", &cert, true, secure(spkiSHA256(good.leaf)), ErrSTARTTLSRefused, "validation-failure", "no", "no", 8},
		{"no DANE, opportunistic", &cert, false, &Decision{Host: "mx.example.com"}, nil, "", "no", "no", 0},
		{"no DANE, clear", nil, false, &Decision{Host: "mx.example.com"}, nil, "", "no", "no", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := smtpServer(t, tc.cert, tc.refuse)
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			c := smtp.NewClient(conn)
			c.LocalName = "client.example"
			defer c.Close()
			var ev eventLog
			p := &Policy{Event: ev.add}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			// The caller reads the greeting and says EHLO itself (to
			// raise smtp:connect and smtp:ehlo), then Connect.
			if _, err := c.Hello(ctx); err != nil {
				t.Fatal(err)
			}
			s, err := p.Connect(ctx, c, tc.d, nil)
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if s.TLSOutDane() != tc.dane || s.CV() != tc.cv || s.UsageBits() != tc.usageBits {
				t.Errorf("tls_out_dane=%s CV=%s usage=%d", s.TLSOutDane(), s.CV(), s.UsageBits())
			}
			if tc.event == "" && len(ev) != 0 || tc.event != "" && (len(ev) != 1 || ev[0] != "dane:fail "+tc.event) {
				t.Errorf("events %v, want %q", ev, tc.event)
			}
			if s.TLS != nil {
				// The session is usable: a second EHLO over TLS.
				if r, err := c.Hello(ctx); err != nil || r.Code != 250 {
					t.Errorf("EHLO over TLS: %v %v", r, err)
				}
			}
		})
	}
	// A fresh client: Connect reads the greeting and says EHLO itself.
	conn, err := net.Dial("tcp", smtpServer(t, &cert, false))
	if err != nil {
		t.Fatal(err)
	}
	c := smtp.NewClient(conn)
	defer c.Close()
	if s, err := (&Policy{}).Connect(context.Background(), c, secure(spkiSHA256(good.leaf)), nil); err != nil || s.TLSOutDane() != "yes" {
		t.Errorf("fresh client: %v %+v", err, s)
	}
	// An action that does not connect.
	if _, err := (&Policy{}).Connect(context.Background(), nil, &Decision{Action: ActionFail, Message: "x"}, nil); err == nil {
		t.Error("Connect with ActionFail succeeded")
	}
}
