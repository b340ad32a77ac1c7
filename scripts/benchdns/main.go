// Command benchdns is the DNS server of scripts/bench-mta.sh: an
// authoritative server for the records of one or more RFC 1035 master
// files, over UDP and TCP on one loopback address. The benchmark runs it
// on 127.0.0.1:53 inside its own network namespace, where a private
// resolv.conf names it, because Exim, Postfix and the milters ask the
// system resolver, which has no port option; examples/mta is pointed at
// it with its nameserver key.
//
// A name with records answers them (NODATA with the zone's SOA when the
// type is missing); a parent of such a name inside a zone is an empty
// non-terminal (NODATA); any other name in a zone is NXDOMAIN with the
// SOA, so resolvers cache the denial; a name in no zone is NXDOMAIN
// without one. UDP replies larger than the client's buffer are
// truncated. No recursion, no DNSSEC.
//
//	benchdns -listen 127.0.0.1:53 bench.zone
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/miekg/dns"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:53", "loopback address for UDP and TCP")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: benchdns [-listen addr] zonefile...")
		flag.PrintDefaults()
	}
	flag.Parse()
	host, _, err := net.SplitHostPort(*listen)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("benchdns: -listen %q: want a loopback host:port", *listen)
	}
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	z := newZone()
	for _, f := range flag.Args() {
		if err := z.load(f); err != nil {
			log.Fatalf("benchdns: %v", err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 2)
	servers := []*dns.Server{
		{Addr: *listen, Net: "udp", Handler: z},
		{Addr: *listen, Net: "tcp", Handler: z},
	}
	for _, s := range servers {
		go func() { errc <- s.ListenAndServe() }()
	}
	select {
	case err := <-errc:
		log.Fatalf("benchdns: %v", err)
	case <-ctx.Done():
	}
	for _, s := range servers {
		s.Shutdown()
	}
}

// zone is every record of the loaded files by owner name, the names
// that exist (owners and their parents inside a zone) and the SOAs.
type zone struct {
	rrs    map[string][]dns.RR
	exists map[string]bool
	soas   map[string]*dns.SOA
}

func newZone() *zone {
	return &zone{rrs: map[string][]dns.RR{}, exists: map[string]bool{}, soas: map[string]*dns.SOA{}}
}

func (z *zone) load(file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	zp := dns.NewZoneParser(f, ".", file)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		h := rr.Header()
		h.Name = strings.ToLower(h.Name)
		z.rrs[h.Name] = append(z.rrs[h.Name], rr)
		if soa, isSOA := rr.(*dns.SOA); isSOA {
			z.soas[h.Name] = soa
		}
	}
	if err := zp.Err(); err != nil {
		return err
	}
	for name := range z.rrs {
		apex := z.apex(name)
		if apex == "" {
			z.exists[name] = true
			continue
		}
		for n := name; ; {
			z.exists[n] = true
			if n == apex {
				break
			}
			_, rest, _ := strings.Cut(n, ".")
			n = rest
		}
	}
	return nil
}

// apex is the longest SOA owner that name is in, "" for none.
func (z *zone) apex(name string) string {
	for n := name; n != ""; {
		if _, ok := z.soas[n]; ok {
			return n
		}
		_, rest, found := strings.Cut(n, ".")
		if !found || rest == "" {
			break
		}
		n = rest
	}
	if _, ok := z.soas["."]; ok {
		return "."
	}
	return ""
}

func (z *zone) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	m.RecursionAvailable = false
	if len(r.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		w.WriteMsg(m)
		return
	}
	q := r.Question[0]
	name := strings.ToLower(q.Name)
	for _, rr := range z.rrs[name] {
		if t := rr.Header().Rrtype; t == q.Qtype || q.Qtype == dns.TypeANY || t == dns.TypeCNAME {
			m.Answer = append(m.Answer, rr)
		}
	}
	if len(m.Answer) == 0 {
		if !z.exists[name] {
			m.Rcode = dns.RcodeNameError
		}
		if soa := z.soas[z.apex(name)]; soa != nil {
			m.Ns = append(m.Ns, soa)
		}
	}
	size := dns.MinMsgSize
	if opt := r.IsEdns0(); opt != nil {
		size = max(int(opt.UDPSize()), dns.MinMsgSize)
		m.SetEdns0(uint16(size), false)
	}
	if _, isUDP := w.RemoteAddr().(*net.UDPAddr); isUDP {
		m.Truncate(size)
	}
	w.WriteMsg(m)
}
