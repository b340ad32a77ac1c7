package resolver

import (
	"context"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/miekg/dns"
)

func TestErrorMethods(t *testing.T) {
	tests := []struct {
		name          string
		err           *Error
		wantString    string
		timeout, temp bool
		is            []error
	}{
		{"nxdomain",
			&Error{Name: "a.example", Type: dns.TypeTXT, Kind: ErrNotFound, Rcode: dns.RcodeNameError, Server: "127.0.0.1:53"},
			"resolver: lookup a.example TXT on 127.0.0.1:53: name not found (NXDOMAIN)", false, false,
			[]error{ErrNotFound}},
		{"ctx deadline",
			&Error{Name: "a.example", Type: dns.TypeA, Kind: ErrTemporary, Rcode: NoRcode, Err: context.DeadlineExceeded},
			"resolver: lookup a.example A: temporary DNS failure: context deadline exceeded", true, true,
			[]error{ErrTemporary, context.DeadlineExceeded}},
		{"socket timeout",
			&Error{Name: "a.example", Type: dns.TypeA, Kind: ErrTemporary, Rcode: NoRcode, Err: os.ErrDeadlineExceeded},
			"", true, true, []error{ErrTemporary}},
		{"network error",
			&Error{Name: "a.example", Type: 65280, Kind: ErrTemporary, Rcode: NoRcode, Err: io.ErrUnexpectedEOF},
			"resolver: lookup a.example TYPE65280: temporary DNS failure: unexpected EOF", false, true,
			[]error{ErrTemporary, io.ErrUnexpectedEOF}},
		{"odd rcode",
			&Error{Name: "a.example", Type: dns.TypeA, Kind: ErrPermanent, Rcode: 15},
			"resolver: lookup a.example A: permanent DNS failure (RCODE15)", false, false, []error{ErrPermanent}},
		{"no kind", &Error{Name: "x", Rcode: NoRcode}, "resolver: lookup x None: failed", false, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.wantString != "" && tt.err.Error() != tt.wantString {
				t.Errorf("Error() = %q\nwant      %q", tt.err.Error(), tt.wantString)
			}
			if tt.err.Timeout() != tt.timeout || tt.err.Temporary() != tt.temp {
				t.Errorf("Timeout %v Temporary %v", tt.err.Timeout(), tt.err.Temporary())
			}
			for _, target := range tt.is {
				if !errors.Is(tt.err, target) {
					t.Errorf("not errors.Is %v", target)
				}
			}
			for _, other := range []error{ErrNotFound, ErrNoData, ErrTemporary, ErrPermanent} {
				if other != tt.err.Kind && errors.Is(tt.err, other) {
					t.Errorf("also matches %v", other)
				}
			}
		})
	}
}
