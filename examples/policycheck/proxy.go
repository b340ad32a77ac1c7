package main

// proxy-decode: read one PROXY protocol header (v1 or v2) the way a
// listener with hosts_proxy does, and print what Exim would set.
//
//	policycheck proxy-decode [-hex HEX | -file FILE] [-max-v2-length N] [-json]
//
// The input is HEX (spaces allowed) or the raw bytes of FILE ("-" for
// standard input, the default). Output, one name=value per line:
//
//	proxy_version=2
//	proxy_command=PROXY             or LOCAL
//	proxy_transport=TCP4            TCP6, UDP4, UDP6, UNIX_STREAM, UNIX_DGRAM, UNSPEC
//	sender_host_address=192.0.2.1   header source (empty for LOCAL/UNKNOWN)
//	sender_host_port=56324
//	proxy_external_address=198.51.100.2
//	proxy_external_port=25
//	proxy_source_path=/run/a.sock   UNIX transports only
//	proxy_destination_path=...
//	proxy_alpn=... proxy_authority=... proxy_unique_id=HEX proxy_netns=...
//	proxy_crc32c=d2ccf222           verified
//	proxy_ssl_client=0x01 proxy_ssl_verify=0 proxy_ssl_version=TLSv1.3
//	proxy_ssl_cn=... proxy_ssl_cipher=... proxy_ssl_sig_alg=... proxy_ssl_key_alg=...
//	proxy_tlvs=0x03:4,0x02:15       type:length of every TLV
//	header_len=96                   bytes that belong to the header
//	payload_len=0                   bytes after it
//
// TLV lines appear only when present. Every string taken from the
// header (TLVs, SSL sub-TLVs, UNIX paths) comes from the remote proxy,
// so bytes outside printable ASCII, and the backslash, are printed as
// \xHH (NUL is \x00, U+202E is \xe2\x80\xae), the same in -json: one
// variable stays one 7-bit line and no byte is lost or hidden. On a
// malformed or incomplete header it prints proxy_error=... and exits 1;
// 2 is a usage error.

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/mailpolicy/mailpolicy/proxyproto"
)

func init() {
	register(&command{
		name:    "proxy-decode",
		summary: "decode a PROXY protocol v1/v2 header and print Exim's proxy variables",
		run:     runProxyDecode,
	})
}

func runProxyDecode(_ context.Context, args []string, stdout, stderr io.Writer) int {
	f := newFlagSet("proxy-decode", "[-hex HEX | -file FILE] [flags]", stdout, stderr)
	var (
		hexIn  = f.String("hex", "", "the header (and any payload) as `HEX`")
		file   = f.String("file", "", "read the raw bytes from `FILE` (\"-\": standard input, the default)")
		maxLen = f.Int("max-v2-length", proxyproto.DefaultMaxV2Length, "cap on the v2 length field, in `bytes`")
		asJSON = f.Bool("json", false, "print one JSON object instead of name=value lines")
	)
	if code, ok := f.parse(args); !ok {
		return code
	}
	if code, ok := f.noArgs(); !ok {
		return code
	}
	if f.isSet("hex") && f.isSet("file") {
		return f.usageError("-hex and -file exclude each other")
	}
	if *maxLen <= 0 || *maxLen > 65535 {
		return f.usageError("-max-v2-length: must be 1-65535, not %d", *maxLen)
	}
	var in []byte
	var err error
	switch {
	case f.isSet("hex"):
		in, err = hex.DecodeString(strings.Join(strings.Fields(*hexIn), ""))
		if err != nil {
			return f.usageError("-hex: %v", err)
		}
	case *file == "" || *file == "-":
		in, err = io.ReadAll(os.Stdin)
	default:
		in, err = os.ReadFile(*file)
	}
	if err != nil {
		fmt.Fprintf(stderr, "policycheck proxy-decode: %v\n", err)
		return 1
	}
	r := bytes.NewReader(in)
	var h proxyproto.Header
	if err := (proxyproto.Parser{MaxV2Length: *maxLen}).Read(r, &h); err != nil {
		writeVars(stdout, []variable{{"proxy_error", escapeValue(err.Error())}}, *asJSON)
		return 1
	}
	if err := writeVars(stdout, proxyVars(&h, r.Len()), *asJSON); err != nil {
		fmt.Fprintf(stderr, "policycheck proxy-decode: %v\n", err)
		return 1
	}
	return 0
}

func proxyVars(h *proxyproto.Header, payload int) []variable {
	v := []variable{
		{"proxy_version", strconv.Itoa(h.Version)},
		{"proxy_command", h.Command.String()},
		{"proxy_transport", h.Transport.String()},
	}
	var src, sport, dst, dport string
	if h.HasAddresses() {
		src, sport = h.Source.Addr().String(), strconv.Itoa(int(h.Source.Port()))
		dst, dport = h.Destination.Addr().String(), strconv.Itoa(int(h.Destination.Port()))
	}
	v = append(v, variable{"sender_host_address", src}, variable{"sender_host_port", sport},
		variable{"proxy_external_address", dst}, variable{"proxy_external_port", dport})
	if h.Command == proxyproto.Proxy && h.Transport.IsUnix() {
		v = append(v, variable{"proxy_source_path", escapeValue(h.SourcePath)},
			variable{"proxy_destination_path", escapeValue(h.DestinationPath)})
	}
	if s, ok := h.ALPN(); ok {
		v = append(v, variable{"proxy_alpn", escapeValue(s)})
	}
	if s, ok := h.Authority(); ok {
		v = append(v, variable{"proxy_authority", escapeValue(s)})
	}
	if b, ok := h.UniqueID(); ok {
		v = append(v, variable{"proxy_unique_id", hex.EncodeToString(b)})
	}
	if s, ok := h.NetNS(); ok {
		v = append(v, variable{"proxy_netns", escapeValue(s)})
	}
	if c, ok := h.CRC32C(); ok {
		v = append(v, variable{"proxy_crc32c", fmt.Sprintf("%08x", c)})
	}
	if s, ok := h.SSL(); ok {
		v = append(v, variable{"proxy_ssl_client", fmt.Sprintf("%#02x", s.Client)},
			variable{"proxy_ssl_verify", strconv.FormatUint(uint64(s.Verify), 10)})
		for _, x := range []variable{{"proxy_ssl_version", s.Version}, {"proxy_ssl_cn", s.CN}, {"proxy_ssl_cipher", s.Cipher},
			{"proxy_ssl_sig_alg", s.SigAlg}, {"proxy_ssl_key_alg", s.KeyAlg}} {
			if x.value != "" {
				v = append(v, variable{x.name, escapeValue(x.value)})
			}
		}
	}
	if len(h.TLVs) > 0 {
		var b strings.Builder
		for i, t := range h.TLVs {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%#02x:%d", byte(t.Type), len(t.Value))
		}
		v = append(v, variable{"proxy_tlvs", b.String()})
	}
	return append(v, variable{"header_len", strconv.Itoa(h.Len())}, variable{"payload_len", strconv.Itoa(payload)})
}

// escapeValue makes a string from the header printable: bytes outside
// 0x20-0x7e become \xHH, and so does the backslash, so that an escape
// in the output always means an escaped byte and the value can be
// recovered exactly.
func escapeValue(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r >= 0x80 || needsEscape(byte(r)) }) {
		return s
	}
	const digits = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; needsEscape(c) {
			b.WriteString(`\x`)
			b.WriteByte(digits[c>>4])
			b.WriteByte(digits[c&0xf])
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func needsEscape(c byte) bool { return c < 0x20 || c > 0x7e || c == '\\' }
