package dmarc

// The options below configure VerifyDKIM; Evaluate ignores them (and
// VerifyDKIM ignores Evaluate's, such as WithPSL), so one []Option can
// serve both calls. WithResolver is shared: VerifyDKIM looks up keys
// through the same resolver as Evaluate. WithClock gives the time
// signatures' x= are compared with. Without any option VerifyDKIM
// runs Exim's default configuration. The values are checked when
// VerifyDKIM starts: one it cannot use makes it return a
// *DKIMOptionError and verify nothing.

// dkimOptions holds the VerifyDKIM options of a config as they were
// given; newDKIMVerifier checks and normalizes them.
type dkimOptions struct {
	hashes     []string
	keyTypes   []string
	minKeyBits []dkimMinKeyBits // in the order given; the last for a key type wins
	minimal    bool
	maxSigs    int // 0: defaultDKIMMaxSignatures
}

type dkimMinKeyBits struct {
	keyType string
	bits    int
}

// WithDKIMHashes is Exim's dkim_verify_hashes: the hash algorithms
// whose signatures VerifyDKIM verifies, in order of preference. The
// default is "sha256", "sha512"; "sha1" is known too. Names are
// compared without case or surrounding space, repeats are ignored, and
// no names means the default. Signatures using another hash are
// dropped.
func WithDKIMHashes(names ...string) Option {
	return func(c *config) { c.dkim.hashes = names }
}

// WithDKIMKeyTypes is Exim's dkim_verify_keytypes: the key types whose
// signatures VerifyDKIM verifies, in order of preference. The default
// is "ed25519", "rsa". Names are read as for WithDKIMHashes. Signatures
// of another type are dropped.
func WithDKIMKeyTypes(names ...string) Option {
	return func(c *config) { c.dkim.keyTypes = names }
}

// WithDKIMMinKeyBits is one element of Exim's dkim_verify_min_keysizes:
// a signature whose keyType ("rsa" or "ed25519") key has fewer than
// bits bits fails with reason pubkey_too_short. Give the option once
// per key type; a key type not given keeps its default, rsa 1024 and
// ed25519 250, and 0 means no minimum. Below 1024 bits Go's crypto/rsa
// itself refuses to verify unless the program runs with
// GODEBUG=rsa1024min=0, so a lower rsa minimum only turns
// pubkey_too_short into signature_incorrect without it.
func WithDKIMMinKeyBits(keyType string, bits int) Option {
	return func(c *config) {
		c.dkim.minKeyBits = append(c.dkim.minKeyBits, dkimMinKeyBits{keyType, bits})
	}
}

// WithDKIMMinimal is Exim's dkim_verify_minimal: once a signature
// passes, the later ones (in result order) are not verified and have
// status "none". (Exim applies it only when no DKIM ACL runs; there is
// no DKIM ACL here.) Default false.
func WithDKIMMinimal(on bool) Option {
	return func(c *config) { c.dkim.minimal = on }
}

// WithDKIMMaxSignatures caps how many signatures VerifyDKIM verifies,
// default 5 (0 keeps the default). The cap applies after dropping and
// sorting, so the preferred signatures are the ones verified; the
// others are still returned, with status "none", so that they show in
// Authentication-Results the way Exim shows signatures it did not
// verify. Each verified signature can cost a DNS lookup and a
// public-key operation, which is what the cap bounds.
func WithDKIMMaxSignatures(n int) Option {
	return func(c *config) { c.dkim.maxSigs = n }
}
