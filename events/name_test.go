package events_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailpolicy/mailpolicy/events"
)

// specNames is the event table of the specification (§10.2), in order,
// with Exim's spelling.
var specNames = []string{
	"auth:fail", "dane:fail", "dns:fail", "msg:complete", "msg:defer",
	"msg:delivery", "msg:rcpt:host:defer", "msg:rcpt:defer", "msg:host:defer",
	"msg:fail:delivery", "msg:fail:internal", "tcp:connect", "tcp:close",
	"tls:cert", "tls:fail:connect", "smtp:connect", "smtp:ehlo",
	"smtp:fail:syntax", "smtp:fail:protocol",
}

func TestNames(t *testing.T) {
	names := events.Names()
	require.Len(t, names, 19)
	for i, n := range names {
		assert.Equal(t, specNames[i], string(n))
		assert.True(t, events.Known(n))
		p, err := events.ParseName(specNames[i])
		require.NoError(t, err)
		assert.Equal(t, n, p)
		assert.Equal(t, n, n.Info().Name)
		assert.NotEmpty(t, n.Info().Doc)
		assert.NotZero(t, n.Info().Hook)
	}
	names[0] = "changed"
	assert.Equal(t, events.AuthFail, events.Names()[0], "Names returns a copy")

	consts := []events.Name{
		events.AuthFail, events.DANEFail, events.DNSFail, events.MsgComplete,
		events.MsgDefer, events.MsgDelivery, events.MsgRcptHostDefer,
		events.MsgRcptDefer, events.MsgHostDefer, events.MsgFailDelivery,
		events.MsgFailInternal, events.TCPConnect, events.TCPClose,
		events.TLSCert, events.TLSFailConnect, events.SMTPConnect,
		events.SMTPEHLO, events.SMTPFailSyntax, events.SMTPFailProtocol,
	}
	assert.Equal(t, consts, events.Names())
}

func TestParseNameUnknown(t *testing.T) {
	for _, s := range []string{"", "TCP:CONNECT", "tcp:connect ", "msg", "msg:fail", "smtp:fail"} {
		_, err := events.ParseName(s)
		var ne *events.NameError
		require.True(t, errors.As(err, &ne), s)
		assert.Equal(t, s, ne.Name)
		assert.False(t, events.Known(events.Name(s)))
	}
	assert.Equal(t, events.Info{Name: "x:y"}, events.Name("x:y").Info())
}

func TestInfoTable(t *testing.T) {
	deferErrno := map[events.Name]bool{
		events.MsgDefer: true, events.MsgHostDefer: true,
		events.MsgRcptDefer: true, events.MsgRcptHostDefer: true,
	}
	hooks := map[events.Name]events.Hook{
		events.AuthFail: events.HookServerMainClientTransport,
		events.TLSCert:  events.HookServerMainClientTransport,
		events.DNSFail:  events.HookTransportElseMain,

		events.MsgComplete: events.HookMain, events.MsgFailInternal: events.HookMain,
		events.TLSFailConnect: events.HookMain, events.SMTPFailSyntax: events.HookMain,
		events.SMTPFailProtocol: events.HookMain,
	}
	for _, n := range events.Names() {
		inf := n.Info()
		assert.Equal(t, deferErrno[n], inf.HasDeferErrno, n)
		want, ok := hooks[n]
		if !ok {
			want = events.HookTransport
		}
		assert.Equal(t, want, inf.Hook, n)
		assert.Equal(t, n.ActsOnResult(), inf.ActsOnResult())
	}
	assert.Equal(t, "", events.MsgComplete.Info().Data)
	assert.Equal(t, "", events.TCPConnect.Info().Data)
}

func TestEventHook(t *testing.T) {
	cases := []struct {
		ev   events.Event
		want string
	}{
		{events.Event{Name: events.TCPConnect}, "transport"},
		{events.Event{Name: events.MsgComplete}, "main"},
		{events.Event{Name: events.AuthFail, Inbound: true}, "main"},
		{events.Event{Name: events.AuthFail}, "transport"},
		{events.Event{Name: events.TLSCert, Inbound: true}, "main"},
		{events.Event{Name: events.TLSCert}, "transport"},
		{events.Event{Name: events.DNSFail}, "main"},
		{events.Event{Name: events.DNSFail, Transport: "remote_smtp"}, "transport"},
		{events.Event{Name: "custom:thing"}, "main"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, c.ev.Hook(), "%+v", c.ev)
	}
}
