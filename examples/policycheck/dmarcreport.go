package main

// dmarc-report: build DMARC aggregate reports (RFC 9990) from an
// Exim/OpenDMARC history file (dmarc_history_file) for a period, as
// opendmarc-reports does for OpenDMARC's database.
//
//	policycheck dmarc-report -history FILE -begin T -end T [-org-name N] [-org-email E]
//	        [-report-id-prefix P] [-discovery psl|treewalk] [-domain D]
//	        [-xml PATH | -gzip PATH] [-json]
//
// The period is [begin, end): -begin included, -end not, so a day is
// "-begin 2026-05-01 -end 2026-05-02". T is an RFC 3339 time, a date
// (00:00 UTC) or Unix seconds. One report is built per policy domain
// with entries in the period (-domain keeps one).
//
// Without -xml and -gzip the reports' XML documents go to stdout, one
// after the other, sorted by domain. With -xml or -gzip PATH they are
// written as files: into PATH when it is a directory, each under its
// RFC 9990 file name (receiver!domain!begin!end.xml[.gz]), else to the
// file PATH, which needs exactly one report; stdout then lists them:
//
//	dmarc_report_count=2
//	dmarc_report_1_domain=example.com
//	dmarc_report_1_id=example.com.1746057600.1746143999
//	dmarc_report_1_begin=1746057600
//	dmarc_report_1_end=1746143999
//	dmarc_report_1_records=3
//	dmarc_report_1_messages=17
//	dmarc_report_1_rua=mailto:dmarc@example.com!10485760   (the latest entry's rua=, sizes in bytes)
//	dmarc_report_1_file=/tmp/r/mx.example.org!example.com!1746057600!1746143999.xml.gz
//
// -org-name and -org-email default to the history's reporter host and
// postmaster@ that host. The exit status is 0 when the reports were
// built (none when the period has no entries; stderr says so), 1 when
// the history cannot be read or parsed or a file cannot be written, 2
// for a usage error.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/dmarc/report"
)

func init() {
	register(&command{
		name:    "dmarc-report",
		summary: "build DMARC aggregate reports (RFC 9990) from a DMARC history file for a period",
		run:     runDMARCReport,
	})
}

// maxHistory bounds what -history reads: a busy receiver's day is tens
// of megabytes, and ParseHistory holds the whole file.
const maxHistory = 1 << 30

func runDMARCReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := newFlagSet("dmarc-report", "-history FILE -begin T -end T [flags]", stdout, stderr)
	var (
		history   = f.String("history", "", "the DMARC history `FILE` (Exim's dmarc_history_file; \"-\" for standard input)")
		beginS    = f.String("begin", "", "start of the period, included: RFC 3339 `time`, YYYY-MM-DD (00:00 UTC) or Unix seconds")
		endS      = f.String("end", "", "end of the period, excluded: RFC 3339 `time`, YYYY-MM-DD (00:00 UTC) or Unix seconds")
		orgName   = f.String("org-name", "", "report_metadata/org_name `N` (default: the history's reporter host)")
		orgEmail  = f.String("org-email", "", "report_metadata/email `E` (default: postmaster@ the reporter host)")
		idPrefix  = f.String("report-id-prefix", "", "`P` put before every report_id")
		discovery = f.String("discovery", "", "policy_published/discovery_method: psl or treewalk (default: left out)")
		domain    = f.String("domain", "", "build only the report of policy domain `D`")
		xmlPath   = f.String("xml", "", "write the reports as XML files: into `PATH` if it is a directory, else to the file PATH")
		gzipPath  = f.String("gzip", "", "write the reports gzipped: into `PATH` if it is a directory, else to the file PATH")
		asJSON    = f.Bool("json", false, "with -xml or -gzip, print one JSON object instead of name=value lines")
	)
	if code, ok := f.parse(args); !ok {
		return code
	}
	if code, ok := f.require("history", "begin", "end"); !ok {
		return code
	}
	if code, ok := f.noArgs(); !ok {
		return code
	}
	begin, err := parseReportTime(*beginS)
	if err != nil {
		return f.usageError("-begin: %v", err)
	}
	end, err := parseReportTime(*endS)
	if err != nil {
		return f.usageError("-end: %v", err)
	}
	if !end.After(begin) {
		return f.usageError("-end %s is not after -begin %s", end.Format(time.RFC3339), begin.Format(time.RFC3339))
	}
	if *xmlPath != "" && *gzipPath != "" {
		return f.usageError("-xml and -gzip exclude each other")
	}
	if f.isSet("xml") && *xmlPath == "" || f.isSet("gzip") && *gzipPath == "" {
		return f.usageError("-xml and -gzip need a PATH")
	}
	switch *discovery {
	case "", "psl", "treewalk":
	default:
		return f.usageError("-discovery: %q is neither psl nor treewalk", *discovery)
	}

	entries, err := readHistory(*history)
	if err != nil {
		fmt.Fprintf(stderr, "policycheck dmarc-report: %s\n", oneLine(err.Error()))
		return exitFailed
	}
	org := report.Reporter{
		OrgName: *orgName, Email: *orgEmail, ReportIDPrefix: *idPrefix, DiscoveryMethod: *discovery,
	}
	if org.OrgName == "" || org.Email == "" {
		host := reporterHost(entries, begin, end)
		if org.OrgName == "" {
			org.OrgName = host
		}
		if org.Email == "" {
			org.Email = "postmaster@" + host
		}
	}
	var reports []*report.Feedback
	for _, r := range report.Aggregate(entries, begin, end, org) {
		if *domain == "" || strings.EqualFold(strings.TrimSuffix(*domain, "."), r.Policy.Domain) {
			reports = append(reports, r)
		}
	}
	if len(reports) == 0 {
		fmt.Fprintf(stderr, "policycheck dmarc-report: no history entries with a policy domain in [%s, %s)\n",
			begin.Format(time.RFC3339), end.Format(time.RFC3339))
	}

	path, gz := *xmlPath, *gzipPath != ""
	if gz {
		path = *gzipPath
	}
	if path == "" {
		for _, r := range reports {
			data, err := r.Marshal()
			if err == nil {
				_, err = stdout.Write(data)
			}
			if err != nil {
				fmt.Fprintf(stderr, "policycheck dmarc-report: writing output: %v\n", err)
				return exitFailed
			}
		}
		return exitOK
	}
	files, err := writeReports(reports, path, gz)
	if err != nil {
		fmt.Fprintf(stderr, "policycheck dmarc-report: %s\n", oneLine(err.Error()))
		return exitFailed
	}
	if err := writeVars(stdout, reportVariables(entries, reports, files), *asJSON); err != nil {
		fmt.Fprintf(stderr, "policycheck dmarc-report: writing output: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// parseReportTime reads an RFC 3339 time, a date (00:00 UTC) or Unix
// seconds.
func parseReportTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 && n < 1<<40 {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time, a YYYY-MM-DD date or Unix seconds", s)
}

func readHistory(name string) ([]dmarc.HistoryEntry, error) {
	var r io.Reader = os.Stdin
	if name != "-" {
		fh, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer fh.Close()
		r = fh
	}
	lr := &io.LimitedReader{R: r, N: maxHistory + 1}
	entries, err := dmarc.ParseHistory(lr)
	if lr.N <= 0 {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, int64(maxHistory))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return entries, nil
}

// reporterHost is the "reporter" of the first entry in the period that
// names a plain host, or "localhost".
func reporterHost(entries []dmarc.HistoryEntry, begin, end time.Time) string {
	for _, e := range entries {
		if e.Received.Before(begin) || !e.Received.Before(end) {
			continue
		}
		if h := strings.ToLower(strings.TrimSuffix(e.Reporter, ".")); h != "" && !strings.ContainsFunc(h, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.')
		}) {
			return h
		}
	}
	return "localhost"
}

// writeReports writes each report into the directory path under its
// RFC 9990 name, or the only report to the file path, and returns the
// files written.
func writeReports(reports []*report.Feedback, path string, gz bool) ([]string, error) {
	fi, err := os.Stat(path)
	dir := err == nil && fi.IsDir()
	if !dir && len(reports) > 1 {
		return nil, fmt.Errorf("%d reports do not fit in one file: give a directory, or choose one with -domain", len(reports))
	}
	var files []string
	for _, r := range reports {
		var b bytes.Buffer
		name := r.Filename()
		if gz {
			err = r.WriteGzip(&b)
		} else {
			var data []byte
			data, err = r.Marshal()
			b.Write(data)
			name = strings.TrimSuffix(name, ".gz")
		}
		if err != nil {
			return files, err
		}
		file := path
		if dir {
			file = filepath.Join(path, name)
		}
		if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
			return files, err
		}
		files = append(files, file)
	}
	return files, nil
}

// reportVariables lists the reports written, in output order.
func reportVariables(entries []dmarc.HistoryEntry, reports []*report.Feedback, files []string) []variable {
	vars := []variable{{"dmarc_report_count", strconv.Itoa(len(reports))}}
	for i, r := range reports {
		p := "dmarc_report_" + strconv.Itoa(i+1) + "_"
		var messages int64
		for _, rec := range r.Records {
			messages += rec.Row.Count
		}
		dests, err := report.DestinationsFor(entries, r)
		var rua []string
		for _, d := range dests {
			u := d.URI
			if d.MaxSize > 0 {
				u += "!" + strconv.FormatInt(d.MaxSize, 10)
			}
			rua = append(rua, u)
		}
		var de *report.DestinationError
		if errors.As(err, &de) {
			rua = append(rua, "invalid: "+de.Value)
		}
		vars = append(vars,
			variable{p + "domain", r.Policy.Domain},
			variable{p + "id", r.Metadata.ReportID},
			variable{p + "begin", strconv.FormatInt(r.Metadata.DateRange.Begin, 10)},
			variable{p + "end", strconv.FormatInt(r.Metadata.DateRange.End, 10)},
			variable{p + "records", strconv.Itoa(len(r.Records))},
			variable{p + "messages", strconv.FormatInt(messages, 10)},
			variable{p + "rua", strings.Join(rua, ",")},
			variable{p + "file", files[i]},
		)
	}
	return vars
}
