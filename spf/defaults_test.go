package spf_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mailpolicy/mailpolicy/spf"
)

// A library's defaults must not grant trust: behind a PROXY list that
// misses the balancer, every client looks like 127.0.0.1, and a loopback
// pass would vouch for any forged domain (and carry DMARC with it).
func TestLocalhostPassIsOptIn(t *testing.T) {
	z, srv := startZone(t, `forged.example.com. TXT "v=spf1 -all"`)
	for _, a := range []string{"127.0.0.1", "::1", "::ffff:127.0.0.1"} {
		o := spf.Check(ctx, ip(a), "ceo@forged.example.com", "h.example", opts(srv)...)
		assert.Equal(t, spf.Fail, o.Result, "%s by default", a)
		o = spf.Check(ctx, ip(a), "ceo@forged.example.com", "h.example", opts(srv, spf.WithLocalhostPass(true))...)
		assert.Equal(t, spf.Pass, o.Result, "%s with WithLocalhostPass(true)", a)
	}
	before := z.Queries()
	res, err := spf.Lookup(ctx, ip("127.0.0.1"), "ceo@forged.example.com", opts(srv)...)
	assert.NoError(t, err)
	assert.Equal(t, spf.Fail, res, "Lookup by default")
	assert.NotEqual(t, before, z.Queries(), "the default asks DNS for loopback clients")
}
