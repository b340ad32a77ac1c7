package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func serveZone(t *testing.T, text string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "z.zone")
	if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	z := newZone()
	if err := z.load(f); err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv := &dns.Server{Addr: "127.0.0.1:0", Net: "udp", Handler: z, NotifyStartedFunc: func() { close(started) }}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case <-started:
	case err := <-errc:
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown() })
	return srv.PacketConn.LocalAddr().String()
}

func ask(t *testing.T, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	r, _, err := new(dns.Client).Exchange(m, addr)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

const zoneText = `$TTL 300
test. SOA ns.bench.test. hostmaster.bench.test. 1 3600 600 86400 300
Sender.test. TXT "v=spf1 -all"
k._domainkey.sender.test. TXT "` + "%s" + `"
`

func TestAnswers(t *testing.T) {
	long := strings.Repeat("a", 200)
	addr := serveZone(t, strings.Replace(zoneText, "%s", long+`" "`+long+`" "`+long, 1))

	r := ask(t, addr, "sender.TEST.", dns.TypeTXT)
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || !r.Authoritative {
		t.Errorf("TXT sender.test: rcode %d, %d answers, aa %v", r.Rcode, len(r.Answer), r.Authoritative)
	}
	r = ask(t, addr, "sender.test.", dns.TypeMX) // name exists, type does not: NODATA
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 || len(r.Ns) != 1 {
		t.Errorf("MX sender.test: rcode %d, %d answers, %d authority", r.Rcode, len(r.Answer), len(r.Ns))
	}
	r = ask(t, addr, "_domainkey.sender.test.", dns.TypeTXT) // empty non-terminal
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 {
		t.Errorf("_domainkey.sender.test: rcode %d, %d answers, want NODATA", r.Rcode, len(r.Answer))
	}
	r = ask(t, addr, "nothing.test.", dns.TypeA)
	if r.Rcode != dns.RcodeNameError || len(r.Ns) != 1 {
		t.Errorf("nothing.test: rcode %d, %d authority, want NXDOMAIN with the SOA", r.Rcode, len(r.Ns))
	}
	r = ask(t, addr, "elsewhere.example.", dns.TypeA)
	if r.Rcode != dns.RcodeNameError || len(r.Ns) != 0 {
		t.Errorf("elsewhere.example: rcode %d, %d authority, want NXDOMAIN without SOA", r.Rcode, len(r.Ns))
	}
	r = ask(t, addr, "k._domainkey.sender.test.", dns.TypeTXT) // 600+ bytes over plain UDP
	if !r.Truncated {
		t.Errorf("a 600-byte TXT over 512-byte UDP was not truncated")
	}
}
