package ocsp

import (
	"errors"
	"fmt"
	"strconv"
)

// Status is the value of Exim's $tls_out_ocsp (and $tls_in_ocsp): how far
// OCSP got on one TLS connection.
type Status int

// The values of $tls_out_ocsp, in Exim's numbering.
const (
	NotRequested Status = iota // 0: OCSP not requested
	NotResponded               // 1: requested, no response received
	NotVerified                // 2: response received but not verified
	Failed                     // 3: verification failed
	Verified                   // 4: a good, verified, in-date response
)

// String returns the digit Exim puts in $tls_out_ocsp.
func (s Status) String() string { return strconv.Itoa(int(s)) }

// CertStatus is the certificate status an OCSP response reports.
type CertStatus int

// Certificate statuses (RFC 6960 §4.2.1).
const (
	Good CertStatus = iota
	Revoked
	Unknown
)

// String returns "good", "revoked" or "unknown", as openssl ocsp prints
// them.
func (c CertStatus) String() string {
	switch c {
	case Good:
		return "good"
	case Revoked:
		return "revoked"
	case Unknown:
		return "unknown"
	}
	return fmt.Sprintf("CertStatus(%d)", int(c))
}

// The client errors, with Exim's texts (Exim prefixes them with
// "(SSL_connect) " in delivery failure messages).
var (
	ErrRevoked       = errors.New("Server certificate revoked")
	ErrUnknownStatus = errors.New("Server certificate has unknown status")
	ErrOutOfDate     = errors.New("Server certificate status is out-of-date")
	ErrNotReceived   = errors.New("Required TLS certificate status not received")
	// ErrParse is Exim's "Received TLS cert status response, parse
	// error": the staple is not a successful basic OCSP response.
	ErrParse = errors.New("Received TLS cert status response, parse error")
	// ErrUnverifiable is a staple whose signature or cert ID does not
	// check out ("status response, itself unverifiable" in Exim's log).
	ErrUnverifiable = errors.New("Received TLS cert status response, itself unverifiable")
)
