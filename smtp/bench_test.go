package smtp

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
)

// BenchmarkReadReply reads a typical EHLO reply and a one-line reply
// from a reused reader.
func BenchmarkReadReply(b *testing.B) {
	wire := "250-mx.example.com Hello client.example.org [192.0.2.1]\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n" +
		"250-PIPELINING\r\n250-PRDR\r\n250-CHUNKING\r\n250 STARTTLS\r\n250 2.1.0 OK\r\n"
	src := strings.NewReader(wire)
	rr := NewReplyReader(src)
	b.ReportAllocs()
	b.SetBytes(int64(len(wire)))
	for b.Loop() {
		src.Reset(wire)
		rr.r.Reset(src)
		if _, err := rr.ReadReply(); err != nil {
			b.Fatal(err)
		}
		if _, err := rr.ReadReply(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseEHLO(b *testing.B) {
	r, _ := ParseReply("250-mx.example.com Hello\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n250-PIPELINING\r\n250-PRDR\r\n250-CHUNKING\r\n250 STARTTLS\r\n")
	b.ReportAllocs()
	for b.Loop() {
		e := ParseEHLO(r)
		if !e.Has("STARTTLS") {
			b.Fatal("no STARTTLS")
		}
	}
}

// message is 64 KiB of mail text with some leading dots and bare LFs.
var message = func() []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < 64<<10; i++ {
		switch i % 10 {
		case 3:
			b.WriteString(".a line that starts with a dot\r\n")
		case 7:
			b.WriteString("a line that ends with a bare LF\n")
		default:
			b.WriteString("The quick brown fox jumps over the lazy dog, again and again.\r\n")
		}
	}
	return b.Bytes()
}()

func BenchmarkDataWriter(b *testing.B) {
	w := bufio.NewWriterSize(io.Discard, 4096)
	b.ReportAllocs()
	b.SetBytes(int64(len(message)))
	for b.Loop() {
		dw := NewDataWriter(w)
		dw.Write(message)
		dw.Close()
		w.Flush()
	}
}

func BenchmarkDataReader(b *testing.B) {
	var wire bytes.Buffer
	dw := NewDataWriter(&wire)
	dw.Write(message)
	dw.Close()
	src := bytes.NewReader(wire.Bytes())
	br := bufio.NewReaderSize(src, 4096)
	buf := make([]byte, 32<<10)
	b.ReportAllocs()
	b.SetBytes(int64(wire.Len()))
	for b.Loop() {
		src.Reset(wire.Bytes())
		br.Reset(src)
		d := NewDataReader(br)
		for {
			if _, err := d.Read(buf); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
	}
}
