package tlsrpt

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Size limits of Parse; a Parser can set others.
const (
	DefaultMaxSize             = 10 << 20 // bytes read from the input
	DefaultMaxDecompressedSize = 20 << 20 // bytes of JSON after gunzip
)

// ErrInvalidReport is what every Parse error other than a size limit
// or a read error matches: not gzip, not JSON, not a TLS report.
var ErrInvalidReport = errors.New("tlsrpt: invalid report")

// ErrTooLarge is what a *LimitError matches.
var ErrTooLarge = errors.New("tlsrpt: report too large")

// LimitError is a report over one of the Parser's limits. Parse stops
// reading at the limit, so a gzip bomb costs no more than Limit bytes.
type LimitError struct {
	Limit        int64
	Decompressed bool // the limit on the JSON after gunzip, not on the input
}

func (e *LimitError) Error() string {
	if e.Decompressed {
		return fmt.Sprintf("tlsrpt: report larger than %d bytes after decompression", e.Limit)
	}
	return fmt.Sprintf("tlsrpt: report larger than %d bytes", e.Limit)
}

func (e *LimitError) Is(target error) bool { return target == ErrTooLarge }

// Parser reads received reports. The zero value uses the default
// limits.
type Parser struct {
	MaxSize             int64 // input bytes; 0 means DefaultMaxSize
	MaxDecompressedSize int64 // JSON bytes after gunzip; 0 means DefaultMaxDecompressedSize
}

// Parse reads a report with the default limits; see Parser.Parse.
func Parse(r io.Reader) (*Report, error) { return Parser{}.Parse(r) }

// Parse reads an RFC 8460 report, plain JSON (application/tlsrpt+json)
// or gzip-compressed (application/tlsrpt+gzip, told apart by its magic
// number). Unknown fields are ignored; an mx-host or policy-string that
// is a single string rather than an array (the RFC's example before
// erratum 6241) and a date-time without a time zone (taken as UTC, as
// some large senders write them) are accepted. A document without
// date-range or policies is not a TLS report. Errors match
// ErrInvalidReport or ErrTooLarge, or are the reader's.
func (p Parser) Parse(r io.Reader) (*Report, error) {
	maxIn, maxOut := p.MaxSize, p.MaxDecompressedSize
	if maxIn <= 0 {
		maxIn = DefaultMaxSize
	}
	if maxOut <= 0 {
		maxOut = DefaultMaxDecompressedSize
	}
	in := &limitReader{r: r, n: maxIn, limit: maxIn}
	br := bufio.NewReader(in)
	var src io.Reader = br
	gzipped := false
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, in.classify(err)
		}
		defer gz.Close()
		src, gzipped = gz, true
	} else {
		maxOut = min(maxOut, maxIn)
	}
	data, err := io.ReadAll(io.LimitReader(src, maxOut+1))
	if err != nil {
		return nil, in.classify(err)
	}
	if int64(len(data)) > maxOut {
		return nil, &LimitError{Limit: maxOut, Decompressed: gzipped}
	}
	return decodeReport(data)
}

// limitReader fails with a *LimitError when there is more than n bytes
// to read, and notes the reader's own errors so that classify can tell
// them from a broken gzip stream.
type limitReader struct {
	r        io.Reader
	n, limit int64
	err      error // the last error of r other than io.EOF
}

func (l *limitReader) Read(b []byte) (int, error) {
	if l.n <= 0 {
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			return 0, &LimitError{Limit: l.limit}
		}
		return 0, l.note(err)
	}
	if int64(len(b)) > l.n {
		b = b[:l.n]
	}
	n, err := l.r.Read(b)
	l.n -= int64(n)
	return n, l.note(err)
}

func (l *limitReader) note(err error) error {
	if err != nil && err != io.EOF {
		l.err = err
	}
	return err
}

// classify tells the input limit and the reader's own errors from
// everything else the gzip reader can say, which means the data is not
// a gzip stream: those match ErrInvalidReport.
func (l *limitReader) classify(err error) error {
	var le *LimitError
	switch {
	case errors.As(err, &le):
		return le
	case l.err != nil && errors.Is(err, l.err):
		return err
	default:
		return fmt.Errorf("%w: gzip: %w", ErrInvalidReport, err)
	}
}

var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// wireReport is Report with presence checks for the required parts.
type wireReport struct {
	OrganizationName string          `json:"organization-name"`
	DateRange        *DateRange      `json:"date-range"`
	ContactInfo      string          `json:"contact-info"`
	ReportID         string          `json:"report-id"`
	Policies         *[]PolicyResult `json:"policies"`
}

func decodeReport(data []byte) (*Report, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	dec := json.NewDecoder(bytes.NewReader(data))
	var w wireReport
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidReport, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrInvalidReport)
	}
	if w.DateRange == nil {
		return nil, fmt.Errorf("%w: no date-range", ErrInvalidReport)
	}
	if w.Policies == nil {
		return nil, fmt.Errorf("%w: no policies", ErrInvalidReport)
	}
	for i, pr := range *w.Policies {
		s := pr.Summary
		if s.TotalSuccessfulSessionCount < 0 || s.TotalFailureSessionCount < 0 {
			return nil, fmt.Errorf("%w: policies[%d]: negative session count", ErrInvalidReport, i)
		}
		for j, d := range pr.FailureDetails {
			if d.FailedSessionCount < 0 {
				return nil, fmt.Errorf("%w: policies[%d].failure-details[%d]: negative session count", ErrInvalidReport, i, j)
			}
		}
	}
	return &Report{
		OrganizationName: w.OrganizationName,
		DateRange:        *w.DateRange,
		ContactInfo:      w.ContactInfo,
		ReportID:         w.ReportID,
		Policies:         *w.Policies,
	}, nil
}

// UnmarshalJSON accepts RFC 3339 date-times and, leniently, ones
// without a time zone (read as UTC). Both must be present.
func (d *DateRange) UnmarshalJSON(b []byte) error {
	var w struct {
		Start *string `json:"start-datetime"`
		End   *string `json:"end-datetime"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	if w.Start == nil || w.End == nil {
		return errors.New("date-range needs start-datetime and end-datetime")
	}
	var err error
	if d.Start, err = parseDateTime(*w.Start); err != nil {
		return err
	}
	d.End, err = parseDateTime(*w.End)
	return err
}

func parseDateTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02T15:04:05", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("date-time %q is not RFC 3339", s)
}

// UnmarshalJSON reads a policy, taking policy-string and mx-host as
// either an array of strings or a single string.
func (p *Policy) UnmarshalJSON(b []byte) error {
	var w struct {
		Type    PolicyType  `json:"policy-type"`
		Domain  string      `json:"policy-domain"`
		Strings stringOrArr `json:"policy-string"`
		MXHosts stringOrArr `json:"mx-host"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*p = Policy{Type: w.Type, Domain: w.Domain, Strings: w.Strings, MXHosts: w.MXHosts}
	return nil
}

type stringOrArr []string

func (s *stringOrArr) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}
