package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/mailpolicy/mailpolicy/hostlist"
	"github.com/mailpolicy/mailpolicy/proxyproto"
	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/srs"
)

func main() {
	host, _ := os.Hostname()
	listen := flag.String("listen", ":25", "address to listen on")
	hostname := flag.String("hostname", host, "our host name (banner, SPF receiver, authserv-id)")
	nameserver := flag.String("nameserver", "", "comma-separated DNS servers (default: /etc/resolv.conf)")
	proxyRequired := flag.String("proxy-required", "", "Exim host list that must send a PROXY header")
	srsSecret := flag.String("srs-secret", "", "SRS secret (needed with -forward)")
	srsDomain := flag.String("srs-domain", host, "domain of SRS-rewritten senders")
	spool := flag.String("spool", "spool", "directory accepted messages are written to")
	forward := map[string]string{}
	flag.Func("forward", "from=to: forward mail for address from to address to (repeatable)", func(v string) error {
		from, to, ok := strings.Cut(v, "=")
		if !ok || from == "" || to == "" {
			return fmt.Errorf("want from=to")
		}
		forward[strings.ToLower(from)] = to
		return nil
	})
	flag.Parse()

	opts := []resolver.Option{resolver.WithCache(4096)}
	if *nameserver != "" {
		opts = append(opts, resolver.WithNameservers(strings.Split(*nameserver, ",")...))
	}
	res, err := resolver.New(opts...)
	must("-nameserver", err)
	be := &Backend{Hostname: *hostname, Resolver: res, Forward: forward, Deliver: spoolDeliver(*spool)}
	if len(forward) > 0 {
		be.SRS, err = srs.New(srs.Config{Domain: *srsDomain, Secrets: []string{*srsSecret}})
		must("-srs-secret, -srs-domain", err)
	}
	ln, err := net.Listen("tcp", *listen)
	must("-listen", err)
	if *proxyRequired != "" {
		list, err := hostlist.Parse(*proxyRequired)
		must("-proxy-required", err)
		pl, err := proxyproto.NewListener(ln, proxyproto.Config{Required: list})
		must("-proxy-required", err)
		ln = proxyListener{pl, *hostname}
	}
	log.Fatal(newServer(be).Serve(ln))
}

func must(what string, err error) {
	if err != nil {
		log.Fatalf("%s: %v", what, err)
	}
}

// newServer is go-smtp's server for be, with limits.
func newServer(be *Backend) *smtp.Server {
	s := smtp.NewServer(be)
	s.Domain = be.Hostname
	s.ReadTimeout, s.WriteTimeout, s.MaxMessageBytes, s.MaxRecipients = 5*time.Minute, time.Minute, 32<<20, 100
	return s
}

// spoolDeliver writes each message to dir as N.msg: a JSON line with
// the envelope ({"from":..., "to":[...]}), then the message. A queue
// runner, not part of this example, would take it from there.
func spoolDeliver(dir string) func(string, []string, []byte) error {
	var n atomic.Int64
	return func(from string, to []string, msg []byte) error {
		name := filepath.Join(dir, fmt.Sprintf("%d.%d", time.Now().UnixNano(), n.Add(1)))
		env, _ := json.Marshal(map[string]any{"from": from, "to": to})
		if err := os.WriteFile(name+".tmp", append(append(env, '\n'), msg...), 0o600); err != nil {
			return err
		}
		return os.Rename(name+".tmp", name+".msg") // complete or absent
	}
}
