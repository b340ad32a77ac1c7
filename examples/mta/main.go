package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/config"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the server could not start or failed
	exitUsage = 2 // the command line or the configuration is wrong
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usageText = `usage: mta [-config FILE] [flags]               serve (no arguments: a test server on 127.0.0.1:2525)
       mta [-config FILE] [flags] queue COMMAND   inspect and act on the queue (mta queue for the list)
       mta passwd [-kind bcrypt|argon2id]         hash a password read from stdin, for auth_users_file
       mta -print-config [-config FILE] [flags]   print the effective configuration

Settings come from the built-in defaults, then -config FILE (TOML), then the flags;
every flag is also a key of the file (-max-size is max_size).

Flags:
`

// run is the whole program: it parses the settings and either runs a
// command or serves until ctx ends (a signal), then shuts down.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "passwd" {
		return passwd(args[1:], stdin, stdout, stderr)
	}
	fs := flag.NewFlagSet("mta", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	printConfig := fs.Bool("print-config", false, "print the effective configuration (TOML) and exit")
	usage := func(w io.Writer) {
		fmt.Fprint(w, usageText)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	s, rest, err := config.ParseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		usage(stdout)
		return exitOK
	}
	if err == nil {
		err = s.Validate()
	}
	if err != nil {
		fmt.Fprintf(stderr, "mta: %v\n", err)
		if !errors.As(err, new(*config.KeyError)) {
			usage(stderr)
		}
		return exitUsage
	}
	if *printConfig {
		if err := s.WriteTOML(stdout); err != nil {
			fmt.Fprintf(stderr, "mta: %v\n", err)
			return exitError
		}
		return exitOK
	}
	switch {
	case len(rest) > 0 && rest[0] == "queue":
		return queueMain(ctx, s, rest[1:], stdout, stderr)
	case len(rest) > 0:
		fmt.Fprintf(stderr, "mta: unexpected argument %q\n", rest[0])
		usage(stderr)
		return exitUsage
	}
	return serve(ctx, s, stdout, stderr)
}

// queueMain runs a queue command with the server's configuration, so
// that flush delivers as the server would.
func queueMain(ctx context.Context, s config.Settings, args []string, stdout, stderr io.Writer) int {
	// The running server owns the TLS report counts and their file; a
	// second Recorder would write stale counts over it on close.
	s.TLSRPT = false
	app, err := build(s, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "mta: %v\n", err)
		return exitError
	}
	defer app.close()
	return queueCommand(ctx, app.srv.Queue(), args, stdout, stderr)
}
