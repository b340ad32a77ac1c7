// Command smtpsend sends one message file, unchanged, -m times over -s
// parallel SMTP sessions to a server on a loopback address: the load
// generator of scripts/bench-mta.sh for what Postfix's smtp-source
// cannot do, which is to send a message prepared beforehand (a
// DKIM-signed one, whose bytes must not change) and to spread messages
// over several recipient domains (the drain workload).
//
// Message i goes to the (i mod k)-th of the k addresses of -t. As with
// smtp-source, each message has a connection of its own (greeting,
// EHLO, MAIL, RCPT, DATA, QUIT) unless -d keeps it for the next one;
// commands are not pipelined. It prints "sent N failed F seconds S" and
// exits 1 when any message was not accepted.
//
//	smtpsend -addr 127.0.0.1:2603 -s 20 -m 500 -f alice@sender.test -t bob@bench.test -file signed.eml
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:25", "server host:port (loopback only)")
	sessions := flag.Int("s", 1, "parallel sessions")
	total := flag.Int("m", 1, "messages in all")
	from := flag.String("f", "a@sender.test", "envelope sender")
	to := flag.String("t", "bob@bench.test", "recipients, comma-separated: message i goes to the (i mod k)-th")
	file := flag.String("file", "", "message file (LF or CRLF line ends)")
	ehlo := flag.String("ehlo", "client.sender.test", "EHLO name")
	keep := flag.Bool("d", false, "keep the connection for the next message (smtp-source's -d)")
	timeout := flag.Duration("timeout", 2*time.Minute, "limit on each reply")
	source := flag.String("source", "", "local loopback IP to connect from (127.0.0.2: not the address libspf2 passes without a lookup)")
	flag.Parse()

	host, _, err := net.SplitHostPort(*addr)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("smtpsend: -addr %q: want a loopback host:port", *addr)
	}
	if *sessions < 1 || *total < 1 || *file == "" {
		log.Fatal("smtpsend: need -s >= 1, -m >= 1 and -file")
	}
	raw, err := os.ReadFile(*file)
	if err != nil {
		log.Fatalf("smtpsend: %v", err)
	}
	dialer := &net.Dialer{Timeout: *timeout}
	if *source != "" {
		ip := net.ParseIP(*source)
		if ip == nil || !ip.IsLoopback() {
			log.Fatalf("smtpsend: -source %q: want a loopback IP", *source)
		}
		dialer.LocalAddr = &net.TCPAddr{IP: ip}
	}
	rcpts := strings.Split(*to, ",")
	job := &job{
		dialer: dialer, addr: *addr, ehlo: *ehlo, from: *from, rcpts: rcpts,
		data: dataBlock(raw), total: int64(*total), timeout: *timeout, keep: *keep,
	}
	start := time.Now()
	var wg sync.WaitGroup
	for range min(*sessions, *total) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			job.session()
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	fmt.Printf("sent %d failed %d seconds %.3f\n", job.sent.Load(), job.failed.Load(), secs)
	if e := job.firstErr.Load(); e != nil {
		fmt.Fprintf(os.Stderr, "smtpsend: first error: %v\n", *e)
	}
	if job.failed.Load() > 0 {
		os.Exit(1)
	}
}

type job struct {
	dialer           *net.Dialer
	addr, ehlo, from string
	rcpts            []string
	data             []byte
	total            int64
	timeout          time.Duration
	keep             bool // one connection for many messages

	next, sent, failed atomic.Int64
	firstErr           atomic.Pointer[error]
}

// take returns the index of the next message to send, or false when all
// have been handed out.
func (j *job) take() (int64, bool) {
	i := j.next.Add(1) - 1
	return i, i < j.total
}

func (j *job) fail(err error) {
	j.failed.Add(1)
	j.firstErr.CompareAndSwap(nil, &err)
}

// session sends messages until none are left, on one connection with
// -d; a broken connection fails the message it was sending and the
// session reconnects for the next one.
func (j *job) session() {
	var c *conn
	quit := func() {
		if c != nil {
			c.cmd("QUIT", "221")
			c.Close()
			c = nil
		}
	}
	defer quit()
	for {
		i, ok := j.take()
		if !ok {
			return
		}
		if c == nil {
			var err error
			if c, err = j.dial(); err != nil {
				j.fail(err)
				continue
			}
		}
		rcpt := j.rcpts[int(i)%len(j.rcpts)]
		if err := j.send(c, rcpt); err != nil {
			j.fail(err)
			var reject *replyError
			if !errors.As(err, &reject) { // the connection is in an unknown state
				c.Close()
				c = nil
			} else if _, err := c.cmd("RSET", "250"); err != nil {
				c.Close()
				c = nil
			}
			continue
		}
		j.sent.Add(1)
		if !j.keep {
			quit()
		}
	}
}

func (j *job) dial() (*conn, error) {
	nc, err := j.dialer.Dial("tcp", j.addr)
	if err != nil {
		return nil, err
	}
	c := &conn{Conn: nc, br: bufio.NewReader(nc), timeout: j.timeout}
	if _, err := c.reply("220"); err != nil {
		c.Close()
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if _, err := c.cmd("EHLO "+j.ehlo, "250"); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (j *job) send(c *conn, rcpt string) error {
	if _, err := c.cmd("MAIL FROM:<"+j.from+">", "250"); err != nil {
		return err
	}
	if _, err := c.cmd("RCPT TO:<"+rcpt+">", "250"); err != nil {
		return err
	}
	if _, err := c.cmd("DATA", "354"); err != nil {
		return err
	}
	c.SetDeadline(time.Now().Add(j.timeout))
	if _, err := c.Write(j.data); err != nil {
		return err
	}
	_, err := c.reply("250")
	return err
}

type conn struct {
	net.Conn
	br      *bufio.Reader
	timeout time.Duration
}

// replyError is a well-formed reply with an unexpected code: the
// session is still in step.
type replyError struct{ cmd, reply string }

func (e *replyError) Error() string { return e.cmd + ": " + e.reply }

func (c *conn) cmd(line, want string) (string, error) {
	c.SetDeadline(time.Now().Add(c.timeout))
	if _, err := c.Write([]byte(line + "\r\n")); err != nil {
		return "", err
	}
	r, err := c.reply(want)
	var re *replyError
	if errors.As(err, &re) {
		re.cmd = strings.Fields(line)[0]
	}
	return r, err
}

// reply reads one possibly multi-line reply and checks its code.
func (c *conn) reply(want string) (string, error) {
	c.SetDeadline(time.Now().Add(c.timeout))
	var all strings.Builder
	for {
		line, err := c.br.ReadString('\n')
		if err != nil {
			return "", err
		}
		all.WriteString(line)
		if len(line) < 4 {
			return "", fmt.Errorf("short reply line %q", line)
		}
		if line[3] == ' ' {
			break
		}
	}
	r := strings.TrimSpace(all.String())
	if want != "" && !strings.HasPrefix(r, want) {
		return r, &replyError{reply: r}
	}
	return r, nil
}

// dataBlock turns a message file into what follows DATA: CRLF line
// ends, leading dots doubled, and the final ".".
func dataBlock(raw []byte) []byte {
	raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	if len(raw) > 0 && raw[len(raw)-1] != '\n' {
		raw = append(raw, '\n')
	}
	var b bytes.Buffer
	for _, line := range bytes.SplitAfter(raw, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if line[0] == '.' {
			b.WriteByte('.')
		}
		b.Write(line[:len(line)-1])
		b.WriteString("\r\n")
	}
	b.WriteString(".\r\n")
	return b.Bytes()
}
