package proxyproto

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
)

func TestTypedErrors(t *testing.T) {
	src, dst := netip.MustParseAddrPort("192.0.2.1:1"), netip.MustParseAddrPort("192.0.2.2:25")
	crcBad, err := (&Header{Command: Proxy, Transport: TCP4, Source: src, Destination: dst,
		TLVs: []TLV{{TypeCRC32C, make([]byte, 4)}}}).Format(2)
	if err != nil {
		t.Fatal(err)
	}
	crcBad[len(crcBad)-1] ^= 1
	long := &Header{Command: Proxy, Transport: TCP4, Source: src, Destination: dst, TLVs: []TLV{{TypeNoop, make([]byte, 3000)}}}
	longB, err := long.Format(2)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in   []byte
		want error
	}{
		{[]byte("EHLO x\r\n"), ErrNoHeader},
		{[]byte("PROXZ TCP4"), ErrNoHeader},
		{[]byte("PROXY TCP4 " + strings.Repeat("1", 120)), ErrTooLong},
		{[]byte("PROXY TCP4 1.2.3.4"), ErrIncomplete},
		{[]byte("PROXY TCP4 1.2.3.4"), io.ErrUnexpectedEOF},
		{nil, io.EOF},
		{crcBad, ErrCRC32C},
		{longB, ErrTooLong},
	} {
		_, err := ReadHeader(bytes.NewReader(c.in))
		if !errors.Is(err, c.want) {
			t.Errorf("%q: %v, want %v", c.in, err, c.want)
		}
	}
	if err := (Parser{MaxV2Length: 4000}).Read(bytes.NewReader(longB), new(Header)); err != nil {
		t.Errorf("raised cap: %v", err)
	}
	var se *SyntaxError
	if _, err := ReadHeader(strings.NewReader("PROXY TCP4 1.2.3.4 1.2.3.5 01 2\r\n")); !errors.As(err, &se) || se.Version != 1 {
		t.Errorf("%v", err)
	}
	ne := &NegotiationError{Err: se}
	if !errors.Is(ne, ErrNegotiationFailed) || !errors.As(ne, &se) {
		t.Errorf("NegotiationError does not unwrap: %v", ne)
	}
}
