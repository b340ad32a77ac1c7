package bmi

import (
	"fmt"
	"testing"
)

func BenchmarkBase64(b *testing.B) {
	v := sample()
	b.ReportAllocs()
	for b.Loop() {
		_ = v.Base64()
	}
}

func BenchmarkParseVerdict(b *testing.B) {
	v := sample()
	s := v.Base64()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseVerdict(s); err != nil {
			b.Fatal(err)
		}
	}
}

// bigMessage is 10 verdicts of 10 recipients each, as a 100-recipient
// message scanned with 10 profiles.
func bigMessage() Verdicts {
	vs := make(Verdicts, 10)
	for i := range vs {
		for j := 0; j < 10; j++ {
			vs[i].Recipients = append(vs[i].Recipients, fmt.Sprintf("user%d.%d@example.com", i, j))
		}
		vs[i].Destination = Alternate
		vs[i].AltLocation = "Junk"
		vs[i].Rules = []int{i + 1, 100 + i}
	}
	return vs
}

// BenchmarkParseSpoolLine reads the spool line of a 100-recipient
// message, as every delivery process does once.
func BenchmarkParseSpoolLine(b *testing.B) {
	line := bigMessage().SpoolLine()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseSpoolLine(line); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEval is one address's routing-time work: find the verdict of
// a forwarded address's ancestor (the last of 100 recipients) and test
// the four router preconditions.
func BenchmarkEval(b *testing.B) {
	vs := bigMessage()
	top := &Address{LocalPart: "USER9.9", Domain: "example.com"}
	fwd := &Address{LocalPart: "x", Domain: "elsewhere.example", Parent: top}
	b.ReportAllocs()
	for b.Loop() {
		e := vs.For(fwd)
		if !e.RuleFired("5:8:109") || !e.DeliverAlternate() || e.DeliverDefault() || e.DontDeliver() {
			b.Fatal("wrong evaluation")
		}
	}
}
