package config

import (
	"slices"
	"strings"
	"time"

	"github.com/mailpolicy/mailpolicy/smtp"
)

// MinReportInterval is the shortest dmarc_report_interval: RFC 9990
// receivers expect at most hourly reports.
const MinReportInterval = time.Hour

// reports checks the keys of report sending (DMARC aggregate, TLS) and
// of the report inbox.
func (c *checker) reports() {
	s := c.s
	if iv := s.DMARCReportInterval; iv != 0 {
		switch {
		case iv < 0:
			c.bad("dmarc_report_interval", "must not be negative (0: no reports)")
		case iv < MinReportInterval || 24*time.Hour%iv != 0:
			// Intervals that divide the day keep every report inside one
			// UTC day, as RFC 9990 §3.1.1 wants.
			c.bad("dmarc_report_interval", "%v: want 1h to 24h, dividing a day (1h, 2h, 3h, 4h, 6h, 8h, 12h, 24h)", iv)
		}
		if s.Spool == "" {
			c.bad("dmarc_report_interval", "needs spool: reports are sent through the queue")
		}
		if s.DMARCHistory == "" && !s.DMARCHistoryRedis {
			c.bad("dmarc_report_interval", "needs dmarc_history or dmarc_history_redis: reports are built from the history")
		}
		if s.DMARCReportEmail == "" {
			c.bad("dmarc_report_email", "required with dmarc_report_interval")
		}
	}
	c.mailbox("dmarc_report_email", s.DMARCReportEmail)
	c.orgName("dmarc_report_org_name", s.DMARCReportOrgName)
	if s.TLSRPT {
		if s.Spool == "" {
			c.bad("tlsrpt", "needs spool: TLS results come from outbound delivery")
		}
		if s.TLSRPTEmail == "" {
			c.bad("tlsrpt_email", "required with tlsrpt")
		}
	}
	c.mailbox("tlsrpt_email", s.TLSRPTEmail)
	c.orgName("tlsrpt_org_name", s.TLSRPTOrgName)
	if s.ReportInbox != "" {
		local, domain := smtp.SplitAddress(s.ReportInbox)
		switch {
		case !smtp.ValidMailbox(s.ReportInbox):
			c.bad("report_inbox", "%q is not an address", s.ReportInbox)
		case !slices.Contains(s.Domains, strings.ToLower(domain)):
			c.bad("report_inbox", "%q is not in a local domain (domains)", s.ReportInbox)
		case len(s.Users) > 0 && !slices.Contains(s.Users, strings.ToLower(local)) && !strings.EqualFold(local, "postmaster"):
			c.bad("report_inbox", "%q: %s is not one of users", s.ReportInbox, local)
		}
		if s.ReportStore == "" {
			c.bad("report_store", "required with report_inbox")
		}
	} else if s.ReportStore != "" {
		c.bad("report_store", "needs report_inbox")
	}
}

func (c *checker) mailbox(key, addr string) {
	if addr != "" && !smtp.ValidMailbox(addr) {
		c.bad(key, "%q is not an address", addr)
	}
}

// orgName refuses what would break the report's header fields.
func (c *checker) orgName(key, name string) {
	if strings.ContainsAny(name, "\r\n\x00") {
		c.bad(key, "must be one line")
	}
}
