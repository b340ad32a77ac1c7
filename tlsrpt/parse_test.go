package tlsrpt

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// received is a report as another MTA might send it: the mx-host as a
// single string (the RFC example before erratum 6241), an unknown field,
// a failure with every detail.
const received = `{
  "organization-name": "Other Mail Co",
  "date-range": {"start-datetime": "2026-03-14T00:00:00Z", "end-datetime": "2026-03-14T23:59:59Z"},
  "contact-info": "tls-reports@other.example",
  "report-id": "r-20260314-0001",
  "x-vendor-extension": {"anything": [1, 2, 3]},
  "policies": [{
    "policy": {
      "policy-type": "sts",
      "policy-string": ["version: STSv1", "mode: testing", "mx: *.mx.example.com", "max_age: 604800"],
      "policy-domain": "example.com",
      "mx-host": "*.mx.example.com"
    },
    "summary": {"total-successful-session-count": 1200, "total-failure-session-count": 7},
    "failure-details": [{
      "result-type": "certificate-host-mismatch",
      "sending-mta-ip": "198.51.100.7",
      "receiving-mx-hostname": "a.mx.example.com",
      "receiving-mx-helo": "mx-a",
      "receiving-ip": "203.0.113.9",
      "failed-session-count": 7,
      "additional-information": "https://other.example/why",
      "failure-reason-code": "X509_V_ERR_HOSTNAME_MISMATCH",
      "new-field": true
    }]
  }, {
    "policy": {"policy-type": "no-policy-found", "policy-domain": "example.com"},
    "summary": {"total-successful-session-count": 3, "total-failure-session-count": 0}
  }]
}`

func gz(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestParse(t *testing.T) {
	for name, in := range map[string][]byte{
		"plain":    []byte(received),
		"gzip":     gz(t, []byte(received)),
		"BOM":      append([]byte("\xef\xbb\xbf"), received...),
		"trailing": []byte(received + "\r\n\n"),
	} {
		rep, err := Parse(bytes.NewReader(in))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if rep.OrganizationName != "Other Mail Co" || rep.ReportID != "r-20260314-0001" || rep.ContactInfo != "tls-reports@other.example" {
			t.Errorf("%s: %+v", name, rep)
		}
		if !rep.DateRange.Start.Equal(day(2026, 3, 14)) || !rep.DateRange.End.Equal(day(2026, 3, 15).Add(-time.Second)) {
			t.Errorf("%s: date range %+v", name, rep.DateRange)
		}
		if len(rep.Policies) != 2 || rep.PolicyDomain() != "example.com" {
			t.Fatalf("%s: policies %+v", name, rep.Policies)
		}
		p := rep.Policies[0]
		if !slices.Equal(p.Policy.MXHosts, []string{"*.mx.example.com"}) || len(p.Policy.Strings) != 4 || p.Policy.Type != PolicySTS {
			t.Errorf("%s: policy %+v", name, p.Policy)
		}
		if p.Summary != (Summary{1200, 7}) || len(p.FailureDetails) != 1 {
			t.Errorf("%s: %+v", name, p)
		}
		want := FailureDetail{
			ResultType: ResultCertificateHostMismatch, SendingMTAIP: "198.51.100.7",
			ReceivingMXHostname: "a.mx.example.com", ReceivingMXHelo: "mx-a", ReceivingIP: "203.0.113.9",
			FailedSessionCount: 7, AdditionalInformation: "https://other.example/why",
			FailureReasonCode: "X509_V_ERR_HOSTNAME_MISMATCH",
		}
		if p.FailureDetails[0] != want {
			t.Errorf("%s: detail %+v", name, p.FailureDetails[0])
		}
		if rep.Policies[1].Policy.Type != PolicyNone || rep.Policies[1].FailureDetails != nil {
			t.Errorf("%s: second policy %+v", name, rep.Policies[1])
		}
	}
}

func TestParseLenientDates(t *testing.T) {
	// Some senders leave out the time zone; it is UTC.
	in := strings.Replace(strings.Replace(received, "00:00:00Z", "00:00:00", 1), "23:59:59Z", "23:59:59", 1)
	rep, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.DateRange.Start.Equal(day(2026, 3, 14)) {
		t.Errorf("start %v", rep.DateRange.Start)
	}
	in = strings.Replace(received, `"mx-host": "*.mx.example.com"`, `"mx-host": ["a.example", "b.example"]`, 1)
	if rep, err := Parse(strings.NewReader(in)); err != nil || len(rep.Policies[0].Policy.MXHosts) != 2 {
		t.Errorf("mx-host array: %v %v", rep, err)
	}
}

func TestParseInvalid(t *testing.T) {
	for name, in := range map[string]string{
		"empty":            "",
		"not JSON":         "hello",
		"array":            "[]",
		"no policies":      `{"date-range": {"start-datetime": "2026-03-14T00:00:00Z", "end-datetime": "2026-03-14T23:59:59Z"}}`,
		"no date-range":    `{"policies": []}`,
		"half a range":     `{"date-range": {"start-datetime": "2026-03-14T00:00:00Z"}, "policies": []}`,
		"bad date":         strings.Replace(received, "2026-03-14T00:00:00Z", "yesterday", 1),
		"negative":         strings.Replace(received, "1200", "-1", 1),
		"negative detail":  strings.Replace(received, `"failed-session-count": 7`, `"failed-session-count": -7`, 1),
		"count as string":  strings.Replace(received, "1200", `"1200"`, 1),
		"mx-host a number": strings.Replace(received, `"*.mx.example.com"`+"\n", "5\n", 1),
		"two reports":      received + received,
		"truncated":        received[:len(received)/2],
		"DMARC XML":        `<?xml version="1.0"?><feedback></feedback>`,
	} {
		rep, err := Parse(strings.NewReader(in))
		if !errors.Is(err, ErrInvalidReport) || errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: Parse = %+v, %v; want ErrInvalidReport", name, rep, err)
		}
	}
	// Broken gzip: the magic number and then garbage, a cut stream, a
	// bad checksum.
	good := gz(t, []byte(received))
	badsum := slices.Clone(good)
	badsum[len(badsum)-5] ^= 0xff
	for name, in := range map[string][]byte{
		"garbage":   {0x1f, 0x8b, 1, 2, 3, 4},
		"truncated": good[:len(good)/2],
		"checksum":  badsum,
	} {
		if _, err := Parse(bytes.NewReader(in)); !errors.Is(err, ErrInvalidReport) {
			t.Errorf("gzip %s: %v; want ErrInvalidReport", name, err)
		}
	}
}

// countingReader counts what is read from it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

// bomb returns a valid report padded with mib MiB of white space, as
// gzip members (a reader reads them as one stream), the padding member
// compressed once and repeated.
func bomb(t *testing.T, mib int) []byte {
	pad := gz(t, bytes.Repeat([]byte(" "), 1<<20))
	out := gz(t, []byte(`{"policies": [`))
	for range mib {
		out = append(out, pad...)
	}
	return append(out, gz(t, []byte(`], "date-range": {"start-datetime": "2026-03-14T00:00:00Z", "end-datetime": "2026-03-14T23:59:59Z"}}`))...)
}

func TestParseGzipBomb(t *testing.T) {
	big := bomb(t, 32)
	cr := &countingReader{r: bytes.NewReader(big)}
	_, err := Parser{MaxDecompressedSize: 1 << 20}.Parse(cr)
	var le *LimitError
	if !errors.As(err, &le) || !le.Decompressed || le.Limit != 1<<20 || !errors.Is(err, ErrTooLarge) {
		t.Fatalf("bomb: %v; want a decompressed-size *LimitError", err)
	}
	// It stopped at the limit: far from all of the input was read.
	if cr.n > int64(len(big))/4 {
		t.Errorf("read %d of %d compressed bytes for 1 MiB of output", cr.n, len(big))
	}
	// The default limit (20 MiB) holds too.
	if _, err := Parse(bytes.NewReader(big)); !errors.As(err, &le) || le.Limit != DefaultMaxDecompressedSize {
		t.Errorf("default limits: %v", err)
	}
	// Within the limit, such a document parses: it is a valid report.
	if _, err := (Parser{MaxDecompressedSize: 3 << 20}).Parse(bytes.NewReader(bomb(t, 2))); err != nil {
		t.Errorf("within the limit: %v", err)
	}
}

func TestParseInputLimit(t *testing.T) {
	big := strings.Replace(received, `"x-vendor-extension"`, `"pad": "`+strings.Repeat("x", 4096)+`", "x-vendor-extension"`, 1)
	var le *LimitError
	_, err := Parser{MaxSize: 1024}.Parse(strings.NewReader(big))
	if !errors.As(err, &le) || le.Decompressed || le.Limit != 1024 {
		t.Errorf("plain over MaxSize: %v", err)
	}
	// Random data does not compress: the gzip input limit is hit first.
	noise := make([]byte, 8192)
	rand.NewChaCha8([32]byte{1}).Read(noise)
	_, err = Parser{MaxSize: 1024}.Parse(bytes.NewReader(gz(t, noise)))
	if !errors.As(err, &le) || le.Decompressed || le.Limit != 1024 {
		t.Errorf("gzip over MaxSize: %v", err)
	}
	// Exactly at the limit is fine.
	if _, err := (Parser{MaxSize: int64(len(received))}).Parse(strings.NewReader(received)); err != nil {
		t.Errorf("at the limit: %v", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestParseReadError(t *testing.T) {
	cause := errors.New("connection reset")
	_, err := Parse(io.MultiReader(bytes.NewReader(gz(t, []byte(received))[:20]), errReader{cause}))
	if !errors.Is(err, cause) || errors.Is(err, ErrInvalidReport) {
		t.Errorf("read error inside gzip: %v", err)
	}
	_, err = Parse(io.MultiReader(strings.NewReader(received[:10]), errReader{cause}))
	if !errors.Is(err, cause) || errors.Is(err, ErrInvalidReport) {
		t.Errorf("read error in plain JSON: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(received))
	f.Add(gz(f, []byte(received)))
	f.Add([]byte(`{"policies":[],"date-range":{"start-datetime":"2026-01-01T00:00:00Z","end-datetime":"2026-01-01T23:59:59"}}`))
	f.Add([]byte{0x1f, 0x8b})
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := Parser{MaxSize: 1 << 16, MaxDecompressedSize: 1 << 18}
		rep, err := p.Parse(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrInvalidReport) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Parse: untyped error %T %v", err, err)
			}
			return
		}
		// Whatever parses writes out and parses back the same.
		var out bytes.Buffer
		if err := rep.WriteGzip(&out); err != nil {
			t.Fatalf("WriteGzip: %v", err)
		}
		again, err := Parse(&out)
		if err != nil {
			t.Fatalf("a parsed report does not parse back: %v", err)
		}
		if len(again.Policies) != len(rep.Policies) || again.ReportID != rep.ReportID ||
			!again.DateRange.Start.Equal(rep.DateRange.Start) {
			t.Fatalf("round trip changed the report:\n%+v\n%+v", rep, again)
		}
	})
}
