package proxyproto

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/hostlist"
)

// A Listener that would do no PROXY processing at all is a misconfiguration
// (a host list that failed to load, a forgotten flag): behind a balancer
// every client would then look like the balancer, so it must not start.
func TestNewListenerRefusesConfigWithoutHosts(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer inner.Close()
	loopback := hostlist.MustParse("127.0.0.1")
	bad := []struct {
		name string
		cfg  Config
	}{
		{"zero Config", Config{}},
		{"empty lists", Config{Required: hostlist.MustParse(""), Optional: hostlist.MustParse("")}},
		{"negative Timeout", Config{Required: loopback, Timeout: -time.Second}},
		{"negative MaxV2Length", Config{Required: loopback, MaxV2Length: -1}},
	}
	for _, tt := range bad {
		l, err := NewListener(inner, tt.cfg)
		if l != nil || !errors.Is(err, ErrConfig) {
			t.Errorf("%s: got %v, %v; want nil and ErrConfig", tt.name, l, err)
		}
	}
	for _, cfg := range []Config{{Required: loopback}, {Optional: loopback}} {
		l, err := NewListener(inner, cfg)
		if err != nil || l == nil || l.cfg.Timeout != DefaultTimeout {
			t.Errorf("%+v: got %v, %v; want a Listener with the default timeout", cfg, l, err)
		}
	}
}
