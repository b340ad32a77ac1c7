package main

// proxy-decode with a PROXY v2 header built by a hostile proxy: every
// string the header carries (TLVs, SSL sub-TLVs, UNIX paths) holds NUL,
// LF, CR, 0xff, DEL, ESC, a backslash and U+202E. The output must stay one
// line per variable, 7-bit printable, with each such byte visible as a
// \xHH escape (the same in text and JSON).

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/proxyproto"
)

// hostileValue is what every string TLV carries; hostileEscaped is how
// proxy-decode must print it.
const (
	hostileValue   = "a\x00b\nc\rd\xffe\x7ff\x1bg\\h\u202ei j"
	hostileEscaped = `a\x00b\x0ac\x0dd\xffe\x7ff\x1bg\x5ch\xe2\x80\xaei j`
)

func sslTLV(sub ...proxyproto.TLV) []byte {
	v := []byte{proxyproto.ClientSSL, 0, 0, 0, 0}
	for _, s := range sub {
		v = append(v, byte(s.Type))
		v = binary.BigEndian.AppendUint16(v, uint16(len(s.Value)))
		v = append(v, s.Value...)
	}
	return v
}

func hostileHeader(t *testing.T, tr proxyproto.Transport) string {
	t.Helper()
	val := []byte(hostileValue)
	h := &proxyproto.Header{
		Version: 2, Command: proxyproto.Proxy, Transport: tr,
		TLVs: []proxyproto.TLV{
			{Type: proxyproto.TypeALPN, Value: val},
			{Type: proxyproto.TypeAuthority, Value: val},
			{Type: proxyproto.TypeNetNS, Value: val},
			{Type: proxyproto.TypeSSL, Value: sslTLV(
				proxyproto.TLV{Type: proxyproto.SubtypeSSLVersion, Value: val},
				proxyproto.TLV{Type: proxyproto.SubtypeSSLCN, Value: val},
				proxyproto.TLV{Type: proxyproto.SubtypeSSLCipher, Value: val},
				proxyproto.TLV{Type: proxyproto.SubtypeSSLSigAlg, Value: val},
				proxyproto.TLV{Type: proxyproto.SubtypeSSLKeyAlg, Value: val},
			)},
		},
	}
	if tr.IsUnix() {
		// The writer refuses NUL in a path; a reader stops at the first
		// one, so the rest of the hostile bytes are what a path can hold.
		h.SourcePath = strings.ReplaceAll(hostileValue, "\x00", "")
		h.DestinationPath = h.SourcePath
	} else {
		h.Source = netip.MustParseAddrPort("192.0.2.1:1234")
		h.Destination = netip.MustParseAddrPort("198.51.100.2:25")
	}
	b, err := h.Format(2)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func TestProxyDecodeHostileTLVs(t *testing.T) {
	strVars := []string{"proxy_alpn", "proxy_authority", "proxy_netns", "proxy_ssl_version",
		"proxy_ssl_cn", "proxy_ssl_cipher", "proxy_ssl_sig_alg", "proxy_ssl_key_alg"}
	pathEscaped := strings.ReplaceAll(hostileEscaped, `\x00`, "")
	for _, tr := range []proxyproto.Transport{proxyproto.TCP4, proxyproto.UnixStream} {
		in := hostileHeader(t, tr)
		want := map[string]string{}
		for _, n := range strVars {
			want[n] = hostileEscaped
		}
		if tr.IsUnix() {
			want["proxy_source_path"], want["proxy_destination_path"] = pathEscaped, pathEscaped
		}

		code, out, errOut := runCLI(t, "proxy-decode", "-hex", in)
		if code != 0 {
			t.Fatalf("%v: exit %d, stderr %s", tr, code, errOut)
		}
		got := map[string]string{}
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			for i := 0; i < len(line); i++ {
				if line[i] < 0x20 || line[i] > 0x7e {
					t.Errorf("%v: byte %#02x in output line %q", tr, line[i], line)
					break
				}
			}
			name, value, ok := strings.Cut(line, "=")
			if !ok {
				t.Errorf("%v: line without '=': %q", tr, line)
			}
			if _, dup := got[name]; dup {
				t.Errorf("%v: %s printed twice", tr, name)
			}
			got[name] = value
		}
		for n, v := range want {
			if got[n] != v {
				t.Errorf("%v: %s=%q, want %q", tr, n, got[n], v)
			}
		}

		code, out, _ = runCLI(t, "proxy-decode", "-json", "-hex", in)
		var obj map[string]string
		if code != 0 || json.Unmarshal([]byte(out), &obj) != nil || strings.Count(out, "\n") != 1 {
			t.Fatalf("%v: -json: exit %d, %q", tr, code, out)
		}
		for n, v := range want {
			if obj[n] != v {
				t.Errorf("%v: -json %s=%q, want %q", tr, n, obj[n], v)
			}
		}
	}
}

// FuzzProxyEscape: whatever the bytes, the escaped form is 7-bit
// printable and decodes back to them.
func FuzzProxyEscape(f *testing.F) {
	f.Add(hostileValue)
	f.Add(`\x41`)
	f.Fuzz(func(t *testing.T, s string) {
		e := escapeValue(s)
		var back []byte
		for i := 0; i < len(e); i++ {
			c := e[i]
			if c < 0x20 || c > 0x7e {
				t.Fatalf("byte %#02x in %q", c, e)
			}
			if c == '\\' {
				if i+4 > len(e) || e[i+1] != 'x' {
					t.Fatalf("bad escape at %d in %q", i, e)
				}
				b, err := hex.DecodeString(e[i+2 : i+4])
				if err != nil {
					t.Fatal(err)
				}
				back = append(back, b...)
				i += 3
				continue
			}
			back = append(back, c)
		}
		if string(back) != s {
			t.Fatalf("%q escaped to %q decodes to %q", s, e, back)
		}
	})
}
