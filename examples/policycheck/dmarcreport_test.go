package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/dmarc/report"
)

var reportDay = time.Date(2023, 11, 15, 0, 0, 0, 0, time.UTC) // 1700006400

// historyFile writes a history file: example.com gets three messages
// (two from one source) on reportDay, example.org one, and one
// example.com message falls on the next day.
func historyFile(t *testing.T) string {
	t.Helper()
	entry := func(domain string, ip string, at time.Duration, pass bool) *dmarc.HistoryEntry {
		e := &dmarc.HistoryEntry{
			Job: "job", Reporter: "mx.receiver.example", Received: reportDay.Add(at), IPAddr: netip.MustParseAddr(ip),
			From: domain, MailFrom: domain, SPF: dmarc.ARESPass, PolicyDomain: domain, Policy: dmarc.HistoryPolicyPass,
			RUA: []string{"mailto:dmarc@" + domain + "!10k"}, Pct: 100, P: 'r', AlignDKIM: dmarc.HistoryAlignPass,
			AlignSPF: dmarc.HistoryAlignPass, Action: dmarc.HistoryActionAccept,
			DKIM: []dmarc.HistoryDKIM{{Domain: domain, Selector: "s1", Result: dmarc.ARESPass}},
		}
		if !pass {
			e.SPF, e.AlignSPF, e.AlignDKIM, e.Action = dmarc.ARESFail, dmarc.HistoryAlignFail, dmarc.HistoryAlignFail, dmarc.HistoryActionReject
			e.DKIM[0].Result = dmarc.ARESFail
		}
		return e
	}
	var b []byte
	for _, e := range []*dmarc.HistoryEntry{
		entry("example.com", "192.0.2.1", time.Hour, true),
		entry("example.com", "192.0.2.1", 2*time.Hour, true),
		entry("example.com", "198.51.100.9", 3*time.Hour, false),
		entry("example.org", "192.0.2.7", 4*time.Hour, true),
		entry("example.com", "192.0.2.1", 25*time.Hour, true),
	} {
		b = e.AppendTo(b)
	}
	path := filepath.Join(t.TempDir(), "history")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// splitXML parses the concatenated XML documents of stdout.
func splitXML(t *testing.T, out string) []*report.Feedback {
	t.Helper()
	var reports []*report.Feedback
	for _, doc := range strings.SplitAfter(out, "</feedback>\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		f, err := report.Parse(strings.NewReader(doc))
		if err != nil {
			t.Fatalf("%v\n%s", err, doc)
		}
		reports = append(reports, f)
	}
	return reports
}

func TestDMARCReportStdout(t *testing.T) {
	hist := historyFile(t)
	code, stdout, stderr := runCLI(t, "dmarc-report", "-history", hist, "-begin", "2023-11-15", "-end", "2023-11-16")
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	reports := splitXML(t, stdout)
	if len(reports) != 2 || reports[0].Policy.Domain != "example.com" || reports[1].Policy.Domain != "example.org" {
		t.Fatalf("%d reports: %+v", len(reports), reports)
	}
	com := reports[0]
	md := com.Metadata
	if md.OrgName != "mx.receiver.example" || md.Email != "postmaster@mx.receiver.example" ||
		md.DateRange != (report.DateRange{Begin: 1700006400, End: 1700092799}) || md.ReportID != "example.com.1700006400.1700092799" {
		t.Errorf("metadata %+v", md)
	}
	if com.XMLName.Space != report.Namespace || len(com.Records) != 2 || com.Records[0].Row.Count != 2 ||
		com.Records[1].Row.PolicyEvaluated.Disposition != "reject" {
		t.Errorf("example.com report %+v", com)
	}
	if !strings.HasPrefix(stdout, "<?xml") || strings.Count(stdout, "<?xml") != 2 {
		t.Errorf("stdout is not two XML documents:\n%s", stdout)
	}

	// RFC 3339 and Unix seconds, the organisation given, one domain,
	// tree walk discovery.
	code, stdout, stderr = runCLI(t, "dmarc-report", "-history", hist, "-begin", "2023-11-15T00:00:00Z", "-end", "1700092800",
		"-org-name", "Receiver Org", "-org-email", "dmarc@receiver.example", "-domain", "EXAMPLE.org.",
		"-report-id-prefix", "mx1.", "-discovery", "treewalk")
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	reports = splitXML(t, stdout)
	if len(reports) != 1 || reports[0].Policy.Domain != "example.org" || reports[0].Metadata.OrgName != "Receiver Org" ||
		reports[0].Metadata.ReportID != "mx1.example.org.1700006400.1700092799" || reports[0].Policy.DiscoveryMethod != "treewalk" {
		t.Errorf("reports %+v", reports)
	}

	// The next day has the one late message; a day without any is
	// empty, and said so on stderr.
	code, stdout, _ = runCLI(t, "dmarc-report", "-history", hist, "-begin", "2023-11-16", "-end", "2023-11-17")
	if reports := splitXML(t, stdout); code != exitOK || len(reports) != 1 || reports[0].Records[0].Row.Count != 1 {
		t.Errorf("next day: exit %d, %+v", code, reports)
	}
	code, stdout, stderr = runCLI(t, "dmarc-report", "-history", hist, "-begin", "2023-11-20", "-end", "2023-11-21")
	if code != exitOK || stdout != "" || !strings.Contains(stderr, "no history entries") {
		t.Errorf("empty day: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestDMARCReportFiles(t *testing.T) {
	hist := historyFile(t)
	dir := t.TempDir()
	code, stdout, stderr := runCLI(t, "dmarc-report", "-history", hist, "-begin", "2023-11-15", "-end", "2023-11-16", "-gzip", dir)
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	name := filepath.Join(dir, "mx.receiver.example!example.com!1700006400!1700092799.xml.gz")
	want := "dmarc_report_count=2\n" +
		"dmarc_report_1_domain=example.com\n" +
		"dmarc_report_1_id=example.com.1700006400.1700092799\n" +
		"dmarc_report_1_begin=1700006400\n" +
		"dmarc_report_1_end=1700092799\n" +
		"dmarc_report_1_records=2\n" +
		"dmarc_report_1_messages=3\n" +
		"dmarc_report_1_rua=mailto:dmarc@example.com!10240\n" +
		"dmarc_report_1_file=" + name + "\n"
	if !strings.HasPrefix(stdout, want) || !strings.Contains(stdout, "dmarc_report_2_domain=example.org\n") {
		t.Errorf("stdout\n%s\nwant to start with\n%s", stdout, want)
	}
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil || zr.Name != "mx.receiver.example!example.com!1700006400!1700092799.xml" {
		t.Fatalf("gzip: %v, name %q", err, zr.Name)
	}
	if f, err := report.Parse(bytes.NewReader(data)); err != nil || f.Records[0].Row.Count != 2 {
		t.Errorf("report file: %v", err)
	}

	// One report to a file, as XML, listed as JSON.
	file := filepath.Join(t.TempDir(), "one.xml")
	code, stdout, stderr = runCLI(t, "dmarc-report", "-history", hist, "-begin", "2023-11-15", "-end", "2023-11-16",
		"-domain", "example.org", "-xml", file, "-json")
	if code != exitOK || stderr != "" || !strings.HasPrefix(stdout, `{"dmarc_report_count":"1","dmarc_report_1_domain":"example.org",`) ||
		!strings.HasSuffix(stdout, `"dmarc_report_1_file":"`+file+`"}`+"\n") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	data, err = os.ReadFile(file)
	if err != nil || !bytes.HasPrefix(data, []byte("<?xml")) {
		t.Fatalf("xml file: %v %q", err, data)
	}
	// Two reports do not go into one file.
	code, _, stderr = runCLI(t, "dmarc-report", "-history", hist, "-begin", "2023-11-15", "-end", "2023-11-16", "-gzip", file)
	if code != exitFailed || !strings.Contains(stderr, "2 reports do not fit in one file") {
		t.Errorf("two reports in a file: exit %d, %q", code, stderr)
	}
	// A directory that cannot be written.
	code, _, stderr = runCLI(t, "dmarc-report", "-history", hist, "-begin", "2023-11-15", "-end", "2023-11-16",
		"-domain", "example.org", "-gzip", filepath.Join(dir, "missing", "x.gz"))
	if code != exitFailed || stderr == "" {
		t.Errorf("unwritable file: exit %d, %q", code, stderr)
	}
}

func TestDMARCReportErrors(t *testing.T) {
	hist := historyFile(t)
	bad := filepath.Join(t.TempDir(), "bad")
	os.WriteFile(bad, []byte("job x\nreceived soon\n"), 0o600)
	day := []string{"-begin", "2023-11-15", "-end", "2023-11-16"}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{day, exitUsage, "-history is required"},
		{[]string{"-history", hist, "-end", "2023-11-16"}, exitUsage, "-begin is required"},
		{[]string{"-history", hist, "-begin", "yesterday", "-end", "2023-11-16"}, exitUsage, "-begin: \"yesterday\" is not"},
		{[]string{"-history", hist, "-begin", "2023-11-15", "-end", "2023-11-15"}, exitUsage, "is not after -begin"},
		{append([]string{"-history", hist, "-xml", "a", "-gzip", "b"}, day...), exitUsage, "exclude each other"},
		{append([]string{"-history", hist, "-gzip", ""}, day...), exitUsage, "need a PATH"},
		{append([]string{"-history", hist, "-discovery", "dns"}, day...), exitUsage, "neither psl nor treewalk"},
		{append(append([]string{"-history", hist}, day...), "extra"), exitUsage, "unexpected argument"},
		{append([]string{"-history", filepath.Join(t.TempDir(), "none")}, day...), exitFailed, "no such file"},
		{append([]string{"-history", bad}, day...), exitFailed, "invalid received time"},
	} {
		code, stdout, stderr := runCLI(t, append([]string{"dmarc-report"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.want) || stdout != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %d and %q", c.args, code, stdout, stderr, c.code, c.want)
		}
	}
	code, stdout, _ := runCLI(t, "dmarc-report", "-h")
	if code != exitOK || !strings.Contains(stdout, "usage: policycheck dmarc-report -history FILE -begin T -end T") {
		t.Errorf("-h: %d %q", code, stdout)
	}
}

// The built binary: history on standard input, exit statuses.
func TestDMARCReportBinary(t *testing.T) {
	data, err := os.ReadFile(historyFile(t))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binPath, "dmarc-report", "-history", "-", "-begin", "1700006400", "-end", "2023-11-16")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil || len(splitXML(t, string(out))) != 2 {
		t.Errorf("stdin: %v\n%s", err, out)
	}
	err = exec.Command(binPath, "dmarc-report", "-history", "-").Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitUsage {
		t.Errorf("usage error: %v", err)
	}
}
