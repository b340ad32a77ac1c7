package main

// srs: rewrite an envelope sender for forwarding (SRS0/SRS1) or recover
// the original from an SRS address, with the srs package.
//
//	policycheck srs forward|reverse -secret S [-secret S2 ...] -domain D [flags] ADDR
//
// The action comes first, then the flags, then the address. -secret may
// be repeated: forward signs with the first, reverse accepts any (key
// rotation). -domain is the SRS domain (also a local domain, whose
// addresses forward leaves unchanged; add more with -local-domain).
// -scheme exim selects Exim's native format (${srs_encode} and
// inbound_srs); the default "guarded" is the Mail::SRS / postsrsd
// format. -separator, -hash-length, -max-age (days), -base64url and
// -now (Unix time, for reproducible output) tune it.
//
// Output, one name=value line:
//
//	srs_result=SRS0=vmyz=2W=otherdomain.com=test@example.com
//
// or, when the library refuses the address (bad hash, expired stamp,
// malformed or not SRS on reverse; no domain or too long on forward):
//
//	srs_result=
//	srs_error=srs: hash invalid: "FAKE"
//	srs_error_kind=hash            hash, expired, format, not_srs, too_long, unknown_alias
//
// A refusal is a result, not a failure: the exit status is 0. It is 2
// for a usage error and 1 when the output cannot be written.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mailpolicy/mailpolicy/srs"
)

func init() {
	register(&command{
		name:    "srs",
		summary: "SRS forward/reverse an envelope sender (Mail::SRS/postsrsd or Exim native format)",
		run:     runSRS,
	})
}

// stringsFlag collects a repeatable string flag.
type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, ",") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }

func runSRS(_ context.Context, args []string, stdout, stderr io.Writer) int {
	f := newFlagSet("srs", "forward|reverse -secret S [-secret S2] -domain D [flags] ADDR", stdout, stderr)
	var (
		secrets, locals stringsFlag
		domain          = f.String("domain", "", "SRS `DOMAIN` put after \"@\" by forward (required)")
		scheme          = f.String("scheme", "guarded", "`SCHEME`: guarded (Mail::SRS/postsrsd) or exim (Exim native)")
		sep             = f.String("separator", "=", "first separator after SRS0/SRS1 on forward: =, + or - (guarded)")
		hashLen         = f.Int("hash-length", 4, "hash `characters` (guarded; exim is fixed at 4)")
		maxAge          = f.Int("max-age", 0, "maximum timestamp age in `days` (0: 21 guarded, 10 exim)")
		b64url          = f.Bool("base64url", false, "forward emits base64url hashes (postsrsd 2.x) instead of base64")
		now             = f.Int64("now", 0, "clock as Unix `seconds` (0: the current time)")
		asJSON          = f.Bool("json", false, "print one JSON object instead of name=value lines")
	)
	f.Var(&secrets, "secret", "HMAC `SECRET` (required; repeat for key rotation, the first signs)")
	f.Var(&locals, "local-domain", "another `DOMAIN` forward leaves alone (repeatable)")

	var action string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		action, args = args[0], args[1:]
	}
	if code, ok := f.parse(args); !ok {
		return code
	}
	rest := f.Args()
	if action == "" {
		if len(rest) == 0 {
			return f.usageError("missing action: forward or reverse")
		}
		action, rest = rest[0], rest[1:]
	}
	if action != "forward" && action != "reverse" {
		return f.usageError("unknown action %q (want forward or reverse)", action)
	}
	switch len(rest) {
	case 0:
		return f.usageError("missing ADDR")
	case 1:
	default:
		return f.unexpected(rest[1])
	}
	if code, ok := f.require("secret", "domain"); !ok {
		return code
	}
	cfg := srs.Config{
		Domain:       *domain,
		LocalDomains: locals,
		Secrets:      secrets,
		MaxAgeDays:   *maxAge,
	}
	switch *scheme {
	case "guarded":
		if len(*sep) != 1 {
			return f.usageError("-separator: want one of = + -, not %q", *sep)
		}
		cfg.Separator = (*sep)[0]
		cfg.HashLength = *hashLen
		if *b64url {
			cfg.HashEncoding = srs.Base64URL
		}
	case "exim":
		cfg.Scheme = srs.Exim
		if f.isSet("separator") || f.isSet("hash-length") || *b64url {
			return f.usageError("-separator, -hash-length and -base64url do not apply to -scheme exim")
		}
	default:
		return f.usageError("-scheme: want guarded or exim, not %q", *scheme)
	}
	if *now != 0 {
		t := time.Unix(*now, 0)
		cfg.Now = func() time.Time { return t }
	}
	r, err := srs.New(cfg)
	if err != nil {
		return f.usageError("%s", oneLine(err.Error()))
	}
	var res string
	if action == "forward" {
		res, err = r.Forward(rest[0])
	} else {
		res, err = r.Reverse(rest[0])
	}
	vars := []variable{{"srs_result", oneLine(res)}}
	if err != nil {
		vars = append(vars, variable{"srs_error", oneLine(err.Error())}, variable{"srs_error_kind", srsErrorKind(err)})
	}
	if err := writeVars(stdout, vars, *asJSON); err != nil {
		fmt.Fprintf(stderr, "policycheck srs: writing output: %v\n", err)
		return exitFailed
	}
	return exitOK
}

func srsErrorKind(err error) string {
	for _, k := range []struct {
		err  error
		name string
	}{
		{srs.ErrHash, "hash"}, {srs.ErrExpired, "expired"}, {srs.ErrFormat, "format"},
		{srs.ErrNotSRS, "not_srs"}, {srs.ErrTooLong, "too_long"}, {srs.ErrUnknownAlias, "unknown_alias"},
	} {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	return "other"
}
