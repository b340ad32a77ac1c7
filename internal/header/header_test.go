package header

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

func readBoth(t *testing.T, in string) (*Section, *Section, string) {
	t.Helper()
	br := bufio.NewReaderSize(strings.NewReader(in), 16)
	r, err := Read(br, Options{})
	if err != nil {
		t.Fatalf("Read %q: %v", in, err)
	}
	rest, _ := io.ReadAll(br)
	p, body, err := Parse([]byte(in), Options{})
	if err != nil {
		t.Fatalf("Parse %q: %v", in, err)
	}
	if string(body) != string(rest) || !bytes.Equal(r.Buf, p.Buf) || !slices.Equal(r.Fields, p.Fields) ||
		!slices.Equal(r.Defects, p.Defects) || r.N != p.N || r.EOF != p.EOF {
		t.Fatalf("%q: Read and Parse disagree:\n%+v body %q\n%+v body %q", in, r, rest, p, body)
	}
	return r, p, string(body)
}

func TestFields(t *testing.T) {
	for _, c := range []struct {
		in      string
		fields  []string // Raw of each field
		defects []Defect
		eof     bool
		body    string
	}{
		{"A: 1\r\nB: 2\r\n\r\nbody", []string{"A: 1\r\n", "B: 2\r\n"}, nil, false, "body"},
		{"A: 1\nB: 2\n \tcont\n\nbody\n", []string{"A: 1\r\n", "B: 2\r\n \tcont\r\n"}, nil, false, "body\n"},
		{"A: 1\r\nB: 2", []string{"A: 1\r\n", "B: 2\r\n"}, nil, true, ""},
		{"", nil, nil, true, ""},
		{"\r\nbody", nil, nil, false, "body"},
		{" lead: x\r\nno colon\r\n\r\n", []string{" lead: x\r\n", "no colon\r\n"},
			[]Defect{{LeadingContinuation, 1}, {NoColon, 2}}, false, ""},
		{": v\r\nFr om: x\r\nF\xc3\xb6: y\r\n\r\n", []string{": v\r\n", "Fr om: x\r\n", "F\xc3\xb6: y\r\n"},
			[]Defect{{EmptyName, 1}, {BadName, 2}, {BadName, 3}}, false, ""},
		{"A: x\ry\r\nB: \x00\r\n\r\n", []string{"A: x\ry\r\n", "B: \x00\r\n"},
			[]Defect{{BareCR, 1}, {NUL, 2}}, false, ""},
		// Obsolete syntax receivers must accept is no defect.
		{"From : a@b\r\nSubject: \x1b$B\x7f\r\n\r\n", []string{"From : a@b\r\n", "Subject: \x1b$B\x7f\r\n"}, nil, false, ""},
	} {
		s, _, body := readBoth(t, c.in)
		var got []string
		for i := range s.Fields {
			got = append(got, string(s.Raw(i)))
		}
		if !slices.Equal(got, c.fields) || !slices.Equal(s.Defects, c.defects) || s.EOF != c.eof || body != c.body {
			t.Errorf("%q:\n got %q %v eof %v body %q\nwant %q %v eof %v body %q", c.in, got, s.Defects, s.EOF, body, c.fields, c.defects, c.eof, c.body)
		}
	}
}

// A From field is found wherever it is, whatever the other lines hold:
// a defect elsewhere never hides it.
func TestFromFoundDespiteDefects(t *testing.T) {
	bad := []string{"X-A: a\rb", "X-B: \x00", "X-C: \x1b", "X-D: \x7f", "no colon here", ": empty", "X-\xe9: 8bit", "Fr om: spaced"}
	for _, b := range bad {
		for _, before := range []bool{true, false} {
			var lines []string
			if before {
				lines = []string{b, "From: ceo@victim.example"}
			} else {
				lines = []string{"From: ceo@victim.example", b}
			}
			in := strings.Join(lines, "\r\n") + "\r\nSubject: hi\r\n\r\nbody\r\n"
			s, _, _ := readBoth(t, in)
			if v := s.Values("from"); !slices.Equal(v, []string{"ceo@victim.example"}) {
				t.Errorf("%q: From values %q", in, v)
			}
		}
	}
	// A leading continuation line is a defect, not a way to hide the
	// first real field.
	s, _, _ := readBoth(t, " x\r\nFrom: ceo@victim.example\r\n\r\n")
	if v := s.Values("From"); len(v) != 1 || len(s.Defects) == 0 || s.Defects[0].Kind != LeadingContinuation {
		t.Errorf("leading continuation: %q %v", v, s.Defects)
	}
}

func TestUnfold(t *testing.T) {
	s, _, _ := readBoth(t, "From: \"A\r\n B\" <a@b>\r\n\t(c)\r\nTo  :x\r\n\r\n")
	if got := s.Values("from"); !slices.Equal(got, []string{"\"A B\" <a@b>\t(c)"}) {
		t.Errorf("unfolded %q", got)
	}
	if got := s.Values("TO"); !slices.Equal(got, []string{"x"}) {
		t.Errorf("obs name %q", got)
	}
	if s.Count("from") != 1 || s.Count("cc") != 0 {
		t.Error("Count")
	}
}

func TestTooLarge(t *testing.T) {
	in := strings.Repeat("X: "+strings.Repeat("a", 97)+"\r\n", 20)
	if _, err := Read(bufio.NewReader(strings.NewReader(in)), Options{Max: 1000}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Read: %v", err)
	}
	if _, _, err := Parse([]byte(in), Options{Max: 1000}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Parse: %v", err)
	}
	if _, err := Read(bufio.NewReader(strings.NewReader(in)), Options{}); err != nil {
		t.Errorf("default max: %v", err)
	}
}

func TestLenient(t *testing.T) {
	in := "Content-Type: text/plain\nnot a field\nmore\n"
	s, body, err := Parse([]byte(in), Options{Lenient: true})
	if err != nil || len(s.Fields) != 1 || string(body) != "not a field\nmore\n" || len(s.Defects) != 0 || s.EOF {
		t.Errorf("lenient: %+v %q %v", s, body, err)
	}
	s, body, _ = Parse([]byte("A: 1\n   \nbody"), Options{Lenient: true})
	if len(s.Fields) != 1 || string(body) != "   \nbody" {
		t.Errorf("lenient blank: %q", body)
	}
	// Strict: the same line is a defect and the section goes on.
	s, body, _ = Parse([]byte(in), Options{})
	if len(s.Fields) != 3 || body != nil || len(s.Defects) != 2 {
		t.Errorf("strict: %+v %q", s, body)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

func TestReadError(t *testing.T) {
	if _, err := Read(bufio.NewReader(io.MultiReader(strings.NewReader("A: b\r\n"), errReader{})), Options{}); err == nil || err.Error() != "boom" {
		t.Errorf("err %v", err)
	}
}

// TestTooLargeBoundary pins the limit to the section as stored (lines
// ending CRLF, the empty line not counted), the same for Read and
// Parse whatever the input's line ends: FuzzParse found Read counting
// the empty line and bare LFs before they became CRLF.
func TestTooLargeBoundary(t *testing.T) {
	line := "X: " + strings.Repeat("a", 95) // 98 bytes, 100 with CRLF
	for _, tc := range []struct {
		name, in string
		max      int
		tooLarge bool
	}{
		{"crlf at max, empty line after", strings.Repeat(line+"\r\n", 10) + "\r\nbody", 1000, false},
		{"crlf one over", strings.Repeat(line+"\r\n", 10) + "\r\n", 999, true},
		{"bare lf at max", strings.Repeat(line+"\n", 10) + "\nbody", 1000, false},
		{"bare lf one over", strings.Repeat(line+"\n", 10) + "\n", 999, true},
		{"eof without line end at max", strings.Repeat(line+"\r\n", 9) + line, 1000, false},
		{"eof without line end over", strings.Repeat(line+"\r\n", 9) + line, 999, true},
		{"eof after cr at max", strings.Repeat(line+"\r\n", 9) + line + "\r", 1000, false},
		{"long line over", "X: " + strings.Repeat("b", 2000) + "\r\n\r\n", 1000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{Max: tc.max}
			_, rerr := Read(bufio.NewReaderSize(strings.NewReader(tc.in), 16), opts)
			_, _, perr := Parse([]byte(tc.in), opts)
			for what, err := range map[string]error{"Read": rerr, "Parse": perr} {
				if errors.Is(err, ErrTooLarge) != tc.tooLarge {
					t.Errorf("%s: %v, want too large %v", what, err, tc.tooLarge)
				}
			}
		})
	}
}
