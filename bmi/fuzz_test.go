package bmi

import (
	"reflect"
	"strings"
	"testing"
)

func FuzzParseVerdict(f *testing.F) {
	v := sample()
	f.Add(v.Base64())
	f.Add((&Verdict{}).Base64())
	f.Add((&Verdict{Recipients: []string{"a@b"}, Destination: None, Err: "x"}).Base64())
	f.Add("AQA=")
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVerdict(s)
		if err != nil {
			return
		}
		if err := v.Validate(); err != nil {
			t.Fatalf("accepted an invalid verdict: %v", err)
		}
		again, err := ParseVerdict(v.Base64())
		if err != nil || !reflect.DeepEqual(again, v) {
			t.Fatalf("re-encoding changed the verdict: %+v / %+v (%v)", v, again, err)
		}
		for _, x := range (Eval{Verdict: v}).Variables() {
			if !clean(x.Value) {
				t.Fatalf("%s=%q", x.Name, x.Value)
			}
		}
	})
}

func FuzzParseTracker(f *testing.F) {
	v := sample()
	f.Add(v.TrackerBase64())
	f.Add((&Verdict{}).TrackerBase64())
	f.Fuzz(func(t *testing.T, s string) {
		rules, err := ParseTracker(s)
		if err != nil {
			return
		}
		for i, r := range rules {
			if r <= 0 || i > 0 && r <= rules[i-1] {
				t.Fatalf("rules %v not positive and ascending", rules)
			}
		}
		again, err := ParseTracker((&Verdict{Rules: rules}).TrackerBase64())
		if err != nil || !reflect.DeepEqual(again, rules) {
			t.Fatalf("tracker round trip: %v / %v (%v)", rules, again, err)
		}
	})
}

func FuzzParseSpoolLine(f *testing.F) {
	f.Add(Verdicts{sample(), {Recipients: []string{"c@d"}}}.SpoolLine())
	f.Add("-bmi_verdicts \n")
	f.Add("--bmi_verdicts AQA=:AQA=")
	f.Fuzz(func(t *testing.T, line string) {
		vs, err := ParseSpoolLine(line)
		if err != nil {
			return
		}
		if len(vs) == 0 {
			return
		}
		again, err := ParseSpoolLine(vs.SpoolLine())
		if err != nil || !reflect.DeepEqual(again, vs) {
			t.Fatalf("spool round trip: %v", err)
		}
	})
}

func FuzzRuleList(f *testing.F) {
	for _, s := range []string{"5:8:11", "<; 4;11", "3::8", " +8abc", "<"} {
		f.Add(s)
	}
	e := Verdicts{{Recipients: []string{"a@x"}, Rules: []int{5, 8, 11}}}.ForRecipient("a@x")
	f.Fuzz(func(t *testing.T, list string) {
		rules := RuleList(list)
		fired := false
		for _, n := range rules {
			if n <= 0 {
				t.Fatalf("RuleList(%q) gave %d", list, n)
			}
			fired = fired || n == 5 || n == 8 || n == 11
		}
		if got := e.RuleFired(list); got != fired {
			t.Fatalf("RuleFired(%q) = %v, rules %v", list, got, rules)
		}
	})
}

func FuzzSetOptIn(f *testing.F) {
	for _, s := range []string{"strict:nolinks", "a::b", "x", ": :"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, list string) {
		var e Envelope
		e.SetOptIn(list)
		r := e.AddRecipient("a@x")
		for _, o := range r.OptIn {
			if o == "" || !clean(o) {
				t.Fatalf("opt-in item %q", o)
			}
		}
		// Like every Exim list, an item that starts or ends with the
		// separator cannot be written unambiguously.
		for _, o := range r.OptIn {
			if strings.HasPrefix(o, ":") || strings.HasSuffix(o, ":") {
				return
			}
		}
		var e2 Envelope
		e2.SetOptIn(r.OptInString())
		if r2 := e2.AddRecipient("a@x"); len(r.OptInString()) > 1 && !reflect.DeepEqual(r2.OptIn, r.OptIn) {
			t.Fatalf("OptInString round trip: %q -> %q -> %q", r.OptIn, r.OptInString(), r2.OptIn)
		}
	})
}
