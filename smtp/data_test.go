package smtp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestDataWriter(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ".\r\n"},
		{"a", "a\r\n.\r\n"},
		{"a\r\n", "a\r\n.\r\n"},
		{"a\n", "a\r\n.\r\n"},
		{"a\r", "a\r\n.\r\n"},
		{".", "..\r\n.\r\n"},
		{".\r\n", "..\r\n.\r\n"},
		{"a\n.\nb", "a\r\n..\r\nb\r\n.\r\n"},
		{"a\r.\rb", "a\r\n..\r\nb\r\n.\r\n"},
		{"a\r\n.\r\nb", "a\r\n..\r\nb\r\n.\r\n"},
		{"a\r\r\nb", "a\r\n\r\nb\r\n.\r\n"},
		{"\n\n", "\r\n\r\n.\r\n"},
		{"x.y\r\n..z", "x.y\r\n...z\r\n.\r\n"},
	} {
		// Whole, and split at every byte.
		for _, split := range []bool{false, true} {
			var b bytes.Buffer
			w := NewDataWriter(&b)
			if split {
				for i := range len(tc.in) {
					w.Write([]byte{tc.in[i]})
				}
			} else {
				w.Write([]byte(tc.in))
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("%q (split %v): %q, want %q", tc.in, split, b.String(), tc.want)
			}
		}
	}
	w := NewDataWriter(io.Discard)
	w.Close()
	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("write after Close")
	}
}

func readData(t *testing.T, in string, max int64, oneByte bool) (string, string, error) {
	t.Helper()
	var src io.Reader = strings.NewReader(in)
	if oneByte {
		src = iotest.OneByteReader(src)
	}
	br := bufio.NewReaderSize(src, 16)
	d := NewDataReader(br)
	d.MaxSize = max
	got, err := io.ReadAll(d)
	rest, _ := io.ReadAll(br)
	return string(got), string(rest), err
}

func TestDataReader(t *testing.T) {
	for _, tc := range []struct {
		in, want, rest string
		err            error
	}{
		{".\r\nQUIT\r\n", "", "QUIT\r\n", nil},
		{"a\r\n.\r\nQUIT\r\n", "a\r\n", "QUIT\r\n", nil},
		{"..a\r\n..\r\n.\r\n", ".a\r\n.\r\n", "", nil},
		{".a\r\n.\r\n", "a\r\n", "", nil}, // an unstuffed leading dot goes (RFC 5321 §4.5.2)
		// Only CRLF.CRLF ends the data.
		{"a\n.\nb\r\n.\r\n", "a\n.\nb\r\n", "", nil},
		{"a\r.\rb\r\n.\r\n", "a\r.\rb\r\n", "", nil},
		{"a\r\n.\nb\r\n.\r\n", "a\r\n\nb\r\n", "", nil},
		{"a\r\n.\rb\r\n.\r\n", "a\r\n\rb\r\n", "", nil},
		{"a\r\n.\r\r\n.\r\n", "a\r\n\r\r\n", "", nil},
		{"a\n..\nb\r\n.\r\n", "a\n..\nb\r\n", "", nil},
		{"a\r\r\n.\r\n", "a\r\r\n", "", nil},
		{"a\r\n", "a\r\n", "", io.ErrUnexpectedEOF},
		{"a\r\n.\r", "a\r\n", "", io.ErrUnexpectedEOF},
		{"", "", "", io.ErrUnexpectedEOF},
	} {
		for _, ob := range []bool{false, true} {
			got, rest, err := readData(t, tc.in, 0, ob)
			if got != tc.want || rest != tc.rest || !errors.Is(err, tc.err) {
				t.Errorf("%q (one byte %v): %q rest %q err %v; want %q rest %q err %v", tc.in, ob, got, rest, err, tc.want, tc.rest, tc.err)
			}
		}
	}
}

func TestDataReaderLimit(t *testing.T) {
	in := strings.Repeat("0123456789\r\n", 10) + ".\r\nQUIT\r\n"
	if got, _, err := readData(t, in, 120, false); err != nil || len(got) != 120 {
		t.Errorf("at the limit: %d %v", len(got), err)
	}
	for _, ob := range []bool{false, true} {
		got, rest, err := readData(t, in, 50, ob)
		if !errors.Is(err, ErrDataTooLarge) || len(got) > 50 || rest != "QUIT\r\n" {
			t.Errorf("over the limit: %d %q %v", len(got), rest, err)
		}
	}
}

func TestDataRoundTrip(t *testing.T) {
	for _, in := range []string{"", "x", ".\r\n.\r\n", "a\r\n.\r\n..\r\nb", "\r\n.\r\n", strings.Repeat(".x\r\n", 5000)} {
		var b bytes.Buffer
		w := NewDataWriter(&b)
		w.Write([]byte(in))
		w.Close()
		got, rest, err := readData(t, b.String(), 0, false)
		want := in
		if want != "" && !strings.HasSuffix(want, "\r\n") {
			want += "\r\n"
		}
		if err != nil || got != want || rest != "" {
			t.Errorf("%.40q: %.40q %q %v", in, got, rest, err)
		}
	}
}
