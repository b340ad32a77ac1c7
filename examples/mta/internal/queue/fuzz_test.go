package queue

import (
	"bytes"
	"testing"
)

// FuzzReadHeader: the header read is a prefix of the message made of
// whole lines (or all of a message without a line end), holds no empty
// line, stops before the first one, and never passes the bound.
func FuzzReadHeader(f *testing.F) {
	for _, s := range []string{"Subject: a\r\n\r\nbody", "A: 1\nB: 2\n\nb", "\r\n", "no end", "X: " + string(bytes.Repeat([]byte("x"), 5000)) + "\r\n\r\n"} {
		f.Add([]byte(s), 100)
	}
	f.Fuzz(func(t *testing.T, msg []byte, max int) {
		if max <= 0 || max > 1<<20 {
			max = MaxHeader
		}
		h, err := ReadHeader(sec(msg), max)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(msg, h) || len(h) > max {
			t.Fatalf("%q is not a bounded prefix of %q", h, msg)
		}
		lines := bytes.SplitAfter(h, []byte("\n"))
		for i, l := range lines {
			if string(l) == "\n" || string(l) == "\r\n" {
				t.Fatalf("empty line %d in %q", i, h)
			}
		}
		if rest := msg[len(h):]; len(h) > 0 && h[len(h)-1] != '\n' && len(rest) > 0 {
			t.Fatalf("header %q cut inside a line", h)
		}
		ascii, _ := headerASCII(sec(msg))
		if len(msg) <= max && ascii != isASCII(string(h)) {
			t.Fatalf("headerASCII %v for header %q", ascii, h)
		}
	})
}
