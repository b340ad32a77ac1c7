package main

import (
	"cmp"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/dmarc/report"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/config"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/mta"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/redisstore"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/reports"
	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/tlsrpt"
)

// openReports sets up the report inbox and the TLS recorder, which the
// courier feeds, kept in the spool so that a restart does not lose the
// day's counts.
func (a *app) openReports(s config.Settings, c *mta.Config) (*tlsrpt.Recorder, error) {
	if s.ReportInbox != "" {
		rcv, err := reports.NewReceiver(s.ReportStore)
		if err != nil {
			return nil, s.Blame("report_store", err)
		}
		rcv.Logger, rcv.Metrics = a.log, a.metrics
		c.ReportInbox, c.ReceiveReport = s.ReportInbox, rcv.Receive
	}
	if !s.TLSRPT {
		return nil, nil
	}
	db := filepath.Join(s.Spool, "db")
	if err := os.MkdirAll(db, 0o700); err != nil {
		return nil, s.Blame("spool", err)
	}
	rec, err := tlsrpt.OpenRecorder(filepath.Join(db, "tlsrpt"),
		tlsrpt.WithErrorFunc(func(err error) { a.log.Warn("tlsrpt: recorder file", "err", err) }))
	if err != nil {
		return nil, s.Blame("tlsrpt", err)
	}
	a.closers = append(a.closers, func() {
		if err := rec.Close(); err != nil {
			a.log.Warn("tlsrpt: recorder file", "err", err)
		}
	})
	c.TLSReports = rec // the courier records every session's outcome
	return rec, nil
}

// scheduleReports builds the report Scheduler, which serve runs: DMARC
// reports from the history, TLS reports from the recorder, both queued
// in the server's spool. With the history in Redis, each interval is
// claimed there so that one instance of a cluster reports it.
func (a *app) scheduleReports(s config.Settings, dns *resolver.Resolver, history reports.HistorySource, rec *tlsrpt.Recorder, shared *redis.Client) {
	if s.DMARCReportInterval <= 0 && rec == nil {
		return
	}
	q := a.srv.Queue() // validated: a spool
	sch := &reports.Scheduler{
		Inject: reports.SpoolInjector(q.Spool, q.Wake), StateFile: filepath.Join(s.Spool, "db", "reports"),
		Resolver: dns, Logger: a.log, Metrics: a.metrics,
	}
	if s.DMARCReportInterval > 0 {
		sch.History, sch.Interval = history, s.DMARCReportInterval
		sch.Reporter = report.Reporter{OrgName: cmp.Or(s.DMARCReportOrgName, s.Hostname), Email: s.DMARCReportEmail,
			DiscoveryMethod: "psl"} // RFC 7489 discovery, dmarc_mode's default
		if mode, _ := s.DMARC(); mode == dmarc.ModeRFC9989 { // validated
			sch.Reporter.DiscoveryMethod = "treewalk"
		}
		if s.DMARCHistoryRedis {
			sch.Claim = redisClaim(shared, s)
		}
	}
	if rec != nil {
		sch.TLS = rec
		sch.TLSOrg = tlsrpt.Organization{Name: cmp.Or(s.TLSRPTOrgName, s.Hostname), Contact: s.TLSRPTEmail}
	}
	a.reports = sch
	for _, from := range []string{sch.Reporter.Email, sch.TLSOrg.Contact} {
		// RFC 8460 §5.3 wants TLS reports DKIM-signed, RFC 9990 §5.3
		// aggregate reports passing DMARC: both need a signature of the
		// From domain, which the courier adds with a [[dkim]] entry.
		if from != "" && a.srv.Config().DKIMSign.For(from[strings.LastIndexByte(from, '@')+1:]) == nil {
			a.log.Warn("reports: no [[dkim]] entry signs for the report sender; receivers may discard the reports", "from", from)
		}
	}
}

// redisClaim claims a DMARC interval for this host in Redis: the first
// instance to ask gets it (SET NX), and keeps it when it asks again.
func redisClaim(c *redis.Client, s config.Settings) func(ctx context.Context, begin, end time.Time) (bool, error) {
	return func(ctx context.Context, begin, end time.Time) (bool, error) {
		ctx, cancel := context.WithTimeout(ctx, s.RedisTimeout)
		defer cancel()
		key := s.RedisPrefix + "dmarc-report:" + strconv.FormatInt(begin.Unix(), 10) + "-" + strconv.FormatInt(end.Unix(), 10)
		ok, err := c.SetNX(ctx, key, s.Hostname, redisstore.DefaultHistoryRetention).Result()
		if err != nil || ok {
			return ok, err
		}
		owner, err := c.Get(ctx, key).Result()
		return owner == s.Hostname, err
	}
}
