package config

import (
	"strings"
	"testing"
	"time"
)

func TestValidateReports(t *testing.T) {
	sending := func(s *Settings) {
		s.Spool, s.DMARCHistory = "/var/spool/mta", "/var/spool/mta/history"
		s.DMARCReportInterval, s.DMARCReportEmail = 24*time.Hour, "dmarc@example.test"
	}
	for _, c := range []struct {
		name string
		set  func(*Settings)
		key  string // "": valid
		msg  string
	}{
		{"daily", sending, "", ""},
		{"hourly from redis", func(s *Settings) {
			sending(s)
			s.DMARCHistory, s.Redis, s.DMARCHistoryRedis = "", "127.0.0.1:6379", true
			s.DMARCReportInterval = time.Hour
		}, "", ""},
		{"interval negative", func(s *Settings) { sending(s); s.DMARCReportInterval = -time.Hour }, "dmarc_report_interval", "negative"},
		{"interval short", func(s *Settings) { sending(s); s.DMARCReportInterval = time.Minute }, "dmarc_report_interval", "dividing a day"},
		{"interval not dividing", func(s *Settings) { sending(s); s.DMARCReportInterval = 5 * time.Hour }, "dmarc_report_interval", "dividing a day"},
		{"interval long", func(s *Settings) { sending(s); s.DMARCReportInterval = 48 * time.Hour }, "dmarc_report_interval", "dividing a day"},
		{"no spool", func(s *Settings) { sending(s); s.Spool = "" }, "dmarc_report_interval", "needs spool"},
		{"no history", func(s *Settings) { sending(s); s.DMARCHistory = "" }, "dmarc_report_interval", "needs dmarc_history"},
		{"no email", func(s *Settings) { sending(s); s.DMARCReportEmail = "" }, "dmarc_report_email", "required"},
		{"bad email", func(s *Settings) { sending(s); s.DMARCReportEmail = "dmarc" }, "dmarc_report_email", "not an address"},
		{"org name lines", func(s *Settings) { s.DMARCReportOrgName = "a\r\nBcc: x@y" }, "dmarc_report_org_name", "one line"},
		{"tlsrpt", func(s *Settings) { s.TLSRPT, s.Spool, s.TLSRPTEmail = true, "/spool", "tls@example.test" }, "", ""},
		{"tlsrpt no spool", func(s *Settings) { s.TLSRPT, s.TLSRPTEmail = true, "tls@example.test" }, "tlsrpt", "needs spool"},
		{"tlsrpt no email", func(s *Settings) { s.TLSRPT, s.Spool = true, "/spool" }, "tlsrpt_email", "required"},
		{"tlsrpt bad email", func(s *Settings) { s.TLSRPTEmail = "x@" }, "tlsrpt_email", "not an address"},
		{"tlsrpt org name", func(s *Settings) { s.TLSRPTOrgName = "a\nb" }, "tlsrpt_org_name", "one line"},
		{"inbox", func(s *Settings) { s.ReportInbox, s.ReportStore = "reports@example.test", "/var/reports" }, "", ""},
		{"inbox upper case", func(s *Settings) { s.ReportInbox, s.ReportStore = "Reports@EXAMPLE.test", "/var/reports" }, "", ""},
		{"inbox not local", func(s *Settings) { s.ReportInbox, s.ReportStore = "reports@other.test", "/r" }, "report_inbox", "not in a local domain"},
		{"inbox not an address", func(s *Settings) { s.ReportInbox, s.ReportStore = "reports", "/r" }, "report_inbox", "not an address"},
		{"inbox unknown user", func(s *Settings) {
			s.Users, s.ReportInbox, s.ReportStore = []string{"bob"}, "reports@example.test", "/r"
		}, "report_inbox", "not one of users"},
		{"inbox without store", func(s *Settings) { s.ReportInbox = "reports@example.test" }, "report_store", "required"},
		{"store without inbox", func(s *Settings) { s.ReportStore = "/r" }, "report_store", "needs report_inbox"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := mustParse(t)
			c.set(&s)
			err := s.Validate()
			kes := keyErrors(t, err)
			if c.key == "" {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			ke := hasKey(kes, c.key)
			if ke == nil || !strings.Contains(ke.Error(), c.msg) || len(kes) != 1 {
				t.Fatalf("got %v, want one error for %s: …%s…", err, c.key, c.msg)
			}
		})
	}
}

// The keys come from the file and the flags like any other.
func TestReportKeys(t *testing.T) {
	p := writeFile(t, "mta.toml", "spool = \"/s\"\ndmarc_history = \"/s/h\"\ndmarc_report_interval = \"6h\"\ndmarc_report_email = \"d@example.test\"\ntlsrpt = true\n")
	s := mustParse(t, "-config", p, "-tlsrpt-email", "t@example.test", "-report-inbox", "r@example.test", "-report-store", "/r",
		"-dmarc-report-org-name", "Example", "-tlsrpt-org-name", "Example TLS")
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s.DMARCReportInterval != 6*time.Hour || s.DMARCReportEmail != "d@example.test" || !s.TLSRPT || s.TLSRPTEmail != "t@example.test" ||
		s.ReportInbox != "r@example.test" || s.ReportStore != "/r" || s.DMARCReportOrgName != "Example" || s.TLSRPTOrgName != "Example TLS" {
		t.Fatalf("%+v", s)
	}
	if src := s.SourceOf("dmarc_report_interval"); src.File != p {
		t.Fatalf("source %+v", src)
	}
}
