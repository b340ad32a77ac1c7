package dmarc

import (
	"bufio"
	"net/mail"
	"net/textproto"
	"strings"
	"testing"
)

// A typical received header section: trace fields, a DKIM signature,
// the usual originator fields.
var benchHeader = strings.Repeat("Received: from relay.example (relay.example [192.0.2.1])\r\n\tby mx.example with ESMTPS id 1abc; Tue, 1 Dec 2026 10:00:00 +0000\r\n", 4) +
	"DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel; c=relaxed/relaxed;\r\n\th=from:to:subject:date:message-id; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n\tb=dGVzdA==\r\n" +
	"From: \"Alice Example\" <alice@example.com>\r\nTo: bob@example.org\r\nSubject: quarterly report\r\n" +
	"Date: Tue, 1 Dec 2026 10:00:00 +0000\r\nMessage-ID: <1@example.com>\r\nMIME-Version: 1.0\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n\r\nbody\r\n"

// BenchmarkFromDomains: FromHeaders and the From parser, against what
// they replace (net/textproto's strict reader and net/mail's parser),
// which refuse the hostile variants outright.
func BenchmarkFromDomains(b *testing.B) {
	b.Run("ours", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			v, err := FromHeaders(strings.NewReader(benchHeader))
			if err != nil {
				b.Fatal(err)
			}
			if d, err := fromDomains(v); err != nil || d[0] != "example.com" {
				b.Fatal(d, err)
			}
		}
	})
	b.Run("textproto+net/mail", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			h, err := textproto.NewReader(bufio.NewReader(strings.NewReader(benchHeader))).ReadMIMEHeader()
			if err != nil {
				b.Fatal(err)
			}
			a, err := mail.ParseAddressList(h.Get("From"))
			if err != nil || !strings.HasSuffix(a[0].Address, "@example.com") {
				b.Fatal(a, err)
			}
		}
	})
}
