package bmi

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseSpamdReply checks that parseReply never panics or hangs, and
// that an accepted reply is consistent: finite scores, rule-name
// symbols, a report only for REPORT and no symbols for CHECK.
func FuzzParseSpamdReply(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "spamd", "*.reply"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for cmd := range uint8(3) {
			f.Add(b, cmd)
		}
	}
	f.Add([]byte("SPAMD/1.5 0 PONG\r\n"), uint8(255))
	f.Add([]byte("SPAMD/1.1 0 EX_OK\nSpam: Yes ; 5 / 5\n\n"), uint8(2))
	f.Fuzz(func(t *testing.T, b []byte, c uint8) {
		cmd := SpamdCommand(c)
		if cmd > SpamdCheck {
			cmd = spamdPing
		}
		const limit = 4096
		src := bytes.NewReader(b)
		r := bufio.NewReaderSize(src, maxReplyLine)
		res, err := parseReply(r, cmd, limit)
		if err != nil {
			if res != nil {
				t.Fatal("result with error")
			}
			if _, ok := err.(*SpamdError); ok && !bytes.HasPrefix(b, []byte("SPAMD/")) {
				t.Fatal("SpamdError without status line")
			}
			return
		}
		if len(b) == 0 {
			t.Fatal("empty reply accepted")
		}
		if consumed := len(b) - src.Len() - r.Buffered(); consumed > limit {
			t.Fatalf("consumed %d > limit", consumed)
		}
		for _, s := range res.Symbols {
			if !isRuleName(s) {
				t.Fatalf("bad symbol %q", s)
			}
		}
		if res.Score != res.Score || res.Threshold != res.Threshold {
			t.Fatal("NaN")
		}
		switch cmd {
		case SpamdCheck, spamdPing:
			if res.Symbols != nil || res.Report != "" {
				t.Fatalf("%v with symbols or report: %+v", cmd, res)
			}
		case SpamdSymbols:
			if res.Report != "" {
				t.Fatal("SYMBOLS with report")
			}
		case SpamdReport:
			if !strings.Contains(string(b), res.Report) {
				t.Fatal("report not from the input")
			}
		}
	})
}
