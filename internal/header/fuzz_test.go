package header

import (
	"bufio"
	"bytes"
	"slices"
	"testing"
)

// FuzzParse checks the reader's invariants on any input: Read and
// Parse agree, fields tile Buf exactly, every line ends CRLF, a name
// never holds a colon or line end, and the body starts where the
// section says it ended.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"From: a@b\r\n\r\nbody", "A: 1\nB: 2\n \tc\n\n", " x\r\nno colon\r\n: e\r\n\r\n",
		"A: x\ry\r\n\x00: z\r\n\r\n", "From : \"q\\\"\" <a@(c)b>\r\n", "\r\n", "",
	} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, in []byte, lenient bool) {
		opts := Options{Max: 4096, Lenient: lenient}
		p, body, perr := Parse(in, opts)
		if !lenient {
			r, rerr := Read(bufio.NewReaderSize(bytes.NewReader(in), 16), opts)
			if (perr == nil) != (rerr == nil) {
				t.Fatalf("errors differ: %v / %v", perr, rerr)
			}
			if perr == nil && (!bytes.Equal(p.Buf, r.Buf) || !slices.Equal(p.Fields, r.Fields) || !slices.Equal(p.Defects, r.Defects) || p.N != r.N) {
				t.Fatal("Read and Parse disagree")
			}
		}
		if perr != nil {
			return
		}
		if !bytes.Equal(in[p.N:], body) && !(body == nil && p.N == len(in)) {
			t.Fatalf("N %d does not match body %q", p.N, body)
		}
		pos := 0
		for i, fl := range p.Fields {
			if fl.Start != pos || fl.End <= fl.Start || !bytes.HasSuffix(p.Raw(i), []byte("\r\n")) {
				t.Fatalf("field %d %+v does not tile at %d", i, fl, pos)
			}
			pos = fl.End
			if n := p.Name(i); bytes.ContainsAny(n, ":\n") || bytes.IndexByte(n, '\r') >= 0 && len(p.Defects) == 0 {
				t.Fatalf("name %q", n)
			}
			_ = p.Unfolded(i)
		}
		if pos != len(p.Buf) {
			t.Fatalf("fields end at %d of %d", pos, len(p.Buf))
		}
		if bytes.Count(p.Buf, []byte("\n")) != bytes.Count(p.Buf, []byte("\r\n")) {
			t.Fatal("a line in Buf does not end CRLF")
		}
	})
}
