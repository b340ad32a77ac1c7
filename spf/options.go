package spf

import (
	"time"

	"github.com/mailpolicy/mailpolicy/resolver"
)

// DefaultGuessRecord is Exim's default spf_guess option value.
const DefaultGuessRecord = "v=spf1 a/24 mx/24 ptr ?all"

// DefaultExplanation is Exim's default spf_smtp_comment_template after
// expansion ("%_" is a space).
const DefaultExplanation = "Please see http://www.open-spf.org/Why"

// Option configures one Check, CheckGuess or Lookup call.
type Option func(*config)

type config struct {
	resolver      Resolver
	receiver      string
	guessRecord   string
	localhostPass bool
	maxTerms      int
	maxVoids      int
	explanation   string
	fetchExp      bool
	now           func() time.Time
}

func newConfig(opts []Option) *config {
	c := &config{}
	c.init(opts)
	return c
}

func (c *config) init(opts []Option) {
	*c = config{
		guessRecord: DefaultGuessRecord,
		maxTerms:    10,
		maxVoids:    2,
		explanation: DefaultExplanation,
		fetchExp:    true,
		now:         time.Now,
	}
	for _, o := range opts {
		o(c)
	}
}

// WithResolver makes the engine use r for every DNS query. Without it
// the engine uses resolver.Default(), shared by the whole process; a
// server should pass its own *resolver.Resolver (with WithCache and its
// timeout) to every engine.
func WithResolver(r Resolver) Option { return func(c *config) { c.resolver = r } }

// WithReceiver sets the receiving host name (Exim's primary_hostname)
// used in the header comment and the Received-SPF receiver= key, and as
// the %{r} macro. Without it, the comment and receiver= name this host
// (os.Hostname, as libspf2 does) and %{r} is "unknown".
func WithReceiver(host string) Option { return func(c *config) { c.receiver = host } }

// WithGuessRecord replaces the best-guess record evaluated by CheckGuess
// (Exim's spf_guess option; default DefaultGuessRecord).
func WithGuessRecord(txt string) Option { return func(c *config) { c.guessRecord = txt } }

// WithLocalhostPass controls libspf2's rule, which Exim inherits, that a
// loopback client (127.0.0.0/8, ::1) passes with reason "localhost"
// without any DNS query. Default false, unlike Exim: a library's default
// must not grant trust, and a server behind a PROXY host list that misses
// its balancer sees every client as 127.0.0.1, which would then pass SPF
// (and DMARC) for any forged domain. Set true for Exim's behaviour when
// loopback really means local submitters.
func WithLocalhostPass(on bool) Option { return func(c *config) { c.localhostPass = on } }

// WithLookupLimits sets the RFC 7208 §4.6.4 limits: DNS-querying terms
// (default 10) and void lookups (default 2). Values below zero are taken
// as zero.
func WithLookupLimits(terms, voids int) Option {
	return func(c *config) {
		c.maxTerms = max(terms, 0)
		c.maxVoids = max(voids, 0)
	}
}

// WithDefaultExplanation sets the explanation used when the domain gives
// none (Exim's spf_smtp_comment_template, expanded). It may contain SPF
// macros, which are expanded as for exp= text.
func WithDefaultExplanation(text string) Option { return func(c *config) { c.explanation = text } }

// WithExpFetch controls whether a domain's exp= explanation is fetched
// for fail results (default true). Exim's DNS shim in effect never
// fetches it; set false for byte-exact Exim smtp comments.
func WithExpFetch(on bool) Option { return func(c *config) { c.fetchExp = on } }

// WithClock sets the clock used for the %{t} macro (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// dnsResolver returns the caller's resolver or the shared default.
func (c *config) dnsResolver() Resolver {
	if c.resolver != nil {
		return c.resolver
	}
	return resolver.Default()
}
