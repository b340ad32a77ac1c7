package resolver

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// DefaultTimeout bounds one whole query, all servers and retries
// included. It is short because a mail transaction waits on it; a
// recursive resolver still busy with the first attempt usually answers a
// retry from its cache.
const DefaultTimeout = 2 * time.Second

const (
	defaultRetries    = 2
	defaultUDPSize    = 1232 // DNS flag day 2020: avoids IP fragmentation
	defaultResolvConf = "/etc/resolv.conf"
	fallbackServer    = "127.0.0.1:53" // what libc assumes without resolv.conf
)

// Resolver is a DNS stub resolver. Its configuration is fixed by New and
// its cache (WithCache) is locked, so one Resolver is safe for
// concurrent use; share one per process.
type Resolver struct {
	servers    []string
	resolvConf string
	timeout    time.Duration
	retries    int
	trustAD    bool
	udpSize    uint16
	cache      *cache // nil without WithCache
	stats      counters

	// err records the first invalid option; Option cannot return one.
	err error
}

// Option configures a Resolver in New.
type Option func(*Resolver)

// New returns a Resolver. Without WithNameservers, the servers come from
// /etc/resolv.conf, or 127.0.0.1:53 if that file is unreadable or lists
// none; a file named with WithResolvConf must be readable.
func New(opts ...Option) (*Resolver, error) {
	c := &Resolver{
		timeout: DefaultTimeout,
		retries: defaultRetries,
		udpSize: defaultUDPSize,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(c)
		}
	}
	if c.err != nil {
		return nil, c.err
	}
	if len(c.servers) > 0 {
		return c, nil
	}
	path, explicit := c.resolvConf, c.resolvConf != ""
	if !explicit {
		path = defaultResolvConf
	}
	servers, err := readResolvConf(path)
	if err != nil && explicit {
		return nil, fmt.Errorf("resolver: %w", err)
	}
	if len(servers) == 0 {
		servers = []string{fallbackServer}
	}
	c.servers = servers
	return c, nil
}

func (c *Resolver) fail(err error) {
	if c.err == nil {
		c.err = fmt.Errorf("resolver: %w", err)
	}
}

// WithNameservers sets the servers to ask, in order, instead of reading
// resolv.conf. Each is an IP address with optional port ("192.0.2.1",
// "192.0.2.1:5353", "::1", "[::1]:53"); host names are refused because
// resolving them would need the very resolver being configured.
func WithNameservers(addrs ...string) Option {
	return func(c *Resolver) {
		if len(addrs) == 0 {
			c.fail(errors.New("WithNameservers: no addresses"))
			return
		}
		servers := make([]string, 0, len(addrs))
		for _, a := range addrs {
			s, err := parseServer(a)
			if err != nil {
				c.fail(err)
				return
			}
			servers = append(servers, s)
		}
		c.servers = servers
	}
}

// WithResolvConf reads the nameservers from path instead of
// /etc/resolv.conf. Only "nameserver" lines are used; WithNameservers wins
// if both are given.
func WithResolvConf(path string) Option {
	return func(c *Resolver) {
		if path == "" {
			c.fail(errors.New("WithResolvConf: empty path"))
			return
		}
		c.resolvConf = path
	}
}

// WithTimeout sets the budget of one whole query: every server, retry
// and TCP fallback share it (see Query), so a query never takes longer,
// whatever the retry count. A caller's context can only shorten it.
func WithTimeout(d time.Duration) Option {
	return func(c *Resolver) {
		if d <= 0 {
			c.fail(fmt.Errorf("WithTimeout: %v is not positive", d))
			return
		}
		c.timeout = d
	}
}

// WithRetries sets how many more times the whole server list is tried
// after a first pass failed with timeouts or SERVFAIL. Retries do not
// extend the WithTimeout budget; they split it into more, shorter
// attempts.
func WithRetries(n int) Option {
	return func(c *Resolver) {
		if n < 0 {
			c.fail(fmt.Errorf("WithRetries: %d is negative", n))
			return
		}
		c.retries = n
	}
}

// WithTrustAD trusts the AD bit from any server, not only from loopback.
// Enable it only when the path to the resolver is itself secure (e.g. a
// validating resolver on a trusted LAN or reached over an IPsec tunnel);
// otherwise anyone on the path can forge DNSSEC validation results.
func WithTrustAD(on bool) Option {
	return func(c *Resolver) { c.trustAD = on }
}

// WithUDPSize sets the EDNS0 UDP payload size advertised to servers;
// larger replies come back truncated and are fetched again over TCP.
func WithUDPSize(n uint16) Option {
	return func(c *Resolver) {
		if n < 512 {
			c.fail(fmt.Errorf("WithUDPSize: %d is below the DNS minimum of 512", n))
			return
		}
		c.udpSize = n
	}
}

// readResolvConf returns the nameservers listed in the file at path.
func readResolvConf(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseResolvConf(f)
}
