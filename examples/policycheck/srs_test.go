package main

import (
	"strings"
	"testing"
)

func TestSRS(t *testing.T) {
	base := []string{"-secret", "tops3cr3t", "-domain", "example.com", "-now", "1577836860"}
	cmd := func(action string, extra ...string) []string {
		a := append([]string{"srs", action}, base...)
		return append(a, extra...)
	}
	for _, c := range []struct {
		args []string
		out  string
	}{
		{cmd("forward", "test@otherdomain.com"), "srs_result=SRS0=vmyz=2W=otherdomain.com=test@example.com\n"},
		{cmd("reverse", "SRS0=vmyz=2W=otherdomain.com=test@example.com"), "srs_result=test@otherdomain.com\n"},
		{cmd("forward", "-base64url", "hash234@somedomain.com"), "srs_result=SRS0=-3_5=2W=somedomain.com=hash234@example.com\n"},
		{cmd("forward", "-separator", "+", "SRS0=opaque+string@otherdomain.com"), "srs_result=SRS1+chaI=otherdomain.com==opaque+string@example.com\n"},
		{cmd("forward", "bob@example.com"), "srs_result=bob@example.com\n"},
		{cmd("reverse", "SRS0=FAKE=2W=otherdomain.com=test@example.com"),
			"srs_result=\nsrs_error=srs: hash invalid: \"FAKE\"\nsrs_error_kind=hash\n"},
		{cmd("reverse", "SRS0=te87=T7=otherdomain.com=test@example.com"), "srs_error_kind=expired\n"},
		{cmd("reverse", "test@example.com"), "srs_error_kind=not_srs\n"},
		{cmd("forward", "-scheme", "exim", "Alice@Example.ORG"), "srs_result=SRS0="},
		{[]string{"srs", "-secret", "old", "-secret", "tops3cr3t", "-domain", "example.com", "-now", "1577836860", "reverse", "SRS0=vmyz=2W=otherdomain.com=test@example.com"},
			"srs_result=test@otherdomain.com\n"},
	} {
		code, out, errOut := runCLI(t, c.args...)
		if code != 0 || !strings.Contains(out, c.out) || errOut != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %q", c.args, code, out, errOut, c.out)
		}
	}
	code, out, _ := runCLI(t, append(cmd("forward", "-json"), "test@otherdomain.com")...)
	if code != 0 || out != `{"srs_result":"SRS0=vmyz=2W=otherdomain.com=test@example.com"}`+"\n" {
		t.Errorf("json: exit %d %q", code, out)
	}
	for _, args := range [][]string{
		{"srs"},
		{"srs", "forward"},
		{"srs", "rewrite", "-secret", "s", "-domain", "d", "a@b"},
		{"srs", "forward", "-domain", "d", "a@b"},
		{"srs", "forward", "-secret", "s", "a@b"},
		{"srs", "forward", "-secret", "s", "-domain", "d", "a@b", "extra"},
		{"srs", "forward", "-secret", "s", "-domain", "d", "-separator", "*", "a@b"},
		{"srs", "forward", "-secret", "s", "-domain", "d", "-scheme", "x", "a@b"},
		{"srs", "forward", "-secret", "s", "-domain", "d", "-scheme", "exim", "-hash-length", "6", "a@b"},
		{"srs", "forward", "-secret", "", "-domain", "d", "a@b"},
	} {
		if code, _, _ := runCLI(t, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	if code, out, _ := runCLI(t, "srs", "-h"); code != 0 || !strings.Contains(out, "forward|reverse") {
		t.Errorf("-h: exit %d %q", code, out)
	}
}
