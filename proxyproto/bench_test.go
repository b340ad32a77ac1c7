package proxyproto

import (
	"bufio"
	"bytes"
	"net/netip"
	"testing"

	pires "github.com/pires/go-proxyproto"
)

// Benchmark inputs, built once.
var (
	benchV1 = []byte("PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\n")
	benchV2 = mustFormat(&Header{Command: Proxy, Transport: TCP4,
		Source: netip.MustParseAddrPort("192.0.2.1:56324"), Destination: netip.MustParseAddrPort("198.51.100.2:25")})
	// The TLV set HAProxy 2.6 sends on port 2529 of the shared peer
	// (send-proxy-v2-ssl-cn, proxy-v2-options crc32c,authority,ssl-cipher):
	// 80 bytes after the fixed part.
	benchV2TLS = mustFormat(&Header{Command: Proxy, Transport: TCP4,
		Source: netip.MustParseAddrPort("127.0.0.1:40358"), Destination: netip.MustParseAddrPort("127.0.0.1:2529"),
		TLVs: []TLV{
			{TypeCRC32C, make([]byte, 4)},
			{TypeAuthority, []byte("mx.example.test")},
			{TypeSSL, append([]byte{ClientSSL, 0, 0, 0, 0},
				append([]byte{byte(SubtypeSSLVersion), 0, 7}, append([]byte("TLSv1.3"),
					append([]byte{byte(SubtypeSSLCipher), 0, 22}, "TLS_AES_256_GCM_SHA384"...)...)...)...)},
		}})
)

func mustFormat(h *Header) []byte {
	b, err := h.Format(2)
	if err != nil {
		panic(err)
	}
	return b
}

func TestBenchInputs(t *testing.T) {
	if n := len(benchV2TLS) - 16; n != 80 {
		t.Errorf("TLS TLV header length %d, want 80 (as HAProxy sends)", n)
	}
	for _, b := range [][]byte{benchV1, benchV2, benchV2TLS} {
		if _, err := ReadHeader(bytes.NewReader(b)); err != nil {
			t.Error(err)
		}
		if _, err := pires.Read(bufio.NewReader(bytes.NewReader(b))); err != nil {
			t.Error(err)
		}
	}
}

func benchOurs(b *testing.B, in []byte) {
	var h Header
	var p Parser
	r := bytes.NewReader(in)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		r.Reset(in)
		if err := p.Read(r, &h); err != nil {
			b.Fatal(err)
		}
	}
}

// benchPires gives go-proxyproto its best case: one bufio.Reader, Reset
// each iteration. With tlvs, Header.TLVs() is called too, since our Read
// always parses and validates the TLVs (and the checksum).
func benchPires(b *testing.B, in []byte, tlvs bool) {
	r := bytes.NewReader(in)
	br := bufio.NewReader(r)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		r.Reset(in)
		br.Reset(r)
		h, err := pires.Read(br)
		if err != nil {
			b.Fatal(err)
		}
		if tlvs {
			if _, err := h.TLVs(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkReadV1TCP4(b *testing.B)       { benchOurs(b, benchV1) }
func BenchmarkReadV2TCP4(b *testing.B)       { benchOurs(b, benchV2) }
func BenchmarkReadV2TLS(b *testing.B)        { benchOurs(b, benchV2TLS) }
func BenchmarkPiresV1TCP4(b *testing.B)      { benchPires(b, benchV1, false) }
func BenchmarkPiresV2TCP4(b *testing.B)      { benchPires(b, benchV2, false) }
func BenchmarkPiresV2TLS(b *testing.B)       { benchPires(b, benchV2TLS, true) }
func BenchmarkPiresV2TLSNoTLVs(b *testing.B) { benchPires(b, benchV2TLS, false) }

// BenchmarkSSL measures decoding the SSL TLV after the read.
func BenchmarkSSL(b *testing.B) {
	h, err := ReadHeader(bytes.NewReader(benchV2TLS))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := h.SSL(); !ok {
			b.Fatal("no SSL")
		}
	}
}
