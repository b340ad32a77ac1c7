package srs

import "testing"

func benchRewriter(b *testing.B, cfg Config) *Rewriter {
	b.Helper()
	cfg.Domain = "srs.example"
	cfg.Secrets = []string{"tops3cr3t", "older-secret"}
	cfg.Now = fixedClock(t2020)
	r, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return r
}

func BenchmarkForward(b *testing.B) {
	r := benchRewriter(b, Config{})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := r.Forward("alice+tag@example.com"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReverse(b *testing.B) {
	r := benchRewriter(b, Config{})
	a, _ := r.Forward("alice+tag@example.com")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := r.Reverse(a); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReverseForged: a bad hash costs a check against every secret.
func BenchmarkReverseForged(b *testing.B) {
	r := benchRewriter(b, Config{})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := r.Reverse("SRS0=AAAA=2W=example.com=alice+tag@srs.example"); err == nil {
			b.Fatal("accepted")
		}
	}
}

func BenchmarkForwardReverse(b *testing.B) {
	r := benchRewriter(b, Config{})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		a, err := r.Forward("alice+tag@example.com")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.Reverse(a); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEximForwardReverse(b *testing.B) {
	r := benchRewriter(b, Config{Scheme: Exim})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		a, err := r.Forward("alice+tag@example.com")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.Reverse(a); err != nil {
			b.Fatal(err)
		}
	}
}
