package proxyproto

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/mailpolicy/mailpolicy/hostlist"
)

// DefaultTimeout is Exim's default proxy_protocol_timeout.
const DefaultTimeout = 3 * time.Second

// Config selects which peers get PROXY processing.
//
// A peer in Required (Exim's hosts_proxy) must send a header; a peer in
// Optional may send one. Any other peer gets no PROXY processing at all,
// as in Exim: a header it sends is not trusted and its bytes are left in
// the stream for the application (an SMTP server will see an unknown
// command "PROXY ..."). Lists are matched against the peer's IP address
// only (no host name is known yet); Required is consulted first.
//
// An Optional peer's first bytes decide: a PROXY signature starts a
// header (which must then be valid), anything else is application data.
// A peer that stays silent (an SMTP client waiting for the banner) is
// taken as sending no header only when Timeout expires, so Optional suits
// client-speaks-first protocols, or proxies that always send a header.
type Config struct {
	Required *hostlist.List
	Optional *hostlist.List
	// Timeout bounds the whole header read (proxy_protocol_timeout),
	// counted from its start, i.e. the connection's first Read,
	// RemoteAddr or Handshake call. 0 means DefaultTimeout; negative is
	// refused by NewListener.
	Timeout time.Duration
	// MaxV2Length caps the v2 length field (0: DefaultMaxV2Length).
	MaxV2Length int
}

// Listener wraps a net.Listener. Accept returns at once with a *Conn
// whose header is read lazily, on the first Read, RemoteAddr or
// Handshake call, in the goroutine that serves the connection; a slow or
// silent client therefore never delays other Accepts, and it is failed
// (not waited for) once Timeout has passed.
type Listener struct {
	net.Listener
	cfg Config
}

// ErrConfig is matched by the error NewListener returns for a Config it
// cannot use.
var ErrConfig = errors.New("proxyproto: invalid listener configuration")

// NewListener wraps inner; cfg is copied. A Config whose Required and
// Optional lists are both empty is refused with ErrConfig rather than
// turned into a Listener that does no PROXY processing: that is a host
// list that failed to load or was forgotten, and behind a balancer it
// would make every client look like the balancer. Without PROXY hosts,
// use inner directly. A negative Timeout or MaxV2Length is refused too.
func NewListener(inner net.Listener, cfg Config) (*Listener, error) {
	switch {
	case cfg.Required.Empty() && cfg.Optional.Empty():
		return nil, fmt.Errorf("%w: neither Required nor Optional lists a host", ErrConfig)
	case cfg.Timeout < 0:
		return nil, fmt.Errorf("%w: negative Timeout %v", ErrConfig, cfg.Timeout)
	case cfg.MaxV2Length < 0:
		return nil, fmt.Errorf("%w: negative MaxV2Length %d", ErrConfig, cfg.MaxV2Length)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &Listener{Listener: inner, cfg: cfg}, nil
}

// Accept waits for the next connection and returns it as a *Conn.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &Conn{Conn: c, cfg: &l.cfg}, nil
}

// Info is the outcome of PROXY processing on one connection, with the
// names of Exim's variables.
type Info struct {
	// ProxySession is $proxy_session: the peer is in Config.Required
	// (set before the header is read, so also true when it failed), or it
	// is in Config.Optional and started a header.
	ProxySession bool
	// Header is the header received, or nil.
	Header *Header
	// LocalAddress/LocalPort are $proxy_local_address/_port: the proxy
	// as we see it (the real TCP peer). ExternalAddress/ExternalPort are
	// $proxy_external_address/_port: the header's destination (the
	// proxy's public side). All four are zero unless the header
	// replaced the client (PROXY with TCP4/TCP6); for LOCAL and UNKNOWN
	// they stay unset, as in Exim.
	LocalAddress    netip.Addr
	LocalPort       uint16
	ExternalAddress netip.Addr
	ExternalPort    uint16
	// Client is $sender_host_address/_port: the header's source when it
	// replaced the client, else the real peer. It is the zero value when
	// Failed: the proxy's address must never pass for the client's.
	Client netip.AddrPort
	// Failed is set when a required (or started optional) negotiation
	// failed; Reason says why. The SMTP layer must then answer every
	// command but QUIT with RefusedReply (see RefuseCommands).
	Failed bool
	Reason error
}

// Conn is a connection accepted by a Listener.
//
// After a failed negotiation Read returns a *NegotiationError and
// RemoteAddr a FailedAddr; use NetConn with RefuseCommands to run
// Exim's QUIT-only mode. Deadlines set by the caller before or during the
// header read are applied once it is over.
type Conn struct {
	net.Conn
	cfg *Config

	once sync.Once
	info Info
	err  error
	pre  []byte // application bytes read while probing an Optional peer

	mu          sync.Mutex
	handshaking bool
	rdl         time.Time // caller's read deadline
	rdlSet      bool
}

// NetConn returns the underlying connection. After a failed negotiation
// it carries whatever the client sends next (the bytes consumed by the
// failed header read are gone, as in Exim).
func (c *Conn) NetConn() net.Conn { return c.Conn }

// Handshake reads the PROXY header if it has not been read yet and
// returns the result; it is what Read and RemoteAddr call, with
// context.Background(). A cancelled ctx aborts the read (the
// negotiation then fails). Only the first call reads; later ones return
// the same result.
func (c *Conn) Handshake(ctx context.Context) (*Info, error) {
	c.once.Do(func() { c.handshake(ctx) })
	info := c.info
	return &info, c.err
}

// Proxy is Handshake(context.Background()).
func (c *Conn) Proxy() (*Info, error) { return c.Handshake(context.Background()) }

func peerAddrPort(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.AddrPort()
	case interface{ AddrPort() netip.AddrPort }:
		return a.AddrPort()
	}
	if a == nil {
		return netip.AddrPort{}
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

func (c *Conn) handshake(ctx context.Context) {
	peer := peerAddrPort(c.Conn.RemoteAddr())
	ip := peer.Addr().Unmap()
	required := c.cfg.Required.Match("", ip)
	optional := !required && c.cfg.Optional.Match("", ip)
	if !required && !optional {
		c.info.Client = peer
		c.finish()
		return
	}
	c.mu.Lock()
	c.handshaking = true
	dl := time.Now().Add(c.cfg.Timeout)
	if c.rdlSet && !c.rdl.IsZero() && c.rdl.Before(dl) {
		dl = c.rdl
	}
	c.mu.Unlock()
	_ = c.Conn.SetReadDeadline(dl)
	// finish (restoring the caller's deadline) must run after stop.
	defer c.finish()
	stop := context.AfterFunc(ctx, func() { _ = c.Conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()

	c.info.ProxySession = required
	var r io.Reader = c.Conn
	if optional {
		sig, started := c.probe()
		if !started {
			c.info.Client = peer
			return
		}
		c.info.ProxySession = true
		r = io.MultiReader(bytes.NewReader(sig), c.Conn)
	}
	h := new(Header)
	err := Parser{MaxV2Length: c.cfg.MaxV2Length}.Read(r, h)
	if err == nil && h.Command == Proxy && h.Transport != Unspec && h.Transport != TCP4 && h.Transport != TCP6 {
		err = fmt.Errorf("proxyproto: %s transport is not acceptable for a TCP connection", h.Transport)
	}
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", err, ctx.Err())
		}
		c.info.Failed = true
		c.info.Reason = err
		c.err = &NegotiationError{Err: err}
		return
	}
	c.info.Header = h
	c.info.Client = peer
	if h.HasAddresses() {
		c.info.LocalAddress, c.info.LocalPort = peer.Addr(), peer.Port()
		c.info.ExternalAddress, c.info.ExternalPort = h.Destination.Addr(), h.Destination.Port()
		c.info.Client = h.Source
	}
}

// probe reads an Optional peer's first bytes one at a time while they
// match a signature. It returns them and whether a whole signature
// arrived; otherwise they are kept as application data.
func (c *Conn) probe() ([]byte, bool) {
	const v1 = "PROXY "
	var got []byte
	var b [1]byte
	for {
		n, err := c.Conn.Read(b[:])
		if n == 1 {
			got = append(got, b[0])
			i := len(got) - 1
			v1ok := i < len(v1) && got[i] == v1[i] && string(got[:i]) == v1[:i]
			v2ok := i < len(v2Signature) && string(got) == v2Signature[:i+1]
			if !v1ok && !v2ok {
				c.pre = got
				return nil, false
			}
			if len(got) == len(v1) && v1ok || len(got) == len(v2Signature) && v2ok {
				return got, true
			}
			continue
		}
		if err != nil {
			// Silence (timeout) or EOF before a signature: no header.
			c.pre = got
			return nil, false
		}
	}
}

// finish ends the handshake and applies the caller's read deadline.
func (c *Conn) finish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.handshaking {
		_ = c.Conn.SetReadDeadline(c.rdl)
	}
	c.handshaking = false
}

// Read reads application data, after the header. It returns a
// *NegotiationError (errors.Is ErrNegotiationFailed) when the
// negotiation failed.
func (c *Conn) Read(b []byte) (int, error) {
	if _, err := c.Proxy(); err != nil {
		return 0, err
	}
	if len(c.pre) > 0 {
		n := copy(b, c.pre)
		c.pre = c.pre[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// RemoteAddr returns the client: the header's source when the header
// replaced it, else the real peer. After a failed negotiation it returns
// a FailedAddr, never the proxy's address as if it were the client.
func (c *Conn) RemoteAddr() net.Addr {
	info, err := c.Proxy()
	if err != nil {
		return FailedAddr{Proxy: c.Conn.RemoteAddr(), Err: info.Reason}
	}
	if info.Header != nil && info.Header.HasAddresses() {
		return net.TCPAddrFromAddrPort(info.Client)
	}
	return c.Conn.RemoteAddr()
}

// FailedAddr is the RemoteAddr of a connection whose required PROXY
// negotiation failed: the client is unknown, Proxy is the real peer.
type FailedAddr struct {
	Proxy net.Addr
	Err   error
}

// Network returns "proxy-failed".
func (a FailedAddr) Network() string { return "proxy-failed" }

func (a FailedAddr) String() string { return "unknown (via proxy " + a.Proxy.String() + ")" }

// SetDeadline sets the write deadline at once and the read deadline at
// once or, during the header read, when it ends.
func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.SetReadDeadline(t)
}

// SetReadDeadline records t; during the header read it is applied when
// the read ends (the header read has its own deadline).
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rdl, c.rdlSet = t, true
	if c.handshaking {
		return nil
	}
	return c.Conn.SetReadDeadline(t)
}

var _ net.Conn = (*Conn)(nil)
