// Package dcctest provides an in-process dccifd for tests of dccifd
// clients. It speaks the dccifd line protocol: it reads the request up
// to the client's half-close, parses it, and writes the reply a
// Handler returns, then closes the connection. Handlers can also
// misbehave (slow, malformed or truncated replies) by writing to the
// connection themselves.
package dcctest

import (
	"bytes"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mailpolicy/mailpolicy/dcc"
)

// A Request is one parsed client request.
type Request struct {
	Raw        []byte   // every byte received before EOF
	Options    []string // the words of the options line
	ClientIP   string
	ClientName string // after the CR of the client line, if any
	HasName    bool   // the client line carried a CR
	HELO       string
	Sender     string
	Recipients []dcc.Recipient
	Message    []byte // header and body, as received
}

// ParseRequest parses raw request bytes as dccifd does: options,
// client, HELO and sender lines, recipient lines up to an empty line,
// then the message. It fails if the envelope is incomplete.
func ParseRequest(raw []byte) (*Request, error) {
	r := &Request{Raw: append([]byte(nil), raw...)}
	rest := raw
	next := func() (string, error) {
		line, after, ok := bytes.Cut(rest, []byte("\n"))
		if !ok {
			return "", errors.New("dcctest: request ends inside the envelope")
		}
		rest = after
		return string(line), nil
	}
	line, err := next()
	if err != nil {
		return nil, err
	}
	r.Options = strings.Fields(line)
	if line, err = next(); err != nil {
		return nil, err
	}
	r.ClientIP, r.ClientName, r.HasName = strings.Cut(line, "\r")
	if r.HELO, err = next(); err != nil {
		return nil, err
	}
	if r.Sender, err = next(); err != nil {
		return nil, err
	}
	for {
		if line, err = next(); err != nil {
			return nil, err
		}
		if line == "" {
			break
		}
		a, u, _ := strings.Cut(line, "\r")
		r.Recipients = append(r.Recipients, dcc.Recipient{Addr: a, User: u})
	}
	r.Message = append([]byte(nil), rest...)
	return r, nil
}

// A Handler answers one request. It returns the reply bytes, or writes
// to conn itself (for slow or partial replies) and returns nil. req is
// nil, with err set, when the request did not parse.
type Handler func(req *Request, err error, conn net.Conn) []byte

// Reply builds a well-formed reply: the overall letter, the
// per-recipient letters, and the payload (for example an X-DCC header
// line), each line ending in LF.
func Reply(letter byte, perRcpt, payload string) []byte {
	var b bytes.Buffer
	b.WriteByte(letter)
	b.WriteByte('\n')
	b.WriteString(perRcpt + "\n")
	b.WriteString(payload)
	return b.Bytes()
}

// Fixed returns a Handler that sends reply to every request.
func Fixed(reply []byte) Handler {
	return func(*Request, error, net.Conn) []byte { return reply }
}

// A Server is a running fake dccifd.
type Server struct {
	Address dcc.Address // where it listens, for dcc.Client.Address
	// Spec is the dccifd_address form of Address.
	Spec string

	ln      net.Listener
	handler Handler
	wg      sync.WaitGroup
	mu      sync.Mutex
	reqs    []*Request
}

// StartUnix starts a server on a UNIX socket in a temporary directory.
// It is stopped when the test ends.
func StartUnix(t testing.TB, h Handler) *Server {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dccifd")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatalf("dcctest: %v", err)
	}
	return start(t, ln, h, dcc.Address{Network: "unix", Addr: path}, path)
}

// StartTCP starts a server on a loopback TCP port (IPv4). It is stopped
// when the test ends.
func StartTCP(t testing.TB, h Handler) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("dcctest: %v", err)
	}
	a := ln.Addr().(*net.TCPAddr)
	host, port, _ := net.SplitHostPort(a.String())
	return start(t, ln, h, dcc.Address{Network: "tcp", Addr: a.String()}, host+" "+port)
}

// StartListener serves on ln, which the server closes at the end of
// the test.
func StartListener(t testing.TB, ln net.Listener, h Handler, addr dcc.Address) *Server {
	t.Helper()
	return start(t, ln, h, addr, addr.String())
}

func start(t testing.TB, ln net.Listener, h Handler, addr dcc.Address, spec string) *Server {
	s := Serve(ln, addr, h)
	s.Spec = spec
	t.Cleanup(s.Close)
	return s
}

// Serve serves on ln, reachable at addr, until Close. It is for
// programs and examples; tests should use StartUnix or StartTCP.
func Serve(ln net.Listener, addr dcc.Address, h Handler) *Server {
	s := &Server{Address: addr, Spec: addr.String(), ln: ln, handler: h}
	s.wg.Add(1)
	go s.serve()
	return s
}

// Close stops the server and waits for its connections to finish.
func (s *Server) Close() {
	s.ln.Close()
	s.wg.Wait()
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer conn.Close()
			s.handle(conn)
		}()
	}
}

func (s *Server) handle(conn net.Conn) {
	raw, err := io.ReadAll(conn) // until the client's half-close
	var req *Request
	if err == nil {
		req, err = ParseRequest(raw)
	}
	if req != nil {
		s.mu.Lock()
		s.reqs = append(s.reqs, req)
		s.mu.Unlock()
	}
	if reply := s.handler(req, err, conn); reply != nil {
		conn.Write(reply)
	}
}

// Requests returns the requests parsed so far, in arrival order.
func (s *Server) Requests() []*Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Request(nil), s.reqs...)
}
