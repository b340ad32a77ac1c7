package proxyproto

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"time"
)

// RefusedReply is Exim's reply to every command but QUIT after a failed
// required PROXY negotiation.
const RefusedReply = "503 Command refused, required Proxy negotiation failed"

// maxCommandLine bounds a command line in QUIT-only mode; longer lines
// are answered once, as one command.
const maxCommandLine = 4096

// ReplyFor decides the reply to one command line (without CRLF) in
// QUIT-only mode: QUIT (any case, with or without arguments) gets
// "221 <hostname> closing connection" and quit is true; anything else,
// HELO and EHLO included, gets RefusedReply.
func ReplyFor(line, hostname string) (reply string, quit bool) {
	cmd := line
	if i := strings.IndexByte(cmd, ' '); i >= 0 {
		cmd = cmd[:i]
	}
	if strings.EqualFold(cmd, "QUIT") {
		return "221 " + hostname + " closing connection", true
	}
	return RefusedReply, false
}

// RefuseCommands runs QUIT-only mode on rw (normally Conn.NetConn(),
// after the banner was sent): it answers each command line with
// ReplyFor until QUIT (returns nil), EOF (io.EOF) or an error. A
// cancelled ctx ends it when rw has SetReadDeadline (a net.Conn does).
func RefuseCommands(ctx context.Context, rw io.ReadWriter, hostname string) error {
	if d, ok := rw.(interface{ SetReadDeadline(time.Time) error }); ok {
		stop := context.AfterFunc(ctx, func() { _ = d.SetReadDeadline(time.Unix(1, 0)) })
		defer stop()
	}
	br := bufio.NewReaderSize(rw, maxCommandLine)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// Overlong line: discard the rest of it.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err == nil {
				line = []byte("X") // answered as an unknown command
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		reply, quit := ReplyFor(strings.TrimRight(string(line), "\r\n"), hostname)
		if _, err := io.WriteString(rw, reply+"\r\n"); err != nil {
			return err
		}
		if quit {
			return nil
		}
	}
}
