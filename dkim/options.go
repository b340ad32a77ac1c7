package dkim

import (
	"context"
	"time"

	"github.com/mailpolicy/mailpolicy/resolver"
)

// Option configures Verify. Without any option Verify runs Exim's
// default configuration. The values are checked when Verify starts:
// one it cannot use makes it return an *OptionError and verify
// nothing.
type Option func(*config)

// config holds the Verify options as they were given; newVerifier
// checks and normalizes them.
type config struct {
	resolver   Resolver
	now        func() time.Time
	hashes     []string
	keyTypes   []string
	minKeyBits []minKeyBitsOption // in the order given; the last for a key type wins
	minimal    bool
	maxSigs    int // 0: defaultMaxSignatures
}

func (c *config) init(opts []Option) {
	*c = config{}
	for _, o := range opts {
		o(c)
	}
}

type minKeyBitsOption struct {
	keyType string
	bits    int
}

// Resolver is the DNS access key lookups need: TXT records, with
// whether the answer was DNSSEC-authenticated. *resolver.Resolver
// satisfies it. Errors are classified with resolver.IsNoRecord: one
// matching resolver.ErrNotFound or resolver.ErrNoData (a
// *net.DNSError with IsNotFound too) means there is no key, a
// permanent failure; any other error is a lookup that got no answer,
// a temporary one.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) (txt []string, authentic bool, err error)
}

// WithResolver makes Verify look keys up through r. Without it Verify
// uses resolver.Default(), shared by the whole process.
func WithResolver(r Resolver) Option { return func(c *config) { c.resolver = r } }

// WithClock sets the clock signatures' x= are compared with; default
// time.Now.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// dnsResolver returns the caller's resolver or the shared default.
func (c *config) dnsResolver() Resolver {
	if c.resolver != nil {
		return c.resolver
	}
	return resolver.Default()
}

// WithHashes is Exim's dkim_verify_hashes: the hash algorithms
// whose signatures Verify verifies, in order of preference. The
// default is "sha256", "sha512"; "sha1" is known too. Names are
// compared without case or surrounding space, repeats are ignored, and
// no names means the default. Signatures using another hash are
// dropped.
func WithHashes(names ...string) Option {
	return func(c *config) { c.hashes = names }
}

// WithKeyTypes is Exim's dkim_verify_keytypes: the key types whose
// signatures Verify verifies, in order of preference. The default
// is "ed25519", "rsa". Names are read as for WithHashes. Signatures
// of another type are dropped.
func WithKeyTypes(names ...string) Option {
	return func(c *config) { c.keyTypes = names }
}

// WithMinKeyBits is one element of Exim's dkim_verify_min_keysizes:
// a signature whose keyType ("rsa" or "ed25519") key has fewer than
// bits bits fails with reason pubkey_too_short. Give the option once
// per key type; a key type not given keeps its default, rsa 1024 and
// ed25519 250, and 0 means no minimum. Below 1024 bits Go's crypto/rsa
// itself refuses to verify unless the program runs with
// GODEBUG=rsa1024min=0, so a lower rsa minimum only turns
// pubkey_too_short into signature_incorrect without it.
func WithMinKeyBits(keyType string, bits int) Option {
	return func(c *config) {
		c.minKeyBits = append(c.minKeyBits, minKeyBitsOption{keyType, bits})
	}
}

// WithMinimal is Exim's dkim_verify_minimal: once a signature
// passes, the later ones (in result order) are not verified and have
// status "none". (Exim applies it only when no DKIM ACL runs; there is
// no DKIM ACL here.) Default false.
func WithMinimal(on bool) Option {
	return func(c *config) { c.minimal = on }
}

// WithMaxSignatures caps how many signatures Verify verifies,
// default 5 (0 keeps the default). The cap applies after dropping and
// sorting, so the preferred signatures are the ones verified; the
// others are still returned, with status "none", so that they show in
// Authentication-Results the way Exim shows signatures it did not
// verify. Each verified signature can cost a DNS lookup and a
// public-key operation, which is what the cap bounds.
func WithMaxSignatures(n int) Option {
	return func(c *config) { c.maxSigs = n }
}
