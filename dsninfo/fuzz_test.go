package dsninfo

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(sampleDir, "rfc3464-0*.eml"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	if msg, err := Compose(fullReport()); err == nil {
		f.Add(msg)
	}
	f.Add([]byte("Content-Type: message/delivery-status\n\nFinal-Recipient: rfc822;a@b\nAction: failed\n"))
	f.Add([]byte("Content-Type: multipart/report; boundary=b\n\n--b\n--b\nContent-Type: message/rfc822\n\n"))
	p := Parser{MaxSize: 1 << 20}
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := p.Parse(bytes.NewReader(in))
		if err != nil {
			if r != nil {
				t.Fatal("report and error")
			}
			return
		}
		if len(r.Recipients) == 0 || len(r.Recipients) > DefaultMaxRecipients {
			t.Fatalf("%d recipients", len(r.Recipients))
		}
		// Whatever was read can be written again and read back with
		// the same recipients, once the reading is normalised.
		r.Boundary = ""
		if r.ReportingMTA == "" {
			r.ReportingMTA = "x"
		}
		if !validType(r.ReportingMTAType, true) {
			return
		}
		for i := range r.Recipients {
			rc := &r.Recipients[i]
			if rc.FinalRecipient.Value == "" || !validType(string(rc.Action), false) {
				return
			}
		}
		msg, err := Compose(*r)
		if err != nil {
			return
		}
		r2, err := Parse(bytes.NewReader(msg))
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, msg)
		}
		if len(r2.Recipients) != len(r.Recipients) {
			t.Fatalf("recipients %d, re-read %d\n%s", len(r.Recipients), len(r2.Recipients), msg)
		}
	})
}

// FuzzCompose writes reports with hostile values and checks that the
// message re-parses with exactly the recipients given, that every
// line ends in CRLF and that no value made a header line of its own.
func FuzzCompose(f *testing.F) {
	f.Add("a@b.example", "220 hi\r\nX-Evil: 1", "250 ok", "SMTP error: 550 x\n\nFinal-Recipient: rfc822;evil", "env\rid", "mx.example", uint8(2), true)
	f.Add("<x@y>\n--b", "\\n\\n", "\x00\xff", "a: b\\nc", "", "m\n\n", uint8(1), false)
	f.Fuzz(func(t *testing.T, addr, greeting, helo, diag, envid, host string, n uint8, withHost bool) {
		if addr == "" || strings.TrimSpace(host) == "" {
			return
		}
		r := Report{
			ReportingMTA:       host,
			OriginalEnvelopeID: envid,
			Subject:            diag,
			To:                 addr,
			Return:             ReturnHeaders,
			Original:           []byte("Subject: " + greeting + "\n\n" + diag),
		}
		count := int(n%5) + 1
		for i := 0; i < count; i++ {
			rc := Recipient{
				FinalRecipient:    Rfc822(addr),
				OriginalRecipient: Rfc822(addr + "x"),
				Action:            Failed,
				Greeting:          greeting,
				HELOResponse:      helo,
				Diagnostic:        diag,
				Extra:             []Field{{"X-Fuzz", diag}},
			}
			if i%2 == 1 {
				rc.Action = Delayed
			}
			if withHost {
				rc.RemoteMTA, rc.RemoteIP, rc.RemotePort = host, netip.MustParseAddr("192.0.2.1"), 2525
			}
			r.Recipients = append(r.Recipients, rc)
		}
		msg, err := Compose(r)
		if err != nil {
			return // a boundary clash; nothing written
		}
		if bytes.Count(msg, []byte("\n")) != bytes.Count(msg, []byte("\r\n")) {
			t.Fatal("bare LF in output")
		}
		if bytes.Contains(bytes.ReplaceAll(msg, []byte("\r\n"), nil), []byte("\r")) {
			t.Fatal("bare CR in output")
		}
		got, err := Parse(bytes.NewReader(msg))
		if err != nil {
			t.Fatalf("parse: %v\n%s", err, msg)
		}
		if len(got.Recipients) != count {
			t.Fatalf("%d recipients, want %d\n%s", len(got.Recipients), count, msg)
		}
		for _, rc := range got.Recipients {
			if len(rc.Extra) != 1 || rc.Extra[0].Name != "X-Fuzz" {
				t.Fatalf("extra fields %q\n%s", rc.Extra, msg)
			}
			if want := sanitizeLine(strings.TrimSpace(addr)); strings.TrimSpace(rc.FinalRecipient.Value) == "" && want != "" {
				t.Fatalf("address lost")
			}
		}
		if len(got.Extra) != 0 {
			t.Fatalf("per-message extra %q\n%s", got.Extra, msg)
		}
	})
}
