package report_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/mailpolicy/mailpolicy/dmarc/report"
)

// FuzzParse feeds arbitrary bytes to Parse: it must not panic, and a
// report it accepts must survive Marshal and Parse unchanged.
func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add(gzipped(f, []byte(minimal)))
	f.Add(zipped(f, "r.xml", minimal))
	f.Add([]byte(`<feedback xmlns="urn:x"><version> 2.0 </version><policy_published><pct></pct><p>Reject</p></policy_published></feedback>`))
	f.Add([]byte(`<?xml version="1.0" encoding="latin1"?><a><feedback><record><row><count>1</count></row></record></feedback>`))
	if names, err := os.ReadDir(samplesDir()); err == nil {
		for _, n := range names {
			if data, err := os.ReadFile(filepath.Join(samplesDir(), n.Name())); err == nil && len(data) < 4096 {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := report.Parse(bytes.NewReader(data))
		if err != nil {
			return
		}
		out, err := r.Marshal()
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		back, err := report.Parse(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(back, r) {
			t.Fatalf("round trip changed the report:\n%#v\nwant\n%#v\n%s", back, r, out)
		}
		_ = r.Filename()
	})
}

// FuzzParseMessage checks that no message makes ParseMessage panic.
func FuzzParseMessage(f *testing.F) {
	f.Add([]byte("Content-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\nContent-Type: application/gzip\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\nH4sIAAAA\r\n--X--\r\n"))
	f.Add([]byte("Content-Type: text/xml\r\n\r\n" + minimal))
	f.Fuzz(func(t *testing.T, data []byte) {
		report.ParseMessage(bytes.NewReader(data))
	})
}
