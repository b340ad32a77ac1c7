package events_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailpolicy/mailpolicy/events"
)

func constHandler(s string) events.Handler {
	return func(context.Context, *events.Event) (string, error) { return s, nil }
}

// TestVetoPerEvent checks, for every event, whether a non-empty result
// acts and with which effect (spec §10.3), and that an empty result
// never acts.
func TestVetoPerEvent(t *testing.T) {
	acting := map[events.Name]events.Effect{
		events.TCPConnect:  events.EffectRefuseConnection,
		events.SMTPConnect: events.EffectDeferAll,
		events.TLSCert:     events.EffectRefuseCert,
		events.AuthFail:    events.EffectReplaceLog,
	}
	for _, n := range events.Names() {
		t.Run(string(n), func(t *testing.T) {
			var b events.Bus
			b.Subscribe(nil, constHandler("veto"))
			d := b.Raise(context.Background(), &events.Event{Name: n})
			assert.Equal(t, n, d.Name)
			assert.Equal(t, "veto", d.Result, "the result is reported even when ignored")
			eff, acts := acting[n]
			assert.Equal(t, acts, d.Acted)
			assert.Equal(t, acts, n.ActsOnResult())
			assert.Equal(t, eff, n.Info().Effect)
			if acts {
				assert.Equal(t, eff, d.Effect)
			} else {
				assert.Equal(t, events.EffectNone, d.Effect)
				assert.False(t, d.Refused())
			}
			assert.Equal(t, acts && n != events.AuthFail, d.Refused())
			assert.Empty(t, d.Errors)

			var e events.Bus
			e.Subscribe(nil, constHandler(""))
			d = e.Raise(context.Background(), &events.Event{Name: n})
			assert.False(t, d.Acted)
			assert.Equal(t, events.EffectNone, d.Effect)
			assert.False(t, d.Refused())

			var none events.Bus
			d = none.Raise(context.Background(), &events.Event{Name: n})
			assert.Equal(t, events.Decision{Name: n}, d)
		})
	}
}

func TestDecisionHelpers(t *testing.T) {
	var b events.Bus
	b.Subscribe(nil, constHandler("blocked by policy"))
	ctx := context.Background()

	d := b.Raise(ctx, &events.Event{Name: events.SMTPConnect, Data: "220 mx ESMTP"})
	assert.Equal(t, "deferred by smtp:connect event expansion: blocked by policy", d.DeferMessage())
	assert.Equal(t, "default", d.LogLine("default"))
	assert.Equal(t, events.CertAccepted, d.CertOutcome(false, false))

	d = b.Raise(ctx, &events.Event{Name: events.AuthFail})
	assert.Equal(t, "blocked by policy", d.LogLine("default"))
	assert.Equal(t, "", d.DeferMessage())
	assert.False(t, d.Refused())

	d = b.Raise(ctx, &events.Event{Name: events.TLSCert, Data: "1"})
	assert.True(t, d.Refused())
	assert.Equal(t, events.CertRefused, d.CertOutcome(false, false))
	assert.Equal(t, events.CertOverridden, d.CertOutcome(true, false))
	assert.Equal(t, events.CertRefused, d.CertOutcome(true, true), "DANE mode always refuses")
	assert.Equal(t, events.CertRefused, d.CertOutcome(false, true))
	assert.Equal(t, "[192.0.2.1] SSL verify denied by event-action: depth=1 cert=CN=ca: blocked by policy",
		d.CertDenyLog("192.0.2.1", "SSL", 1, "CN=ca"))

	d = b.Raise(ctx, &events.Event{Name: events.TCPConnect})
	assert.True(t, d.Refused())
	assert.Equal(t, "", d.DeferMessage())

	var quiet events.Bus
	quiet.Subscribe(nil, constHandler(""))
	d = quiet.Raise(ctx, &events.Event{Name: events.TLSCert})
	assert.Equal(t, events.CertAccepted, d.CertOutcome(false, true))
	assert.Equal(t, "def", d.LogLine("def"))
}

func TestOrderingFirstNonEmpty(t *testing.T) {
	var b events.Bus
	var mu sync.Mutex
	var calls []int
	for i, res := range []string{"", "second", "third", ""} {
		b.Subscribe(nil, func(context.Context, *events.Event) (string, error) {
			mu.Lock()
			calls = append(calls, i)
			mu.Unlock()
			return res, nil
		})
	}
	d := b.Raise(context.Background(), &events.Event{Name: events.TCPConnect})
	assert.Equal(t, []int{0, 1, 2, 3}, calls, "every handler runs, in subscription order")
	assert.Equal(t, "second", d.Result)
	assert.True(t, d.Acted)
}

func TestResultNotTrimmed(t *testing.T) {
	var b events.Bus
	b.Subscribe(nil, constHandler(" "))
	d := b.Raise(context.Background(), &events.Event{Name: events.TCPConnect})
	assert.Equal(t, " ", d.Result)
	assert.True(t, d.Acted, "Exim acts on any non-empty expansion")
}

func TestFilters(t *testing.T) {
	var b events.Bus
	var mu sync.Mutex
	got := map[string][]events.Name{}
	rec := func(tag string) events.Handler {
		return func(_ context.Context, ev *events.Event) (string, error) {
			mu.Lock()
			got[tag] = append(got[tag], ev.Name)
			mu.Unlock()
			return "", nil
		}
	}
	b.Subscribe(nil, rec("nil"))
	b.Subscribe(events.All(), rec("all"))
	b.Subscribe(events.Only(events.TCPConnect, events.TCPClose), rec("tcp"))
	b.Subscribe(events.Prefix("msg:"), rec("msg"))
	b.Subscribe(events.Prefix("msg:rcpt:"), rec("rcpt"))
	b.Subscribe(events.Only(), rec("none"))

	for _, n := range events.Names() {
		b.Raise(context.Background(), &events.Event{Name: n})
	}
	d := b.Raise(context.Background(), &events.Event{Name: "custom:event"})
	assert.False(t, d.Acted)

	all := append(events.Names(), "custom:event")
	assert.Equal(t, all, got["nil"])
	assert.Equal(t, all, got["all"])
	assert.Equal(t, []events.Name{events.TCPConnect, events.TCPClose}, got["tcp"])
	assert.Equal(t, []events.Name{events.MsgComplete, events.MsgDefer, events.MsgDelivery,
		events.MsgRcptHostDefer, events.MsgRcptDefer, events.MsgHostDefer,
		events.MsgFailDelivery, events.MsgFailInternal}, got["msg"])
	assert.Equal(t, []events.Name{events.MsgRcptHostDefer, events.MsgRcptDefer}, got["rcpt"])
	assert.Empty(t, got["none"])
}

func TestUnknownNameActsNever(t *testing.T) {
	var b events.Bus
	called := false
	b.Subscribe(nil, func(context.Context, *events.Event) (string, error) { called = true; return "x", nil })
	d := b.Raise(context.Background(), &events.Event{Name: "tcp:connect:other"})
	assert.True(t, called)
	assert.Equal(t, "x", d.Result)
	assert.False(t, d.Acted)
	assert.Equal(t, events.EffectNone, d.Effect)
}

func TestUnsubscribe(t *testing.T) {
	var b events.Bus
	var calls []string
	var unsub2 func()
	b.Subscribe(nil, func(context.Context, *events.Event) (string, error) {
		calls = append(calls, "h1")
		unsub2()
		return "", nil
	})
	unsub2 = b.Subscribe(nil, func(context.Context, *events.Event) (string, error) {
		calls = append(calls, "h2")
		return "veto", nil
	})
	unsub3 := b.Subscribe(nil, func(context.Context, *events.Event) (string, error) {
		calls = append(calls, "h3")
		return "", nil
	})
	d := b.Raise(context.Background(), &events.Event{Name: events.TCPConnect})
	assert.Equal(t, []string{"h1", "h3"}, calls, "h2, removed during Raise before its turn, is not called")
	assert.False(t, d.Acted)

	unsub2() // again: harmless
	unsub3()
	calls = nil
	b.Raise(context.Background(), &events.Event{Name: events.TCPConnect})
	assert.Equal(t, []string{"h1"}, calls)
	assert.Panics(t, func() { b.Subscribe(nil, nil) })
}

func TestConcurrentRaiseSubscribe(t *testing.T) {
	var b events.Bus
	var count atomic.Int64
	counter := func(context.Context, *events.Event) (string, error) {
		count.Add(1)
		return "", nil
	}
	b.Subscribe(nil, counter)

	var wg sync.WaitGroup
	for g := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				ev := &events.Event{Name: events.Names()[(g+i)%19], Data: fmt.Sprint(g, i)}
				d := b.Raise(context.Background(), ev)
				if d.Errors != nil {
					t.Error(d.Errors)
				}
			}
		}()
	}
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				unsub := b.Subscribe(events.Prefix("msg:"), func(_ context.Context, ev *events.Event) (string, error) {
					ev.Data = "modified" // each handler has its own copy
					return "", nil
				})
				unsub()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(50*100), count.Load(), "the permanent handler saw every event")
}

func TestPanickingHandler(t *testing.T) {
	logger, logs := testLogger()
	b := events.Bus{Logger: logger}
	next := false
	b.Subscribe(nil, func(context.Context, *events.Event) (string, error) { panic("kaboom") })
	b.Subscribe(nil, func(context.Context, *events.Event) (string, error) { next = true; return "after", nil })
	d := b.Raise(context.Background(), &events.Event{Name: events.TCPConnect})
	assert.True(t, next)
	assert.Equal(t, "after", d.Result)
	assert.True(t, d.Acted)
	require.Len(t, d.Errors, 1)
	var he *events.HandlerError
	require.True(t, errors.As(d.Errors[0], &he))
	var pe *events.PanicError
	require.True(t, errors.As(d.Errors[0], &pe))
	assert.Equal(t, "kaboom", pe.Value)
	assert.Equal(t, 0, he.Index)
	assert.Contains(t, logs.String(), "failed to expand event_action tcp:connect in transport: handler panic: kaboom")

	// The same without timeout (handlers inline).
	b2 := events.Bus{Logger: logger, Timeout: -1}
	b2.Subscribe(nil, func(context.Context, *events.Event) (string, error) { panic(errors.New("inline")) })
	b2.Subscribe(nil, constHandler("ok"))
	d = b2.Raise(context.Background(), &events.Event{Name: events.SMTPConnect})
	assert.Equal(t, "ok", d.Result)
	require.Len(t, d.Errors, 1)
	assert.True(t, errors.As(d.Errors[0], &pe))
}

func TestSlowHandler(t *testing.T) {
	logger, logs := testLogger()
	b := events.Bus{Logger: logger, Timeout: 50 * time.Millisecond}
	release := make(chan struct{})
	defer close(release)
	b.Subscribe(nil, func(context.Context, *events.Event) (string, error) {
		<-release // ignores its context
		return "too late", nil
	})
	b.Subscribe(nil, func(ctx context.Context, _ *events.Event) (string, error) {
		_, ok := ctx.Deadline()
		if !ok {
			return "", errors.New("no deadline")
		}
		return "", nil
	})
	start := time.Now()
	d := b.Raise(context.Background(), &events.Event{Name: events.TCPConnect})
	elapsed := time.Since(start)
	assert.Less(t, elapsed, 3*time.Second, "Raise returns after about Timeout")
	assert.GreaterOrEqual(t, elapsed, 40*time.Millisecond)
	assert.False(t, d.Acted, "the late result is ignored")
	require.Len(t, d.Errors, 1)
	assert.ErrorIs(t, d.Errors[0], events.ErrTimeout)
	assert.Contains(t, logs.String(), "handler timed out")
}

func TestHandlerError(t *testing.T) {
	logger, logs := testLogger()
	b := events.Bus{Logger: logger}
	b.Subscribe(nil, func(context.Context, *events.Event) (string, error) {
		return "ignored", errors.New("boom")
	})
	d := b.Raise(context.Background(), &events.Event{Name: events.TCPConnect})
	assert.False(t, d.Acted)
	assert.Equal(t, "", d.Result)
	require.Len(t, d.Errors, 1)
	assert.EqualError(t, d.Errors[0], "failed to expand event_action tcp:connect in transport: boom")
	assert.Contains(t, logs.String(), "failed to expand event_action tcp:connect in transport: boom")

	d = b.Raise(context.Background(), &events.Event{Name: events.MsgComplete})
	assert.EqualError(t, d.Errors[0], "failed to expand event_action msg:complete in main: boom")
}

func TestCancelledContext(t *testing.T) {
	var b events.Bus
	called := false
	b.Subscribe(nil, func(context.Context, *events.Event) (string, error) { called = true; return "x", nil })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := b.Raise(ctx, &events.Event{Name: events.TCPConnect})
	assert.False(t, called)
	assert.False(t, d.Acted)
	require.Len(t, d.Errors, 1)
	assert.ErrorIs(t, d.Errors[0], context.Canceled)

	// Cancelled while a handler runs: Raise stops waiting and calls no more.
	ctx, cancel = context.WithCancel(context.Background())
	var b2 events.Bus
	b2.Subscribe(nil, func(ctx context.Context, _ *events.Event) (string, error) {
		cancel()
		<-ctx.Done()
		return "", ctx.Err()
	})
	second := false
	b2.Subscribe(nil, func(context.Context, *events.Event) (string, error) { second = true; return "", nil })
	d = b2.Raise(ctx, &events.Event{Name: events.TCPClose})
	assert.False(t, second)
	require.Len(t, d.Errors, 2)
	assert.ErrorIs(t, d.Errors[0], context.Canceled)
	assert.ErrorIs(t, d.Errors[1], context.Canceled)
}

func TestRaiseCopiesEvent(t *testing.T) {
	var b events.Bus
	var seen []string
	var times []time.Time
	for range 2 {
		b.Subscribe(nil, func(_ context.Context, ev *events.Event) (string, error) {
			seen = append(seen, ev.Data)
			times = append(times, ev.Time)
			ev.Data = "changed"
			ev.Name = events.TCPConnect
			return "", nil
		})
	}
	ev := &events.Event{Name: events.MsgComplete, Data: "orig"}
	d := b.Raise(context.Background(), ev)
	assert.Equal(t, []string{"orig", "orig"}, seen)
	assert.Equal(t, "orig", ev.Data)
	assert.True(t, ev.Time.IsZero(), "ev itself is not modified")
	assert.False(t, times[0].IsZero())
	assert.Equal(t, times[0], times[1], "one time for all handlers")
	assert.Equal(t, events.MsgComplete, d.Name)
}

func TestNotify(t *testing.T) {
	var b events.Bus
	var got []events.Event
	b.Subscribe(nil, func(_ context.Context, ev *events.Event) (string, error) {
		got = append(got, *ev)
		return "", nil
	})
	notify := b.Notify(context.Background(), events.Event{Transport: "remote_smtp", Host: "mx.example"})
	notify("dane:fail", "dane-required")
	require.Len(t, got, 1)
	assert.Equal(t, events.DANEFail, got[0].Name)
	assert.Equal(t, "dane-required", got[0].Data)
	assert.Equal(t, "mx.example", got[0].Host)
}

func TestSlogSink(t *testing.T) {
	logger, logs := testLogger()
	var b events.Bus
	b.Subscribe(nil, events.SlogSink(logger, -4))
	d := b.Raise(context.Background(), &events.Event{Name: events.SMTPEHLO, Data: "250-a\n250 b", Host: "mx.example"})
	assert.Empty(t, d.Errors)
	out := logs.String()
	assert.Equal(t, 1, strings.Count(out, "\n"), "one line: %q", out)
	assert.Contains(t, out, `msg="event smtp:ehlo"`)
	assert.Contains(t, out, `event_data="250-a 250 b"`)
	assert.Contains(t, out, "host=mx.example")
	assert.NotContains(t, out, "host_port=")
	assert.NotContains(t, out, "local_part=")

	// A disabled level logs nothing.
	b2 := events.Bus{}
	quietLogs := &syncBuffer{}
	b2.Subscribe(nil, events.SlogSink(slogAt(quietLogs), -8))
	b2.Raise(context.Background(), &events.Event{Name: events.TCPClose})
	assert.Empty(t, quietLogs.String())
}
