package smtp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func FuzzReadReply(f *testing.F) {
	for _, s := range []string{"250 ok\r\n", "250-a\r\n250 b\r\n", "353 x\n", "25", "250-a\r\n251 b\r\n", "554 5.7.1 no", "250-a\n250 b\r\n", "220 a\rb\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rr := NewReplyReader(strings.NewReader(s))
		rr.Limits = Limits{MaxLineLength: 100, MaxLines: 10, MaxSize: 300}
		for {
			r, err := rr.ReadReply()
			if err != nil {
				var re *ReplyError
				if err != io.EOF && !errors.As(err, &re) {
					t.Fatalf("error %T %v", err, err)
				}
				return
			}
			if r.Code < 200 || r.Code > 599 || len(r.Text) == 0 || len(r.Text) > 10 {
				t.Fatalf("bad reply %+v from %q", r, s)
			}
			for _, l := range r.Text {
				if strings.ContainsAny(l, "\r\n") || len(l) > 96 {
					t.Fatalf("line %q from %q", l, s)
				}
			}
			// What parsed, written out, parses to the same reply.
			r2, err := ParseReply(r.Wire())
			if err != nil || r2.String() != r.String() {
				t.Fatalf("round trip of %q: %+v, %v", r.Wire(), r2, err)
			}
		}
	})
}

func FuzzParseEHLO(f *testing.F) {
	f.Add("250-mx\r\n250-SIZE 10\r\n250-PRDR\r\n250 AUTH PLAIN\r\n", "size")
	f.Add("250-mx\r\n250-\tX\r\n250 8BITMIME\r\n", "8bitmime")
	f.Fuzz(func(t *testing.T, s, kw string) {
		r, err := ParseReply(s)
		if err != nil {
			return
		}
		e := ParseEHLO(r)
		for _, x := range e {
			if !validKeyword(x.Keyword) || x.Keyword != strings.ToUpper(x.Keyword) || strings.Trim(x.Params, " \t") != x.Params {
				t.Fatalf("bad extension %+v", x)
			}
			if !e.Has(strings.ToLower(x.Keyword)) {
				t.Fatalf("Has(%q) false", x.Keyword)
			}
		}
		if p, ok := e.Param(kw); ok != e.Has(kw) || !ok && p != "" {
			t.Fatalf("Param(%q) = %q %v", kw, p, ok)
		}
		if n, ok := e.Size(); n < 0 || ok != e.Has("SIZE") {
			t.Fatalf("Size = %d %v", n, ok)
		}
	})
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"<a@b.c>", " <a@b.c> SIZE=1", "<>", "<@x,@y:a@b>", "<\"a b\"@c>", "<a@[IPv6:::1]>", "<jö@bü.de>"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, utf bool) {
		p, err := ParsePath(s, WithUTF8(utf))
		if err != nil {
			var pe *PathError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T", err)
			}
			return
		}
		if p.Mailbox == "" {
			return
		}
		if !ValidMailbox(p.Mailbox, WithUTF8(utf)) || len(p.Mailbox) > MaxPath {
			t.Fatalf("mailbox %q from %q", p.Mailbox, s)
		}
		if strings.ContainsAny(p.Mailbox, "\r\n\x00") {
			t.Fatalf("control in %q", p.Mailbox)
		}
		if !utf {
			for i := 0; i < len(p.Mailbox); i++ {
				if c := p.Mailbox[i]; c < ' ' || c > '~' {
					t.Fatalf("non-ASCII mailbox %q", p.Mailbox)
				}
			}
		}
		// The path written back parses to the same.
		p2, err := ParsePath("<"+p.Mailbox+">", WithUTF8(utf))
		if err != nil || p2.Mailbox != p.Mailbox {
			t.Fatalf("round trip %q: %+v %v", p.Mailbox, p2, err)
		}
	})
}

func FuzzParams(f *testing.F) {
	for _, s := range []string{"", "PRDR", "SIZE=10 PRDR", "PRDR=x", "prdr prdr", "BODY=8BITMIME\tSMTPUTF8", "ENVID=a+2B AUTH=<>", "NOTIFY=SUCCESS,DELAY ORCPT=rfc822;a+2Bb@c", "RET=HDRS X=1 x=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if mp, err := ParseMailParams(s); err == nil {
			if err := mp.check(); err != nil {
				t.Fatalf("parsed params fail the check: %v", err)
			}
			back, err := ParseMailParams(mp.String())
			if err != nil || back.String() != mp.String() {
				t.Fatalf("round trip %q -> %q: %v", s, mp.String(), err)
			}
		} else {
			var pe *ParamError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T", err)
			}
		}
		if rp, err := ParseRcptParams(s); err == nil {
			if err := rp.check(); err != nil {
				t.Fatalf("parsed params fail the check: %v", err)
			}
			back, err := ParseRcptParams(rp.String())
			if err != nil || back.String() != rp.String() {
				t.Fatalf("round trip %q -> %q: %v", s, rp.String(), err)
			}
		}
		if d, err := DecodeXtext(s); err == nil {
			if d2, err := DecodeXtext(EncodeXtext(d)); err != nil || d2 != d {
				t.Fatalf("xtext round trip of %q", d)
			}
		}
	})
}

func FuzzDataReader(f *testing.F) {
	for _, s := range []string{"a\r\n.\r\n", "..x\r\n.\r\n", "a\n.\nb\r\n.\r\n", ".\r\r\n.\r\n", "a\r\n.\rb", ""} {
		f.Add(s, uint8(7))
	}
	f.Fuzz(func(t *testing.T, s string, chunk uint8) {
		// Reading: never more than the input, and what it returns
		// written again reads back the same.
		br := bufio.NewReaderSize(strings.NewReader(s), 16)
		d := NewDataReader(br)
		buf := make([]byte, int(chunk%32)+1)
		var got bytes.Buffer
		var err error
		for {
			var n int
			n, err = d.Read(buf)
			got.Write(buf[:n])
			if err != nil {
				break
			}
		}
		if got.Len() > len(s) {
			t.Fatalf("%d octets out of %d", got.Len(), len(s))
		}
		if err == io.EOF {
			if got.Len() > 0 && !bytes.HasSuffix(got.Bytes(), []byte("\r\n")) {
				t.Fatalf("data %q does not end with CRLF", got.Bytes())
			}
			var w bytes.Buffer
			dw := NewDataWriter(&w)
			dw.Write(got.Bytes())
			dw.Close()
			// The writer normalises bare CR and LF, so compare after
			// the same normalisation.
			var norm bytes.Buffer
			nw := newCRLFWriter(&norm)
			nw.Write(got.Bytes())
			nw.Close()
			back, _, rerr := readAllData(w.String())
			if rerr != nil || back != norm.String() {
				t.Fatalf("round trip of %q: %q %v", got.Bytes(), back, rerr)
			}
		}
		// Writing any input gives data whose only end is the last.
		var w bytes.Buffer
		dw := NewDataWriter(&w)
		dw.Write([]byte(s))
		dw.Close()
		out := w.String()
		if i := strings.Index(out, "\r\n.\r\n"); i >= 0 && i != len(out)-5 {
			t.Fatalf("early end in %q", out)
		}
		if strings.Count(strings.ReplaceAll(out, "\r\n", ""), "\r")+strings.Count(strings.ReplaceAll(out, "\r\n", ""), "\n") != 0 {
			t.Fatalf("bare CR or LF in %q", out)
		}
	})
}

func readAllData(s string) (string, string, error) {
	br := bufio.NewReader(strings.NewReader(s))
	got, err := io.ReadAll(NewDataReader(br))
	rest, _ := io.ReadAll(br)
	return string(got), string(rest), err
}
