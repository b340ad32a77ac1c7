package events_test

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailpolicy/mailpolicy/events"
)

func fullEvent(t testing.TB) *events.Event {
	return &events.Event{
		Name:          events.MsgHostDefer,
		Data:          "SMTP timeout after RCPT: Connection timed out",
		DeferErrno:    110,
		MessageID:     "1rAbCd-000123-Xy",
		Router:        "dnslookup",
		Transport:     "remote_smtp",
		LocalPart:     "alice",
		Domain:        "example.com",
		Host:          "mx1.example.com",
		HostAddress:   netip.MustParseAddr("192.0.2.25"),
		HostPort:      25,
		PeerCert:      testCert(t, "mx1.example.com"),
		DANE:          true,
		DNSSEC:        true,
		SendingIP:     netip.MustParseAddr("2001:db8::1"),
		SendingPort:   41234,
		VerifyMode:    "R",
		Authenticator: "plain",
		TLSPolicy:     "mta-sts(enforce)",
		Time:          time.Date(2026, 11, 22, 5, 8, 20, 123456789, time.UTC),
	}
}

func TestVariables(t *testing.T) {
	ev := fullEvent(t)
	vars := ev.Variables()
	var names []string
	got := map[string]string{}
	for _, v := range vars {
		names = append(names, v.Name)
		got[v.Name] = v.Value
	}
	assert.Equal(t, []string{
		"event_name", "event_data", "event_defer_errno", "message_exim_id",
		"router_name", "transport_name", "local_part", "domain", "host",
		"host_address", "host_port", "tls_out_peercert", "tls_out_dane",
		"lookup_dnssec_authenticated", "sending_ip_address", "sending_port",
		"verify_mode", "sender_host_authenticated", "tls_out_policy",
	}, names)
	assert.Equal(t, "msg:host:defer", got["event_name"])
	assert.Equal(t, "110", got["event_defer_errno"])
	assert.Equal(t, "192.0.2.25", got["host_address"])
	assert.Equal(t, "25", got["host_port"])
	assert.Equal(t, "CN=mx1.example.com,O=Example Org", got["tls_out_peercert"])
	assert.Equal(t, "yes", got["tls_out_dane"])
	assert.Equal(t, "yes", got["lookup_dnssec_authenticated"])
	assert.Equal(t, "2001:db8::1", got["sending_ip_address"])
	assert.Equal(t, "41234", got["sending_port"])
	assert.Equal(t, "R", got["verify_mode"])
	assert.Equal(t, "plain", got["sender_host_authenticated"])
	assert.Equal(t, "mta-sts(enforce)", got["tls_out_policy"])

	in := (&events.Event{Name: events.TLSCert, Inbound: true}).Variables()
	assert.Equal(t, "tls_in_peercert", in[11].Name)
	assert.Equal(t, "", in[11].Value)
	empty := (&events.Event{}).Variables()
	assert.Equal(t, "no", empty[12].Value)
	assert.Equal(t, "0", empty[10].Value)
	assert.Equal(t, "", empty[9].Value)
}

func TestVariablesSanitise(t *testing.T) {
	ev := &events.Event{
		Name:      "x\r\ny",
		Data:      "250-mx Hello\r\n250 PIPELINING\x00\x7f\u0085\u2028end\xff",
		Host:      "evil\nInjected: header",
		LocalPart: "tab\there",
		Domain:    "ünïcode.example",
	}
	for _, v := range ev.Variables() {
		for _, r := range v.Value {
			assert.False(t, r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x2028, "%s=%q", v.Name, v.Value)
		}
		assert.NotContains(t, v.Value, "\n")
	}
	vars := ev.Variables()
	assert.Equal(t, "x  y", vars[0].Value)
	assert.Equal(t, "250-mx Hello  250 PIPELINING    end\uFFFD", vars[1].Value)
	assert.Equal(t, "evil Injected: header", vars[8].Value)
	assert.Equal(t, "ünïcode.example", vars[7].Value)
	assert.Equal(t, "plain text", events.Sanitize("plain text"))
}

func TestJSONRoundTrip(t *testing.T) {
	ev := fullEvent(t)
	ev.Data = "line1\nline2 \"quoted\""
	b, err := json.Marshal(ev)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"event_data":"line1\nline2 \"quoted\""`)
	var back events.Event
	require.NoError(t, json.Unmarshal(b, &back))
	require.NotNil(t, back.PeerCert)
	assert.True(t, ev.PeerCert.Equal(back.PeerCert))
	assert.True(t, ev.Time.Equal(back.Time))
	back.PeerCert, back.Time = ev.PeerCert, ev.Time
	assert.Equal(t, *ev, back)

	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	cert := m["peer_cert"].(map[string]any)
	assert.Equal(t, "CN=mx1.example.com,O=Example Org", cert["subject"])
	assert.True(t, strings.HasPrefix(cert["pem"].(string), "-----BEGIN CERTIFICATE-----\n"))
}

func TestJSONStable(t *testing.T) {
	ev := &events.Event{Name: events.TCPConnect, HostAddress: netip.MustParseAddr("192.0.2.1"), HostPort: 25}
	b, err := json.Marshal(ev)
	require.NoError(t, err)
	assert.Equal(t, `{"event_name":"tcp:connect","event_data":"","event_defer_errno":0,`+
		`"message_exim_id":"","router_name":"","transport_name":"","local_part":"",`+
		`"domain":"","host":"","host_address":"192.0.2.1","host_port":25,"inbound":false,`+
		`"peer_cert":null,"tls_out_dane":false,"lookup_dnssec_authenticated":false,`+
		`"sending_ip_address":"","sending_port":0,"verify_mode":"",`+
		`"sender_host_authenticated":"","tls_out_policy":"","time":""}`, string(b))
	var back events.Event
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, *ev, back)
}

func TestJSONErrors(t *testing.T) {
	for _, s := range []string{
		`{"host_address":"not-an-ip"}`,
		`{"sending_ip_address":"1.2.3"}`,
		`{"peer_cert":{"pem":"garbage"}}`,
		`{"peer_cert":{"pem":"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}}`,
		`{"time":"yesterday"}`,
		`[]`,
	} {
		ev := events.Event{Name: "keep"}
		assert.Error(t, json.Unmarshal([]byte(s), &ev), s)
		assert.Equal(t, events.Name("keep"), ev.Name, "failed unmarshal leaves the event alone")
	}
}
