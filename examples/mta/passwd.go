package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/auth"
)

// passwd hashes the password on stdin's first line for a users file
// line "name:<hash>".
func passwd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mta passwd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kind := fs.String("kind", auth.KindArgon2id, "hash: "+auth.KindBcrypt+" or "+auth.KindArgon2id)
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: mta passwd [-kind bcrypt|argon2id] < password")
		return exitUsage
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		fmt.Fprintf(stderr, "mta passwd: no password on stdin (%v)\n", err)
		return exitUsage
	}
	h, err := auth.HashPassword(pw, *kind)
	if err != nil {
		fmt.Fprintf(stderr, "mta passwd: %v\n", err)
		return exitUsage
	}
	fmt.Fprintln(stdout, h)
	return exitOK
}
