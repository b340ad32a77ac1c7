package resolver

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// The error classes every failed query maps to. Callers branch on these
// with errors.Is; the policy engines map them onto their own result codes.
var (
	// ErrNotFound means the name does not exist (NXDOMAIN).
	ErrNotFound = errors.New("name not found")
	// ErrNoData means the name exists but has no records of the type.
	ErrNoData = errors.New("no records of requested type")
	// ErrTemporary means asking again later may give an answer: timeouts,
	// SERVFAIL, network errors and context cancellation or deadline.
	ErrTemporary = errors.New("temporary DNS failure")
	// ErrPermanent means asking again will not help: REFUSED, FORMERR,
	// NOTIMP, malformed replies and names that cannot be queried.
	ErrPermanent = errors.New("permanent DNS failure")
)

// NoRcode is the Rcode of an Error for which no usable reply arrived
// (timeouts, network errors, rejected names), so that it cannot be
// mistaken for NOERROR.
const NoRcode = -1

// Error describes a failed query. errors.Is matches its Kind and the
// underlying Err; errors.As gives access to the details.
type Error struct {
	Name   string // queried name, without trailing dot
	Type   uint16 // queried type
	Kind   error  // ErrNotFound, ErrNoData, ErrTemporary or ErrPermanent
	Rcode  int    // rcode of the reply, or NoRcode
	Server string // last server asked, empty if none was
	Err    error  // underlying cause, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("resolver: lookup ")
	b.WriteString(e.Name)
	b.WriteByte(' ')
	b.WriteString(dns.Type(e.Type).String())
	if e.Server != "" {
		b.WriteString(" on ")
		b.WriteString(e.Server)
	}
	b.WriteString(": ")
	if e.Kind != nil {
		b.WriteString(e.Kind.Error())
	} else {
		b.WriteString("failed")
	}
	if e.Rcode != NoRcode {
		b.WriteString(" (")
		b.WriteString(rcodeString(e.Rcode))
		b.WriteByte(')')
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap exposes both the class and the cause, so errors.Is works for
// ErrTemporary as well as for, say, context.DeadlineExceeded.
func (e *Error) Unwrap() []error {
	errs := make([]error, 0, 2)
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// Timeout reports whether the query failed because time ran out, which
// callers such as SPF report differently from other temporary errors.
func (e *Error) Timeout() bool {
	if e.Kind != ErrTemporary || e.Err == nil {
		return false
	}
	if errors.Is(e.Err, context.DeadlineExceeded) || errors.Is(e.Err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(e.Err, &ne) && ne.Timeout()
}

// Temporary reports whether retrying later may succeed.
func (e *Error) Temporary() bool { return e.Kind == ErrTemporary }

func rcodeString(rc int) string {
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return "RCODE" + strconv.Itoa(rc)
}

// IsNoRecord reports whether err from a lookup means "no such record"
// (NXDOMAIN or no data) rather than a failure to find out. It also
// understands *net.DNSError, so engines can accept a resolver built on
// net.Resolver.
func IsNoRecord(err error) bool {
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrNoData) {
		return true
	}
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}
