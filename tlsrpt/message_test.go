package tlsrpt

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// A report mail Mail wrote parses back to the report it carries.
func TestParseMessageRoundTrip(t *testing.T) {
	rep := sampleRecorder(t).Reports(day(2026, 3, 14), day(2026, 3, 15), testOrg)[0]
	var buf bytes.Buffer
	if err := rep.Mail(&buf, testMail); err != nil {
		t.Fatal(err)
	}
	got, err := ParseMessage(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	want := *rep
	want.Submitter = ""
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("parsed %+v, want %+v", got, &want)
	}
}

// Other senders' forms: the report as the whole body, plain JSON, a
// file named *.json inside a tlsrpt multipart/report with a generic
// type, base64 with blanks; and what is not a report.
func TestParseMessageForms(t *testing.T) {
	js := sampleJSON(t)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(js)
	zw.Close()
	b64 := base64.StdEncoding.EncodeToString(gz.Bytes())
	spaced := ""
	for i := 0; i < len(b64); i += 60 {
		spaced += " " + b64[i:min(i+60, len(b64))] + " \r\n"
	}
	report := func(inner string) string {
		return "From: a@b.example\r\nSubject: r\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: multipart/report; report-type=tlsrpt; boundary=XX\r\n\r\n" +
			"--XX\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XX\r\n" + inner + "\r\n--XX--\r\n"
	}
	for _, c := range []struct {
		name, msg string
		err       error // nil: parses
	}{
		{"whole body json", "From: a@b.example\r\nContent-Type: application/tlsrpt+json\r\n\r\n" + string(js), nil},
		{"gzip part, spaced base64", report("Content-Type: application/tlsrpt+gzip\r\nContent-Transfer-Encoding: base64\r\n\r\n" + spaced), nil},
		{"octet-stream named .json.gz", report("Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"x!y!1!2!id.json.gz\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64), nil},
		{"plain text", "From: a@b.example\r\nSubject: hi\r\n\r\nhello\r\n", ErrNoReport},
		{".json.gz outside a tlsrpt report", "From: a@b.example\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: application/octet-stream; name=r.json.gz\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64 + "\r\n--XX--\r\n", ErrNoReport},
		{"not JSON in the part", report("Content-Type: application/tlsrpt+json\r\n\r\nnot json"), ErrInvalidReport},
		{"not a message", "no header here", ErrInvalidReport},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep, err := ParseMessage(strings.NewReader(c.msg))
			switch {
			case c.err == nil && (err != nil || rep == nil || len(rep.Policies) == 0):
				t.Fatalf("got %v, %v", rep, err)
			case c.err != nil && !errors.Is(err, c.err):
				t.Fatalf("got %v, want %v", err, c.err)
			}
		})
	}
}

// Hostile structure: too many parts, nesting deeper than a report has,
// and a message over MaxSize.
func TestParseMessageLimits(t *testing.T) {
	var many strings.Builder
	many.WriteString("From: a@b.example\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n")
	for range 200 {
		many.WriteString("--XX\r\nContent-Type: text/plain\r\n\r\nx\r\n")
	}
	many.WriteString("--XX--\r\n")
	if _, err := ParseMessage(strings.NewReader(many.String())); !errors.Is(err, ErrInvalidReport) || !strings.Contains(err.Error(), "MIME parts") {
		t.Errorf("200 parts: %v", err)
	}
	deep := "From: a@b.example\r\n"
	inner := "Content-Type: application/tlsrpt+json\r\n\r\n" + string(sampleJSON(t))
	for i := 9; i >= 0; i-- {
		inner = fmt.Sprintf("Content-Type: multipart/mixed; boundary=B%d\r\n\r\n--B%d\r\n%s\r\n--B%d--\r\n", i, i, inner, i)
	}
	if _, err := ParseMessage(strings.NewReader(deep + inner)); !errors.Is(err, ErrNoReport) {
		t.Errorf("10 levels deep: %v, want ErrNoReport", err)
	}
	small := Parser{MaxSize: 100}
	if _, err := small.ParseMessage(strings.NewReader("From: a@b.example\r\n\r\n" + strings.Repeat("x", 200))); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over MaxSize: %v", err)
	}
}

func FuzzParseMessage(f *testing.F) {
	f.Add([]byte("From: a@b.example\r\nContent-Type: application/tlsrpt+json\r\n\r\n{}"))
	f.Add([]byte("Content-Type: multipart/report; report-type=tlsrpt; boundary=X\r\n\r\n--X\r\nContent-Type: application/tlsrpt+gzip\r\nContent-Transfer-Encoding: base64\r\n\r\nH4sI\r\n--X--\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := Parser{MaxSize: 1 << 16, MaxDecompressedSize: 1 << 16}.ParseMessage(bytes.NewReader(b))
		if (rep == nil) == (err == nil) {
			t.Fatalf("report %v with error %v", rep, err)
		}
	})
}

// sampleJSON is one report of sampleRecorder as JSON.
func sampleJSON(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := sampleRecorder(t).Reports(day(2026, 3, 14), day(2026, 3, 15), testOrg)[0].WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
