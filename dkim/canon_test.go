package dkim

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// recorder is a hash.Hash that keeps what it is given.
type recorder struct{ bytes.Buffer }

func (r *recorder) Sum(b []byte) []byte { return append(b, r.Bytes()...) }
func (r *recorder) Size() int           { return 0 }
func (r *recorder) BlockSize() int      { return 1 }

// canonBody runs body through the streaming canonicalizer, cut into
// chunks at the given offsets, with a hash limited to limit octets.
func canonBody(relaxed bool, body string, cuts []int, limit int64) (full, limited string) {
	c := newBodyCanon(relaxed)
	all, lim := &recorder{}, &recorder{}
	c.hashes = []*bodyHash{{h: all, limit: -1}, {h: lim, limit: limit}}
	prev := 0
	for _, cut := range cuts {
		c.write([]byte(body[prev:cut]))
		prev = cut
	}
	c.write([]byte(body[prev:]))
	c.finish()
	return all.String(), lim.String()
}

func TestBodyCanonExamples(t *testing.T) {
	for _, c := range []struct{ body, simple, relaxed string }{
		{"", "\r\n", ""},
		{"\r\n", "\r\n", ""},
		{"\r\n\r\n", "\r\n", ""},
		{" \r\n\t\r\n", " \r\n\t\r\n", ""},
		{"a", "a\r\n", "a\r\n"},
		{"a\r\n", "a\r\n", "a\r\n"},
		{"a\r\n\r\n\r\n", "a\r\n", "a\r\n"},
		{"a\n\nb\n\n", "a\r\n\r\nb\r\n", "a\r\n\r\nb\r\n"},
		{" a  b \t\r\n", " a  b \t\r\n", " a b\r\n"},
		{"\ta\r\n \r\n\r\nb", "\ta\r\n \r\n\r\nb\r\n", " a\r\n\r\n\r\nb\r\n"},
		{"a\rb\r\n", "a\rb\r\n", "a\rb\r\n"},
		{"a \rb \r", "a \rb \r\r\n", "a \rb \r\r\n"},
		{"a\r\r\n", "a\r\r\n", "a\r\r\n"},
		// RFC 6376 §3.4.5 examples.
		{" C \r\nD \t E\r\n\r\n\r\n", " C \r\nD \t E\r\n", " C\r\nD E\r\n"},
	} {
		if got, _ := canonBody(false, c.body, nil, -1); got != c.simple {
			t.Errorf("simple %q = %q, want %q", c.body, got, c.simple)
		}
		if got, _ := canonBody(true, c.body, nil, -1); got != c.relaxed {
			t.Errorf("relaxed %q = %q, want %q", c.body, got, c.relaxed)
		}
		if ref := refSimpleBody(c.body); ref != c.simple {
			t.Errorf("refSimpleBody %q = %q, want %q", c.body, ref, c.simple)
		}
		if ref := refRelaxedBody(c.body); ref != c.relaxed {
			t.Errorf("refRelaxedBody %q = %q, want %q", c.body, ref, c.relaxed)
		}
	}
}

// TestBodyCanonRandom compares the streaming canonicalizers with
// the plain reference on random bodies cut into random chunks, and the
// l= limit with a prefix of the reference.
func TestBodyCanonRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	alphabet := []string{"a", "b", " ", "\t", "\r", "\n", "\r\n", "  ", "xyz", "\r\n\r\n"}
	for i := 0; i < 20000; i++ {
		var b strings.Builder
		for n := r.IntN(30); n > 0; n-- {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		body := b.String()
		var cuts []int
		for p := 0; p < len(body); {
			p += 1 + r.IntN(8)
			if p < len(body) {
				cuts = append(cuts, p)
			}
		}
		limit := int64(r.IntN(40))
		for _, relaxed := range []bool{false, true} {
			want := refSimpleBody(body)
			if relaxed {
				want = refRelaxedBody(body)
			}
			full, lim := canonBody(relaxed, body, cuts, limit)
			whole, _ := canonBody(relaxed, body, nil, -1)
			if full != want || whole != want {
				t.Fatalf("relaxed=%v body %q cuts %v: got %q (unsplit %q), want %q", relaxed, body, cuts, full, whole, want)
			}
			if l := want[:min(int64(len(want)), limit)]; lim != l {
				t.Fatalf("relaxed=%v body %q l=%d: got %q, want %q", relaxed, body, limit, lim, l)
			}
		}
	}
}

func TestRelaxedHeader(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Subject: Hello\r\n", "subject:Hello\r\n"},
		{"SUBJECT :  a \t b  \r\n", "subject:a b\r\n"},
		{"X-A:\r\n", "x-a:\r\n"},
		{"Subject: one\r\n\ttwo \r\n  three\r\n", "subject:one two three\r\n"},
		{"X: a\rb\r\n", "x:a\rb\r\n"},
	} {
		colon := strings.IndexByte(c.in, ':')
		if got := string(appendRelaxedHeader(nil, []byte(c.in), colon)); got != c.want {
			t.Errorf("%q: got %q, want %q", c.in, got, c.want)
		}
		if ref := refRelaxedHeader(c.in); ref != c.want && !strings.Contains(c.in, "\rb") {
			t.Errorf("ref %q: got %q, want %q", c.in, ref, c.want)
		}
	}
}

func TestReadHeader(t *testing.T) {
	for _, c := range []struct {
		in     string
		fields []string
		eof    bool
		body   string
	}{
		{"A: 1\r\nB: 2\r\n\r\nbody", []string{"A: 1\r\n", "B: 2\r\n"}, false, "body"},
		{"A: 1\nB: 2\n \tcont\n\nbody\n", []string{"A: 1\r\n", "B: 2\r\n \tcont\r\n"}, false, "body\n"},
		{"A: 1\r\nB: 2", []string{"A: 1\r\n", "B: 2\r\n"}, true, ""},
		{"A: 1\r\n", []string{"A: 1\r\n"}, true, ""},
		{"", nil, true, ""},
		{"\r\nbody", nil, false, "body"},
		{" lead: x\r\nno colon\r\n\r\n", []string{" lead: x\r\n", "no colon\r\n"}, false, ""},
	} {
		br := newTestBufReader(c.in)
		h, eof, err := readHeader(br)
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		var fields []string
		for i := range h.Fields {
			fields = append(fields, string(h.Raw(i)))
		}
		rest := readAllString(br)
		if strings.Join(fields, "|") != strings.Join(c.fields, "|") || eof != c.eof || rest != c.body {
			t.Errorf("%q: fields %q eof %v body %q; want %q %v %q", c.in, fields, eof, rest, c.fields, c.eof, c.body)
		}
	}
}

func TestCleanRelaxedLine(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	naive := func(l string) bool {
		return !strings.HasSuffix(l, " ") && !strings.Contains(l, "\t") && !strings.Contains(l, "  ")
	}
	for i := 0; i < 100000; i++ {
		b := make([]byte, 1+r.IntN(40))
		for j := range b {
			b[j] = "ab \t\x00\xa0\x20\x09\x89"[r.IntN(9)]
		}
		if got, want := cleanRelaxedLine(b), naive(string(b)); got != want {
			t.Fatalf("%q: got %v, want %v", b, got, want)
		}
	}
}
