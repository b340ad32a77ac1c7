package condlist

import "testing"

func BenchmarkMatch(b *testing.B) {
	benches := []struct {
		name   string
		sem    Semantics
		result string
		list   string
	}{
		{"legacy/short", Legacy, "fail", "fail"},
		{"legacy/typical", Legacy, "neutral", "fail : softfail : !neutral : err_perm"},
		{"legacy/separator", Legacy, "softfail", "<; fail ; softfail"},
		{"exim4100/short", Exim4100, "fail", "fail"},
		{"exim4100/typical", Exim4100, "neutral", "fail : softfail : !neutral : err_perm"},
		{"exim4100/wildcards", Exim4100, "invalid", "!pass : !none : *fail : *"},
		{"exim4100/regex", Exim4100, "softfail", "^(soft)?fail$"},
	}
	for _, bb := range benches {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bb.sem.Match(bb.result, bb.list, spfCanon); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
