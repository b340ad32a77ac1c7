package mtasts

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParsePolicy(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want *Policy
		fail string // part of the error; "" for success
		line int    // the error's line
	}{
		{name: "rfc example", in: "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n",
			want: &Policy{Mode: ModeEnforce, MaxAge: 604800 * time.Second, MX: []string{"mail.example.com", "*.example.net", "backupmx.example.com"}}},
		{name: "LF and no final terminator", in: "version: STSv1\nmode: testing\nmx: MX.Example.COM.\nmax_age: 86400",
			want: &Policy{Mode: ModeTesting, MaxAge: 86400 * time.Second, MX: []string{"mx.example.com"}}},
		{name: "mixed terminators, blank lines, white space", in: "\nversion:STSv1  \r\nmode:\t enforce\n\r\nmx: a.test\t\r\n\nmax_age: 0\r\n\r\n",
			want: &Policy{Mode: ModeEnforce, MaxAge: 0, MX: []string{"a.test"}}},
		{name: "none needs no mx", in: "version: STSv1\nmode: none\nmax_age: 31557600\n",
			want: &Policy{Mode: ModeNone, MaxAge: MaxMaxAge}},
		{name: "fields in any order, extensions kept", in: "max_age: 1\nmx: a.test\nx-ext: some value: with colon\nmode: testing\nversion: STSv1\n",
			want: &Policy{Mode: ModeTesting, MaxAge: time.Second, MX: []string{"a.test"}, Extensions: []Extension{{"x-ext", "some value: with colon"}}}},
		{name: "utf-8 extension", in: "version: STSv1\nmode: none\nmax_age: 5\nnote: grüße\n",
			want: &Policy{Mode: ModeNone, MaxAge: 5 * time.Second, Extensions: []Extension{{"note", "grüße"}}}},

		{name: "empty", in: "", fail: "no version"},
		{name: "no version", in: "mode: enforce\nmx: a.test\nmax_age: 1\n", fail: "no version"},
		{name: "no mode", in: "version: STSv1\nmx: a.test\nmax_age: 1\n", fail: "no mode"},
		{name: "no max_age", in: "version: STSv1\nmode: enforce\nmx: a.test\n", fail: "no max_age"},
		{name: "no mx", in: "version: STSv1\nmode: enforce\nmax_age: 1\n", fail: "no mx"},
		{name: "no mx testing", in: "version: STSv1\nmode: testing\nmax_age: 1\n", fail: "no mx"},
		{name: "bad version", in: "version: STSv2\n", fail: "version must be STSv1", line: 1},
		{name: "version case", in: "version: stsv1\n", fail: "version must be STSv1", line: 1},
		{name: "bad mode", in: "version: STSv1\nmode: Enforce\n", fail: "mode must be", line: 2},
		{name: "field names are case-sensitive", in: "version: STSv1\nMode: enforce\nmx: a.test\nmax_age: 1\n", fail: "no mode"},
		{name: "max_age too big", in: "version: STSv1\nmode: none\nmax_age: 31557601\n", fail: "max_age", line: 3},
		{name: "max_age 11 digits", in: "version: STSv1\nmode: none\nmax_age: 00000000001\n", fail: "max_age", line: 3},
		{name: "max_age negative", in: "version: STSv1\nmode: none\nmax_age: -1\n", fail: "max_age", line: 3},
		{name: "max_age empty", in: "version: STSv1\nmode: none\nmax_age:\n", fail: "max_age", line: 3},
		{name: "max_age float", in: "version: STSv1\nmode: none\nmax_age: 1.5\n", fail: "max_age", line: 3},
		{name: "duplicate mode", in: "version: STSv1\nmode: none\nmode: enforce\n", fail: "mode given more than once", line: 3},
		{name: "duplicate version", in: "version: STSv1\nversion: STSv1\n", fail: "more than once", line: 2},
		{name: "duplicate max_age", in: "max_age: 1\nmax_age: 2\n", fail: "more than once", line: 2},
		{name: "no colon", in: "version: STSv1\nmode enforce\n", fail: `want "name: value"`, line: 2},
		{name: "bad name", in: "version: STSv1\n mode: enforce\n", fail: "invalid field name", line: 2},
		{name: "empty name", in: ": x\n", fail: "invalid field name", line: 1},
		{name: "mx wildcard in the middle", in: "version: STSv1\nmx: a.*.test\n", fail: "mx must be", line: 2},
		{name: "mx bare wildcard", in: "version: STSv1\nmx: *\n", fail: "mx must be", line: 2},
		{name: "mx double wildcard", in: "mx: *.*.test\n", fail: "mx must be", line: 1},
		{name: "mx partial wildcard", in: "mx: mx*.test\n", fail: "mx must be", line: 1},
		{name: "mx address", in: "mx: [192.0.2.1]\n", fail: "mx must be", line: 1},
		{name: "mx empty", in: "mx:\n", fail: "mx must be", line: 1},
		{name: "mx with space", in: "mx: a.test b.test\n", fail: "mx must be", line: 1},
		{name: "mx empty label", in: "mx: a..test\n", fail: "mx must be", line: 1},
		{name: "bare CR in a line", in: "version: STSv1\rmode: none\nmax_age: 1\n", fail: "version must be STSv1", line: 1},
		{name: "control character in an extension", in: "x: a\x01b\n", fail: "invalid field value", line: 1},
		{name: "not utf-8", in: "x: \xff\n", fail: "not UTF-8", line: 1},
	} {
		p, err := ParsePolicy([]byte(tc.in))
		if tc.fail != "" {
			var se *SyntaxError
			if !errors.As(err, &se) || se.What != "policy" || se.Line != tc.line || !strings.Contains(err.Error(), tc.fail) {
				t.Errorf("%s: ParsePolicy = %+v, %v; want a policy SyntaxError at line %d with %q", tc.name, p, err, tc.line, tc.fail)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(p, tc.want) {
			t.Errorf("%s: ParsePolicy = %+v, %v; want %+v", tc.name, p, err, tc.want)
			continue
		}
		if p2, err := ParsePolicy([]byte(p.String())); err != nil || !reflect.DeepEqual(p, p2) {
			t.Errorf("%s: String %q reads back as %+v, %v", tc.name, p.String(), p2, err)
		}
	}
}

func TestPolicyLines(t *testing.T) {
	p, err := ParsePolicy([]byte(enforceBody + "x: y\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"version: STSv1", "mode: enforce", "mx: mx1.example.com", "mx: *.mail.example.com", "max_age: 604800", "x: y"}
	if got := p.Lines(); !reflect.DeepEqual(got, want) {
		t.Errorf("Lines = %q, want %q", got, want)
	}
}

// A long hostile line is quoted only in part in the error.
func TestSyntaxErrorBounded(t *testing.T) {
	_, err := ParsePolicy([]byte("mx: " + strings.Repeat("a", 70000) + "!\n"))
	var se *SyntaxError
	if !errors.As(err, &se) || len(se.Text) != 100 || len(err.Error()) > 300 {
		t.Fatalf("%d bytes of error: %.200v", len(err.Error()), err)
	}
}

func TestMatch(t *testing.T) {
	p := &Policy{Mode: ModeEnforce, MX: []string{"mail.example.com", "*.example.net", "*.b.example.org"}}
	for host, want := range map[string]bool{
		"mail.example.com":      true,
		"MAIL.Example.Com.":     true,
		"mail.example.com.":     true,
		"example.com":           false,
		"x.mail.example.com":    false,
		"mail.example.com.evil": false,
		"mx1.example.net":       true,
		"MX1.EXAMPLE.NET.":      true,
		"example.net":           false, // the wildcard needs a label
		".example.net":          false,
		"a.b.example.net":       false, // and only one
		"xexample.net":          false,
		"a.b.example.org":       true,
		"b.example.org":         false,
		"":                      false,
	} {
		if got := p.Match(host); got != want {
			t.Errorf("Match(%q) = %v, want %v", host, got, want)
		}
	}
	var none *Policy
	if none.Match("mail.example.com") {
		t.Error("a nil policy matched")
	}
}
