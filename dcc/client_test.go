package dcc_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/dcc"
	"github.com/mailpolicy/mailpolicy/dcc/dcctest"
)

// notesRequest is the example exchange of the protocol notes
// (DCCIFD-PROTOCOL-NOTES.md, "Example exchange").
func notesRequest() dcc.Request {
	return dcc.Request{
		ClientIP:   netip.MustParseAddr("192.0.2.25"),
		ClientName: "mail.example.net",
		HELO:       "mail.example.net",
		Sender:     "sender@example.net",
		Recipients: []dcc.Recipient{
			{Addr: "alice@example.com", User: "alice"},
			{Addr: "bob@example.com"},
		},
		Header: []dcc.HeaderField{
			{Text: "Received: from mail.example.net ...\n"},
			{Text: "From: sender@example.net\n"},
			{Text: "Subject: test\n"},
		},
		Body: strings.NewReader("body text\n"),
	}
}

// notesGolden is the request of the notes' example, byte for byte: LF
// ends every envelope line, CR separates the IP from the host name and
// the mailbox from the user, an empty line ends the envelope, and the
// message follows as received after DATA (CRLF line ends). The one
// difference from the notes: bob has no user, and then no CR is sent
// (the notes show "bob@example.com<CR>" with an empty user; both mean
// the same to dccifd).
const notesGolden = "header\n" +
	"192.0.2.25\rmail.example.net\n" +
	"mail.example.net\n" +
	"sender@example.net\n" +
	"alice@example.com\ralice\n" +
	"bob@example.com\n" +
	"\n" +
	"Received: from mail.example.net ...\r\n" +
	"From: sender@example.net\r\n" +
	"Subject: test\r\n" +
	"\r\n" +
	"body text\r\n"

const notesHeader = "X-DCC-EXAMPLE-Metrics: mx.example.com 1234; Body=1 Fuz1=1\n"

func TestGoldenRequestAndReply(t *testing.T) {
	for _, start := range []func(testing.TB, dcctest.Handler) *dcctest.Server{dcctest.StartUnix, dcctest.StartTCP} {
		srv := start(t, dcctest.Fixed([]byte("A\nAA\n"+notesHeader+"\n")))
		c := &dcc.Client{Address: srv.Address}
		res, err := c.Check(context.Background(), notesRequest())
		if err != nil {
			t.Fatalf("%s: Check: %v", srv.Address.Network, err)
		}
		reqs := srv.Requests()
		if len(reqs) != 1 {
			t.Fatalf("%d requests", len(reqs))
		}
		if got := string(reqs[0].Raw); got != notesGolden {
			t.Errorf("%s: request bytes\n got %q\nwant %q", srv.Address.Network, got, notesGolden)
		}
		if res.Letter != 'A' || res.DCCResult != "A" || res.Outcome != dcc.OK {
			t.Errorf("result %c %q %v", res.Letter, res.DCCResult, res.Outcome)
		}
		if string(res.Recipients) != "AA" {
			t.Errorf("Recipients %q", res.Recipients)
		}
		if res.Header != notesHeader {
			t.Errorf("Header %q", res.Header)
		}
	}
}

func TestResultLetters(t *testing.T) {
	tests := []struct {
		reply   string
		letter  byte
		dccRes  string
		outcome dcc.Outcome
		rcpts   string
		ok      bool // Decide with defer_ok
	}{
		{"A\nAA\n", 'A', "A", dcc.OK, "AA", true},
		{"S\nAR\n", 'S', "A", dcc.OK, "AR", true},
		{"R\nRR\n", 'R', "R", dcc.Fail, "RR", false},
		{"G\nGG\n", 'G', "G", dcc.Fail, "GG", false},
		{"T\n\n", 'T', "T", dcc.Defer, "", false},
		{"T\n", 'T', "T", dcc.Defer, "", false},
		{"A\r\nAG\r\n", 'A', "A", dcc.OK, "AG", true},
	}
	for _, tt := range tests {
		srv := dcctest.StartUnix(t, dcctest.Fixed([]byte(tt.reply)))
		c := &dcc.Client{Address: srv.Address}
		req := notesRequest()
		res, err := c.Check(context.Background(), req)
		if err != nil {
			t.Errorf("%q: %v", tt.reply, err)
			continue
		}
		if res.Letter != tt.letter || res.DCCResult != tt.dccRes || res.Outcome != tt.outcome || string(res.Recipients) != tt.rcpts {
			t.Errorf("%q: got %c %q %v %q", tt.reply, res.Letter, res.DCCResult, res.Outcome, res.Recipients)
		}
		if res.Header != "" {
			t.Errorf("%q: Header %q", tt.reply, res.Header)
		}
		if got := dcc.Decide(res, nil, false); got != tt.outcome {
			t.Errorf("%q: Decide = %v", tt.reply, got)
		}
		wantOK := dcc.Fail
		if tt.ok {
			wantOK = dcc.OK
		}
		if got := dcc.Decide(res, nil, true); got != wantOK {
			t.Errorf("%q: Decide defer_ok = %v", tt.reply, got)
		}
	}
}

func TestPerRecipient(t *testing.T) {
	srv := dcctest.StartTCP(t, dcctest.Fixed([]byte("S\nARG\n")))
	req := notesRequest()
	req.Recipients = append(req.Recipients, dcc.Recipient{Addr: "carol@example.com"})
	res, err := (&dcc.Client{Address: srv.Address}).Check(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	want := []dcc.Outcome{dcc.OK, dcc.Fail, dcc.Fail, dcc.Defer}
	for i, w := range want {
		if got := res.RecipientOutcome(i); got != w {
			t.Errorf("RecipientOutcome(%d) = %v, want %v", i, got, w)
		}
	}
}

func TestMalformedReplies(t *testing.T) {
	for _, reply := range []string{
		"",            // closed without answering
		"X\nAA\n",     // unknown letter
		"AB\nAA\n",    // result line too long
		"\nAA\n",      // empty result line
		"A\nA\n",      // one letter for two recipients
		"A\nAAA\n",    // three letters for two recipients
		"A\nAX\n",     // bad recipient letter
		"A",           // no line end, no recipient line
		"R\n",         // no recipient line
		"a\naa\n",     // lower case
		"A\x00\nAA\n", // NUL
	} {
		srv := dcctest.StartUnix(t, dcctest.Fixed([]byte(reply)))
		res, err := (&dcc.Client{Address: srv.Address}).Check(context.Background(), notesRequest())
		var re *dcc.ReplyError
		if !errors.As(err, &re) {
			t.Errorf("%q: got %v, %v; want *ReplyError", reply, res, err)
			continue
		}
		if got := dcc.Decide(res, err, false); got != dcc.Defer {
			t.Errorf("%q: Decide = %v", reply, got)
		}
		if got := dcc.Decide(res, err, true); got != dcc.Fail {
			t.Errorf("%q: Decide defer_ok = %v", reply, got)
		}
	}
}

func TestReplyTooLong(t *testing.T) {
	srv := dcctest.StartUnix(t, dcctest.Fixed([]byte("A\nAA\n"+strings.Repeat("x", 5000))))
	_, err := (&dcc.Client{Address: srv.Address, MaxReply: 1000}).Check(context.Background(), notesRequest())
	var re *dcc.ReplyError
	if !errors.As(err, &re) {
		t.Fatalf("got %v", err)
	}
}

func TestSlowReplyTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := dcctest.StartUnix(t, func(_ *dcctest.Request, _ error, conn net.Conn) []byte {
		conn.Write([]byte("A\n")) // part of a reply, then nothing
		select {
		case <-release:
		case <-time.After(5 * time.Second):
		}
		return nil
	})
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := (&dcc.Client{Address: srv.Address}).Check(ctx, notesRequest())
	var ce *dcc.ConnError
	if !errors.As(err, &ce) || ce.Op != "read" || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestCancel(t *testing.T) {
	release := make(chan struct{})
	srv := dcctest.StartUnix(t, func(_ *dcctest.Request, _ error, conn net.Conn) []byte {
		select {
		case <-release:
		case <-time.After(5 * time.Second):
		}
		return nil
	})
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := (&dcc.Client{Address: srv.Address}).Check(ctx, notesRequest())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

// TestSlowButComplete: a reply dribbled out byte by byte is read to
// EOF and parsed whole.
func TestSlowButComplete(t *testing.T) {
	reply := "R\nRA\n" + notesHeader + "\n"
	srv := dcctest.StartTCP(t, func(_ *dcctest.Request, _ error, conn net.Conn) []byte {
		for i := range len(reply) {
			conn.Write([]byte{reply[i]})
			time.Sleep(time.Millisecond)
		}
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := (&dcc.Client{Address: srv.Address}).Check(ctx, notesRequest())
	if err != nil {
		t.Fatal(err)
	}
	if res.DCCResult != "R" || string(res.Recipients) != "RA" || res.Header != notesHeader {
		t.Errorf("got %+v", res)
	}
}

func TestDialError(t *testing.T) {
	c := &dcc.Client{Address: dcc.Address{Network: "unix", Addr: t.TempDir() + "/none"}}
	_, err := c.Check(context.Background(), notesRequest())
	var ce *dcc.ConnError
	if !errors.As(err, &ce) || ce.Op != "dial" {
		t.Fatalf("got %v", err)
	}
	if dcc.Decide(nil, err, false) != dcc.Defer || dcc.Decide(nil, err, true) != dcc.Fail {
		t.Error("Decide")
	}
}

// TestServerClosesEarly: dccifd closing the connection before reading
// the whole request is a connection or reply error, never a verdict.
func TestServerClosesEarly(t *testing.T) {
	ln, err := net.Listen("unix", t.TempDir()+"/s")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	req := notesRequest()
	req.Body = strings.NewReader(strings.Repeat("line of body text\n", 100000))
	_, err = (&dcc.Client{Address: dcc.Address{Network: "unix", Addr: ln.Addr().String()}}).Check(context.Background(), req)
	var ce *dcc.ConnError
	var re *dcc.ReplyError
	if !errors.As(err, &ce) && !errors.As(err, &re) {
		t.Fatalf("got %v", err)
	}
}

func TestRequestEncoding(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*dcc.Request)
		opts string
		want string // the request up to and including the empty line
		msg  string // the message part, "" to skip
	}{
		{"no client", func(r *dcc.Request) { r.ClientIP = netip.Addr{} }, "",
			"header\n\nmail.example.net\nsender@example.net\nalice@example.com\ralice\nbob@example.com\n\n", ""},
		{"ipv6 without name", func(r *dcc.Request) {
			r.ClientIP = netip.MustParseAddr("2001:db8::25")
			r.ClientName = ""
		}, "", "header\n2001:db8::25\nmail.example.net\nsender@example.net\nalice@example.com\ralice\nbob@example.com\n\n", ""},
		{"mapped ipv4", func(r *dcc.Request) { r.ClientIP = netip.MustParseAddr("::ffff:192.0.2.7") }, "",
			"header\n192.0.2.7\rmail.example.net\nmail.example.net\nsender@example.net\nalice@example.com\ralice\nbob@example.com\n\n", ""},
		{"override", func(r *dcc.Request) { r.OverrideClientIP = " 198.51.100.9 " }, "",
			"header\n198.51.100.9\nmail.example.net\nsender@example.net\nalice@example.com\ralice\nbob@example.com\n\n", ""},
		{"null sender, no rcpts, empty helo, options", func(r *dcc.Request) {
			r.Sender, r.Recipients, r.HELO = "", nil, ""
		}, "header grey-off query", "header grey-off query\n192.0.2.25\rmail.example.net\n\n<>\n\n", ""},
		{"deleted header and line ends", func(r *dcc.Request) {
			r.Header = []dcc.HeaderField{
				{Text: "Received: from a\r\n\tby b\n"},
				{Text: "X-Spam: yes\n", Deleted: true},
				{Text: "Subject: no newline"},
			}
			r.Body = strings.NewReader("one\ntwo\r\nthree\n\n.dot")
		}, "", "", "Received: from a\r\n\tby b\r\nSubject: no newline\r\n\r\none\r\ntwo\r\nthree\r\n\r\n.dot"},
		{"no body", func(r *dcc.Request) { r.Body = nil; r.Header = nil }, "", "", "\r\n"},
	}
	for _, tt := range tests {
		req := notesRequest()
		tt.mod(&req)
		reply := "A\n" + strings.Repeat("A", len(req.Recipients)) + "\n"
		srv := dcctest.StartUnix(t, dcctest.Fixed([]byte(reply)))
		if _, err := (&dcc.Client{Address: srv.Address, Options: tt.opts}).Check(context.Background(), req); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		got := string(srv.Requests()[0].Raw)
		if tt.want != "" && !strings.HasPrefix(got, tt.want) {
			t.Errorf("%s: got %q\nwant prefix %q", tt.name, got, tt.want)
		}
		if tt.msg != "" {
			if m := string(srv.Requests()[0].Message); m != tt.msg {
				t.Errorf("%s: message %q\nwant %q", tt.name, m, tt.msg)
			}
		}
	}
}

func TestRequestErrors(t *testing.T) {
	tests := []struct {
		field string
		mod   func(*dcc.Request)
	}{
		{"HELO", func(r *dcc.Request) { r.HELO = "a\nb" }},
		{"HELO", func(r *dcc.Request) { r.HELO = "a\rb" }},
		{"Sender", func(r *dcc.Request) { r.Sender = "a\n@b" }},
		{"ClientName", func(r *dcc.Request) { r.ClientName = "x\ny" }},
		{"Recipients[1]", func(r *dcc.Request) { r.Recipients[1].Addr = "" }},
		{"Recipients[0]", func(r *dcc.Request) { r.Recipients[0].Addr = "a\rb" }},
		{"Recipients[0].User", func(r *dcc.Request) { r.Recipients[0].User = "a\nb" }},
		{"OverrideClientIP", func(r *dcc.Request) { r.OverrideClientIP = "192.0.2.300" }},
		{"Header[1]", func(r *dcc.Request) { r.Header[1].Text = "\n" }},
		{"Header[1]", func(r *dcc.Request) { r.Header[1].Text = "From: a\n\nbody" }},
		{"Header[1]", func(r *dcc.Request) { r.Header[1].Text = "From: a\nTo: b\n" }},
	}
	dialed := false
	d := dialerFunc(func(context.Context, string, string) (net.Conn, error) {
		dialed = true
		return nil, errors.New("no")
	})
	for _, tt := range tests {
		req := notesRequest()
		tt.mod(&req)
		_, err := (&dcc.Client{Dialer: d}).Check(context.Background(), req)
		var re *dcc.RequestError
		if !errors.As(err, &re) || re.Field != tt.field {
			t.Errorf("%s: got %v", tt.field, err)
		}
	}
	if dialed {
		t.Error("dialled dccifd for a bad request")
	}
	// A deleted header is not checked.
	req := notesRequest()
	req.Header[1] = dcc.HeaderField{Text: "\n\n", Deleted: true}
	_, err := (&dcc.Client{Dialer: d}).Check(context.Background(), req)
	var ce *dcc.ConnError
	if !errors.As(err, &ce) || !dialed {
		t.Errorf("deleted bad header: %v", err)
	}
}

type dialerFunc func(ctx context.Context, network, addr string) (net.Conn, error)

func (f dialerFunc) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return f(ctx, network, addr)
}

func TestIPv6TCP(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	addr, err := dcc.ParseAddress("::1 " + port)
	if err != nil {
		t.Fatal(err)
	}
	srv := dcctest.StartListener(t, ln, dcctest.Fixed([]byte("G\nGG\n")), addr)
	res, err := (&dcc.Client{Address: srv.Address}).Check(context.Background(), notesRequest())
	if err != nil {
		t.Fatal(err)
	}
	if res.DCCResult != "G" || res.Outcome != dcc.Fail {
		t.Errorf("got %+v", res)
	}
}

func TestHostNameTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if ips, err := net.DefaultResolver.LookupHost(context.Background(), "localhost"); err != nil || len(ips) == 0 {
		ln.Close()
		t.Skipf("localhost does not resolve: %v", err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	addr, err := dcc.ParseAddress("localhost\t" + port)
	if err != nil {
		t.Fatal(err)
	}
	srv := dcctest.StartListener(t, ln, dcctest.Fixed([]byte("A\nAA\n")), addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := (&dcc.Client{Address: srv.Address}).Check(ctx, notesRequest())
	if err != nil {
		t.Skipf("localhost does not reach 127.0.0.1: %v", err)
	}
	if res.DCCResult != "A" {
		t.Errorf("got %+v", res)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk gone") }

// TestBodyReadError: a message that cannot be read completely is not
// judged by dccifd.
func TestBodyReadError(t *testing.T) {
	srv := dcctest.StartUnix(t, dcctest.Fixed([]byte("A\nAA\n")))
	req := notesRequest()
	req.Body = errReader{}
	_, err := (&dcc.Client{Address: srv.Address}).Check(context.Background(), req)
	var re *dcc.RequestError
	if !errors.As(err, &re) || re.Field != "Body" {
		t.Fatalf("got %v", err)
	}
}

func TestConcurrentChecks(t *testing.T) {
	srv := dcctest.StartTCP(t, func(req *dcctest.Request, err error, _ net.Conn) []byte {
		if err != nil {
			return []byte("X\n")
		}
		return dcctest.Reply('A', strings.Repeat("A", len(req.Recipients)), "")
	})
	c := &dcc.Client{Address: srv.Address}
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			res, err := c.Check(context.Background(), notesRequest())
			if err == nil && res.Outcome != dcc.OK {
				err = errors.New("not OK")
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := len(srv.Requests()); n != 8 {
		t.Errorf("%d requests", n)
	}
}
