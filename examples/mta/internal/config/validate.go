package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/smtp"
)

// checker collects every problem, so that an operator fixes them all
// in one go.
type checker struct {
	s    *Settings
	errs []error
}

func (c *checker) bad(key, format string, a ...any) {
	c.errs = append(c.errs, &KeyError{Key: key, Source: c.s.SourceOf(key), Err: fmt.Errorf(format, a...)})
}

// Validate checks every rule on the settings and returns all problems
// joined (errors.Join), each a *KeyError naming its key. It reads no
// more than it must: files named are opened to see that they are
// readable, not parsed (key and certificate formats are the TLS and
// dkim packages' business, at start).
func (s *Settings) Validate() error {
	c := &checker{s: s}
	c.listeners()
	c.local()
	c.limits()
	c.tls()
	c.auth()
	c.scanning()
	c.outbound()
	c.forwarding()
	c.sharing()
	c.reports() // reports.go
	c.dmarcMode()
	c.dkim()
	return errors.Join(c.errs...)
}

func (c *checker) listeners() {
	s := c.s
	addrs := []struct{ key, addr string }{
		{"listen", s.Listen}, {"submissions_listen", s.SubmissionsListen}, {"metrics_listen", s.MetricsListen},
	}
	if s.Listen == "" {
		c.bad("listen", "required")
	}
	for i, a := range addrs {
		if a.addr == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			c.bad(a.key, "%q: want host:port", a.addr)
		}
		for _, b := range addrs[:i] {
			if a.addr == b.addr {
				c.bad(a.key, "%s is also the address of %s", a.addr, b.key)
			}
		}
	}
	if s.ShutdownTimeout < 0 {
		c.bad("shutdown_timeout", "must not be negative")
	}
}

func (c *checker) local() {
	s := c.s
	if s.Hostname == "" {
		c.bad("hostname", "required (the system's host name is unknown)")
	} else if !smtp.ValidDomain(s.Hostname) {
		c.bad("hostname", "%q is not a valid host name", s.Hostname)
	}
	if len(s.Domains) == 0 {
		c.bad("domains", "required: at least one local domain")
	}
	for _, d := range s.Domains {
		if !smtp.ValidDomain(d) {
			c.bad("domains", "%q is not a valid domain", d)
		}
	}
	for _, u := range s.Users {
		if !smtp.ValidMailbox(u + "@example.test") {
			c.bad("users", "%q is not a valid local part", u)
		}
	}
	if s.Maildir == "" {
		c.bad("maildir", "required")
	}
	if s.Nameserver != "" {
		if _, err := resolver.New(resolver.WithNameservers(s.Nameserver)); err != nil {
			c.bad("nameserver", "%v", err)
		}
	}
	c.positive("timeout", int64(s.Timeout))
	c.positive("proxy_timeout", int64(s.ProxyTimeout))
}

func (c *checker) positive(key string, v int64) {
	if v <= 0 {
		c.bad(key, "must be positive")
	}
}

func (c *checker) limits() {
	s := c.s
	switch {
	case s.MaxSize <= 0:
		c.bad("max_size", "must be positive")
	case s.MaxSize > MaxMessageSize:
		c.bad("max_size", "must be at most %d (1 TiB)", int64(MaxMessageSize))
	default:
		mem := s.MaxDataMemory
		if mem == 0 {
			mem = DefaultDataMemory
		}
		if need := DataMemoryNeed(s.MaxHeaderSize); mem < need {
			c.bad("max_data_memory", "%d is below a write buffer and twice max_header_size (%d)", mem, need)
		}
	}
	c.positive("max_header_size", int64(s.MaxHeaderSize))
	c.positive("max_recipients", int64(s.MaxRecipients))
	c.positive("max_errors", int64(s.MaxErrors))
	c.positive("read_timeout", int64(s.ReadTimeout))
	if s.MaxSessions == 0 {
		c.bad("max_sessions", "must be positive, or -1 for no limit")
	}
	if s.MaxSessionsPerHost == 0 {
		c.bad("max_sessions_per_host", "must be positive, or -1 for no limit")
	}
	if s.DataTimeout == 0 {
		c.bad("data_timeout", "must be positive, or -1s for none")
	}
}

func (c *checker) scanning() {
	s := c.s
	if s.Spamd != "" {
		if _, _, err := net.SplitHostPort(s.Spamd); err != nil {
			c.bad("spamd", "%q: want host:port", s.Spamd)
		}
	}
	for _, o := range s.OptIn {
		if addr, _, ok := strings.Cut(o, "="); !ok || !smtp.ValidMailbox(addr) {
			c.bad("optin", "%q: want ADDR=feature:feature", o)
		}
	}
	if s.SpamdNoneScore < 0 {
		c.bad("spamd_none_score", "must not be negative")
	}
	if s.DCCifd != "" {
		if _, err := s.DCCAddress(); err != nil {
			c.bad("dccifd", "%v", err)
		}
	}
	if s.EventWebhook != "" {
		if u, err := url.Parse(s.EventWebhook); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			c.bad("event_webhook", "%q: want an http or https URL", s.EventWebhook)
		}
	}
}

func (c *checker) outbound() {
	s := c.s
	if !s.RelayFrom.Empty() && s.Spool == "" {
		c.bad("relay_from", "needs spool")
	}
	if s.SMTPPort < 1 || s.SMTPPort > 65535 {
		c.bad("smtp_port", "must be 1 to 65535")
	}
	c.positive("smtp_timeout", int64(s.SMTPTimeout))
	c.positive("retry_interval", int64(s.RetryInterval))
	c.positive("retry_max_age", int64(s.RetryMaxAge))
	if s.DelayWarning < 0 {
		c.bad("delay_warning", "must not be negative (0: never)")
	}
	c.positive("max_deliveries", int64(s.MaxDeliveries))
	c.positive("max_deliveries_per_destination", int64(s.MaxDeliveriesPerDestination))
	c.positive("connection_max_messages", int64(s.ConnectionMaxMessages))
	c.positive("connection_idle_timeout", int64(s.ConnectionIdleTimeout))
	if s.MTASTS && s.Spool == "" {
		c.bad("mta_sts", "needs spool: MTA-STS applies to outbound delivery")
	}
	if s.MTASTSCache != "" && !s.MTASTS {
		c.bad("mta_sts_cache", "needs mta_sts")
	}
}

func (c *checker) forwarding() {
	s := c.s
	for _, f := range s.Forward {
		if from, to, ok := strings.Cut(f, "="); !ok || !smtp.ValidMailbox(from) || !smtp.ValidMailbox(to) {
			c.bad("forward", "%q: want local@domain=remote@other", f)
		}
	}
	if len(s.Forward) > 0 && (s.Spool == "" || len(s.SRSSecret) == 0) {
		c.bad("forward", "needs spool and srs_secret")
	}
	if s.SRSRedis != "" {
		if len(s.SRSSecret) == 0 {
			c.bad("srs_redis", "needs srs_secret")
		}
		if err := checkRedisAddr(s.SRSRedis); err != nil { // sharing.go
			c.bad("srs_redis", "%v", err)
		}
	}
	c.positive("srs_redis_timeout", int64(s.SRSRedisTimeout))
	if s.SRSDomain != "" && !smtp.ValidDomain(s.SRSDomain) {
		c.bad("srs_domain", "%q is not a valid domain", s.SRSDomain)
	}
	for i, sec := range s.SRSSecret {
		if sec == "" {
			c.bad("srs_secret", "secret %d is empty", i+1)
		}
	}
}

// readable reports a file that is not a regular file one can open for
// reading. Stat first: opening a FIFO would block the start.
func (c *checker) readable(key, path string) {
	st, err := os.Stat(path)
	if err != nil {
		c.bad(key, "%v", err)
		return
	}
	if !st.Mode().IsRegular() {
		c.bad(key, "%s is not a regular file", path)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		c.bad(key, "%v", err)
		return
	}
	f.Close()
}
