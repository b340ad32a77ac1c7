package events_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/mailpolicy/mailpolicy/events"
)

func benchEvent() *events.Event {
	return &events.Event{
		Name:        events.TCPConnect,
		Transport:   "remote_smtp",
		Domain:      "example.com",
		LocalPart:   "alice",
		Host:        "mx1.example.com",
		HostAddress: netip.MustParseAddr("192.0.2.25"),
		HostPort:    25,
	}
}

func BenchmarkRaise(b *testing.B) {
	nop := func(context.Context, *events.Event) (string, error) { return "", nil }
	for _, bc := range []struct {
		name     string
		handlers int
		timeout  int // 0 default, -1 inline
	}{
		{"handlers=0", 0, 0},
		{"handlers=1", 1, 0},
		{"handlers=3", 3, 0},
		{"handlers=1/inline", 1, -1},
		{"handlers=3/inline", 3, -1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var bus events.Bus
			if bc.timeout < 0 {
				bus.Timeout = -1
			}
			for range bc.handlers {
				bus.Subscribe(nil, nop)
			}
			ev := benchEvent()
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				bus.Raise(ctx, ev)
			}
		})
	}
}

func BenchmarkVariables(b *testing.B) {
	ev := benchEvent()
	ev.Data = "250-mx Hello\n250 PIPELINING" // one value needs sanitising
	b.ReportAllocs()
	for b.Loop() {
		_ = ev.Variables()
	}
}

func BenchmarkMarshalJSON(b *testing.B) {
	ev := benchEvent()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = ev.MarshalJSON()
	}
}
