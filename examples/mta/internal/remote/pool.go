package remote

import (
	"context"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/mailpolicy/mailpolicy/dane"
	"github.com/mailpolicy/mailpolicy/events"
	"github.com/mailpolicy/mailpolicy/mtasts"
	"github.com/mailpolicy/mailpolicy/smtp"
	"github.com/mailpolicy/mailpolicy/tlsrpt"
)

// Connection reuse. After a message, a connection that is in step is
// kept for the next message to the same host when deliveries wait for
// its destination (Delivery.Waiting, as Exim passes a connection on
// only to messages waiting for the host, and Postfix caches on
// demand): RSET, then it waits idle for at most ConnectionIdleTimeout
// (Postfix's smtp_connection_cache_time_limit, 2s), and carries at most
// ConnectionMaxMessages messages (Exim's connection_max_messages, 500).
// A delivery to a host takes a kept connection before it would open
// one. "The same host" is the same host name, address, port and DNSSEC
// state (key): the DANE decision, the TLS name and so the TLS state of
// the connection depend on nothing else, so a kept connection is one
// the message would have got anyway.
//
// Events on a kept connection: tcp:connect, smtp:connect, smtp:ehlo
// and tls:cert come once per connection, with the first message's id;
// each message has its own msg:delivery, msg:fail:delivery,
// msg:rcpt:host:defer and msg:host:defer; tcp:close comes once, when
// the connection closes, with the last message's id, so for a message
// that hands its connection on it comes after that message's
// msg:delivery and msg:complete (or not before shutdown), where one
// that QUITs raises it before msg:delivery, as Exim does.

// Defaults of the reuse settings.
const (
	DefaultConnectionMaxMessages = 500
	DefaultConnectionIdleTimeout = 2 * time.Second
)

// conn is a connection after EHLO (and STARTTLS), with what the DSNs
// and events of later messages need from its start.
type conn struct {
	key                string
	c                  *smtp.Client
	greeting, heloResp string
	dane, tlsOn        bool
	daneSet            *dane.TLSASet   // under DANE, for the TLS reports
	certFail           *tlsrpt.Failure // what verification found under mta-sts(testing)
	sendIP             netip.Addr
	sendPort           int
	base               events.Event // the last message's, for tcp:close
	messages           int          // transactions begun on it
	idle               *time.Timer  // while kept
}

// key names the host a connection is to. A connection made under an
// enforced MTA-STS policy (its certificate verified, the host matched
// against the policy) is kept for that domain alone, and no other
// connection is given to it.
func (t target) key() string {
	k := t.host + "|" + t.ip.String() + "|" + strconv.Itoa(t.port) + "|" + strconv.FormatBool(t.secure)
	if t.sts != nil && t.sts.Mode == mtasts.ModeEnforce {
		k += "|sts=" + t.domain
	}
	return k
}

// close closes the connection (no QUIT) and raises tcp:close.
func (cn *conn) close(ctx context.Context, q *Courier) {
	cn.c.Close()
	ev := cn.base
	ev.Name, ev.Data, ev.DANE = events.TCPClose, "", cn.dane
	q.raiseOut(ctx, ev)
}

// quitAndClose ends a kept connection politely.
func (cn *conn) quitAndClose(q *Courier) {
	ctx, cancel := context.WithTimeout(context.Background(), min(q.SMTPTimeout, 5*time.Second))
	defer cancel()
	cn.c.Quit(ctx)
	cn.close(ctx, q)
}

// pool holds the kept connections, idle, by key.
type pool struct {
	mu     sync.Mutex
	idle   map[string][]*conn
	closed bool
	// held counts the connections in idle and those an idle timer is
	// closing: CloseIdle waits for them.
	held sync.WaitGroup
}

func (q *Courier) pool() *pool {
	q.poolOnce.Do(func() { q.conns = &pool{idle: map[string][]*conn{}} })
	return q.conns
}

func (q *Courier) maxMessages() int {
	if q.ConnectionMaxMessages > 0 {
		return q.ConnectionMaxMessages
	}
	return DefaultConnectionMaxMessages
}

func (q *Courier) idleTimeout() time.Duration {
	if q.ConnectionIdleTimeout > 0 {
		return q.ConnectionIdleTimeout
	}
	return DefaultConnectionIdleTimeout
}

// take removes and returns a kept connection for key, the most
// recently used (nil: none).
func (p *pool) take(key string) *conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	cs := p.idle[key]
	if len(cs) == 0 {
		return nil
	}
	cn := cs[len(cs)-1]
	if cs = cs[:len(cs)-1]; len(cs) == 0 {
		delete(p.idle, key)
	} else {
		p.idle[key] = cs
	}
	cn.idle.Stop()
	p.held.Done()
	return cn
}

// remove takes cn out of the idle set; false when someone else did.
func (p *pool) remove(cn *conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	cs := p.idle[cn.key]
	for i, c := range cs {
		if c == cn {
			cs = append(cs[:i], cs[i+1:]...)
			if len(cs) == 0 {
				delete(p.idle, cn.key)
			} else {
				p.idle[cn.key] = cs
			}
			return true
		}
	}
	return false
}

// put keeps cn idle until it is taken or its idle time is up; false
// when the pool is closed (the caller closes cn).
func (p *pool) put(q *Courier, cn *conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.held.Add(1)
	p.idle[cn.key] = append(p.idle[cn.key], cn)
	cn.idle = time.AfterFunc(q.idleTimeout(), func() {
		if p.remove(cn) {
			cn.quitAndClose(q)
			p.held.Done()
		}
	})
	return true
}

// CloseIdle closes every kept connection (QUIT, tcp:close) and keeps
// no more; it returns when they are closed. The Runner calls it in
// Stop, after the last delivery.
func (q *Courier) CloseIdle() {
	p := q.pool()
	p.mu.Lock()
	p.closed = true
	var all []*conn
	for k, cs := range p.idle {
		all = append(all, cs...)
		delete(p.idle, k)
	}
	p.mu.Unlock()
	for _, cn := range all {
		cn.idle.Stop()
		cn.quitAndClose(q)
		p.held.Done()
	}
	p.held.Wait()
}
