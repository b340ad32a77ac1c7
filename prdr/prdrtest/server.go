// Package prdrtest provides a small in-process SMTP server that answers
// the end of each message with prdr.Respond, for tests of PRDR clients.
//
// It speaks enough SMTP for a client: EHLO/HELO, MAIL (parameters
// parsed with smtp.ParseMailParams), RCPT, DATA (read with an
// smtp.DataReader: only CRLF "." CRLF ends it), BDAT
// (RFC 3030), RSET, NOOP and QUIT, one command at a time. It advertises
// PRDR, CHUNKING, PIPELINING and 8BITMIME unless told otherwise. It is
// not a mail server: messages are only recorded.
package prdrtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailpolicy/mailpolicy/prdr"
	"github.com/mailpolicy/mailpolicy/smtp"
)

// A Message is one message the server answered.
type Message struct {
	From       string
	Recipients []string // accepted at RCPT time
	Params     smtp.MailParams
	Data       []byte // as received, CRLF line ends, dot-unstuffed
	BDAT       bool
	Outcome    *prdr.Outcome
}

// Config sets the server's behaviour. Decide is required.
type Config struct {
	Decide prdr.DecideFunc
	// NoPRDR leaves PRDR out of the EHLO reply (and ignores the MAIL
	// parameter, as Exim without prdr_enable).
	NoPRDR bool
	// NoChunking leaves CHUNKING out of the EHLO reply.
	NoChunking bool
	// RejectRcpt, when set, is asked about every RCPT; a non-zero reply
	// is sent instead of 250.
	RejectRcpt func(rcpt string) smtp.Reply
	// Delay is waited before every reply after the greeting.
	Delay time.Duration
}

// A Server is a running test server.
type Server struct {
	Addr string // host:port to connect to

	cfg  Config
	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	msgs []Message
	done chan struct{}
}

// Start listens on 127.0.0.1 with a free port and serves until Close.
func Start(cfg Config) (*Server, error) {
	return StartOn("127.0.0.1:0", cfg)
}

// StartOn is Start on the given address.
func StartOn(addr string, cfg Config) (*Server, error) {
	if cfg.Decide == nil {
		return nil, fmt.Errorf("prdrtest: Config.Decide is nil")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: ln.Addr().String(), cfg: cfg, ln: ln, done: make(chan struct{})}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Messages returns the messages answered so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Close stops the server and waits for its connections to end.
func (s *Server) Close() error {
	close(s.done)
	err := s.ln.Close()
	s.wg.Wait()
	return err
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				select {
				case <-s.done:
					c.Close()
				case <-ctx.Done():
				}
			}()
			s.serve(c)
		}()
	}
}

type conn struct {
	s   *Server
	c   net.Conn
	r   *bufio.Reader
	tp  *textproto.Reader
	w   *bufio.Writer
	msg *Message
}

func (c *conn) reply(code int, text string) error {
	if c.s.cfg.Delay > 0 {
		time.Sleep(c.s.cfg.Delay)
	}
	_, err := io.WriteString(c.w, smtp.Reply{Code: code, Text: strings.Split(text, "\n")}.Wire())
	if err == nil {
		err = c.w.Flush()
	}
	return err
}

func (s *Server) serve(nc net.Conn) {
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(2 * time.Minute))
	r := bufio.NewReader(nc)
	c := &conn{s: s, c: nc, r: r, tp: textproto.NewReader(r), w: bufio.NewWriter(nc)}
	if _, err := c.w.WriteString("220 prdrtest ESMTP\r\n"); err != nil || c.w.Flush() != nil {
		return
	}
	var bdat []byte
	for {
		line, err := c.tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		switch verb {
		case "EHLO":
			ext := []string{"prdrtest", "PIPELINING", "8BITMIME"}
			if !s.cfg.NoChunking {
				ext = append(ext, "CHUNKING")
			}
			if !s.cfg.NoPRDR {
				ext = append(ext, prdr.Keyword)
			}
			c.msg, bdat = nil, nil
			err = c.reply(250, strings.Join(ext, "\n"))
		case "HELO":
			c.msg, bdat = nil, nil
			err = c.reply(250, "prdrtest")
		case "MAIL":
			err = c.mail(arg)
			bdat = nil
		case "RCPT":
			err = c.rcpt(arg)
		case "DATA":
			if c.msg == nil || len(c.msg.Recipients) == 0 {
				err = c.reply(503, "5.5.1 no valid recipients")
				break
			}
			if err = c.reply(354, "go ahead"); err != nil {
				return
			}
			var data []byte
			data, err = readDot(c.r)
			if err != nil {
				return
			}
			err = c.finish(data, false)
		case "BDAT":
			f := strings.Fields(arg)
			n, perr := strconv.Atoi(firstOr(f, ""))
			last := len(f) == 2 && strings.EqualFold(f[1], "LAST")
			if perr != nil || n < 0 || len(f) > 2 || len(f) == 2 && !last {
				err = c.reply(501, "5.5.4 bad BDAT syntax")
				break
			}
			chunk := make([]byte, n)
			if _, err = io.ReadFull(c.r, chunk); err != nil {
				return
			}
			if c.msg == nil || len(c.msg.Recipients) == 0 {
				err = c.reply(503, "5.5.1 no valid recipients")
				break
			}
			bdat = append(bdat, chunk...)
			if !last {
				err = c.reply(250, fmt.Sprintf("2.0.0 %d octets received", n))
				break
			}
			data := bdat
			bdat = nil
			err = c.finish(data, true)
		case "RSET":
			c.msg, bdat = nil, nil
			err = c.reply(250, "2.0.0 OK")
		case "NOOP":
			err = c.reply(250, "2.0.0 OK")
		case "QUIT":
			c.reply(221, "2.0.0 bye")
			return
		default:
			err = c.reply(500, "5.5.1 unknown command")
		}
		if err != nil {
			return
		}
	}
}

func firstOr(f []string, def string) string {
	if len(f) == 0 {
		return def
	}
	return f[0]
}

// path parses "FROM:<addr> params" (or TO:) into the address and the rest.
func path(arg, prefix string) (addr, rest string, ok bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", "", false
	}
	arg = strings.TrimLeft(arg[len(prefix):], " ")
	if !strings.HasPrefix(arg, "<") {
		return "", "", false
	}
	end := strings.IndexByte(arg, '>')
	if end < 0 {
		return "", "", false
	}
	return arg[1:end], arg[end+1:], true
}

func (c *conn) mail(arg string) error {
	if c.msg != nil {
		return c.reply(503, "5.5.1 sender already given")
	}
	from, rest, ok := path(arg, "FROM:")
	if !ok {
		return c.reply(501, "5.5.4 syntax: MAIL FROM:<address>")
	}
	mp, err := smtp.ParseMailParams(strings.TrimLeft(rest, " "))
	if err != nil {
		return c.reply(501, "5.5.4 "+err.Error())
	}
	if c.s.cfg.NoPRDR {
		mp.PRDR = false
	}
	c.msg = &Message{From: from, Params: mp}
	if mp.PRDR {
		return c.reply(250, "OK, PRDR Requested")
	}
	return c.reply(250, "OK")
}

func (c *conn) rcpt(arg string) error {
	if c.msg == nil {
		return c.reply(503, "5.5.1 sender not yet given")
	}
	to, _, ok := path(arg, "TO:")
	if !ok || to == "" {
		return c.reply(501, "5.5.4 syntax: RCPT TO:<address>")
	}
	if f := c.s.cfg.RejectRcpt; f != nil {
		if rep := f(to); rep.Code != 0 {
			return c.reply(rep.Code, strings.Join(rep.Text, "\n"))
		}
	}
	c.msg.Recipients = append(c.msg.Recipients, to)
	return c.reply(250, "Accepted")
}

func (c *conn) finish(data []byte, bdat bool) error {
	m := c.msg
	c.msg = nil
	m.Data, m.BDAT = data, bdat
	if c.s.cfg.Delay > 0 {
		time.Sleep(c.s.cfg.Delay)
	}
	t := &prdr.Transaction{Requested: m.Params.PRDR, Recipients: m.Recipients}
	out, err := prdr.Respond(c.w, t, c.s.cfg.Decide)
	m.Outcome = out
	c.s.mu.Lock()
	c.s.msgs = append(c.s.msgs, *m)
	c.s.mu.Unlock()
	if err != nil {
		return err
	}
	return c.w.Flush()
}

// readDot reads DATA up to the final dot, undoing dot-stuffing.
func readDot(r *bufio.Reader) ([]byte, error) {
	return io.ReadAll(smtp.NewDataReader(r))
}
