package report

import (
	"errors"
	"fmt"
)

// ErrTooLarge is what every size limit of the package reports: input or
// a decompressed report over a Parser's MaxSize, and a report e-mail
// whose attachment exceeds its destination's "!size" limit (Mail). The
// error returned is a *SizeError, which matches ErrTooLarge with
// errors.Is.
var ErrTooLarge = errors.New("report: too large")

// ErrNoFeedback means the document has no <feedback> element.
var ErrNoFeedback = errors.New("report: no <feedback> element")

// ErrNoReport means a message carries no part that could be a report.
var ErrNoReport = errors.New("report: no report attachment in message")

// SizeError says which limit was exceeded. When reading stopped at the
// limit, Size is Limit+1: the rest was never read.
type SizeError struct {
	What  string // "input", "decompressed report (gzip)", "decompressed report (zip)", "attachment for mailto:..."
	Size  int64
	Limit int64
}

func (e *SizeError) Error() string {
	if e.Size > e.Limit+1 || e.Size <= e.Limit {
		return fmt.Sprintf("report: %s of %d bytes exceeds the limit of %d bytes", e.What, e.Size, e.Limit)
	}
	return fmt.Sprintf("report: %s exceeds the limit of %d bytes", e.What, e.Limit)
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *SizeError) Is(target error) bool { return target == ErrTooLarge }

// FormatError is input that could not be decoded: a broken gzip or zip
// archive, malformed or unsupported XML, or a malformed message. Layer
// says which: "gzip", "zip", "xml", "message" or "read" (the reader
// failed).
type FormatError struct {
	Layer string
	Err   error
}

func (e *FormatError) Error() string { return "report: " + e.Layer + ": " + e.Err.Error() }

func (e *FormatError) Unwrap() error { return e.Err }

func formatErr(layer string, err error) error { return &FormatError{Layer: layer, Err: err} }
