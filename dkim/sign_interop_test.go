//go:build interop

package dkim

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSignEximInterop has a private Exim 4.96 (own configuration,
// spool and log under a temporary directory; nothing shared) sign a
// message with an RSA and an Ed25519 key on its smtp transport (dkim_domain,
// dkim_selector, dkim_private_key, dkim_canon, dkim_sign_headers) and
// deliver it to a listener here. Exim's signature must verify with
// Verify and go-msgauth, and Sign with the same options on the message
// as Exim sent it must choose the same h= and compute the same bh=
// (and the same i= and t=/x= offset).
func TestSignEximInterop(t *testing.T) {
	exim, err := exec.LookPath("exim4")
	if err != nil {
		t.Skip("no exim4")
	}
	eu, err := user.Lookup("Debian-exim")
	if err != nil || os.Geteuid() != 0 {
		t.Skip("needs root and the Debian-exim user")
	}
	k := signTestKeys()
	dir, err := os.MkdirTemp("", "dkimsign-exim-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	for _, d := range []string{"spool", "log"} {
		os.Mkdir(filepath.Join(dir, d), 0o750)
		exec.Command("chown", "-R", eu.Uid+":"+eu.Gid, filepath.Join(dir, d)).Run()
	}
	if err := os.WriteFile(filepath.Join(dir, "rsa.pem"), []byte(signPEM(t, k.rsa2048, true)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ed.pem"), []byte(signPEM(t, k.ed, false)), 0o644); err != nil {
		t.Fatal(err)
	}
	dns := signTestDNS{}.add(t, "rsa", "example.com", k.rsa2048.Public()).add(t, "ed", "example.com", k.ed.Public())

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go signSMTPSink(ln, got)
	port := ln.Addr().(*net.TCPAddr).Port

	msg := "From: Alice <alice@example.com>\r\nTo: bob@remote.test\r\nSubject: one\r\n" +
		"Comments: c1\r\nComments: c2\r\nReply-To: r@example.com\r\n\r\nbody  \r\n\twith\t tabs\r\n\r\n"
	for _, c := range []struct {
		canon, headers, identity string
		ts                       time.Duration
	}{
		{"relaxed", "", "alice@example.com", time.Hour},
		{"simple", "", "", 0},
		{"relaxed", OversignHeaders, "", 0},
		{"simple", "=Comments:From:Subject:Subject:+Reply-To:Cc", "", 0},
		{"relaxed", "From:+Comments:To:=Subject", "", 0},
	} {
		name := c.canon + "/" + c.headers
		t.Run(name, func(t *testing.T) {
			conf := "primary_hostname = signer.test\n" +
				"spool_directory = " + dir + "/spool\n" +
				"log_file_path = " + dir + "/log/%slog\n" +
				"exim_user = Debian-exim\nexim_group = Debian-exim\nkeep_environment =\n" +
				"begin routers\nout:\n  driver = manualroute\n  route_list = * 127.0.0.1\n  transport = sink\n  self = send\n" +
				"begin transports\nsink:\n  driver = smtp\n  port = " + strconv.Itoa(port) + "\n  hosts_override\n  allow_localhost\n" +
				"  dkim_domain = example.com\n  dkim_selector = rsa : ed\n  dkim_private_key = " + dir + "/${dkim_selector}.pem\n" +
				"  dkim_canon = " + c.canon + "\n"
			if c.identity != "" {
				conf += "  dkim_identity = " + c.identity + "\n  dkim_timestamps = " + strconv.Itoa(int(c.ts/time.Second)) + "\n"
			}
			if c.headers != "" {
				conf += "  dkim_sign_headers = " + c.headers + "\n"
			}
			confPath := filepath.Join(dir, "exim.conf")
			if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(exim, "-C", confPath, "-odf", "-f", "alice@example.com", "bob@remote.test")
			cmd.Stdin = strings.NewReader(msg)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("exim: %v %s", err, out)
			}
			var sent []byte
			select {
			case sent = <-got:
			case <-time.After(20 * time.Second):
				log, _ := os.ReadFile(filepath.Join(dir, "log", "mainlog"))
				t.Fatalf("nothing delivered; mainlog:\n%s", log)
			}
			signVerifyBoth(t, dns, sent, 2)

			// Exim's fields, and the message without them.
			eximFields, rest := signLeadingSignatures(sent)
			s := signMust(t, SignerConfig{Canon: c.canon, SignHeaders: c.headers, Identity: c.identity, Timestamps: c.ts,
				Domains: []SignDomain{{Domain: "example.com", Selectors: []SignSelector{
					{Selector: "rsa", PrivateKey: filepath.Join(dir, "rsa.pem")}, {Selector: "ed", PrivateKey: filepath.Join(dir, "ed.pem")}}}}})
			ours, _ := signDo(t, s, rest)
			ourFields, _ := signLeadingSignatures(ours)
			if len(eximFields) != 2 || len(ourFields) != 2 {
				t.Fatalf("Exim %d, ours %d signatures", len(eximFields), len(ourFields))
			}
			bySel := map[string]map[string]string{}
			for _, f := range eximFields {
				m := signTagsOf(f)
				bySel[m["s"]] = m
			}
			for _, f := range ourFields {
				oursTags := signTagsOf(f)
				eximTags := bySel[oursTags["s"]]
				if c.ts > 0 {
					et, _ := strconv.Atoi(eximTags["t"])
					ex, _ := strconv.Atoi(eximTags["x"])
					ot, _ := strconv.Atoi(oursTags["t"])
					ox, _ := strconv.Atoi(oursTags["x"])
					if et == 0 || ex-et != int(c.ts/time.Second) || ox-ot != ex-et || ot-et > 30 || ot < et {
						t.Errorf("s=%s t=/x=: Exim %d/%d, ours %d/%d", oursTags["s"], et, ex, ot, ox)
					}
				}
				for _, tag := range []string{"h", "bh", "a", "c", "d", "s", "i"} {
					if !strings.EqualFold(eximTags[tag], oursTags[tag]) {
						t.Errorf("s=%s %s=: Exim %q, ours %q", oursTags["s"], tag, eximTags[tag], oursTags[tag])
					}
				}
			}
			signVerifyBoth(t, dns, ours, 2)
			signVerifyBoth(t, dns, append(ours[:len(ours)-len(rest):len(ours)-len(rest)], sent...), 4) // all four
		})
	}
}

// signLeadingSignatures splits the DKIM-Signature fields at the top
// of a message from the rest.
func signLeadingSignatures(msg []byte) ([]string, []byte) {
	var fields []string
	for bytes.HasPrefix(msg, []byte("DKIM-Signature:")) {
		end := bytes.Index(msg, []byte("\r\n")) + 2
		for end < len(msg) && (msg[end] == ' ' || msg[end] == '\t') {
			end += bytes.Index(msg[end:], []byte("\r\n")) + 2
		}
		fields = append(fields, string(msg[:end]))
		msg = msg[end:]
	}
	return fields, msg
}

// signTagsOf splits a DKIM-Signature field into tags, whitespace gone.
func signTagsOf(field string) map[string]string {
	_, v, _ := strings.Cut(field, ":")
	v = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, v)
	m := map[string]string{}
	for _, t := range strings.Split(v, ";") {
		if n, val, ok := strings.Cut(t, "="); ok {
			m[n] = val
		}
	}
	return m
}

// signSMTPSink accepts SMTP transactions and sends each message
// (dot-unstuffed, CRLF) on got.
func signSMTPSink(ln net.Listener, got chan<- []byte) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			r := bufio.NewReader(c)
			c.Write([]byte("220 sink ESMTP\r\n"))
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				cmd := strings.ToUpper(strings.TrimSpace(line))
				switch {
				case strings.HasPrefix(cmd, "EHLO"):
					c.Write([]byte("250-sink\r\n250 8BITMIME\r\n"))
				case cmd == "DATA":
					c.Write([]byte("354 go\r\n"))
					var msg []byte
					for {
						l, err := r.ReadString('\n')
						if err != nil {
							return
						}
						if l == ".\r\n" {
							break
						}
						msg = append(msg, strings.TrimPrefix(l, ".")...)
					}
					got <- msg
					c.Write([]byte("250 ok\r\n"))
				case cmd == "QUIT":
					c.Write([]byte("221 bye\r\n"))
					return
				default:
					c.Write([]byte("250 ok\r\n"))
				}
			}
		}()
	}
}
