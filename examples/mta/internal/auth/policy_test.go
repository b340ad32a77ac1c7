package auth

import (
	"net/netip"
	"testing"

	"github.com/mailpolicy/mailpolicy/authres"
	"github.com/stretchr/testify/assert"
)

func TestPermitted(t *testing.T) {
	lo4 := netip.MustParseAddr("127.0.0.1")
	lo8 := netip.MustParseAddr("127.1.2.3")
	lo6 := netip.MustParseAddr("::1")
	mapped := netip.MustParseAddr("::ffff:127.0.0.1")
	remote := netip.MustParseAddr("192.0.2.7")
	cases := []struct {
		tls   bool
		addr  netip.Addr
		allow bool
		want  bool
	}{
		{true, remote, false, true},
		{true, netip.Addr{}, false, true},
		{false, remote, false, false},
		{false, remote, true, false},
		{false, lo4, false, false},
		{false, lo4, true, true},
		{false, lo8, true, true},
		{false, lo6, true, true},
		{false, mapped, true, true},
		{false, netip.Addr{}, true, false},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, Permitted(c.tls, c.addr, c.allow), "%+v", c)
	}
}

func TestMailAuthSender(t *testing.T) {
	trustNone := func(string) bool { return false }
	onlyExample := func(m string) bool { return m == "alice@example.com" }
	cases := []struct {
		authed          bool
		param           string
		trust           func(string) bool
		sender, ignored string
	}{
		{true, "alice@example.com", nil, "alice@example.com", ""},
		{true, "alice@example.com", onlyExample, "alice@example.com", ""},
		{true, "mallory@example.net", onlyExample, "", IgnoredByPolicy},
		{true, "alice@example.com", trustNone, "", IgnoredByPolicy},
		{false, "alice@example.com", nil, "", IgnoredNotAuthenticated},
		{false, "alice@example.com", onlyExample, "", IgnoredNotAuthenticated},
		{true, "<>", nil, "", ""},
		{false, "<>", nil, "", ""},
		{true, "", nil, "", ""},
	}
	for _, c := range cases {
		s, ig := MailAuthSender(c.authed, c.param, c.trust)
		assert.Equal(t, c.sender, s, "%+v", c)
		assert.Equal(t, c.ignored, ig, "%+v", c)
	}
}

func TestARMethod(t *testing.T) {
	h := authres.Build("mx.example", ARMethod(PLAIN, "alice", "alice@example.com"))
	assert.Equal(t, "Authentication-Results: mx.example;\r\n\tauth=pass (PLAIN) smtp.auth=alice smtp.mailfrom=alice@example.com", h.String())
	h = authres.Build("mx.example", ARMethod(LOGIN, "bob", ""))
	assert.Equal(t, "Authentication-Results: mx.example;\r\n\tauth=pass (LOGIN) smtp.auth=bob", h.String())
	assert.Equal(t, authres.Method{}, ARMethod("", "bob", "bob@example.com"), "not authenticated: no method")
}
