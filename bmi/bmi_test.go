package bmi

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func sample() Verdict {
	return Verdict{
		Recipients:  []string{"alice@example.com", "Bob@Example.COM"},
		Destination: Alternate,
		AltLocation: "X-Spam-Folder: Junk",
		Rules:       []int{11, 5, 8, 5},
	}
}

func TestDestinationString(t *testing.T) {
	for d, want := range map[Destination]string{Default: "default", Alternate: "alternate", None: "none", 7: "invalid"} {
		if got := d.String(); got != want {
			t.Errorf("%d: %q, want %q", d, got, want)
		}
	}
}

func TestVerdictRoundTrip(t *testing.T) {
	cases := []Verdict{
		{},
		{Recipients: []string{"a@b"}},
		sample(),
		{Recipients: []string{"x@y", "\"q@r\"@z"}, Destination: None, Rules: []int{1, 2147483647}},
		{Recipients: []string{"ü@bücher.example"}, Err: "spamd: connection refused"},
	}
	for _, v := range cases {
		s := v.Base64()
		if strings.ContainsAny(s, ":\r\n ") {
			t.Fatalf("%q contains a separator", s)
		}
		got, err := ParseVerdict(s)
		if err != nil {
			t.Fatalf("%+v: %v", v, err)
		}
		want := v
		want.Rules = normRules(v.Rules)
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("round trip\n got %+v\nwant %+v", *got, want)
		}
		if again := got.Base64(); again != s {
			t.Errorf("re-encoding differs: %q vs %q", again, s)
		}
		tr, err := ParseTracker(v.TrackerBase64())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(tr, want.Rules) {
			t.Errorf("tracker rules %v, want %v", tr, want.Rules)
		}
	}
}

// normRules is the normalisation Base64 promises, written plainly.
func normRules(rules []int) []int {
	seen := map[int]bool{}
	var out []int
	for _, r := range rules {
		if r > 0 && !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func TestTrackerIsRulesOnly(t *testing.T) {
	v := sample()
	tr := v.TrackerBase64()
	raw, _ := base64.StdEncoding.DecodeString(tr)
	for _, s := range append(v.Recipients, v.AltLocation) {
		if strings.Contains(string(raw), s) {
			t.Errorf("tracker carries %q", s)
		}
	}
	if _, err := ParseVerdict(tr); err == nil {
		t.Error("a tracker string decoded as a verdict")
	}
	if _, err := ParseTracker(v.Base64()); err == nil {
		t.Error("a verdict decoded as a tracker string")
	}
}

func raw(b ...byte) string { return base64.StdEncoding.EncodeToString(b) }

func TestParseVerdictRejects(t *testing.T) {
	good := sample()
	enc, _ := base64.StdEncoding.DecodeString(good.Base64())
	var fe *FormatError
	// Every proper prefix is truncated data.
	for i := 0; i < len(enc); i++ {
		if _, err := ParseVerdict(raw(enc[:i]...)); !errors.As(err, &fe) {
			t.Fatalf("prefix %d: %v", i, err)
		}
	}
	huge := binary.AppendUvarint([]byte{1, 0}, 1<<40)
	bad := map[string]string{
		"not base64":      "%%%",
		"unpadded":        strings.TrimRight(good.Base64(), "="),
		"trailing":        raw(append(append([]byte{}, enc...), 0)...),
		"version":         raw(append([]byte{9}, enc[1:]...)...),
		"destination":     raw(append([]byte{1, 3}, enc[2:]...)...),
		"huge count":      raw(huge...),
		"CR in rcpt":      (&Verdict{Recipients: []string{"a\r\nb@c"}}).Base64(),
		"empty rcpt":      (&Verdict{Recipients: []string{""}}).Base64(),
		"LF in alt":       (&Verdict{AltLocation: "x\nBcc: evil"}).Base64(),
		"NUL in err":      (&Verdict{Err: "a\x00"}).Base64(),
		"rule delta zero": raw(1, 0, 0, 0, 2, 3, 0, 0),
		"rule overflow":   raw(append(binary.AppendUvarint([]byte{1, 0, 0, 0, 1}, 1<<31), 0)...),
		"too long":        strings.Repeat("A", MaxEncoded+4),
	}
	for name, s := range bad {
		v, err := ParseVerdict(s)
		if !errors.As(err, &fe) || v != nil {
			t.Errorf("%s: got %+v, %v; want *FormatError", name, v, err)
		}
	}
	for name, s := range map[string]string{"verdict": good.Base64(), "trailing": raw('t', 0, 0), "bad": "!!", "zero": raw('t', 1, 0)} {
		if _, err := ParseTracker(s); !errors.As(err, &fe) {
			t.Errorf("tracker %s: %v", name, err)
		}
	}
}

func TestVerdictsList(t *testing.T) {
	vs := Verdicts{sample(), {Recipients: []string{"c@d"}, Destination: None}}
	s := vs.String()
	if strings.Count(s, ":") != 1 {
		t.Fatalf("%q: want two verdicts joined by one ':'", s)
	}
	got, err := ParseVerdicts(s)
	if err != nil || len(got) != 2 || got[1].Destination != None || got[0].AltLocation != vs[0].AltLocation {
		t.Fatalf("ParseVerdicts: %+v, %v", got, err)
	}
	if got, err := ParseVerdicts(""); got != nil || err != nil {
		t.Errorf("empty list: %v, %v", got, err)
	}
	if Verdicts(nil).String() != "" {
		t.Error("nil list not empty")
	}
	if got, err := ParseVerdicts(s + ":AAAA"); err == nil || got != nil {
		t.Errorf("one bad verdict accepted: %v", got)
	}
	if got, err := ParseVerdicts(s + ":"); err == nil || got != nil {
		t.Errorf("empty item accepted: %v", got)
	}
	errs := Verdicts{{Err: "down"}, {}, {Err: "slow"}}.Errors()
	if !reflect.DeepEqual(errs, []string{"down", "slow"}) {
		t.Errorf("Errors: %v", errs)
	}
}

func vars(e Eval) map[string]string {
	m := map[string]string{}
	for _, v := range e.Variables() {
		m[v.Name] = v.Value
	}
	return m
}

type want struct {
	deliver, alt               string
	def, altern, dont, hasVerd bool
}

func check(t *testing.T, name string, e Eval, w want) {
	t.Helper()
	m := vars(e)
	if m["bmi_deliver"] != w.deliver || m["bmi_alt_location"] != w.alt {
		t.Errorf("%s: bmi_deliver=%q bmi_alt_location=%q, want %q %q", name, m["bmi_deliver"], m["bmi_alt_location"], w.deliver, w.alt)
	}
	if e.DeliverDefault() != w.def || e.DeliverAlternate() != w.altern || e.DontDeliver() != w.dont {
		t.Errorf("%s: default=%v alternate=%v dont=%v, want %v %v %v", name,
			e.DeliverDefault(), e.DeliverAlternate(), e.DontDeliver(), w.def, w.altern, w.dont)
	}
	if (m["bmi_base64_verdict"] != "") != w.hasVerd {
		t.Errorf("%s: bmi_base64_verdict=%q", name, m["bmi_base64_verdict"])
	}
}

func TestEvalDestinations(t *testing.T) {
	vs := Verdicts{
		{Recipients: []string{"def@x"}, Destination: Default, Rules: []int{3}},
		{Recipients: []string{"alt@x"}, Destination: Alternate, AltLocation: "Junk", Rules: []int{5, 8}},
		{Recipients: []string{"none@x"}, Destination: None, Rules: []int{11}},
		{Recipients: []string{"err@x"}, Destination: None, AltLocation: "Junk", Rules: []int{5}, Err: "scanner down"},
		{Recipients: []string{"altempty@x"}, Destination: Alternate},
		{Recipients: []string{"broken@x"}, Destination: None, AltLocation: "a\r\nb"},
	}
	check(t, "unscanned", Verdicts(nil).ForRecipient("def@x"), want{deliver: "1", def: true})
	check(t, "not listed", vs.ForRecipient("other@x"), want{deliver: "1", def: true})
	check(t, "default", vs.ForRecipient("def@x"), want{deliver: "1", def: true, hasVerd: true})
	check(t, "alternate", vs.ForRecipient("alt@x"), want{deliver: "1", alt: "Junk", altern: true, hasVerd: true})
	check(t, "none", vs.ForRecipient("none@x"), want{deliver: "0", dont: true, hasVerd: true})
	check(t, "error", vs.ForRecipient("err@x"), want{deliver: "1", def: true, hasVerd: true})
	check(t, "alternate without location", vs.ForRecipient("altempty@x"), want{deliver: "1", def: true, hasVerd: true})
	check(t, "invalid verdict", vs.ForRecipient("broken@x"), want{deliver: "1", def: true, hasVerd: true})

	if got := vs.ForRecipient("alt@x").Base64TrackerVerdict(); got != vs[1].TrackerBase64() {
		t.Errorf("tracker %q", got)
	}
	for _, a := range []string{"err@x", "nobody@x"} {
		if got := vs.ForRecipient(a).Base64TrackerVerdict(); got != "" {
			t.Errorf("%s: tracker %q, want empty", a, got)
		}
	}
	for _, v := range vs.ForRecipient("broken@x").Variables() {
		if !clean(v.Value) {
			t.Errorf("%s=%q has a control character", v.Name, v.Value)
		}
	}
}

func TestRuleFired(t *testing.T) {
	vs := Verdicts{
		{Recipients: []string{"a@x"}, Rules: []int{5, 8, 11}},
		{Recipients: []string{"e@x"}, Rules: []int{5}, Err: "timeout"},
	}
	e := vs.ForRecipient("a@x")
	cases := map[string]bool{
		"5:8:11":        true,
		"11":            true,
		" 8 ":           true,
		"1:2:3":         false,
		"":              false,
		"<; 4;11":       true,
		"<;4:11":        false, // ';' is the separator, "4:11" reads as 4
		"8abc":          true,  // %d stops at the first non-digit
		"x:0:-5":        false, // no number > 0
		"-8":            false,
		"+8":            true,
		"3::8":          false, // "3:8" is one item, read as 3
		"99999999999:5": true,
	}
	for list, w := range cases {
		if got := e.RuleFired(list); got != w {
			t.Errorf("RuleFired(%q) = %v, want %v", list, got, w)
		}
	}
	if vs.ForRecipient("e@x").RuleFired("5") {
		t.Error("a verdict with an error fired a rule")
	}
	if Verdicts(nil).ForRecipient("a@x").RuleFired("5") {
		t.Error("unscanned message fired a rule")
	}
	if got := RuleList("<, 1, 2,,3"); !reflect.DeepEqual(got, []int{1, 2}) {
		t.Errorf("RuleList: %v", got) // ",," is a literal ',' inside "2,3" -> 2
	}
}

func TestInheritance(t *testing.T) {
	vs := Verdicts{
		{Recipients: []string{"list@example.org"}, Destination: None},
		{Recipients: []string{"Postmaster@Example.ORG", "list@example.org"}, Destination: Alternate, AltLocation: "Junk"},
	}
	top := &Address{LocalPart: "postmaster", Domain: "example.org"}
	alias := &Address{LocalPart: "admin", Domain: "corp.example", Parent: top}
	forward := &Address{LocalPart: "admin", Domain: "gmail.example", Parent: alias}
	if forward.TopLevel() != top {
		t.Fatal("TopLevel did not follow the parents")
	}
	for _, a := range []*Address{top, alias, forward} {
		if got := vs.For(a).AltLocation(); got != "Junk" {
			t.Errorf("%s@%s: alt location %q, want the ancestor's", a.LocalPart, a.Domain, got)
		}
	}
	// The first verdict naming the recipient wins.
	if !vs.ForRecipient("LIST@example.org").DontDeliver() {
		t.Error("first verdict not used")
	}
	// The child's own address is not looked up.
	child := &Address{LocalPart: "list", Domain: "example.org", Parent: &Address{LocalPart: "x", Domain: "y"}}
	if vs.For(child).Verdict != nil {
		t.Error("child address looked up instead of its top-level ancestor")
	}
	if vs.For(nil).Verdict != nil {
		t.Error("nil address has a verdict")
	}
	// Whole-address comparison: a local part with '@' still matches.
	q := Verdicts{{Recipients: []string{`"a@b"@c.example`}, Destination: None}}
	if !q.For(&Address{LocalPart: `"a@b"`, Domain: "c.example"}).DontDeliver() {
		t.Error("quoted local part with '@' not matched")
	}
	if q.For(&Address{LocalPart: `"a@b"`, Domain: "c.example.net"}).Verdict != nil {
		t.Error("other domain matched")
	}
}

func TestOptIn(t *testing.T) {
	var e Envelope
	e.BeginRcpt()
	e.SetOptIn("strict : nolinks")
	r := e.AddRecipient("a@x")
	if !reflect.DeepEqual(r.OptIn, []string{"strict", "nolinks"}) {
		t.Fatalf("opt-in %q", r.OptIn)
	}
	// Rejected RCPT: its opt-in must not reach the next recipient.
	e.BeginRcpt()
	e.SetOptIn("lenient")
	e.RejectRcpt()
	e.BeginRcpt()
	if r := e.AddRecipient("b@x"); r.OptIn != nil {
		t.Errorf("opt-in leaked to the next recipient: %q", r.OptIn)
	}
	// Even without RejectRcpt, BeginRcpt starts clean.
	e.SetOptIn("lenient")
	e.BeginRcpt()
	if r := e.AddRecipient("c@x"); r.OptIn != nil {
		t.Errorf("opt-in survived BeginRcpt: %q", r.OptIn)
	}
	// Strings of one character or less are ignored; a later one replaces.
	e.SetOptIn("first")
	e.SetOptIn("x")
	e.SetOptIn("")
	if r := e.AddRecipient("d@x"); !reflect.DeepEqual(r.OptIn, []string{"first"}) {
		t.Errorf("short opt-in not ignored: %q", r.OptIn)
	}
	e.SetOptIn("first")
	e.SetOptIn("second")
	if r := e.AddRecipient("e@x"); !reflect.DeepEqual(r.OptIn, []string{"second"}) {
		t.Errorf("later opt-in did not replace: %q", r.OptIn)
	}
	// Doubled colons, empty items, control characters.
	e.SetOptIn("a::b::c: :\x01bad:d")
	r = e.AddRecipient("f@x")
	if !reflect.DeepEqual(r.OptIn, []string{"a:b:c", "d"}) {
		t.Errorf("list parsing: %q", r.OptIn)
	}
	if got := r.OptInString(); got != "a::b::c:d" {
		t.Errorf("OptInString %q", got)
	}
	if len(e.Recipients) != 6 {
		t.Errorf("%d recipients recorded", len(e.Recipients))
	}
	e.Run = true
	e.SetOptIn("pending")
	e.Reset()
	if e.Run || len(e.Recipients) != 0 {
		t.Error("Reset kept state")
	}
	if r := e.AddRecipient("g@x"); r.OptIn != nil {
		t.Errorf("opt-in survived Reset: %q", r.OptIn)
	}
}

func TestSpool(t *testing.T) {
	vs := Verdicts{sample(), {Recipients: []string{"c@d"}}}
	line := vs.SpoolLine()
	if !strings.HasPrefix(line, "--bmi_verdicts ") || !strings.HasSuffix(line, "\n") || strings.Count(line, "\n") != 1 {
		t.Fatalf("spool line %q", line)
	}
	for _, l := range []string{line, strings.TrimSuffix(line, "\n"), line[1:]} {
		if !IsSpoolLine(l) {
			t.Errorf("IsSpoolLine(%q) false", l)
		}
		got, err := ParseSpoolLine(l)
		if err != nil || got.String() != vs.String() {
			t.Errorf("ParseSpoolLine(%q): %v", l, err)
		}
	}
	if Verdicts(nil).SpoolLine() != "" {
		t.Error("unscanned message writes a spool line")
	}
	for _, l := range []string{"-bmi_verdictsX", "bmi_verdicts x", "---bmi_verdicts x", "-dkim_verdicts x", "--bmi_verdicts " + vs.String() + "\r\n", "-bmi_verdicts a\nb"} {
		if _, err := ParseSpoolLine(l); err == nil {
			t.Errorf("ParseSpoolLine(%q) accepted", l)
		}
	}
	if got, err := ParseSpoolLine("-bmi_verdicts \n"); err != nil || got != nil {
		t.Errorf("empty value: %v, %v", got, err)
	}
}

func TestValidate(t *testing.T) {
	if err := (&Verdict{Destination: 3}).Validate(); err == nil {
		t.Error("bad destination accepted")
	}
	if err := (&Verdict{Rules: []int{0}}).Validate(); err == nil {
		t.Error("rule 0 accepted")
	}
	v := sample()
	if err := v.Validate(); err != nil {
		t.Error(err)
	}
}

func TestSplitMessage(t *testing.T) {
	cases := []struct{ msg, header, body string }{
		{"A: 1\r\nB: 2\r\n\r\nbody\r\n", "A: 1\r\nB: 2\r\n", "body\r\n"},
		{"A: 1\nB: 2\n\nbody\n\nmore\n", "A: 1\nB: 2\n", "body\n\nmore\n"},
		{"A: 1\r\n", "A: 1\r\n", ""},
		{"A: 1", "A: 1", ""},
		{"\r\nbody", "", "body"},
		{"", "", ""},
	}
	for _, c := range cases {
		h, b := SplitMessage([]byte(c.msg))
		if string(h) != c.header || string(b) != c.body {
			t.Errorf("SplitMessage(%q) = %q, %q; want %q, %q", c.msg, h, b, c.header, c.body)
		}
	}
}
