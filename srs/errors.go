package srs

import "errors"

// Errors returned by Reverse and Forward. They are sentinels: match them
// with errors.Is, because the returned error wraps one of them with a
// reason (for example "srs: bad format: no timestamp in SRS0 address").
var (
	// ErrNotSRS: the address is not an SRS0/SRS1 address (Reverse).
	ErrNotSRS = errors.New("srs: not an SRS address")
	// ErrFormat: the address looks like SRS but a field is missing or
	// malformed, or (Forward) the address has no domain.
	ErrFormat = errors.New("srs: bad format")
	// ErrHash: the hash does not authenticate the address with any of
	// the configured secrets.
	ErrHash = errors.New("srs: hash invalid")
	// ErrExpired: the timestamp is older than the maximum age, or in the
	// future.
	ErrExpired = errors.New("srs: timestamp out of date")
	// ErrTooLong: the address is longer than MaxAddressLength (Forward)
	// or the input exceeds it (Reverse).
	ErrTooLong = errors.New("srs: address too long")
	// ErrUnsafe: the address (Forward), the input or the recovered
	// address (Reverse) holds a control character (0x00-0x1f or 0x7f).
	// A CR or LF would start a new SMTP command or header line wherever
	// the address is written, so it is refused even under a valid hash.
	ErrUnsafe = errors.New("srs: control character in address")
	// ErrUnknownAlias: a database-mode alias is valid but its key is not
	// (or no longer) in the Store, or no Store is configured.
	ErrUnknownAlias = errors.New("srs: unknown alias")
)
