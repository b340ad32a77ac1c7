package smtp

import "testing"

func TestParseEHLO(t *testing.T) {
	r := Reply{Code: 250, Text: []string{"mx.test Hello", "SIZE 52428800", "prdr", "AUTH PLAIN  LOGIN ", "8BITMIME\t", "-bad", "X_Y", "", "STARTTLS\tnow"}}
	e := ParseEHLO(r)
	if got := e.Keywords(); len(got) != 5 || got[1] != "PRDR" || got[4] != "STARTTLS" {
		t.Fatalf("keywords %v", got)
	}
	if !e.Has("PRDR") || !e.Has("Prdr") || e.Has("MX.TEST") || e.Has("X_Y") || e.Has("PRD") {
		t.Error("Has")
	}
	if p, ok := e.Param("auth"); !ok || p != "PLAIN  LOGIN" {
		t.Errorf("AUTH params %q", p)
	}
	if p, ok := e.Param("starttls"); !ok || p != "now" {
		t.Errorf("tab-separated params %q", p)
	}
	if n, ok := e.Size(); !ok || n != 52428800 {
		t.Errorf("Size %d %v", n, ok)
	}
	for _, tc := range []struct {
		line string
		n    int64
		ok   bool
	}{{"SIZE", 0, true}, {"SIZE 0", 0, true}, {"SIZE x", 0, true}, {"PIPELINING", 0, false}} {
		n, ok := ParseEHLO(Reply{Code: 250, Text: []string{"mx", tc.line}}).Size()
		if n != tc.n || ok != tc.ok {
			t.Errorf("%q: %d %v", tc.line, n, ok)
		}
	}
	if ParseEHLO(Reply{Code: 550, Text: []string{"mx", "PRDR"}}).Has("PRDR") || ParseEHLO(Reply{Code: 250, Text: []string{"PRDR"}}).Has("PRDR") {
		t.Error("greeting line or refusal taken for an extension")
	}
}
