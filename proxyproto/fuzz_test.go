package proxyproto

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func addSeeds(f *testing.F) {
	f.Add([]byte("PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\nEHLO"))
	f.Add([]byte("PROXY TCP6 2001:db8::1 ::ffff:1.2.3.4 1 65535\r\n"))
	f.Add([]byte("PROXY UNKNOWN whatever\r\n"))
	h := &Header{Version: 2, Command: Proxy, Transport: TCP4,
		Source: netip.MustParseAddrPort("192.0.2.1:1"), Destination: netip.MustParseAddrPort("192.0.2.2:2"),
		TLVs: []TLV{{TypeCRC32C, make([]byte, 4)}, {TypeSSL, []byte{1, 0, 0, 0, 0, 0x22, 0, 1, 'x'}}}}
	b, _ := h.Format(2)
	f.Add(b)
	// The suite's vectors, when present.
	dir := filepath.Join("..", "..", "shared", "suites", "proxy-protocol", "hex")
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.hex"))
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			if raw, err := hex.DecodeString(strings.TrimSpace(string(data))); err == nil {
				f.Add(raw)
			}
		}
	}
}

// FuzzReadHeader: no panic; never reads past the header; an accepted
// header survives Format + ReadHeader unchanged.
func FuzzReadHeader(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		h, err := ReadHeader(r)
		if err != nil {
			return
		}
		if consumed := len(in) - r.Len(); consumed != h.Len() {
			t.Fatalf("consumed %d, header length %d", consumed, h.Len())
		}
		if h.Version == 1 && h.Len() > MaxV1Length {
			t.Fatalf("v1 header of %d bytes", h.Len())
		}
		out, err := h.Format(h.Version)
		if err != nil {
			t.Fatalf("Format(%d) of accepted %+v: %v", h.Version, h, err)
		}
		h2, err := ReadHeader(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("re-read %q: %v", out, err)
		}
		if !sameHeader(h, h2) {
			t.Fatalf("round trip changed the header:\n%+v\n%+v", h, h2)
		}
	})
}

func sameHeader(a, b *Header) bool {
	if a.Version != b.Version || a.Command != b.Command || a.Transport != b.Transport ||
		a.Source != b.Source || a.Destination != b.Destination ||
		a.SourcePath != b.SourcePath || a.DestinationPath != b.DestinationPath || len(a.TLVs) != len(b.TLVs) {
		return false
	}
	for i := range a.TLVs {
		if a.TLVs[i].Type != b.TLVs[i].Type || !bytes.Equal(a.TLVs[i].Value, b.TLVs[i].Value) {
			return false
		}
	}
	return true
}

// FuzzParseIPv6 compares the allocation-free IPv6 parser with net/netip.
func FuzzParseIPv6(f *testing.F) {
	for _, s := range []string{"::", "::1", "1::", "2001:db8::1", "::ffff:1.2.3.4", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:1.2.3.4",
		"1::2::3", ":1", "1:", "1:2:3:4:5:6:7:8:9", "::01.2.3.4", "fe80::1%eth0", "12345::", "1:2:3:4:5:6:7::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseIPv6([]byte(s))
		want, err := netip.ParseAddr(s)
		wantOK := err == nil && want.Is6() && want.Zone() == ""
		if ok != wantOK || (ok && got != want) {
			t.Fatalf("%q: got %v %v, netip %v %v", s, got, ok, want, err)
		}
		g4, ok4 := parseIPv4([]byte(s))
		w4, err4 := netip.ParseAddr(s)
		w4OK := err4 == nil && w4.Is4()
		if ok4 != w4OK || (ok4 && g4 != w4) {
			t.Fatalf("v4 %q: got %v %v, netip %v %v", s, g4, ok4, w4, err4)
		}
	})
}

func TestFormatV1(t *testing.T) {
	h := &Header{Command: Proxy, Transport: TCP6,
		Source: netip.MustParseAddrPort("[::1]:65533"), Destination: netip.MustParseAddrPort("[::1]:65533")}
	b, err := h.Format(1)
	if err != nil || string(b) != "PROXY TCP6 ::1 ::1 65533 65533\r\n" {
		t.Errorf("%q %v", b, err)
	}
	h.Transport = UDP6
	if _, err := h.Format(1); err == nil {
		t.Error("UDP6 formatted as v1")
	}
	if b, _ := (&Header{Command: Local}).Format(1); string(b) != "PROXY UNKNOWN\r\n" {
		t.Errorf("%q", b)
	}
	var w bytes.Buffer
	h2 := &Header{Version: 2, Command: Local}
	if n, err := h2.WriteTo(&w); err != nil || n != 16 {
		t.Errorf("WriteTo %d %v", n, err)
	}
	got, err := ReadHeader(&w)
	if err != nil || !reflect.DeepEqual(got.TLVs, []TLV{}) && got.TLVs != nil || got.Command != Local {
		t.Errorf("%+v %v", got, err)
	}
}
