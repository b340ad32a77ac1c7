package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/mailpolicy/mailpolicy/dkim"
)

func init() {
	register(&command{
		name:    "dkim-sign",
		summary: "sign a message as Exim's smtp transport does with its dkim_* options; the signed message goes to stdout",
		run:     runDKIMSign,
	})
}

func runDKIMSign(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := newFlagSet("dkim-sign", "-dkim_domain LIST -dkim_selector LIST -dkim_private_key LIST -message FILE [flags]", stdout, stderr)
	var (
		message = f.String("message", "", "message `FILE` to sign (\"-\" reads standard input)")
		domains = f.String("dkim_domain", "", "colon-separated signing `domains` (d=); each is signed with every selector")
		sels    = f.String("dkim_selector", "", "colon-separated `selectors` (s=)")
		keys    = f.String("dkim_private_key", "", "colon-separated key `files` (PEM, RSA or Ed25519), one per selector or one for all; \"0\" or \"false\" for a selector that does not sign")
		canon   = f.String("dkim_canon", "relaxed", "`canonicalization`: relaxed or simple")
		hash    = f.String("dkim_hash", "sha256", "`hash`: sha256, sha1 or sha512")
		ident   = f.String("dkim_identity", "", "signing `identity` (i=), empty for none")
		headers = f.String("dkim_sign_headers", "", "colon-separated header `names` to sign, with Exim's = and + prefixes (default Exim's list)")
		stamps  = f.Duration("dkim_timestamps", 0, "add t= and x= = t + this `duration` (0: neither)")
		strict  = f.Bool("dkim_strict", false, "a signing failure is an error (exit 1) instead of an unsigned message")
	)
	if code, ok := f.parse(args); !ok {
		return code
	}
	if code, ok := f.noArgs(); !ok {
		return code
	}
	if code, ok := f.require("message", "dkim_domain", "dkim_selector", "dkim_private_key"); !ok {
		return code
	}
	selList, keyList := colonList(*sels), colonList(*keys)
	if len(keyList) != 1 && len(keyList) != len(selList) {
		return f.usageError("-dkim_private_key: %d keys for %d selectors (give one, or one per selector)", len(keyList), len(selList))
	}
	var selectors []dkim.SignSelector
	for i, s := range selList {
		k := keyList[0]
		if len(keyList) > 1 {
			k = keyList[i]
		}
		if k != "0" && k != "false" {
			abs, err := filepath.Abs(k)
			if err != nil {
				return f.usageError("-dkim_private_key: %v", err)
			}
			k = abs
		}
		selectors = append(selectors, dkim.SignSelector{Selector: s, PrivateKey: k})
	}
	cfg := dkim.SignerConfig{Canon: *canon, Hash: *hash, Identity: *ident, Timestamps: *stamps,
		SignHeaders: *headers, Strict: *strict, Now: time.Now}
	for _, d := range colonList(*domains) {
		cfg.Domains = append(cfg.Domains, dkim.SignDomain{Domain: d, Selectors: selectors})
	}
	signer, err := dkim.NewSigner(cfg)
	if err != nil {
		return f.usageError("%s", oneLine(err.Error()))
	}
	msg, err := readMessage(*message)
	if err != nil {
		return f.usageError("-message: %v", err)
	}
	res, err := signer.Sign(ctx, bytes.NewReader(msg))
	switch {
	case err != nil: // a *dkim.SignError with -dkim_strict, or the message unreadable
		fmt.Fprintf(stderr, "policycheck dkim-sign: %s\n", oneLine(err.Error()))
		return exitFailed
	case res.Err != nil:
		fmt.Fprintf(stderr, "policycheck dkim-sign: message left unsigned: %s\n", oneLine(res.Err.Error()))
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(stderr, "policycheck dkim-sign: no signature for d=%s s=%s (no key)\n", oneLine(s.Domain), oneLine(s.Selector))
	}
	if _, err := io.Copy(stdout, io.MultiReader(bytes.NewReader(res.Header), strings.NewReader(string(msg)))); err != nil {
		fmt.Fprintf(stderr, "policycheck dkim-sign: writing output: %v\n", err)
		return exitFailed
	}
	return exitOK
}
