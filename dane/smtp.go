package dane

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"time"
)

// STARTTLS outcomes.
var (
	// ErrNoSTARTTLS: the server's EHLO reply did not offer STARTTLS.
	ErrNoSTARTTLS = errors.New("dane: server did not offer STARTTLS")
	// ErrSTARTTLSRefused: the server rejected the STARTTLS command or
	// the SMTP dialogue before it failed.
	ErrSTARTTLSRefused = errors.New("dane: STARTTLS failed")
)

// StartTLS speaks just enough SMTP on conn to start TLS: it reads the
// greeting, sends EHLO helo, checks for STARTTLS, sends it and runs the
// TLS handshake with cfg. The returned connection is ready for the
// second EHLO. ctx bounds the whole dialogue.
func StartTLS(ctx context.Context, conn net.Conn, helo string, cfg *tls.Config) (*tls.Conn, error) {
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
		defer conn.SetDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	// A bufio.Reader of its own would be unsafe: bytes read past the
	// STARTTLS reply would be lost to the TLS layer. The server must not
	// send any, and reading line by line from a one-byte reader keeps it so.
	tp := textproto.NewReader(bufio.NewReaderSize(byteReader{conn}, 16))
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, fmt.Errorf("%w: greeting: %w", ErrSTARTTLSRefused, err)
	}
	if _, err := fmt.Fprintf(conn, "EHLO %s\r\n", helo); err != nil {
		return nil, err
	}
	_, msg, err := tp.ReadResponse(250)
	if err != nil {
		return nil, fmt.Errorf("%w: EHLO: %w", ErrSTARTTLSRefused, err)
	}
	offered := false
	for _, l := range strings.Split(msg, "\n")[1:] {
		if strings.EqualFold(strings.TrimSpace(l), "STARTTLS") {
			offered = true
		}
	}
	if !offered {
		return nil, ErrNoSTARTTLS
	}
	if _, err := conn.Write([]byte("STARTTLS\r\n")); err != nil {
		return nil, err
	}
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSTARTTLSRefused, err)
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	return tc, nil
}

// byteReader reads at most one byte at a time.
type byteReader struct{ c net.Conn }

func (b byteReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return b.c.Read(p)
}
