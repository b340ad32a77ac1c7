package main

import (
	"strings"
	"testing"
)

func TestProxyDecode(t *testing.T) {
	// v1 with payload.
	code, out, errOut := runCLI(t, "proxy-decode", "-hex",
		"50524f58592054435034203139322e302e322e31203139382e35312e3130302e322035363332342032350d0a45484c4f0d0a")
	want := "proxy_version=1\nproxy_command=PROXY\nproxy_transport=TCP4\nsender_host_address=192.0.2.1\n" +
		"sender_host_port=56324\nproxy_external_address=198.51.100.2\nproxy_external_port=25\nheader_len=44\npayload_len=6\n"
	if code != 0 || out != want || errOut != "" {
		t.Errorf("exit %d\n%s\nwant\n%s\nstderr %s", code, out, want, errOut)
	}
	// v2 with the HAProxy reg-test AUTHORITY TLV.
	code, out, _ = runCLI(t, "proxy-decode", "-hex", "0d0a0d0a000d0a515549540a211100147f0000017f000001002a05390200053132333435")
	if code != 0 || !strings.Contains(out, "proxy_authority=12345\n") || !strings.Contains(out, "proxy_tlvs=0x02:5\n") {
		t.Errorf("exit %d\n%s", code, out)
	}
	// Truncated.
	code, out, _ = runCLI(t, "proxy-decode", "-json", "-hex", "0d0a0d0a000d0a515549540a2111000c")
	if code != 1 || !strings.HasPrefix(out, `{"proxy_error":"proxyproto: incomplete v2 header`) {
		t.Errorf("exit %d %s", code, out)
	}
	if code, _, _ := runCLI(t, "proxy-decode", "-hex", "zz"); code != 2 {
		t.Errorf("bad hex: exit %d", code)
	}
}
