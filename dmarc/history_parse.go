package dmarc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// HistoryError is a malformed history file line.
type HistoryError struct {
	Line int    // 1-based line number
	Text string // the line (truncated when long)
	Err  error
}

func (e *HistoryError) Error() string {
	return fmt.Sprintf("dmarc: history line %d %q: %v", e.Line, e.Text, e.Err)
}

func (e *HistoryError) Unwrap() error { return e.Err }

// maxHistoryLine bounds one line; Exim's own lines are far shorter.
const maxHistoryLine = 1 << 20

// ParseHistory reads the blocks of a history file. A block starts at a
// "job" line and runs to the next one. Unknown keys (the arc and
// arc_policy lines of ARC-aware builds, future additions) and empty
// lines are skipped; a known key with a malformed value, a repeated
// single-valued key, or any line before the first "job" is an error
// naming the line. A missing "spf" line gives SPF -1, a missing "rua"
// line (or "rua -") no URIs; other missing keys leave zero values.
func ParseHistory(r io.Reader) ([]HistoryEntry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxHistoryLine)
	var (
		out  []HistoryEntry
		cur  *HistoryEntry
		seen map[string]bool
		n    int
	)
	for sc.Scan() {
		n++
		line := strings.TrimSuffix(sc.Text(), "\r")
		if line == "" {
			continue
		}
		key, value, _ := strings.Cut(line, " ")
		fail := func(err error) error {
			text := line
			if len(text) > 80 {
				text = text[:80] + "..."
			}
			return &HistoryError{Line: n, Text: text, Err: err}
		}
		if key == "job" {
			out = append(out, HistoryEntry{Job: value, SPF: -1})
			cur = &out[len(out)-1]
			seen = map[string]bool{}
			continue
		}
		if cur == nil {
			return nil, fail(errors.New("line before the first job line"))
		}
		if err := cur.set(key, value, seen); err != nil {
			return nil, fail(err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &HistoryError{Line: n + 1, Err: err}
	}
	return out, nil
}

// set stores one key's value; unknown keys are ignored.
func (e *HistoryEntry) set(key, value string, seen map[string]bool) error {
	var dst *int
	switch key {
	case "dkim":
		return e.addDKIM(value)
	case "rua":
		if value != "-" {
			e.RUA = append(e.RUA, value)
		}
		return nil
	case "reporter", "received", "ipaddr", "from", "mfrom", "spf", "pdomain", "policy",
		"pct", "adkim", "aspf", "p", "sp", "align_dkim", "align_spf", "action":
		if seen[key] {
			return fmt.Errorf("repeated key %q", key)
		}
		seen[key] = true
	default:
		return nil
	}
	switch key {
	case "reporter":
		e.Reporter = value
	case "from":
		e.From = value
	case "mfrom":
		e.MailFrom = value
	case "pdomain":
		e.PolicyDomain = value
	case "received":
		s := strings.TrimPrefix(value, "-")
		if s == "" || !isDigits(s) {
			return fmt.Errorf("invalid received time %q", value)
		}
		t, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return fmt.Errorf("invalid received time %q", value)
		}
		e.Received = time.Unix(t, 0).UTC()
	case "ipaddr":
		if value == "" {
			return nil
		}
		ip, err := netip.ParseAddr(value)
		if err != nil {
			return fmt.Errorf("invalid ipaddr: %w", err)
		}
		e.IPAddr = ip
	case "spf":
		dst = &e.SPF
	case "policy":
		dst = &e.Policy
	case "pct":
		dst = &e.Pct
	case "adkim":
		dst = &e.ADKIM
	case "aspf":
		dst = &e.ASPF
	case "p":
		dst = &e.P
	case "sp":
		dst = &e.SP
	case "align_dkim":
		dst = &e.AlignDKIM
	case "align_spf":
		dst = &e.AlignSPF
	case "action":
		dst = &e.Action
	}
	if dst != nil {
		v, err := parseCode(value)
		if err != nil {
			return fmt.Errorf("invalid %s: %w", key, err)
		}
		*dst = v
	}
	return nil
}

// addDKIM parses "<d> <s> <code>", or "<d> <code>" as OpenDMARC builds
// without selector support write it.
func (e *HistoryEntry) addDKIM(value string) error {
	f := strings.Split(value, " ")
	var d HistoryDKIM
	switch len(f) {
	case 2:
		d.Domain = f[0]
	case 3:
		d.Domain, d.Selector = f[0], f[1]
	default:
		return fmt.Errorf("dkim line needs domain, selector and result, got %d fields", len(f))
	}
	v, err := parseCode(f[len(f)-1])
	if err != nil {
		return fmt.Errorf("invalid dkim result: %w", err)
	}
	d.Result = v
	e.DKIM = append(e.DKIM, d)
	return nil
}

// parseCode accepts the unsigned decimal numbers the file uses for codes
// and percentages.
func parseCode(s string) (int, error) {
	if s == "" || len(s) > 9 || !isDigits(s) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	v, _ := strconv.Atoi(s)
	return v, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
