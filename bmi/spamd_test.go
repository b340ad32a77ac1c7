package bmi

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func spamdTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "spamd", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseSpamdBytes(b []byte, cmd SpamdCommand, max int) (*SpamdResult, error) {
	return parseReply(bufio.NewReaderSize(bytes.NewReader(b), maxReplyLine), cmd, max)
}

// Replies captured from the real spamd 4.0.1 (see testdata/spamd/README).
func TestParseSpamdReplyCaptured(t *testing.T) {
	type res struct {
		spam             bool
		score, threshold float64
		symbols          []string
		reportHas        string
	}
	cases := []struct {
		file string
		cmd  SpamdCommand
		want res
	}{
		{"gtube-symbols-strict.reply", SpamdSymbols, res{true, 1000, 1, []string{"GTUBE", "NO_RECEIVED", "NO_RELAYS"}, ""}},
		{"clean-symbols.reply", SpamdSymbols, res{false, 0, 5, []string{"NO_RECEIVED", "NO_RELAYS"}, ""}},
		{"marker-symbols-lenient.reply", SpamdSymbols, res{false, 3, 15, []string{"MAILPOLICY_MARKER", "NO_RECEIVED", "NO_RELAYS"}, ""}},
		{"marker-symbols-strict.reply", SpamdSymbols, res{true, 3, 1, []string{"MAILPOLICY_MARKER", "NO_RECEIVED", "NO_RELAYS"}, ""}},
		{"gtube-report-strict.reply", SpamdReport, res{true, 1000, 1, []string{"NO_RECEIVED", "NO_RELAYS", "GTUBE"}, "has identified this incoming email as possible spam"}},
		{"clean-report.reply", SpamdReport, res{false, 0, 5, []string{"NO_RECEIVED", "NO_RELAYS"}, "has NOT identified"}},
		{"marker-report-lenient.reply", SpamdReport, res{false, 3, 15, []string{"NO_RECEIVED", "NO_RELAYS", "MAILPOLICY_MARKER"}, "(3.0 points, 15.0 required)"}},
		{"gtube-check-lenient.reply", SpamdCheck, res{true, 1000, 15, nil, ""}},
		{"clean-check.reply", SpamdCheck, res{false, 0, 5, nil, ""}},
	}
	for _, c := range cases {
		got, err := parseSpamdBytes(spamdTestdata(t, c.file), c.cmd, MaxSpamdReply)
		if err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		if got.Spam != c.want.spam || got.Score != c.want.score || got.Threshold != c.want.threshold ||
			!reflect.DeepEqual(got.Symbols, c.want.symbols) {
			t.Errorf("%s: got %+v, want %+v", c.file, got, c.want)
		}
		if !strings.Contains(got.Report, c.want.reportHas) || (c.cmd != SpamdReport) != (got.Report == "") {
			t.Errorf("%s: report %q", c.file, got.Report)
		}
		// Every strict prefix is truncated, never accepted.
		b := spamdTestdata(t, c.file)
		for i := range len(b) {
			if _, err := parseSpamdBytes(b[:i], c.cmd, MaxSpamdReply); !isReplyError(err) {
				t.Fatalf("%s truncated to %d: %v", c.file, i, err)
			}
		}
		// And a limit below the reply size is refused.
		if _, err := parseSpamdBytes(b, c.cmd, len(b)-1); !isReplyError(err) {
			t.Errorf("%s with limit %d: %v", c.file, len(b)-1, err)
		}
	}

	if _, err := parseSpamdBytes(spamdTestdata(t, "ping.reply"), spamdPing, 100); err != nil {
		t.Errorf("ping: %v", err)
	}
	for file, code := range map[string]int{
		"error-bad-protocol.reply":    76,
		"error-unknown-command.reply": 76,
		"error-no-length.reply":       79,
	} {
		_, err := parseSpamdBytes(spamdTestdata(t, file), SpamdSymbols, MaxSpamdReply)
		var se *SpamdError
		if !errors.As(err, &se) || se.Code != code {
			t.Errorf("%s: %v, want code %d", file, err, code)
		}
	}
	e := &SpamdError{Code: 76, Message: "Bad header line: BOGUS SPAMC/1.5"}
	if got := e.Error(); got != "bmi: spamd: error 76 EX_PROTOCOL: Bad header line: BOGUS SPAMC/1.5" {
		t.Errorf("SpamdError text %q", got)
	}
}

func isReplyError(err error) bool {
	var re *ReplyError
	return errors.As(err, &re)
}

func TestParseSpamdReplyMalformed(t *testing.T) {
	ok := "SPAMD/1.1 0 EX_OK\r\nContent-length: 5\r\nSpam: True ; 7.5 / 5.0\r\n\r\nA,B_C"
	if r, err := parseSpamdBytes([]byte(ok), SpamdSymbols, 1000); err != nil || !r.Spam || r.Score != 7.5 ||
		!reflect.DeepEqual(r.Symbols, []string{"A", "B_C"}) {
		t.Fatalf("baseline: %+v %v", r, err)
	}
	cases := []struct {
		name, reply string
		cmd         SpamdCommand
	}{
		{"empty", "", SpamdSymbols},
		{"garbage", "HTTP/1.1 200 OK\r\n\r\n", SpamdSymbols},
		{"no version", "SPAMD/ 0 EX_OK\r\n", SpamdSymbols},
		{"bad version", "SPAMD/1.x 0 EX_OK\r\n", SpamdSymbols},
		{"no code", "SPAMD/1.1 EX_OK\r\n", SpamdSymbols},
		{"huge code", "SPAMD/1.1 00000000000000000001 X\r\n", SpamdSymbols},
		{"status only", "SPAMD/1.1 0 EX_OK\r\n", SpamdSymbols},
		{"no Spam header", "SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\n\r\n", SpamdSymbols},
		{"bad Spam flag", "SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\nSpam: Maybe ; 1 / 5\r\n\r\n", SpamdSymbols},
		{"bad score", "SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\nSpam: True ; x / 5\r\n\r\n", SpamdSymbols},
		{"NaN score", "SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\nSpam: True ; NaN / 5\r\n\r\n", SpamdSymbols},
		{"Inf threshold", "SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\nSpam: True ; 1 / Inf\r\n\r\n", SpamdSymbols},
		{"hex score", "SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\nSpam: True ; 0x10 / 5\r\n\r\n", SpamdSymbols},
		{"no threshold", "SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\nSpam: True ; 1\r\n\r\n", SpamdSymbols},
		{"dup Spam", "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1 / 5\r\nSpam: True ; 1 / 5\r\n\r\n", SpamdCheck},
		{"no length", "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1 / 5\r\n\r\nA", SpamdSymbols},
		{"dup length", "SPAMD/1.1 0 EX_OK\r\nContent-length: 1\r\nContent-length: 1\r\nSpam: True ; 1 / 5\r\n\r\nA", SpamdSymbols},
		{"negative length", "SPAMD/1.1 0 EX_OK\r\nContent-length: -1\r\nSpam: True ; 1 / 5\r\n\r\n", SpamdSymbols},
		{"huge length", "SPAMD/1.1 0 EX_OK\r\nContent-length: 99999999999999\r\nSpam: True ; 1 / 5\r\n\r\n", SpamdSymbols},
		{"length over limit", "SPAMD/1.1 0 EX_OK\r\nContent-length: 2000\r\nSpam: True ; 1 / 5\r\n\r\n", SpamdSymbols},
		{"short body", "SPAMD/1.1 0 EX_OK\r\nContent-length: 10\r\nSpam: True ; 1 / 5\r\n\r\nA,B", SpamdSymbols},
		{"bad header line", "SPAMD/1.1 0 EX_OK\r\nSpam True\r\n\r\n", SpamdCheck},
		{"header without end", "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1 / 5\r\n", SpamdCheck},
		{"control char", "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1 / 5\x00\r\n\r\n", SpamdCheck},
		{"bad symbol", "SPAMD/1.1 0 EX_OK\r\nContent-length: 5\r\nSpam: True ; 1 / 5\r\n\r\nA,B C", SpamdSymbols},
		{"empty symbol", "SPAMD/1.1 0 EX_OK\r\nContent-length: 3\r\nSpam: True ; 1 / 5\r\n\r\nA,,", SpamdSymbols},
		{"body on CHECK", "SPAMD/1.1 0 EX_OK\r\nContent-length: 1\r\nSpam: True ; 1 / 5\r\n\r\nA", SpamdCheck},
		{"no PONG", "SPAMD/1.5 0 PING\r\n", spamdPing},
		{"long line", "SPAMD/1.1 0 EX_OK\r\nX: " + strings.Repeat("a", 5000) + "\r\n\r\n", SpamdCheck},
		{"header over limit", "SPAMD/1.1 0 EX_OK\r\nX: " + strings.Repeat("a", 990) + "\r\n\r\n", SpamdCheck},
	}
	for _, c := range cases {
		r, err := parseSpamdBytes([]byte(c.reply), c.cmd, 1000)
		if !isReplyError(err) {
			t.Errorf("%s: %+v, %v; want *ReplyError", c.name, r, err)
		}
	}
	// Tolerated: LF line ends, Yes/No, unknown headers, a trailing
	// newline after the symbols, an empty SYMBOLS body.
	tolerated := []struct {
		reply string
		cmd   SpamdCommand
		want  SpamdResult
	}{
		{"SPAMD/1.1 0 EX_OK\nSpam: Yes ; 5 / 5\nDidSet: local\n\n", SpamdCheck, SpamdResult{Spam: true, Score: 5, Threshold: 5}},
		{"SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\nSpam: No ; -2.5 / 5.0\r\n\r\n", SpamdSymbols, SpamdResult{Score: -2.5, Threshold: 5}},
		{"SPAMD/1.1 0 EX_OK\r\nContent-length: 4\r\nSpam: No ; 0 / 5\r\n\r\nA,B\n", SpamdSymbols, SpamdResult{Threshold: 5, Symbols: []string{"A", "B"}}},
		{"SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\nSpam: False ; 0 / 5\r\n\r\n", SpamdCheck, SpamdResult{Threshold: 5}},
	}
	for _, c := range tolerated {
		r, err := parseSpamdBytes([]byte(c.reply), c.cmd, 1000)
		if err != nil || !reflect.DeepEqual(*r, c.want) {
			t.Errorf("%q: %+v %v, want %+v", c.reply, r, err, c.want)
		}
	}
}

func TestReportSymbols(t *testing.T) {
	report := "Content analysis details:   (6.1 points, 5.0 required)\n\n" +
		" pts rule name              description\n" +
		"---- ---------------------- --------------------------------------------------\n" +
		" 2.5 SOME_RULE              A description that is long enough to be wrapped\n" +
		"                            [continued here 1.0 NOT_A_RULE]\n" +
		"-0.1 NEG_RULE               negative\n" +
		"1000 GTUBE                  BODY: Generic Test\n" +
		"\n" +
		" 9.9 AFTER_TABLE            not in the table\n"
	got := reportSymbols(report)
	if want := []string{"SOME_RULE", "NEG_RULE", "GTUBE"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := reportSymbols("no table here\n"); got != nil {
		t.Errorf("no table: %v", got)
	}
}

// spamdRequest is what the scripted server saw.
type spamdRequest struct {
	verb, user    string
	hasUser       bool
	contentLength int
	body          []byte
	extra         bool // bytes after Content-length
}

// spamdServer is an in-process scripted spamd on 127.0.0.1:0.
type spamdServer struct {
	t      *testing.T
	ln     net.Listener
	reply  func(req *spamdRequest) string // nil: answer by score marker
	delay  time.Duration                  // before replying
	silent bool                           // never reply
	mu     sync.Mutex
	reqs   []*spamdRequest
	wg     sync.WaitGroup
}

func newSpamdServer(t *testing.T) *spamdServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &spamdServer{t: t, ln: ln}
	done := make(chan struct{})
	srv.wg.Add(1)
	go func() {
		defer srv.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			srv.wg.Add(1)
			go func() {
				defer srv.wg.Done()
				defer c.Close()
				srv.serve(c, done)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		close(done)
		srv.wg.Wait()
	})
	return srv
}

// set changes the script under the lock: fields reply, delay and
// silent may only be written through it once the server runs.
func (srv *spamdServer) set(f func(*spamdServer)) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	f(srv)
}

func (srv *spamdServer) addr() string { return srv.ln.Addr().String() }

func (srv *spamdServer) requests() []*spamdRequest {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return append([]*spamdRequest(nil), srv.reqs...)
}

func (srv *spamdServer) serve(c net.Conn, done chan struct{}) {
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	req := &spamdRequest{contentLength: -1}
	line, err := br.ReadString('\n')
	if err != nil {
		return
	}
	req.verb, _, _ = strings.Cut(line, " ")
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		k, v, _ := strings.Cut(line, ": ")
		switch k {
		case "Content-length":
			req.contentLength, _ = strconv.Atoi(v)
		case "User":
			req.user, req.hasUser = v, true
		}
	}
	if req.contentLength > 0 {
		req.body = make([]byte, req.contentLength)
		if _, err := io.ReadFull(br, req.body); err != nil {
			return
		}
		// Nothing may follow the announced body.
		c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		if n, _ := br.Read(make([]byte, 1)); n > 0 {
			req.extra = true
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
	}
	srv.mu.Lock()
	srv.reqs = append(srv.reqs, req)
	replyFn, delay, silent := srv.reply, srv.delay, srv.silent
	srv.mu.Unlock()
	if silent {
		<-done
		return
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-done:
			return
		}
	}
	var reply string
	if replyFn != nil {
		reply = replyFn(req)
	} else {
		reply = spamdScriptedReply(req)
	}
	io.WriteString(c, reply)
}

// spamdScriptedReply answers like spamd: the score is 1000 with GTUBE
// in the body, else 3 with MARKER, else 0; the threshold is 1 for user
// "strict", 15 for "lenient", else 5.
func spamdScriptedReply(req *spamdRequest) string {
	if req.verb == "PING" {
		return "SPAMD/1.5 0 PONG\r\n"
	}
	score, syms := 0.0, "NO_RELAYS"
	switch {
	case bytes.Contains(req.body, []byte("GTUBE")):
		score, syms = 1000, "GTUBE,NO_RELAYS"
	case bytes.Contains(req.body, []byte("MARKER")):
		score, syms = 3, "MAILPOLICY_MARKER,NO_RELAYS"
	}
	threshold := 5.0
	switch req.user {
	case "strict":
		threshold = 1
	case "lenient":
		threshold = 15
	}
	flag := "False"
	if score >= threshold {
		flag = "True"
	}
	spam := "Spam: " + flag + " ; " + strconv.FormatFloat(score, 'f', 1, 64) + " / " + strconv.FormatFloat(threshold, 'f', 1, 64) + "\r\n"
	if req.verb == "CHECK" {
		return "SPAMD/1.1 0 EX_OK\r\n" + spam + "\r\n"
	}
	return "SPAMD/1.1 0 EX_OK\r\nContent-length: " + strconv.Itoa(len(syms)) + "\r\n" + spam + "\r\n" + syms
}

func spamdMessage(body string, rcpts ...Recipient) *Message {
	return &Message{
		Sender:     "alice@example.org",
		Recipients: rcpts,
		Header:     []byte("From: alice@example.org\r\nSubject: test\r\n"),
		Body:       []byte(body),
	}
}

func rcpt(addr string, optin ...string) Recipient { return Recipient{Address: addr, OptIn: optin} }

func TestSpamdScanGroupsByProfile(t *testing.T) {
	srv := newSpamdServer(t)
	s := &Spamd{Addr: srv.addr(), Rules: map[string]int{"GTUBE": 1, "MAILPOLICY_MARKER": 7, "NO_RELAYS": 3}}
	m := spamdMessage("hello MARKER\r\n",
		rcpt("a@x", "strict"), rcpt("b@x"), rcpt("c@x", "lenient", "strict"),
		rcpt("d@x", "strict", "other"), rcpt("e@x"))
	vs, err := s.Scan(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	want := Verdicts{
		{Recipients: []string{"a@x", "d@x"}, Destination: Alternate, AltLocation: "spam", Rules: []int{3, 7}},
		{Recipients: []string{"b@x", "e@x"}, Rules: []int{3, 7}},
		{Recipients: []string{"c@x"}, Rules: []int{3, 7}},
	}
	if !reflect.DeepEqual(vs, want) {
		t.Fatalf("got %+v\nwant %+v", vs, want)
	}
	for i := range vs {
		if err := vs[i].Validate(); err != nil {
			t.Error(err)
		}
	}
	reqs := srv.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3 (one per profile)", len(reqs))
	}
	users := map[string]bool{}
	for _, r := range reqs {
		if r.verb != "SYMBOLS" {
			t.Errorf("verb %q", r.verb)
		}
		if r.hasUser != (r.user != "") {
			t.Errorf("User header %q sent=%v", r.user, r.hasUser)
		}
		users[r.user] = true
		wantBody := "From: alice@example.org\r\nSubject: test\r\n\r\nhello MARKER\r\n"
		if string(r.body) != wantBody || r.contentLength != len(wantBody) || r.extra {
			t.Errorf("body %q (Content-length %d, extra %v)", r.body, r.contentLength, r.extra)
		}
	}
	if !reflect.DeepEqual(users, map[string]bool{"strict": true, "": true, "lenient": true}) {
		t.Errorf("users %v", users)
	}
}

func TestSpamdScanScores(t *testing.T) {
	srv := newSpamdServer(t)
	cases := []struct {
		name string
		s    Spamd
		body string
		want Destination
		rule []int
	}{
		{"gtube default", Spamd{}, "GTUBE", Alternate, []int{1}},
		{"clean default", Spamd{}, "hello", Default, nil},
		{"marker under threshold", Spamd{}, "MARKER", Default, nil},
		{"marker AltScore", Spamd{AltScore: 2.5}, "MARKER", Alternate, nil},
		{"gtube AltScore high", Spamd{AltScore: 2000}, "GTUBE", Default, []int{1}},
		{"gtube NoneScore", Spamd{NoneScore: 500}, "GTUBE", None, []int{1}},
		{"marker NoneScore", Spamd{NoneScore: 500}, "MARKER", Default, nil},
		{"check", Spamd{Command: SpamdCheck}, "GTUBE", Alternate, nil},
	}
	for _, c := range cases {
		s := c.s
		s.Addr = srv.addr()
		s.Rules = map[string]int{"GTUBE": 1, "BOGUS": 0}
		s.AltLocation = "Junk"
		vs, err := s.Scan(context.Background(), spamdMessage(c.body, rcpt("a@x")))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		v := vs[0]
		if v.Destination != c.want || !reflect.DeepEqual(v.Rules, c.rule) || v.Err != "" {
			t.Errorf("%s: %+v", c.name, v)
		}
		if (v.Destination == Alternate) != (v.AltLocation == "Junk") {
			t.Errorf("%s: AltLocation %q", c.name, v.AltLocation)
		}
	}
}

func TestSpamdComposeMessage(t *testing.T) {
	for _, c := range []struct{ h, b, want string }{
		{"A: 1\r\n", "x", "A: 1\r\n\r\nx"},
		{"A: 1\n", "x\n", "A: 1\n\nx\n"},
		{"", "x", "\r\nx"},
		{"A: 1\nB: 2\r\n", "", "A: 1\nB: 2\r\n\r\n"},
	} {
		for _, m := range []*Message{
			{Header: []byte(c.h), Body: []byte(c.b)},
			{Header: []byte(c.h), BodyReader: strings.NewReader(c.b + "not part of it"), BodySize: int64(len(c.b))},
		} {
			got, err := composeMessage(m)
			if string(got) != c.want || err != nil || m.Size() != int64(len(c.want)) {
				t.Errorf("%q+%q (reader %v): %q, %v, size %d; want %q", c.h, c.b, m.BodyReader != nil, got, err, m.Size(), c.want)
			}
		}
	}
	// LF-only message: sent as is, exact Content-length.
	srv := newSpamdServer(t)
	m := &Message{Recipients: []Recipient{rcpt("a@x")}, Header: []byte("A: 1\n"), Body: []byte("ü\n")}
	if _, err := (&Spamd{Addr: srv.addr()}).Scan(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	r := srv.requests()[0]
	if string(r.body) != "A: 1\n\nü\n" || r.contentLength != len(r.body) || r.extra {
		t.Errorf("%+v", r)
	}
}

// failReader fails the test when anything reads it.
type failReader struct{ t *testing.T }

func (f failReader) Read([]byte) (int, error) {
	f.t.Error("body read although the message is over MaxSize")
	return 0, io.EOF
}

// A body given as a reader: over MaxSize it is not read at all (the
// point of BodyReader: a large message never comes into memory); a
// reader shorter than BodySize is an i/o error verdict, not a scan of
// a truncated message.
func TestSpamdBodyReader(t *testing.T) {
	srv := newSpamdServer(t)
	sd := &Spamd{Addr: srv.addr(), MaxSize: 100}
	big := &Message{Recipients: []Recipient{rcpt("a@x")}, Header: []byte("A: 1\n"), BodyReader: failReader{t}, BodySize: 200}
	vs, err := sd.Scan(context.Background(), big)
	if err != nil || len(vs) != 1 || vs[0].Err != errTextTooLarge {
		t.Fatalf("over MaxSize: %v %+v", err, vs)
	}
	short := &Message{Recipients: []Recipient{rcpt("a@x")}, Header: []byte("A: 1\n"), BodyReader: strings.NewReader("abc"), BodySize: 10}
	vs, err = sd.Scan(context.Background(), short)
	if err != nil || len(vs) != 1 || vs[0].Err != errTextIO {
		t.Fatalf("short reader: %v %+v", err, vs)
	}
	if n := len(srv.requests()); n != 0 {
		t.Errorf("%d requests sent for messages that could not be scanned", n)
	}
}

func TestSpamdScanFailures(t *testing.T) {
	ctx := context.Background()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := closed.Addr().String()
	closed.Close()

	reply := func(s string) func(*spamdRequest) string { return func(*spamdRequest) string { return s } }
	cases := []struct {
		name    string
		reply   func(*spamdRequest) string
		delay   time.Duration
		silent  bool
		addr    string
		wantErr string
	}{
		{name: "refused", addr: refused, wantErr: "spamd: connection failed"},
		{name: "error code", reply: reply("SPAMD/1.0 76 Bad header line: x\r\n"), wantErr: "spamd: error 76 EX_PROTOCOL"},
		{name: "unknown code", reply: reply("SPAMD/1.0 12 odd\r\n"), wantErr: "spamd: error 12"},
		{name: "half reply", reply: reply("SPAMD/1.1 0 EX_OK\r\nContent-length: 10\r\nSpam: True ; 1 / 5\r\n\r\nGT"), wantErr: "spamd: malformed reply: truncated"},
		{name: "garbage", reply: reply("220 smtp.example ESMTP\r\n"), wantErr: "spamd: malformed reply: bad status line"},
		{name: "closed", reply: reply(""), wantErr: "spamd: malformed reply: truncated"},
		{name: "oversized", reply: reply("SPAMD/1.1 0 EX_OK\r\nContent-length: 2000000\r\nSpam: True ; 1 / 5\r\n\r\n" + strings.Repeat("A,", 1000)), wantErr: "spamd: malformed reply: reply too large"},
		{name: "oversized headers", reply: reply("SPAMD/1.1 0 EX_OK\r\n" + strings.Repeat("X-Filler: "+strings.Repeat("a", 1000)+"\r\n", 1100)), wantErr: "spamd: malformed reply: reply too large"},
		{name: "slow", delay: 5 * time.Second, wantErr: "spamd: timeout"},
		{name: "silent", silent: true, wantErr: "spamd: timeout"},
	}
	for _, c := range cases {
		addr := c.addr
		if addr == "" {
			srv := newSpamdServer(t)
			srv.set(func(srv *spamdServer) { srv.reply, srv.delay, srv.silent = c.reply, c.delay, c.silent })
			addr = srv.addr()
		}
		s := &Spamd{Addr: addr, Timeout: 300 * time.Millisecond}
		start := time.Now()
		vs, err := s.Scan(ctx, spamdMessage("GTUBE", rcpt("a@x", "strict"), rcpt("b@x", "strict"), rcpt("c@x")))
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("%s: took %v", c.name, took)
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if len(vs) != 2 || len(vs[0].Recipients) != 2 {
			t.Fatalf("%s: %+v", c.name, vs)
		}
		for _, v := range vs {
			if v.Err != c.wantErr || v.Destination != Default || v.Rules != nil || v.AltLocation != "" {
				t.Errorf("%s: %+v, want Err %q", c.name, v, c.wantErr)
			}
			if err := v.Validate(); err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
		}
	}
}

func TestSpamdScanContext(t *testing.T) {
	srv := newSpamdServer(t)
	srv.set(func(srv *spamdServer) { srv.silent = true })
	s := &Spamd{Addr: srv.addr()} // default 60 s timeout: only ctx bounds it
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	vs, err := s.Scan(ctx, spamdMessage("x", rcpt("a@x", "p1"), rcpt("b@x", "p2")))
	if !errors.Is(err, context.DeadlineExceeded) || vs != nil {
		t.Errorf("got %v, %v", vs, err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %v", took)
	}
	// Request's errors keep the context's.
	ctx2, cancel2 := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel2)
	_, err = s.Request(ctx2, "", []byte("x"))
	var ce *ConnError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &ce) || ce.Op != "read" {
		t.Errorf("Request: %v", err)
	}
	// A context already done: no request.
	n := len(srv.requests())
	if _, err := s.Scan(ctx, spamdMessage("x", rcpt("a@x"))); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("done ctx: %v", err)
	}
	if len(srv.requests()) != n {
		t.Error("request sent with a done context")
	}
}

func TestSpamdScanUnusable(t *testing.T) {
	srv := newSpamdServer(t)
	s := &Spamd{Addr: srv.addr()}
	ctx := context.Background()
	if _, err := s.Scan(ctx, nil); err == nil {
		t.Error("nil message")
	}
	if _, err := s.Scan(ctx, &Message{}); err == nil {
		t.Error("no recipients")
	}
	bad := &Spamd{Addr: srv.addr(), AltLocation: "Junk\r\nX: y"}
	if _, err := bad.Scan(ctx, spamdMessage("x", rcpt("a@x"))); err == nil {
		t.Error("unclean AltLocation")
	}
	for _, a := range []string{"", "a@x\r\nb@y"} {
		if _, err := s.Scan(ctx, spamdMessage("x", rcpt(a))); err == nil {
			t.Errorf("recipient %q accepted", a)
		}
	}
	if len(srv.requests()) != 0 {
		t.Error("requests sent")
	}
}

func TestSpamdScanProfileAndSize(t *testing.T) {
	srv := newSpamdServer(t)
	s := &Spamd{Addr: srv.addr(), MaxSize: 100, Rules: map[string]int{"GTUBE": 1}}
	ctx := context.Background()
	m := spamdMessage("GTUBE", rcpt("a@x", "bad profile"), rcpt("b@x", "ok"), rcpt("c@x", "x\r\nUser: y"),
		rcpt("d@x", strings.Repeat("p", 300)))
	vs, err := s.Scan(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	want := Verdicts{
		{Recipients: []string{"a@x"}, Err: "invalid spamd profile"},
		{Recipients: []string{"b@x"}, Destination: Alternate, AltLocation: "spam", Rules: []int{1}},
		{Recipients: []string{"c@x"}, Err: "invalid spamd profile"},
		{Recipients: []string{"d@x"}, Err: "invalid spamd profile"},
	}
	if !reflect.DeepEqual(vs, want) {
		t.Errorf("got %+v", vs)
	}
	if n := len(srv.requests()); n != 1 {
		t.Errorf("%d requests", n)
	}

	big := spamdMessage(strings.Repeat("x", 100), rcpt("a@x"), rcpt("b@x", "p"))
	vs, err = s.Scan(ctx, big)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if v.Err != "message too large for spamd" || v.Destination != Default {
			t.Errorf("too large: %+v", v)
		}
	}
	if n := len(srv.requests()); n != 1 {
		t.Errorf("%d requests after a too large message", n)
	}
	if _, err := s.Request(ctx, "", make([]byte, 101)); !errors.Is(err, ErrSpamdTooLarge) {
		t.Errorf("Request too large: %v", err)
	}
	if _, err := s.Request(ctx, "a b", nil); !errors.Is(err, ErrSpamdUser) {
		t.Errorf("Request bad user: %v", err)
	}

	// A custom Profile function.
	s2 := &Spamd{Addr: srv.addr(), Profile: func(r Recipient) string { return strings.ToUpper(r.Address[:1]) }}
	if _, err := s2.Scan(ctx, spamdMessage("x", rcpt("a@x", "q"), rcpt("b@x"), rcpt("a2@x"))); err != nil {
		t.Fatal(err)
	}
	reqs := srv.requests()[1:]
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	for _, r := range reqs {
		if r.user != "A" && r.user != "B" {
			t.Errorf("user %q", r.user)
		}
	}
}

func TestSpamdConcurrencyLimit(t *testing.T) {
	for _, limit := range []int{1, 3} {
		srv := newSpamdServer(t)
		srv.set(func(srv *spamdServer) { srv.delay = 50 * time.Millisecond })
		d := &countingDialer{}
		s := &Spamd{Addr: srv.addr(), Concurrency: limit, Dialer: d}
		var rs []Recipient
		for i := range 8 {
			rs = append(rs, rcpt("r"+strconv.Itoa(i)+"@x", "p"+strconv.Itoa(i)))
		}
		vs, err := s.Scan(context.Background(), spamdMessage("x", rs...))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			if v.Err != "" {
				t.Errorf("limit %d: %+v", limit, v)
			}
		}
		if len(vs) != 8 || len(srv.requests()) != 8 {
			t.Fatalf("limit %d: %d verdicts %d requests", limit, len(vs), len(srv.requests()))
		}
		if got := d.max.Load(); got > int32(limit) || limit > 1 && got < 2 || d.open.Load() != 0 {
			t.Errorf("limit %d: %d simultaneous requests", limit, got)
		}
	}
}

// countingDialer counts the connections open at once.
type countingDialer struct {
	net.Dialer
	open, max atomic.Int32
}

type countedConn struct {
	net.Conn
	d    *countingDialer
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.d.open.Add(-1) })
	return c.Conn.Close()
}

func (d *countingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := d.Dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	n := d.open.Add(1)
	for {
		m := d.max.Load()
		if n <= m || d.max.CompareAndSwap(m, n) {
			break
		}
	}
	return &countedConn{Conn: c, d: d}, nil
}

func TestSpamdPing(t *testing.T) {
	srv := newSpamdServer(t)
	s := &Spamd{Addr: srv.addr()}
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := srv.requests(); len(r) != 1 || r[0].verb != "PING" {
		t.Errorf("%+v", r)
	}
	srv.set(func(srv *spamdServer) {
		srv.reply = func(*spamdRequest) string { return "SPAMD/1.5 0 EX_OK\r\n" }
	})
	if err := s.Ping(context.Background()); !isReplyError(err) {
		t.Errorf("bad pong: %v", err)
	}
}

func TestSpamdCommands(t *testing.T) {
	srv := newSpamdServer(t)
	for _, cmd := range []SpamdCommand{SpamdSymbols, SpamdReport, SpamdCheck} {
		srv.set(func(srv *spamdServer) {
			srv.reply = func(req *spamdRequest) string {
				if req.verb != cmd.String() {
					return "SPAMD/1.0 76 Bad header line\r\n"
				}
				switch cmd {
				case SpamdReport:
					return string(spamdTestdata(t, "gtube-report-strict.reply"))
				case SpamdCheck:
					return string(spamdTestdata(t, "gtube-check-lenient.reply"))
				}
				return string(spamdTestdata(t, "gtube-symbols-strict.reply"))
			}
		})
		s := &Spamd{Addr: srv.addr(), Command: cmd, Rules: map[string]int{"GTUBE": 1, "NO_RELAYS": 2}}
		vs, err := s.Scan(context.Background(), spamdMessage("x", rcpt("a@x")))
		if err != nil {
			t.Fatal(err)
		}
		want := []int{1, 2}
		if cmd == SpamdCheck {
			want = nil
		}
		if v := vs[0]; v.Err != "" || v.Destination != Alternate || !reflect.DeepEqual(v.Rules, want) {
			t.Errorf("%v: %+v", cmd, v)
		}
	}
	if s := SpamdCommand(9).String(); s != "SpamdCommand(9)" {
		t.Error(s)
	}
	if _, err := (&Spamd{Command: 9}).Request(context.Background(), "", nil); err == nil {
		t.Error("unknown command accepted")
	}
}

// TestSpamdNoGoroutineLeak runs failing and succeeding scans and checks
// that the goroutine count settles back.
func TestSpamdNoGoroutineLeak(t *testing.T) {
	srv := newSpamdServer(t)
	slow := newSpamdServer(t)
	slow.set(func(srv *spamdServer) { srv.silent = true })
	runtime.GC()
	before := runtime.NumGoroutine()
	for range 5 {
		s := &Spamd{Addr: srv.addr(), Concurrency: 2}
		if _, err := s.Scan(context.Background(), spamdMessage("x", rcpt("a@x", "1"), rcpt("b@x", "2"), rcpt("c@x", "3"))); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		s = &Spamd{Addr: slow.addr(), Concurrency: 1}
		if _, err := s.Scan(ctx, spamdMessage("x", rcpt("a@x", "1"), rcpt("b@x", "2"), rcpt("c@x", "3"))); err == nil {
			t.Error("no error from a silent server")
		}
		cancel()
	}
	// Server-side handlers of the silent server stay until cleanup; the
	// client side must be gone. Allow the server goroutines (one per
	// accepted connection) by comparing after closing the silent one's
	// connections is not possible here, so count only after a settle.
	deadline := time.Now().Add(5 * time.Second)
	var now int
	for time.Now().Before(deadline) {
		now = runtime.NumGoroutine()
		if now <= before+5 { // at most one server handler per silent scan
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if now > before+5 {
		buf := make([]byte, 1<<16)
		t.Errorf("goroutines: %d before, %d after\n%s", before, now, buf[:runtime.Stack(buf, true)])
	}
}
