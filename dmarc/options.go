package dmarc

import (
	"math/rand/v2"
	"time"

	"github.com/mailpolicy/mailpolicy/resolver"
)

// Option configures Evaluate or ForensicReports (forensic_options.go);
// each ignores the options that are not its own, so one list can serve
// both. DKIM verification is package dkim's, with its own options.
type Option func(*config)

type config struct {
	resolver   Resolver
	pslFile    string
	psl        *PSL
	treeWalk   bool
	mode       Mode
	rand       func() int // 0..99 for pct sampling
	authservID string
	forensic   forensicOptions // ForensicReports' (forensic_options.go)
	now        func() time.Time
}

func (c *config) init(opts []Option) {
	*c = config{}
	for _, o := range opts {
		o(c)
	}
	if c.rand == nil {
		c.rand = func() int { return rand.IntN(100) }
	}
}

// WithResolver makes Evaluate use r for DNS. Without it it uses
// resolver.Default(), shared by the whole process.
func WithResolver(r Resolver) Option { return func(c *config) { c.resolver = r } }

// WithRand sets the source for pct= sampling: it must return a number
// in [0, 100). The message is sampled when the number is below pct.
func WithRand(f func() int) Option { return func(c *config) { c.rand = f } }

// WithClock sets the clock of ForensicReports (the arrival time a
// report shows); default time.Now.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithAuthservID sets the authserv-id (Exim: the argument of
// ${authresults}, usually $primary_hostname) of the
// Authentication-Results field ForensicReports writes when
// WithForensicAuthResults gives none. Package authres writes the
// message's own field.
func WithAuthservID(id string) Option { return func(c *config) { c.authservID = id } }

// dnsResolver returns the caller's resolver or the shared default.
func (c *config) dnsResolver() Resolver {
	if c.resolver != nil {
		return c.resolver
	}
	return resolver.Default()
}

// WithPSL uses a Public Suffix List loaded with LoadPSL to compute
// organizational domains, instead of x/net/publicsuffix's built-in list.
func WithPSL(p *PSL) Option { return func(c *config) { c.psl = p } }

// WithPSLFile is Exim's dmarc_tld_file: the list is read from path on
// each Evaluate. A server should LoadPSL once and use WithPSL; this
// option suits one-shot tools.
func WithPSLFile(path string) Option { return func(c *config) { c.pslFile = path } }

// WithTreeWalk selects DMARCbis policy discovery (a DNS tree walk from
// the From domain towards the root, at most 8 queries, honouring psd=
// and np=) instead of RFC 7489's From domain + organizational domain
// lookups. The default is RFC 7489, what receivers deploy today. It
// has no effect in ModeRFC9989, which always walks the tree.
func WithTreeWalk(on bool) Option { return func(c *config) { c.treeWalk = on } }
