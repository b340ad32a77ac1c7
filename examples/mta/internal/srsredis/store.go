package srsredis

// A Redis-backed srs.Store (-srs-redis), with a small RESP2 client of
// its own: the project takes no third-party dependencies, and the
// store needs three commands (SET key value PX ms, GET, DEL).
//
// Connections: a small pool (at most redisMaxConns, idle ones kept for
// reuse), so that concurrent sessions do not queue behind one socket.
// Every operation has one deadline (-srs-redis-timeout) covering the
// wait for a pool slot, dialling, writing and reading the reply; the
// srs.Store interface has no context, so that deadline is what keeps a
// dead or silent Redis from hanging an SMTP session. A connection that
// fails (I/O error, malformed reply) is closed, never reused; an
// operation that fails on a reused idle connection (Redis restarted,
// CLIENT KILL, idle timeout) is retried once on a new one, which is
// safe because SET, GET and DEL are idempotent here. Error replies
// ("-ERR ...") are returned as *RedisError and leave the connection in
// use.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailpolicy/mailpolicy/srs"
)

const (
	// redisMaxConns bounds the connections of one store.
	redisMaxConns = 8
	// redisMaxBulk bounds a bulk string in a reply (and a stored
	// value): an SRS original is at most a few hundred octets.
	redisMaxBulk = 64 << 10
	// redisMaxLine bounds a status, error or length line of a reply.
	redisMaxLine = 4096
	// DefaultPrefix is the default key prefix (-srs-redis-prefix).
	DefaultPrefix = "mailpolicy:srs:"
)

// RedisError is an error reply from Redis, such as "ERR unknown
// command" or "WRONGTYPE ..."; Msg is the line without the "-".
type RedisError struct{ Msg string }

func (e *RedisError) Error() string { return "redis: " + e.Msg }

// errRedisProtocol is wrapped by every malformed-reply error.
var errRedisProtocol = errors.New("redis: protocol error")

// errRedisClosed is returned by operations after Close.
var errRedisClosed = errors.New("redis: store closed")

// errRedisTimeout is returned when no pool slot frees up in time.
var errRedisTimeout = errors.New("redis: timeout waiting for a connection")

// Store is an srs.Store in Redis. Keys are prefix + the key the
// srs package chooses; values are the original senders, stored as
// given. Expiry is Redis's own (PX), computed from the expires time
// given to Put against the local clock; Get does not consult its now
// argument (Redis has already dropped an expired key). Safe for
// concurrent use.
type Store struct {
	network, addr string
	prefix        string
	timeout       time.Duration
	now           func() time.Time // the clock for the PX computation

	sem chan struct{} // one token per connection in use

	mu     sync.Mutex
	idle   []*redisConn
	closed bool
}

var _ srs.Store = (*Store)(nil)

type redisConn struct {
	c  net.Conn
	br *bufio.Reader
}

// New returns a store for addr: host:port, or a path starting
// with "/" for a unix socket. Nothing is dialled until the first
// operation. timeout bounds each operation.
func New(addr, prefix string, timeout time.Duration) (*Store, error) {
	network := "tcp"
	switch {
	case addr == "":
		return nil, errors.New("empty Redis address")
	case strings.HasPrefix(addr, "/"):
		network = "unix"
	default:
		h, p, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("Redis address %q: want host:port or /socket", addr)
		}
		if n, err := strconv.Atoi(p); h == "" || err != nil || n <= 0 || n > 65535 {
			return nil, fmt.Errorf("Redis address %q: want host:port or /socket", addr)
		}
	}
	if timeout <= 0 {
		return nil, errors.New("the Redis timeout must be positive")
	}
	return &Store{
		network: network, addr: addr, prefix: prefix, timeout: timeout,
		now: time.Now,
		sem: make(chan struct{}, redisMaxConns),
	}, nil
}

// Put implements srs.Store: SET prefix+key original PX ttl. An expiry
// that is not in the future deletes the key instead (it must not be
// stored forever, nor resolve).
func (s *Store) Put(key, original string, expires time.Time) error {
	if len(original) > redisMaxBulk {
		return fmt.Errorf("redis: value of %d octets (max %d)", len(original), redisMaxBulk)
	}
	ttl := expires.Sub(s.now())
	if ttl <= 0 {
		_, err := s.do("DEL", s.prefix+key)
		return err
	}
	ms := (ttl + time.Millisecond - 1) / time.Millisecond // round up: never 0
	r, err := s.do("SET", s.prefix+key, original, "PX", strconv.FormatInt(int64(ms), 10))
	if err != nil {
		return err
	}
	if r.kind != '+' || string(r.str) != "OK" {
		return fmt.Errorf("%w: unexpected reply to SET", errRedisProtocol)
	}
	return nil
}

// Get implements srs.Store: GET prefix+key; a nil reply is ok=false.
func (s *Store) Get(key string, _ time.Time) (string, bool, error) {
	r, err := s.do("GET", s.prefix+key)
	if err != nil {
		return "", false, err
	}
	if r.kind != '$' {
		return "", false, fmt.Errorf("%w: unexpected reply to GET", errRedisProtocol)
	}
	if r.null {
		return "", false, nil
	}
	return string(r.str), true, nil
}

// Close closes the idle connections; later operations fail, and
// connections in use are closed when their operation ends.
func (s *Store) Close() error {
	s.mu.Lock()
	idle := s.idle
	s.idle, s.closed = nil, true
	s.mu.Unlock()
	for _, c := range idle {
		c.c.Close()
	}
	return nil
}

// do runs one command under one deadline.
func (s *Store) do(args ...string) (respReply, error) {
	deadline := time.Now().Add(s.timeout)
	t := time.NewTimer(s.timeout)
	select {
	case s.sem <- struct{}{}:
		t.Stop()
	case <-t.C:
		return respReply{}, errRedisTimeout
	}
	defer func() { <-s.sem }()
	cmd := appendCommand(nil, args...)
	for attempt := 0; ; attempt++ {
		c, reused, err := s.conn(deadline)
		if err != nil {
			return respReply{}, err
		}
		r, err := c.roundTrip(cmd, deadline)
		if err == nil {
			s.release(c)
			if r.kind == '-' {
				return r, &RedisError{Msg: string(r.str)}
			}
			return r, nil
		}
		c.c.Close()
		var ne net.Error
		retry := reused && attempt == 0 && !errors.Is(err, errRedisProtocol) &&
			!(errors.As(err, &ne) && ne.Timeout()) && time.Now().Before(deadline)
		if !retry {
			return respReply{}, fmt.Errorf("redis %s: %w", s.addr, err)
		}
	}
}

// conn returns an idle connection (reused true) or dials a new one.
func (s *Store) conn(deadline time.Time) (c *redisConn, reused bool, err error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, false, errRedisClosed
	}
	if n := len(s.idle); n > 0 {
		c = s.idle[n-1]
		s.idle = s.idle[:n-1]
		s.mu.Unlock()
		return c, true, nil
	}
	s.mu.Unlock()
	d := net.Dialer{Deadline: deadline}
	nc, err := d.Dial(s.network, s.addr)
	if err != nil {
		return nil, false, fmt.Errorf("redis: %w", err)
	}
	return &redisConn{c: nc, br: newRESPReader(nc)}, false, nil
}

// release puts a healthy connection back into the pool.
func (s *Store) release(c *redisConn) {
	s.mu.Lock()
	if s.closed || len(s.idle) >= redisMaxConns {
		s.mu.Unlock()
		c.c.Close()
		return
	}
	s.idle = append(s.idle, c)
	s.mu.Unlock()
}

func (c *redisConn) roundTrip(cmd []byte, deadline time.Time) (respReply, error) {
	if err := c.c.SetDeadline(deadline); err != nil {
		return respReply{}, err
	}
	if _, err := c.c.Write(cmd); err != nil {
		return respReply{}, err
	}
	if c.br.Buffered() > 0 {
		// Bytes nobody asked for: the stream is out of step.
		return respReply{}, fmt.Errorf("%w: unsolicited data", errRedisProtocol)
	}
	return readReply(c.br)
}

// appendCommand appends args as a RESP array of bulk strings.
func appendCommand(b []byte, args ...string) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}

// respReply is one RESP2 reply of the kinds the store uses: '+' simple
// string, '-' error, ':' integer, '$' bulk string (null for $-1).
// Arrays are not used by SET, GET or DEL and are refused.
type respReply struct {
	kind byte
	str  []byte // '+', '-' and '$' content
	n    int64  // ':' value
	null bool   // '$' with length -1
}

// newRESPReader buffers r for readReply (the buffer holds a whole line).
func newRESPReader(r io.Reader) *bufio.Reader { return bufio.NewReaderSize(r, redisMaxLine+2) }

// readReply reads one reply strictly: lines end in CRLF and hold no
// other CR or LF, lengths and integers are plain decimal, a bulk string
// is at most redisMaxBulk octets and ends in CRLF. io.EOF means the
// stream ended before a reply began; every malformed reply wraps
// errRedisProtocol.
func readReply(br *bufio.Reader) (respReply, error) {
	line, err := readLine(br)
	if err != nil {
		return respReply{}, err
	}
	if len(line) == 0 {
		return respReply{}, fmt.Errorf("%w: empty line", errRedisProtocol)
	}
	r := respReply{kind: line[0]}
	body := line[1:]
	switch r.kind {
	case '+', '-':
		r.str = append([]byte(nil), body...)
		return r, nil
	case ':':
		n, ok := parseRESPInt(body)
		if !ok {
			return respReply{}, fmt.Errorf("%w: bad integer %q", errRedisProtocol, body)
		}
		r.n = n
		return r, nil
	case '$':
		if string(body) == "-1" {
			r.null = true
			return r, nil
		}
		n, ok := parseRESPInt(body)
		if !ok || n < 0 {
			return respReply{}, fmt.Errorf("%w: bad bulk length %q", errRedisProtocol, body)
		}
		if n > redisMaxBulk {
			return respReply{}, fmt.Errorf("%w: bulk string of %d octets (max %d)", errRedisProtocol, n, redisMaxBulk)
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			return respReply{}, fmt.Errorf("%w: truncated bulk string: %v", errRedisProtocol, err)
		}
		if buf[n] != '\r' || buf[n+1] != '\n' {
			return respReply{}, fmt.Errorf("%w: bulk string not followed by CRLF", errRedisProtocol)
		}
		r.str = buf[:n:n]
		return r, nil
	default:
		return respReply{}, fmt.Errorf("%w: unexpected reply type %q", errRedisProtocol, r.kind)
	}
}

// readLine reads a CRLF-terminated line of at most redisMaxLine octets
// and returns it without the CRLF (a slice of br's buffer).
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	switch {
	case err == nil:
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, fmt.Errorf("%w: line too long", errRedisProtocol)
	case errors.Is(err, io.EOF) && len(line) == 0:
		return nil, io.EOF
	case errors.Is(err, io.EOF):
		return nil, fmt.Errorf("%w: truncated line", errRedisProtocol)
	default:
		return nil, err
	}
	if len(line) > redisMaxLine+2 {
		return nil, fmt.Errorf("%w: line too long", errRedisProtocol)
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("%w: line not ended by CRLF", errRedisProtocol)
	}
	line = line[:len(line)-2]
	for _, c := range line {
		if c == '\r' || c == '\n' {
			return nil, fmt.Errorf("%w: CR inside a line", errRedisProtocol)
		}
	}
	return line, nil
}

// parseRESPInt parses an optional "-" and 1 to 18 decimal digits
// (no "+", no spaces, no leading zeros but "0" itself).
func parseRESPInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 || (len(b) > 1 && b[0] == '0') {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		if n == 0 {
			return 0, false
		}
		n = -n
	}
	return n, true
}
