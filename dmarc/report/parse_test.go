package report_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/dmarc/report"
)

const minimal = `<?xml version="1.0"?>
<feedback><report_metadata><org_name>r.example</org_name><email>a@r.example</email>` +
	`<report_id>id1</report_id><date_range><begin>1</begin><end>2</end></date_range></report_metadata>` +
	`<policy_published><domain>example.com</domain><p>none</p></policy_published>` +
	`<record><row><source_ip>192.0.2.1</source_ip><count>3</count><policy_evaluated>` +
	`<disposition>none</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated></row>` +
	`<identifiers><header_from>example.com</header_from></identifiers>` +
	`<auth_results><spf><domain>example.com</domain><result>fail</result></spf></auth_results></record></feedback>
`

func mustParse(t *testing.T, data []byte) *report.Feedback {
	t.Helper()
	f, err := report.Parse(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func gzipped(t testing.TB, parts ...[]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, p := range parts {
		zw := gzip.NewWriter(&b)
		zw.Write(p)
		zw.Close()
	}
	return b.Bytes()
}

func zipped(t testing.TB, files ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for i := 0; i < len(files); i += 2 {
		w, err := zw.Create(files[i])
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[i+1]))
	}
	zw.Close()
	return b.Bytes()
}

func TestParseForms(t *testing.T) {
	want := mustParse(t, []byte(minimal))
	if want.Records[0].Row.Count != 3 || want.Metadata.ReportID != "id1" {
		t.Fatalf("minimal: %+v", want)
	}
	half := len(minimal) / 2
	for name, data := range map[string][]byte{
		"gzip":               gzipped(t, []byte(minimal)),
		"gzip two members":   gzipped(t, []byte(minimal[:half]), []byte(minimal[half:])),
		"gzip trailing junk": append(gzipped(t, []byte(minimal)), "\r\n\x00junk"...),
		"zip":                zipped(t, "r.xml", minimal),
		"zip xml not first":  zipped(t, "README", "not a report", "report.XML", minimal),
		"zip no .xml name":   zipped(t, "report", minimal),
		"BOM":                append([]byte("\xef\xbb\xbf"), minimal...),
		"wrapped":            []byte("<?xml version='1.0'?><wrapper><x/>" + minimal[len(`<?xml version="1.0"?>`):] + "<unclosed>"),
	} {
		if got := mustParse(t, data); !equalReports(got, want) {
			t.Errorf("%s: %+v", name, got)
		}
	}
}

func equalReports(a, b *report.Feedback) bool {
	x, _ := a.Marshal()
	y, _ := b.Marshal()
	return bytes.Equal(x, y)
}

func TestParseLatin1(t *testing.T) {
	doc := strings.Replace(minimal, `<?xml version="1.0"?>`, `<?xml version="1.0" encoding="ISO-8859-1"?>`, 1)
	doc = strings.Replace(doc, "r.example</org_name>", "Soci\xe9t\xe9</org_name>", 1)
	if f := mustParse(t, []byte(doc)); f.Metadata.OrgName != "Société" {
		t.Errorf("org_name %q", f.Metadata.OrgName)
	}
	doc = strings.Replace(minimal, `<?xml version="1.0"?>`, `<?xml version="1.0" encoding="us-ascii"?>`, 1)
	doc = strings.Replace(doc, "r.example</org_name>", "x\xffy</org_name>", 1)
	if f := mustParse(t, []byte(doc)); f.Metadata.OrgName != "x\uFFFDy" {
		t.Errorf("org_name %q", f.Metadata.OrgName)
	}
	doc = strings.Replace(minimal, `<?xml version="1.0"?>`, `<?xml version="1.0" encoding="EBCDIC"?>`, 1)
	if _, err := report.Parse(strings.NewReader(doc)); err == nil || !strings.Contains(err.Error(), "EBCDIC") {
		t.Errorf("EBCDIC: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	for name, c := range map[string]struct {
		data []byte
		want string
	}{
		"empty":         {nil, "no <feedback>"},
		"not xml":       {[]byte("hello"), "no <feedback>"},
		"other root":    {[]byte("<html><body/></html>"), "no <feedback>"},
		"truncated":     {[]byte(minimal[:200]), "unexpected EOF"},
		"bad gzip":      {[]byte("\x1f\x8bnot gzip at all"), "gzip"},
		"bad gzip crc":  {corruptCRC(gzipped(t, []byte(minimal))), "gzip"},
		"bad zip":       {[]byte("PK\x03\x04garbage"), "zip"},
		"empty zip":     {zipped(t), "zip"},
		"utf-16":        {[]byte("\xff\xfe<\x00f\x00"), "UTF-16"},
		"deep":          {[]byte(strings.Repeat("<a>", 100)), "nested too deeply"},
		"deep inside":   {[]byte("<feedback>" + strings.Repeat("<a>", 100)), "nested too deeply"},
		"deep wrapper":  {[]byte(strings.Repeat("<a>", 63) + "<feedback><b><c/></b></feedback>"), "nested too deeply"},
		"entity":        {[]byte(strings.Replace(minimal, "r.example<", "&xxe;<", 1)), "syntax error"},
		"control chars": {[]byte(strings.Replace(minimal, "r.example<", "r\x01<", 1)), "illegal character"},
	} {
		_, err := report.Parse(bytes.NewReader(c.data))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", name, err, c.want)
		}
	}
}

func corruptCRC(b []byte) []byte {
	b = bytes.Clone(b)
	b[len(b)-8] ^= 0xff
	return b
}

// zeros is an endless reader of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestParseLimits(t *testing.T) {
	// Input beyond MaxSize.
	if _, err := report.Parse(zeros{}); !errors.Is(err, report.ErrTooLarge) {
		t.Errorf("endless input: %v", err)
	}
	if testing.Short() {
		t.Skip("compression bombs take a second")
	}
	// A small gzip file that expands beyond MaxSize.
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	io.CopyN(zw, zeros{}, report.MaxSize+1024)
	zw.Close()
	if _, err := report.Parse(&b); !errors.Is(err, report.ErrTooLarge) || !strings.Contains(err.Error(), "decompressed") {
		t.Errorf("gzip bomb: %v", err)
	}
	// The same in a zip.
	b.Reset()
	w := zip.NewWriter(&b)
	fw, _ := w.Create("bomb.xml")
	io.CopyN(fw, zeros{}, report.MaxSize+1024)
	w.Close()
	if _, err := report.Parse(&b); !errors.Is(err, report.ErrTooLarge) {
		t.Errorf("zip bomb: %v", err)
	}
}

func TestParseMessageNoReport(t *testing.T) {
	for name, msg := range map[string]string{
		"plain text": "From: a@b\r\nSubject: hi\r\n\r\nhello\r\n",
		"multipart without report": "From: a@b\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\n" +
			"Content-Type: text/plain\r\n\r\nhello\r\n--XX--\r\n",
	} {
		if _, err := report.ParseMessage(strings.NewReader(msg)); !errors.Is(err, report.ErrNoReport) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A broken attachment is reported when nothing else parses.
	msg := "From: a@b\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\n" +
		"Content-Type: application/gzip\r\nContent-Transfer-Encoding: base64\r\n\r\nH4sIAAAA\r\n--XX--\r\n"
	if _, err := report.ParseMessage(strings.NewReader(msg)); err == nil || errors.Is(err, report.ErrNoReport) {
		t.Errorf("broken attachment: %v", err)
	}
}

func TestParseMessageNested(t *testing.T) {
	var b strings.Builder
	b.WriteString("From: a@b\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=OUT\r\n\r\n--OUT\r\n")
	b.WriteString("Content-Type: multipart/alternative; boundary=IN\r\n\r\n--IN\r\nContent-Type: text/plain\r\n\r\nx\r\n--IN--\r\n")
	b.WriteString("--OUT\r\nContent-Type: application/octet-stream; name=\"r.xml\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	b.WriteString(strings.ReplaceAll(minimal, "=", "=3D"))
	b.WriteString("\r\n--OUT--\r\n")
	f, err := report.ParseMessage(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata.ReportID != "id1" {
		t.Errorf("%+v", f)
	}
}

func TestFilenameSafe(t *testing.T) {
	f := mustParse(t, []byte(minimal))
	f.Metadata.Email = "x@../../etc"
	f.Policy.Domain = "a/b\\c d"
	f.Metadata.ReportID = "bad id"
	if got, want := f.Filename(), ".._.._etc!a_b_c_d!1!2.xml.gz"; got != want {
		t.Errorf("Filename %q, want %q", got, want)
	}
	f.Metadata.Email = "no-at-sign"
	f.Metadata.OrgName = "Org"
	f.Metadata.ReportID = "ID42"
	if got, want := f.Filename(), "Org!a_b_c_d!1!2!ID42.xml.gz"; got != want {
		t.Errorf("Filename %q, want %q", got, want)
	}
}
