package smtpd

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/smtp"
)

// connectBackend answers Connect with what the test set for the next
// connection, and records the client it was shown.
type connectBackend struct {
	mu    sync.Mutex
	reply *Reply
	seen  []netip.AddrPort
}

func (b *connectBackend) Mail(context.Context, *Conn, string, *smtp.MailParams) (Transaction, *Reply) {
	return nil, &Reply{Code: 550, Enhanced: "5.7.1", Text: "no mail"}
}

func (b *connectBackend) Connect(ctx context.Context, c *Conn) *Reply {
	if _, ok := ctx.Deadline(); !ok {
		return &Reply{Code: 554, Text: "no deadline"}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seen = append(b.seen, c.Client)
	return b.reply
}

// A Connector's reply replaces the banner and ends the session: 4xx as
// 421, 5xx as 554; nil lets the session greet as usual. The Conn it
// sees is the client.
func TestConnector(t *testing.T) {
	b := &connectBackend{}
	srv, err := New(Config{Hostname: "mx.example", Backend: b, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	}()
	greet := func(r *Reply) (string, string) {
		t.Helper()
		b.mu.Lock()
		b.reply = r
		b.mu.Unlock()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(c)
		first, _ := br.ReadString('\n')
		if r == nil {
			io.WriteString(c, "QUIT\r\n")
		}
		rest, _ := io.ReadAll(br)
		return first, string(rest)
	}
	if first, rest := greet(&Reply{Code: 451, Enhanced: "4.7.1", Text: "mx.example Too fast"}); first != "421 4.7.1 mx.example Too fast\r\n" || rest != "" {
		t.Errorf("4xx: %q then %q", first, rest)
	}
	if first, rest := greet(&Reply{Code: 550, Enhanced: "5.7.1", Text: "Go away"}); first != "554 5.7.1 Go away\r\n" || rest != "" {
		t.Errorf("5xx: %q then %q", first, rest)
	}
	if first, rest := greet(nil); !strings.HasPrefix(first, "220 mx.example ") || !strings.HasPrefix(rest, "221 ") {
		t.Errorf("nil: %q then %q", first, rest)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.seen) != 3 || b.seen[0].Addr() != netip.MustParseAddr("127.0.0.1") || b.seen[0].Port() == 0 {
		t.Errorf("Conns seen: %v", b.seen)
	}
}
