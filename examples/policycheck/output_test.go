package main

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/spf"
)

func TestWriteText(t *testing.T) {
	vars := []variable{
		{"spf_result", "pass"},
		{"spf_smtp_comment", ""},
		{"spf_header_comment", "a=b; c \"quoted\" \\ <x>\tend ünïcode"},
		{"spf_mechanism", "ip4:192.0.2.0/24"},
	}
	var b strings.Builder
	if err := writeText(&b, vars); err != nil {
		t.Fatal(err)
	}
	want := "spf_result=pass\n" +
		"spf_smtp_comment=\n" +
		"spf_header_comment=a=b; c \"quoted\" \\ <x>\tend ünïcode\n" +
		"spf_mechanism=ip4:192.0.2.0/24\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
}

func TestWriteTextNoRawNewlines(t *testing.T) {
	vars := []variable{
		{"spf_result", "pass"},
		{"spf_header_comment", "one\r\ntwo\rthree\nfour"},
		{"spf_received", "Received-SPF: pass\r\n\tfolded"},
		{"spf_explanation", "\n"},
	}
	var b strings.Builder
	if err := writeText(&b, vars); err != nil {
		t.Fatal(err)
	}
	want := "spf_result=pass\n" +
		"spf_header_comment=one  two three four\n" +
		"spf_received=Received-SPF: pass  \tfolded\n" +
		"spf_explanation= \n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
	if strings.Contains(b.String(), "\r") {
		t.Error("output holds a CR")
	}
	if n := strings.Count(b.String(), "\n"); n != len(vars) {
		t.Errorf("%d lines for %d variables", n, len(vars))
	}
}

// jsonKeys decodes one JSON object of string values, returning its keys
// in document order and its values.
func jsonKeys(t *testing.T, s string) ([]string, map[string]string) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %q (%v)", s, err)
	}
	var keys []string
	vals := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("bad JSON %q: %v", s, err)
		}
		k := tok.(string)
		var v string
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("bad JSON value for %q in %q: %v", k, s, err)
		}
		keys = append(keys, k)
		vals[k] = v
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		t.Fatalf("JSON object not closed: %q (%v)", s, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("more after the JSON object in %q", s)
	}
	return keys, vals
}

func TestWriteJSON(t *testing.T) {
	vars := []variable{
		{"spf_result", "fail"},
		{"spf_header_comment", `say "hi" \ back`},
		{"spf_smtp_comment", "Please see http://www.open-spf.org/Why?a=1&b=<2>"},
		{"spf_used_domain", "ünïcode.example"},
		{"spf_explanation", "ctl\x01\x7f tab\t"},
		{"spf_received", "line\r\nbreak"},
		{"spf_mechanism", ""},
		{"a_last_but_sorted_first", "x"}, // order is the list's, not sorted
	}
	var b strings.Builder
	if err := writeJSON(&b, vars); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.HasSuffix(out, "}\n") || strings.Count(out, "\n") != 1 || strings.Contains(out, "\r") {
		t.Errorf("not one JSON object on one line: %q", out)
	}
	if !strings.Contains(out, `"Please see http://www.open-spf.org/Why?a=1&b=<2>"`) {
		t.Errorf("<, > or & escaped needlessly: %s", out)
	}
	keys, vals := jsonKeys(t, out)
	if len(keys) != len(vars) {
		t.Fatalf("%d keys, want %d: %s", len(keys), len(vars), out)
	}
	for i, v := range vars {
		if keys[i] != v.name {
			t.Errorf("key %d is %q, want %q", i, keys[i], v.name)
		}
		if got, want := vals[v.name], oneLine(v.value); got != want {
			t.Errorf("%s = %q, want %q", v.name, got, want)
		}
	}
	if vals["spf_received"] != "line  break" {
		t.Errorf("CR LF not made spaces in JSON: %q", vals["spf_received"])
	}
}

func TestWriteEmpty(t *testing.T) {
	var b strings.Builder
	if err := writeVars(&b, nil, false); err != nil || b.String() != "" {
		t.Errorf("text: %q, %v", b.String(), err)
	}
	b.Reset()
	if err := writeVars(&b, nil, true); err != nil || b.String() != "{}\n" {
		t.Errorf("JSON: %q, %v", b.String(), err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("closed") }

func TestWriteError(t *testing.T) {
	vars := []variable{{"spf_result", "pass"}}
	for _, asJSON := range []bool{false, true} {
		if err := writeVars(failWriter{}, vars, asJSON); err == nil {
			t.Errorf("json=%v: write error not reported", asJSON)
		}
	}
}

// TestSPFVariables checks the conversion from an spf.Outcome, with a
// fake outcome whose values hold line breaks, as the engine promises
// never to produce.
func TestSPFVariables(t *testing.T) {
	o := &spf.Outcome{
		Result:        spf.Fail,
		UsedDomain:    "example.com",
		HeaderComment: "mx.test: domain of example.com does not designate 198.51.100.7 as permitted sender",
		Received:      "Received-SPF: fail\r\n (folded)",
		SMTPComment:   "two\nlines",
		Explanation:   "Please see http://www.open-spf.org/Why",
		Mechanism:     "-all",
	}
	vars := spfVariables(o)
	var b strings.Builder
	if err := writeText(&b, vars); err != nil {
		t.Fatal(err)
	}
	want := "spf_result=fail\n" +
		"spf_header_comment=mx.test: domain of example.com does not designate 198.51.100.7 as permitted sender\n" +
		"spf_received=Received-SPF: fail   (folded)\n" +
		"spf_smtp_comment=two lines\n" +
		"spf_used_domain=example.com\n" +
		"spf_result_guessed=no\n" +
		"spf_explanation=Please see http://www.open-spf.org/Why\n" +
		"spf_mechanism=-all\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}

	b.Reset()
	if err := writeJSON(&b, vars); err != nil {
		t.Fatal(err)
	}
	keys, vals := jsonKeys(t, b.String())
	if strings.Join(keys, " ") != strings.Join(spfNames, " ") {
		t.Errorf("JSON keys %q, want %q", keys, spfNames)
	}
	if vals["spf_smtp_comment"] != "two lines" || vals["spf_result_guessed"] != "no" {
		t.Errorf("JSON values: %q", vals)
	}
}
