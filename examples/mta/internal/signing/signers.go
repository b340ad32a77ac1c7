package signing

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"github.com/mailpolicy/mailpolicy/dkim"
)

// Domain is one signing domain, one [[dkim]] entry of the MTA's
// configuration: the dkim_* options of an Exim smtp transport for
// mail whose From is in (or below) Domain.
type Domain struct {
	Domain    string // d=; an IDN is converted to A-labels
	Selectors []Selector
	// Canon, Hash, Identity, SignHeaders, Timestamps and Strict are
	// dkim_canon, dkim_hash, dkim_identity, dkim_sign_headers,
	// dkim_timestamps and dkim_strict (dkim.SignerConfig's fields of
	// the same names; "" and 0 are Exim's defaults).
	Canon       string
	Hash        string
	Identity    string
	SignHeaders string
	Timestamps  time.Duration
	Strict      bool
}

// Selector is one dkim_selector of a Domain with its dkim_private_key.
type Selector struct {
	Selector string
	// PrivateKey is the absolute path of a PEM file (PKCS #1 or
	// PKCS #8; RSA or Ed25519). "", "0" or "false": this selector
	// does not sign (Exim's way to switch one off).
	PrivateKey string
}

// ConfigError is a Domain New cannot use.
type ConfigError struct {
	Domain   string // as configured
	Selector string // "" when no one selector is at fault
	Msg      string
	Err      error // a *dkim.SignConfigError when package dkim refused it
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "dkim signing domain %q", e.Domain)
	if e.Selector != "" {
		fmt.Fprintf(&b, " selector %q", e.Selector)
	}
	b.WriteString(": " + e.Msg)
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *ConfigError) Unwrap() error { return e.Err }

// Signers holds one dkim.Signer per configured domain. It is safe for
// concurrent use; a nil *Signers signs nothing.
type Signers struct {
	byDomain map[string]*entry
}

type entry struct {
	domain string
	signer *dkim.Signer
	strict bool
}

// New checks domains and loads their keys (every key file is read
// now). An error is a *ConfigError.
func New(domains []Domain) (*Signers, error) {
	s := &Signers{byDomain: make(map[string]*entry, len(domains))}
	for _, d := range domains {
		name, err := normDomain(d.Domain)
		if err != nil {
			return nil, &ConfigError{Domain: d.Domain, Msg: "not a domain name", Err: err}
		}
		if _, dup := s.byDomain[name]; dup {
			return nil, &ConfigError{Domain: d.Domain, Msg: "configured twice"}
		}
		if len(d.Selectors) == 0 {
			return nil, &ConfigError{Domain: d.Domain, Msg: "no selector"}
		}
		sd := dkim.SignDomain{Domain: name}
		for _, sel := range d.Selectors {
			k := strings.TrimSpace(sel.PrivateKey)
			if k != "" && k != "0" && k != "false" && !filepath.IsAbs(k) {
				return nil, &ConfigError{Domain: d.Domain, Selector: sel.Selector, Msg: "private key " + fmt.Sprintf("%q", k) + " is not an absolute file path"}
			}
			sd.Selectors = append(sd.Selectors, dkim.SignSelector{Selector: sel.Selector, PrivateKey: k})
		}
		signer, err := dkim.NewSigner(dkim.SignerConfig{
			Domains: []dkim.SignDomain{sd},
			Canon:   d.Canon, Hash: d.Hash, Identity: d.Identity,
			SignHeaders: d.SignHeaders, Timestamps: d.Timestamps, Strict: d.Strict,
		})
		if err != nil {
			return nil, &ConfigError{Domain: d.Domain, Selector: selectorOf(err, d.Selectors), Msg: "cannot sign", Err: err}
		}
		s.byDomain[name] = &entry{domain: name, signer: signer, strict: d.Strict}
	}
	return s, nil
}

// selectorOf finds the selector a dkim.SignConfigError is about.
func selectorOf(err error, sels []Selector) string {
	var ce *dkim.SignConfigError
	if !errors.As(err, &ce) {
		return ""
	}
	for _, s := range sels {
		switch ce.Field {
		case "Selector":
			if s.Selector == ce.Value {
				return s.Selector
			}
		case "PrivateKey":
			if strings.TrimSpace(s.PrivateKey) == ce.Value {
				return s.Selector
			}
		}
	}
	return ""
}

// For returns the signer for mail From fromDomain: the domain's own,
// else the nearest configured parent's; nil when none is configured.
func (s *Signers) For(fromDomain string) *dkim.Signer {
	if e := s.lookup(fromDomain); e != nil {
		return e.signer
	}
	return nil
}

func (s *Signers) lookup(fromDomain string) *entry {
	if s == nil {
		return nil
	}
	d, err := normDomain(fromDomain)
	if err != nil {
		return nil
	}
	for {
		if e := s.byDomain[d]; e != nil {
			return e
		}
		_, parent, ok := strings.Cut(d, ".")
		if !ok || parent == "" {
			return nil
		}
		d = parent
	}
}

// normDomain lower-cases d, drops a final dot and converts an IDN to
// A-labels (what d= must hold).
func normDomain(d string) (string, error) {
	d = strings.TrimSuffix(strings.TrimSpace(d), ".")
	if d == "" {
		return "", errors.New("empty")
	}
	if !isASCII(d) {
		if !utf8.ValidString(d) {
			return "", errors.New("not UTF-8")
		}
		a, err := idna.Lookup.ToASCII(d)
		if err != nil {
			return "", err
		}
		d = a
	}
	d = strings.ToLower(d)
	if strings.HasPrefix(d, ".") || strings.Contains(d, "..") {
		return "", errors.New("empty label")
	}
	return d, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
