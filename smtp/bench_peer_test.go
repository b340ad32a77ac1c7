package smtp

import (
	"bufio"
	"bytes"
	"io"
	"net/textproto"
	"strings"
	"testing"
)

// The peer for the wire layer is the standard library's net/textproto,
// which net/smtp is built on: the same inputs as the benchmarks in
// bench_test.go, through textproto's reply reader and dot writer and
// reader. (textproto accepts a bare LF as a line end, which smtp does
// not; that check is part of what these measure.)

func BenchmarkReadReplyTextproto(b *testing.B) {
	wire := "250-mx.example.com Hello client.example.org [192.0.2.1]\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n" +
		"250-PIPELINING\r\n250-PRDR\r\n250-CHUNKING\r\n250 STARTTLS\r\n250 2.1.0 OK\r\n"
	src := strings.NewReader(wire)
	br := bufio.NewReader(src)
	tr := textproto.NewReader(br)
	b.ReportAllocs()
	b.SetBytes(int64(len(wire)))
	for b.Loop() {
		src.Reset(wire)
		br.Reset(src)
		if _, _, err := tr.ReadResponse(250); err != nil {
			b.Fatal(err)
		}
		if _, _, err := tr.ReadResponse(250); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDataWriterTextproto(b *testing.B) {
	w := bufio.NewWriterSize(io.Discard, 4096)
	tw := textproto.NewWriter(w)
	b.ReportAllocs()
	b.SetBytes(int64(len(message)))
	for b.Loop() {
		dw := tw.DotWriter()
		dw.Write(message)
		dw.Close()
	}
}

func BenchmarkDataReaderTextproto(b *testing.B) {
	var wire bytes.Buffer
	dw := NewDataWriter(&wire)
	dw.Write(message)
	dw.Close()
	src := bytes.NewReader(wire.Bytes())
	br := bufio.NewReaderSize(src, 4096)
	tr := textproto.NewReader(br)
	buf := make([]byte, 32<<10)
	b.ReportAllocs()
	b.SetBytes(int64(wire.Len()))
	for b.Loop() {
		src.Reset(wire.Bytes())
		br.Reset(src)
		d := tr.DotReader()
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
