package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mailpolicy/mailpolicy/dkim"
)

func init() {
	register(&command{
		name:    "dkim-verify",
		summary: "verify a message's DKIM signatures with Exim's dkim_verify_* options and print the $dkim_* variables of each",
		run:     runDKIMVerify,
	})
}

func runDKIMVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := newFlagSet("dkim-verify", "-message FILE [flags]", stdout, stderr)
	var (
		dns      dnsFlags
		message  = f.String("message", "", "message `FILE` (RFC 5322, headers and body; \"-\" reads standard input)")
		hashes   = f.String("dkim_verify_hashes", "sha256:sha512", "colon-separated hash `list` whose signatures are verified (Exim's dkim_verify_hashes)")
		keytypes = f.String("dkim_verify_keytypes", "ed25519:rsa", "colon-separated key type `list` (Exim's dkim_verify_keytypes)")
		minsizes = f.String("dkim_verify_min_keysizes", "rsa=1024 ed25519=250", "space-separated `type=bits` minimum key sizes (Exim's dkim_verify_min_keysizes)")
		minimal  = f.Bool("dkim_verify_minimal", false, "stop verifying after the first passing signature (Exim's dkim_verify_minimal)")
		asJSON   = f.Bool("json", false, "print one JSON object instead of name=value lines")
	)
	dns.add(f)
	if code, ok := f.parse(args); !ok {
		return code
	}
	if code, ok := f.noArgs(); !ok {
		return code
	}
	if code, ok := f.require("message"); !ok {
		return code
	}
	opts := []dkim.Option{dkim.WithMinimal(*minimal), dkim.WithHashes(colonList(*hashes)...), dkim.WithKeyTypes(colonList(*keytypes)...)}
	for _, item := range strings.Fields(*minsizes) {
		kt, bits, ok := strings.Cut(item, "=")
		n, err := strconv.Atoi(bits)
		if !ok || err != nil {
			return f.usageError("-dkim_verify_min_keysizes: %q is not type=bits", item)
		}
		opts = append(opts, dkim.WithMinKeyBits(kt, n))
	}
	if code, ok := dns.check(f); !ok {
		return code
	}
	msg, err := readMessage(*message)
	if err != nil {
		return f.usageError("-message: %v", err)
	}
	ctx, cancel := dns.context(ctx)
	defer cancel()
	sigs, err := dkim.Verify(ctx, bytes.NewReader(msg), append(opts, dkim.WithResolver(dns.resolver))...)
	var oe *dkim.OptionError
	if errors.As(err, &oe) {
		return f.usageError("%s", oneLine(err.Error()))
	}
	if err != nil {
		// An unreadable message still has a verdict: no signatures.
		fmt.Fprintf(stderr, "policycheck dkim-verify: %s\n", oneLine(err.Error()))
	}
	var signers []string
	for _, s := range sigs {
		signers = append(signers, s.Domain)
		if s.Identifier != "" {
			signers = append(signers, s.Identifier)
		}
	}
	vars := []variable{{"dkim_signers", strings.Join(signers, ":")}, {"dkim_signatures", strconv.Itoa(len(sigs))}}
	for i, s := range sigs {
		vars = eximVars(vars, s.Variables(), "_"+strconv.Itoa(i+1))
	}
	if err := writeVars(stdout, vars, *asJSON); err != nil {
		fmt.Fprintf(stderr, "policycheck dkim-verify: writing output: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// colonList splits an Exim colon-separated list, dropping empty items.
func colonList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ":") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
