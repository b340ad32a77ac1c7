package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/mailpolicy/mailpolicy/resolver"
)

// Exit codes; see the package documentation.
const (
	exitOK     = 0 // any policy result, or help that was asked for
	exitFailed = 1 // the result could not be written
	exitUsage  = 2 // the command line is wrong
)

// A command is one subcommand. Each lives in a file of its own and
// registers itself with register from an init function, so adding one
// touches nothing here.
type command struct {
	name    string
	summary string // one line for the subcommand list
	// run runs the subcommand with the arguments that follow its name.
	run func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

var commands = map[string]*command{}

// register adds c to the subcommands. It panics on a duplicate name, a
// programming error.
func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("policycheck: subcommand registered twice: " + c.name)
	}
	commands[c.name] = c
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole command: args are the arguments after the program
// name. It returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "policycheck: no subcommand given")
		printCommands(stderr)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "-h", "-help", "--help":
		printCommands(stdout)
		return exitOK
	case "help":
		if len(rest) == 0 {
			printCommands(stdout)
			return exitOK
		}
		if len(rest) > 1 {
			fmt.Fprintf(stderr, "policycheck help: unexpected argument %q\n", rest[1])
			return exitUsage
		}
		c, ok := commands[rest[0]]
		if !ok {
			fmt.Fprintf(stderr, "policycheck help: unknown subcommand %q\n", rest[0])
			printCommands(stderr)
			return exitUsage
		}
		return c.run(ctx, []string{"-h"}, stdout, stderr)
	}
	c, ok := commands[name]
	if !ok {
		if strings.HasPrefix(name, "-") {
			fmt.Fprintf(stderr, "policycheck: unknown flag %q (flags go after the subcommand)\n", name)
		} else {
			fmt.Fprintf(stderr, "policycheck: unknown subcommand %q\n", name)
		}
		printCommands(stderr)
		return exitUsage
	}
	return c.run(ctx, rest, stdout, stderr)
}

// printCommands writes the top-level usage: the sorted subcommand list.
func printCommands(w io.Writer) {
	names := make([]string, 0, len(commands))
	width := 0
	for n := range commands {
		names = append(names, n)
		width = max(width, len(n))
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteString("usage: policycheck SUBCOMMAND [flags] [args]\n\nSubcommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, n, commands[n].summary)
	}
	b.WriteString("\nRun \"policycheck help SUBCOMMAND\" or \"policycheck SUBCOMMAND -h\" for its flags.\n")
	io.WriteString(w, b.String())
}

// flagSet is a subcommand's flag.FlagSet whose errors and help are
// reported in one place, with the subcommand named, instead of by the
// flag package.
type flagSet struct {
	*flag.FlagSet
	synopsis       string // the arguments part of the usage line
	stdout, stderr io.Writer
}

// newFlagSet returns an empty flag set for subcommand name; synopsis is
// what follows the name in the usage line.
func newFlagSet(name, synopsis string, stdout, stderr io.Writer) *flagSet {
	fs := flag.NewFlagSet("policycheck "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flagSet{FlagSet: fs, synopsis: synopsis, stdout: stdout, stderr: stderr}
}

// parse parses args. When ok is false the subcommand must return code:
// exitOK after -h (usage printed to stdout), exitUsage after a bad flag
// (message and usage printed to stderr).
func (f *flagSet) parse(args []string) (code int, ok bool) {
	err := f.Parse(args)
	switch {
	case err == nil:
		return exitOK, true
	case errors.Is(err, flag.ErrHelp):
		f.printUsage(f.stdout)
		return exitOK, false
	default:
		return f.usageError("%v", err), false
	}
}

// usageError reports a command-line problem on stderr, followed by the
// usage, and returns exitUsage.
func (f *flagSet) usageError(format string, a ...any) int {
	fmt.Fprintf(f.stderr, "%s: %s\n", f.Name(), fmt.Sprintf(format, a...))
	f.printUsage(f.stderr)
	return exitUsage
}

func (f *flagSet) printUsage(w io.Writer) {
	fmt.Fprintf(w, "usage: %s %s\n\nFlags:\n", f.Name(), f.synopsis)
	f.SetOutput(w)
	f.PrintDefaults()
	f.SetOutput(io.Discard)
}

// isSet reports whether flag name was given on the command line, even
// as an empty string.
func (f *flagSet) isSet(name string) bool {
	set := false
	f.Visit(func(fl *flag.Flag) {
		if fl.Name == name {
			set = true
		}
	})
	return set
}

// require returns a usage error for the first of names not given on the
// command line, or ok.
func (f *flagSet) require(names ...string) (code int, ok bool) {
	for _, n := range names {
		if !f.isSet(n) {
			return f.usageError("-%s is required", n), false
		}
	}
	return exitOK, true
}

// noArgs returns a usage error when arguments are left after the flags.
func (f *flagSet) noArgs() (code int, ok bool) {
	if f.NArg() == 0 {
		return exitOK, true
	}
	return f.unexpected(f.Arg(0)), false
}

// unexpected reports a stray argument. Go's flag parsing stops at the
// first non-flag argument, so a flag placed after one lands here; say so.
func (f *flagSet) unexpected(arg string) int {
	if strings.HasPrefix(arg, "-") {
		return f.usageError("unexpected argument %q (flags must come before other arguments)", arg)
	}
	return f.usageError("unexpected argument %q", arg)
}

// overallFactor bounds a whole evaluation: the deadline is this many
// times -timeout, which bounds each whole query. SPF allows at most 10 DNS-querying
// terms, and RFC 7208 §4.6.4 suggests an overall limit of at least 20
// seconds, which the default -timeout of 2s gives.
const overallFactor = 10

// dnsFlags are the DNS flags shared by the subcommands that query DNS.
type dnsFlags struct {
	nameserver string
	timeout    time.Duration
	resolver   *resolver.Resolver // built by check
}

func (d *dnsFlags) add(f *flagSet) {
	f.StringVar(&d.nameserver, "nameserver", "", "send DNS queries to `host:port` instead of the /etc/resolv.conf nameservers")
	f.DurationVar(&d.timeout, "timeout", 2*time.Second, fmt.Sprintf("DNS timeout, a `duration` such as 500ms, bounding each whole DNS query (retries and other nameservers included); the whole evaluation is cut off after %d times it", overallFactor))
}

// check validates the flags after parsing.
func (d *dnsFlags) check(f *flagSet) (code int, ok bool) {
	if d.timeout <= 0 {
		return f.usageError("-timeout: must be positive, not %v", d.timeout), false
	}
	opts := []resolver.Option{resolver.WithTimeout(d.timeout)}
	if d.nameserver != "" {
		opts = append(opts, resolver.WithNameservers(d.nameserver))
	}
	r, err := resolver.New(opts...)
	if err != nil {
		return f.usageError("-nameserver: %v", err), false
	}
	d.resolver = r
	return exitOK, true
}

// context returns ctx with the overall deadline.
func (d *dnsFlags) context(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, overallFactor*d.timeout)
}
