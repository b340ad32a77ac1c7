package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/mailpolicy/mailpolicy/dkim"
)

// dkim checks each [[dkim]] entry with the dkim package's own rules
// (dkim.NewSigner on the entry without its keys, which reads nothing),
// one field at a time so that every bad field is reported, and checks
// that each key file is there; the keys are parsed at start.
func (c *checker) dkim() {
	seen := map[string]int{}
	for i, e := range c.s.DKIM {
		p := fmt.Sprintf("dkim[%d]", i)
		dom := strings.ToLower(e.Domain)
		if j, ok := seen[dom]; ok && dom != "" {
			c.bad(p+".domain", "%q is also dkim[%d]: one entry per domain", e.Domain, j)
		}
		seen[dom] = i
		c.dkimField(p+".domain", dkim.SignerConfig{Domains: []dkim.SignDomain{{Domain: e.Domain, Selectors: placeholderSel}}})
		c.dkimField(p+".canon", dkim.SignerConfig{Canon: e.Canon, Domains: placeholderDom})
		c.dkimField(p+".hash", dkim.SignerConfig{Hash: e.Hash, Domains: placeholderDom})
		c.dkimField(p+".sign_headers", dkim.SignerConfig{SignHeaders: e.SignHeaders, Domains: placeholderDom})
		c.dkimField(p+".timestamps", dkim.SignerConfig{Timestamps: e.Timestamps, Domains: placeholderDom})
		if e.Identity != "" && dkimOK(dkim.SignerConfig{Domains: []dkim.SignDomain{{Domain: e.Domain, Selectors: placeholderSel}}}) {
			c.dkimField(p+".identity", dkim.SignerConfig{Identity: e.Identity, Domains: []dkim.SignDomain{{Domain: e.Domain, Selectors: placeholderSel}}})
		}
		if len(e.Selectors) == 0 {
			c.bad(p+".selectors", "required: at least one {selector, private_key}")
		}
		for j, sel := range e.Selectors {
			q := fmt.Sprintf("%s.selectors[%d]", p, j)
			c.dkimField(q+".selector", dkim.SignerConfig{Domains: []dkim.SignDomain{{Domain: "example.test", Selectors: []dkim.SignSelector{{Selector: sel.Selector}}}}})
			switch {
			case sel.PrivateKey == "":
				c.bad(q+".private_key", "required")
			case !filepath.IsAbs(sel.PrivateKey):
				// Parse makes paths absolute; the dkim package would
				// take a relative one for PEM text.
				c.bad(q+".private_key", "%q is not an absolute path", sel.PrivateKey)
			default:
				c.readable(q+".private_key", sel.PrivateKey)
			}
		}
	}
}

// Stand-ins for the parts of a SignerConfig not under test.
var (
	placeholderSel = []dkim.SignSelector{{Selector: "s"}}
	placeholderDom = []dkim.SignDomain{{Domain: "example.test", Selectors: placeholderSel}}
)

func dkimOK(sc dkim.SignerConfig) bool {
	_, err := dkim.NewSigner(sc)
	return err == nil
}

func (c *checker) dkimField(key string, sc dkim.SignerConfig) {
	_, err := dkim.NewSigner(sc)
	if err == nil {
		return
	}
	var ce *dkim.SignConfigError
	if errors.As(err, &ce) {
		if ce.Value != "" {
			c.bad(key, "%q: %s", ce.Value, ce.Msg)
		} else {
			c.bad(key, "%s", ce.Msg)
		}
		return
	}
	c.bad(key, "%v", err)
}
