package main

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"time"

	"github.com/mailpolicy/mailpolicy/eximvar"
)

// A variable is one named value a subcommand prints: an Exim expansion
// variable such as spf_result. Subcommands convert their package's
// result to an ordered list of these; the order is the output order.
type variable struct {
	name, value string
}

// eximVars appends the variables an engine returns (spf, dmarc and bmi
// list theirs as eximvar.Variable) to vars, in their order, each name
// with suffix appended (bmi's per-recipient "_1", "_2"...; "" for none).
func eximVars(vars []variable, ev []eximvar.Variable, suffix string) []variable {
	for _, v := range ev {
		vars = append(vars, variable{v.Name + suffix, v.Value})
	}
	return vars
}

// oneLine makes s safe to print as one line: every CR and LF becomes a
// space. The policy packages promise header-safe values already; this
// is so that one variable is always one line whatever they return.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// writeVars prints vars as text or, with asJSON, as JSON.
func writeVars(w io.Writer, vars []variable, asJSON bool) error {
	if asJSON {
		return writeJSON(w, vars)
	}
	return writeText(w, vars)
}

// writeText prints one "name=value" line per variable, in order. The
// value runs to the end of the line and is not quoted; it may be empty.
func writeText(w io.Writer, vars []variable) error {
	var b strings.Builder
	for _, v := range vars {
		b.WriteString(oneLine(v.name))
		b.WriteByte('=')
		b.WriteString(oneLine(v.value))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeJSON prints the variables as one JSON object on one line, keys
// in the order given (encoding/json would sort a map's keys). Values
// are strings, passed through oneLine as in the text form so both forms
// carry the same values.
func writeJSON(w io.Writer, vars []variable) error {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, v := range vars {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := appendJSONString(&b, oneLine(v.name)); err != nil {
			return err
		}
		b.WriteByte(':')
		if err := appendJSONString(&b, oneLine(v.value)); err != nil {
			return err
		}
	}
	b.WriteString("}\n")
	_, err := w.Write(b.Bytes())
	return err
}

// appendJSONString appends s as a JSON string, leaving <, > and &
// as they are (this is not HTML).
func appendJSONString(b *bytes.Buffer, s string) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}

// utcTime is how the subcommands print a time: RFC 3339 in UTC, ""
// when it is absent (zero).
func utcTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
