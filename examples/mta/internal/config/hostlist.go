package config

import "github.com/mailpolicy/mailpolicy/hostlist"

// HostList is an Exim host list setting. It parses once, from the file
// (encoding.TextUnmarshaler) or a flag (flag.Value), so a bad list is
// reported with the key or flag that holds it. The zero value is the
// empty list, which matches nothing.
type HostList struct {
	l *hostlist.List // nil: the empty text
}

// ParseHostList parses an Exim host list ("" is the empty list).
func ParseHostList(s string) (HostList, error) {
	if s == "" {
		return HostList{}, nil
	}
	l, err := hostlist.Parse(s)
	if err != nil {
		return HostList{}, err
	}
	return HostList{l: l}, nil
}

func mustHostList(s string) HostList {
	h, err := ParseHostList(s)
	if err != nil {
		panic(err)
	}
	return h
}

// List is the parsed list, never nil: an empty HostList gives a list
// that matches nothing. Where the MTA treats "no list" differently from
// "matches nothing" (PROXY processing, hosts_request_ocsp), check Empty
// first.
func (h HostList) List() *hostlist.List {
	if h.l == nil {
		return &hostlist.List{}
	}
	return h.l
}

// Empty reports whether the list was given as "".
func (h HostList) Empty() bool { return h.l == nil }

// String is the list as it was written.
func (h HostList) String() string {
	if h.l == nil {
		return ""
	}
	return h.l.String()
}

// MarshalText writes the list as it was written.
func (h HostList) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText parses an Exim host list.
func (h *HostList) UnmarshalText(b []byte) error {
	v, err := ParseHostList(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// Set is flag.Value's Set.
func (h *HostList) Set(s string) error { return h.UnmarshalText([]byte(s)) }
