package events

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Handler handles one event, the equivalent of expanding event_action.
// The string is the expansion result: non-empty acts for the events of
// Name.ActsOnResult. An error is an expansion failure: it is logged and
// the result ignored. ctx is limited by Bus.Timeout. ev is the
// handler's own copy of the event (PeerCert is shared: read only).
type Handler func(ctx context.Context, ev *Event) (string, error)

// Filter selects the events a handler receives. A nil Filter selects
// every event.
type Filter func(Name) bool

// All selects every event, known or not.
func All() Filter { return func(Name) bool { return true } }

// Only selects the given names.
func Only(names ...Name) Filter {
	set := make(map[Name]struct{}, len(names))
	for _, n := range names {
		set[n] = struct{}{}
	}
	return func(n Name) bool { _, ok := set[n]; return ok }
}

// Prefix selects the names starting with p, for example Prefix("msg:")
// or Prefix("msg:rcpt:").
func Prefix(p string) Filter {
	return func(n Name) bool { return strings.HasPrefix(string(n), p) }
}

// DefaultTimeout is the per-handler timeout of a Bus with Timeout 0.
const DefaultTimeout = 5 * time.Second

// Bus delivers events to the handlers subscribed to them. The zero
// value is ready to use. Subscribe and Raise may be called
// concurrently; set Timeout and Logger before first use.
type Bus struct {
	// Timeout bounds each handler call (0: DefaultTimeout). A handler
	// that does not return in time is abandoned (its goroutine goes on
	// until it returns) and counts as an error. Negative: no timeout,
	// handlers run on the caller's goroutine (cheaper; a handler that
	// blocks then blocks Raise).
	Timeout time.Duration

	// Logger receives handler errors, panics and timeouts (Warn
	// level). nil: slog.Default().
	Logger *slog.Logger

	mu   sync.Mutex                      // serialises Subscribe/unsubscribe
	subs atomic.Pointer[[]*subscription] // copy on write
}

type subscription struct {
	filter  Filter
	handler Handler
	removed atomic.Bool
}

// Subscribe adds h for the events f selects (nil f: every event) and
// returns a function that removes it; calling that more than once is
// harmless. Handlers are called in the order they subscribed. A
// handler removed while a Raise is running is not called by it if it
// has not been called yet. Subscribe panics if h is nil.
func (b *Bus) Subscribe(f Filter, h Handler) (unsubscribe func()) {
	if h == nil {
		panic("events: Subscribe with a nil Handler")
	}
	s := &subscription{filter: f, handler: h}
	b.mu.Lock()
	var cur []*subscription
	if p := b.subs.Load(); p != nil {
		cur = *p
	}
	next := make([]*subscription, len(cur), len(cur)+1)
	copy(next, cur)
	next = append(next, s)
	b.subs.Store(&next)
	b.mu.Unlock()
	return func() {
		if s.removed.Swap(true) {
			return
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		cur := *b.subs.Load()
		next := make([]*subscription, 0, len(cur))
		for _, o := range cur {
			if o != s {
				next = append(next, o)
			}
		}
		b.subs.Store(&next)
	}
}

// Decision is the outcome of Raise.
type Decision struct {
	Name Name

	// Result is the first non-empty handler result, as it is (not
	// trimmed: Exim acts on any non-empty expansion, " " included).
	// Results of handlers that failed are ignored.
	Result string

	// Acted is true when the event acts on results (tcp:connect,
	// smtp:connect, tls:cert, auth:fail) and Result is non-empty.
	Acted bool

	// Effect is the event's effect when Acted, else EffectNone.
	Effect Effect

	// Errors are the handler failures (*HandlerError), already logged,
	// and ctx.Err() when Raise stopped because ctx was done.
	Errors []error
}

// Refused reports whether the decision stops something: the
// connection (tcp:connect), the session (smtp:connect, every address
// deferred) or the certificate (tls:cert). auth:fail's log
// replacement is not a refusal.
func (d Decision) Refused() bool {
	return d.Acted && (d.Effect == EffectRefuseConnection || d.Effect == EffectDeferAll || d.Effect == EffectRefuseCert)
}

// DeferMessage returns the message given to every address when
// smtp:connect acted: "deferred by smtp:connect event expansion:
// <result>"; "" when it did not act.
func (d Decision) DeferMessage() string {
	if !d.Acted || d.Effect != EffectDeferAll {
		return ""
	}
	return "deferred by smtp:connect event expansion: " + d.Result
}

// LogLine returns the log line for auth:fail: the result when it
// acted, else def.
func (d Decision) LogLine(def string) string {
	if d.Acted && d.Effect == EffectReplaceLog {
		return d.Result
	}
	return def
}

// CertOutcome is what happens to a certificate after tls:cert.
type CertOutcome int

const (
	// CertAccepted: the event did not refuse the certificate.
	CertAccepted CertOutcome = iota
	// CertRefused: verification fails.
	CertRefused
	// CertOverridden: verification is recorded as failed but the
	// handshake continues (verification optional for the host).
	CertOverridden
)

func (c CertOutcome) String() string {
	switch c {
	case CertAccepted:
		return "accepted"
	case CertRefused:
		return "refused"
	case CertOverridden:
		return "overridden"
	}
	return fmt.Sprintf("CertOutcome(%d)", int(c))
}

// CertOutcome applies a tls:cert decision as Exim does: a refusal
// refuses the certificate unless verification is optional for the
// host (tls_try_verify_hosts), in which case it is overridden, except
// in DANE mode where it always refuses.
func (d Decision) CertOutcome(optional, dane bool) CertOutcome {
	switch {
	case !d.Acted || d.Effect != EffectRefuseCert:
		return CertAccepted
	case optional && !dane:
		return CertOverridden
	}
	return CertRefused
}

// CertDenyLog returns Exim's log line for a refused certificate:
// "[<ip>] <what> verify denied by event-action: depth=<n> cert=<dn>:
// <result>", what being for example "SSL" or "DANE".
func (d Decision) CertDenyLog(ip, what string, depth int, dn string) string {
	return fmt.Sprintf("[%s] %s verify denied by event-action: depth=%d cert=%s: %s", ip, what, depth, dn, d.Result)
}

func (b *Bus) logger() *slog.Logger {
	if b.Logger != nil {
		return b.Logger
	}
	return slog.Default()
}

type handlerResult struct {
	s   string
	err error
}

// Raise calls, one after the other in subscription order, every handler
// whose filter selects ev.Name, each with its own copy of *ev (ev itself
// is not modified; a zero Time is set to the current time in the
// copies) and a context limited by Timeout. Every selected handler is
// called, even after one returned a non-empty result: sinks see every
// event.
//
// A handler that panics or returns an error is logged and its result
// ignored; one that overruns Timeout is logged and abandoned: Raise
// goes on without waiting for it. Raise never panics because of a
// handler and returns within about (number of handlers × Timeout).
// When ctx is done Raise calls no further handler.
//
// Unknown names are delivered too, but never act.
func (b *Bus) Raise(ctx context.Context, ev *Event) Decision {
	d := Decision{Name: ev.Name}
	p := b.subs.Load()
	if p == nil || len(*p) == 0 {
		return d
	}
	timeout := b.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	now := time.Time{}
	idx := 0
	for _, s := range *p {
		if s.removed.Load() || (s.filter != nil && !s.filter(ev.Name)) {
			continue
		}
		if err := ctx.Err(); err != nil {
			d.Errors = append(d.Errors, err)
			break
		}
		c := new(Event)
		*c = *ev
		if c.Time.IsZero() {
			if now.IsZero() {
				now = time.Now()
			}
			c.Time = now
		}
		var r handlerResult
		if timeout < 0 {
			r = call(ctx, s.handler, c)
		} else {
			r = callTimeout(ctx, s.handler, c, timeout)
		}
		if r.err != nil {
			he := &HandlerError{Name: ev.Name, Hook: ev.Hook(), Index: idx, Err: r.err}
			d.Errors = append(d.Errors, he)
			attrs := []any{"event", string(ev.Name), "handler", idx}
			if pe, ok := r.err.(*PanicError); ok {
				attrs = append(attrs, "stack", string(pe.Stack))
			}
			b.logger().Warn(he.Error(), attrs...)
		} else if d.Result == "" {
			d.Result = r.s
		}
		idx++
	}
	if d.Result != "" {
		if eff := ev.Name.Info().Effect; eff != EffectNone {
			d.Acted, d.Effect = true, eff
		}
	}
	return d
}

func call(ctx context.Context, h Handler, ev *Event) (r handlerResult) {
	defer func() {
		if v := recover(); v != nil {
			r = handlerResult{err: &PanicError{Value: v, Stack: debug.Stack()}}
		}
	}()
	s, err := h(ctx, ev)
	return handlerResult{s, err}
}

func callTimeout(ctx context.Context, h Handler, ev *Event, timeout time.Duration) handlerResult {
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ch := make(chan handlerResult, 1) // buffered: an abandoned handler can still finish
	go func() { ch <- call(hctx, h, ev) }()
	select {
	case r := <-ch:
		return r
	case <-hctx.Done():
		select {
		case r := <-ch: // finished at the deadline
			return r
		default:
		}
		if err := ctx.Err(); err != nil {
			return handlerResult{err: err}
		}
		return handlerResult{err: ErrTimeout}
	}
}

// Notify returns a callback for engines that report events as
// func(name, data string), such as dane.Policy.Event: each call raises
// a copy of base with that name and data, and ignores the decision.
func (b *Bus) Notify(ctx context.Context, base Event) func(name, data string) {
	return func(name, data string) {
		ev := base
		ev.Name, ev.Data = Name(name), data
		b.Raise(ctx, &ev)
	}
}
