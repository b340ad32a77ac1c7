//go:build interop

// Interop test: HAProxy 2.6 (shared peer, peer-haproxy.sh) as the PROXY
// sender in front of our Listener.
//
//	2526  send-proxy          v1 "PROXY TCP4 ..." (and TCP6 via [::1])
//	2527  send-proxy-v2       v2, no TLVs
//	2529  TLS + send-proxy-v2-ssl-cn, proxy-v2-options crc32c,authority,ssl-cipher
//
// The test starts HAProxy with HAPROXY_BACKEND_PORT pointing at our
// listener and, when it ends, stops it or, if it was already running,
// restarts it with its previous backend (Exim's 2528 by default).
//
// Environment:
//
//	MAILPOLICY_SHARED            the shared/ directory that holds peers/
//	                             (default <repo>/../shared)
//	MAILPOLICY_INTEROP_REQUIRED  non-empty: fail instead of skipping when
//	                             HAProxy cannot be started
//	HAPROXY_STATE, HAPROXY_V1_PORT, HAPROXY_V2_PORT, HAPROXY_TLS_PORT
//	                             as for peer-haproxy.sh

package proxyproto_test

import (
	"bufio"
	"crypto/tls"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/hostlist"
	"github.com/mailpolicy/mailpolicy/internal/peertest"
	"github.com/mailpolicy/mailpolicy/proxyproto"
)

func unreachable(t *testing.T, format string, args ...any) {
	t.Helper()
	peertest.Unavailable(t, "HAProxy", format, args...)
}

// runScript runs peer-haproxy.sh cmd, pointing HAProxy's backend at
// port backend when it is not empty.
func runScript(script, cmd, backend string) (string, error) {
	var env []string
	if backend != "" {
		env = []string{"HAPROXY_BACKEND_PORT=" + backend}
	}
	return peertest.Run(script, env, cmd)
}

var backendRE = regexp.MustCompile(`(?m)^\s*server s 127\.0\.0\.1:(\d+)`)

type result struct {
	info *proxyproto.Info
	err  error
}

func TestInteropHAProxy(t *testing.T) {
	script := peertest.SharedScript("peer-haproxy.sh")
	if _, err := os.Stat(script); err != nil {
		unreachable(t, "%v", err)
	}
	if _, err := exec.LookPath("haproxy"); err != nil && !peertest.Required() {
		unreachable(t, "haproxy not installed: %v", err)
	}
	state := peertest.Env("HAPROXY_STATE", "/tmp/peers/haproxy")

	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := proxyproto.NewListener(inner, proxyproto.Config{Required: hostlist.MustParse("127.0.0.1"), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	results := make(chan result, 8)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				info, err := c.(*proxyproto.Conn).Proxy()
				results <- result{info, err}
				if err == nil {
					c.Write([]byte("220 hello " + c.RemoteAddr().String() + "\r\n"))
					bufio.NewReader(c).ReadString('\n')
				}
			}()
		}
	}()
	_, port, _ := net.SplitHostPort(inner.Addr().String())

	// Remember a running HAProxy's backend, and restore it afterwards.
	wasRunning := false
	origBackend := ""
	if _, err := runScript(script, "status", ""); err == nil {
		wasRunning = true
		if cfg, err := os.ReadFile(filepath.Join(state, "haproxy.cfg")); err == nil {
			if m := backendRE.FindSubmatch(cfg); m != nil {
				origBackend = string(m[1])
			}
		}
		if out, err := runScript(script, "stop", ""); err != nil {
			t.Fatalf("stop: %v\n%s", err, out)
		}
	}
	t.Cleanup(func() {
		if out, err := runScript(script, "stop", ""); err != nil {
			t.Errorf("stop: %v\n%s", err, out)
		}
		if wasRunning {
			if out, err := runScript(script, "start", origBackend); err != nil {
				t.Errorf("restoring HAProxy (backend %s): %v\n%s", origBackend, err, out)
			}
		}
	})
	if out, err := runScript(script, "start", port); err != nil {
		unreachable(t, "start: %v\n%s", err, out)
	}

	v1 := peertest.Env("HAPROXY_V1_PORT", "2526")
	v2 := peertest.Env("HAPROXY_V2_PORT", "2527")
	tlsPort := peertest.Env("HAPROXY_TLS_PORT", "2529")

	check := func(t *testing.T, c net.Conn, wantVersion int, wantExt string) *proxyproto.Info {
		t.Helper()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			t.Fatalf("reading through HAProxy: %v", err)
		}
		var r result
		select {
		case r = <-results:
		case <-time.After(10 * time.Second):
			t.Fatal("no connection from HAProxy")
		}
		if r.err != nil {
			t.Fatalf("negotiation: %v", r.err)
		}
		info := r.info
		client := c.LocalAddr().(*net.TCPAddr).AddrPort()
		client = netip.AddrPortFrom(client.Addr().Unmap(), client.Port())
		if info.Header.Version != wantVersion || info.Client != client {
			t.Errorf("header v%d client %v, want v%d %v", info.Header.Version, info.Client, wantVersion, client)
		}
		if ext := netip.AddrPortFrom(info.ExternalAddress, info.ExternalPort).String(); ext != wantExt {
			t.Errorf("$proxy_external_address/port %s, want %s", ext, wantExt)
		}
		if !info.ProxySession || info.LocalAddress.String() != "127.0.0.1" {
			t.Errorf("info %+v", info)
		}
		if want := "220 hello " + client.String() + "\r\n"; line != want {
			t.Errorf("reply %q, want %q", line, want)
		}
		c.Write([]byte("QUIT\r\n"))
		t.Logf("v%d: client %v, external %s, proxy %v:%d, %d TLVs", info.Header.Version, info.Client, wantExt,
			info.LocalAddress, info.LocalPort, len(info.Header.TLVs))
		return info
	}

	for _, host := range []string{"127.0.0.1", "::1"} {
		for _, p := range []struct {
			port    string
			version int
		}{{v1, 1}, {v2, 2}} {
			t.Run(p.port+"/"+host, func(t *testing.T) {
				c, err := net.Dial("tcp", net.JoinHostPort(host, p.port))
				if err != nil {
					if host == "::1" {
						t.Skipf("no IPv6 loopback: %v", err)
					}
					t.Fatal(err)
				}
				defer c.Close()
				info := check(t, c, p.version, net.JoinHostPort(host, p.port))
				if len(info.Header.TLVs) != 0 {
					t.Errorf("unexpected TLVs %v", info.Header.TLVs)
				}
			})
		}
	}

	t.Run(tlsPort+"/tls", func(t *testing.T) {
		c, err := tls.Dial("tcp", "127.0.0.1:"+tlsPort, &tls.Config{ServerName: "mx.example.test", InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		cs := c.ConnectionState()
		info := check(t, c, 2, "127.0.0.1:"+tlsPort)
		h := info.Header
		if a, ok := h.Authority(); !ok || a != "mx.example.test" {
			t.Errorf("authority %q %v", a, ok)
		}
		if _, ok := h.CRC32C(); !ok {
			t.Error("no CRC32C TLV (it is verified when present)")
		}
		s, ok := h.SSL()
		if !ok {
			t.Fatal("no SSL TLV")
		}
		if s.Client&proxyproto.ClientSSL == 0 || s.Verify != 0 || s.CN != "" {
			t.Errorf("SSL %+v", s)
		}
		if want := strings.ReplaceAll(tls.VersionName(cs.Version), "TLS ", "TLSv"); s.Version != want {
			t.Errorf("SSL version %q, want %q", s.Version, want)
		}
		if want := tls.CipherSuiteName(cs.CipherSuite); s.Cipher != want {
			t.Errorf("SSL cipher %q, want %q", s.Cipher, want)
		}
		t.Logf("TLS: authority mx.example.test, SSL client=%#x verify=%d version=%s cipher=%s, CRC32C ok, %d-byte header",
			s.Client, s.Verify, s.Version, s.Cipher, h.Len())
	})
}
