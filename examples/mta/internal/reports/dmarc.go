package reports

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/dmarc/report"
)

// runDMARC reports every DMARC interval that has ended since the last
// one done.
func (s *Scheduler) runDMARC(ctx context.Context, now time.Time) error {
	st := s.st
	iv := s.interval()
	cur := intervalStart(now, iv)
	begin, skipped := s.firstInterval(st.DMARCDone, cur, iv, "dmarc")
	if skipped {
		st.DMARCSent = nil
	}
	for begin.Before(cur) {
		end := intervalStart(begin, iv).Add(iv)
		err := s.claimedInterval(ctx, begin, end, now)
		if err != nil && now.Before(end.Add(s.giveUp())) {
			return err
		}
		if err != nil {
			s.log().Warn("reports: dmarc interval closed with destinations that kept failing", "begin", begin, "end", end, "err", err)
		}
		st.DMARCDone, st.DMARCSent = end, nil
		if err := s.save(); err != nil {
			return err
		}
		begin = end
	}
	if t, ok := s.History.(trimmer); ok && !st.DMARCDone.IsZero() {
		if err := t.Trim(st.DMARCDone); err != nil {
			s.log().Warn("reports: dmarc history not trimmed", "err", err)
		}
	}
	return nil
}

// claimedInterval is dmarcInterval when the interval is ours (Claim).
func (s *Scheduler) claimedInterval(ctx context.Context, begin, end, now time.Time) error {
	if s.Claim != nil {
		ours, err := s.Claim(ctx, begin, end)
		if err != nil {
			return fmt.Errorf("claiming the interval: %w", err)
		}
		if !ours {
			s.log().Info("reports: dmarc interval reported by another instance", "begin", begin, "end", end)
			return nil
		}
	}
	return s.dmarcInterval(ctx, begin, end, now)
}

// dmarcInterval sends the reports of [begin, end): one per policy
// domain, one mail per destination of its rua. Destinations already
// sent (DMARCSent) are skipped; an error means some are left to retry.
func (s *Scheduler) dmarcInterval(ctx context.Context, begin, end, now time.Time) error {
	entries, err := s.History.Entries(ctx, begin, end)
	if err != nil {
		return fmt.Errorf("dmarc history: %w", err)
	}
	rua := latestRUA(entries)
	var errs []error
	for _, f := range report.Aggregate(entries, begin, end, s.Reporter) {
		domain := f.Policy.Domain
		if len(rua[domain]) == 0 {
			continue // no rua=: the domain wants no reports
		}
		dests, err := report.ParseDestinations(strings.Join(rua[domain], ","))
		if err != nil {
			s.log().Info("reports: dmarc rua unusable", "domain", domain, "rua", rua[domain], "err", err)
		}
		for _, d := range dests {
			key := domain + " " + d.URI
			if s.st.sent(s.st.DMARCSent, key) {
				continue
			}
			sent, err := s.sendDMARC(ctx, f, d, now)
			if err != nil {
				s.count("dmarc", "failed")
				errs = append(errs, fmt.Errorf("%s to %s: %w", domain, d.URI, err))
				continue
			}
			if !sent {
				continue
			}
			s.count("dmarc", "queued")
			s.st.DMARCSent = append(s.st.DMARCSent, key)
			if err := s.save(); err != nil {
				return err
			}
		}
	}
	return errors.Join(errs...)
}

// sendDMARC queues f for d. It returns false without an error for a
// destination that must not get it (not mailto:, an external domain
// that does not accept reports for this one, over its size limit), an
// error for a failure that may pass.
func (s *Scheduler) sendDMARC(ctx context.Context, f *report.Feedback, d report.Destination, now time.Time) (bool, error) {
	log := s.log().With("domain", f.Policy.Domain, "rua", d.URI, "report_id", f.Metadata.ReportID)
	if d.Addr == "" {
		log.Info("reports: dmarc destination skipped: only mailto: is sent")
		return false, nil
	}
	ok, err := report.VerifyDestination(ctx, s.Resolver, f.Policy.Domain, d)
	if err != nil {
		return false, fmt.Errorf("verifying the external destination: %w", err)
	}
	if !ok {
		log.Info("reports: dmarc destination skipped: it does not accept reports for this domain (no _report._dmarc record)")
		return false, nil
	}
	var msg bytes.Buffer
	err = f.Mail(&msg, report.MailOptions{From: s.Reporter.Email, To: d.Addr, Date: now, MaxSize: d.MaxSize})
	if errors.Is(err, report.ErrTooLarge) {
		log.Info("reports: dmarc report over the destination's size limit, not sent", "limit", d.MaxSize)
		return false, nil
	}
	if err != nil {
		log.Warn("reports: dmarc report not written", "err", err)
		return false, nil
	}
	if err := s.Inject(ctx, s.Reporter.Email, []string{d.Addr}, msg.Bytes()); err != nil {
		return false, fmt.Errorf("queueing: %w", err)
	}
	log.Info("reports: dmarc report queued", "to", d.Addr, "size", msg.Len(), "rows", len(f.Records))
	return true, nil
}

// latestRUA is each policy domain's rua as its latest entry holds it:
// the record as it stood at the end of the interval, as the report's
// policy_published is.
func latestRUA(entries []dmarc.HistoryEntry) map[string][]string {
	type seen struct {
		at  time.Time
		rua []string
	}
	m := map[string]seen{}
	for i := range entries {
		e := &entries[i]
		d := strings.ToLower(e.PolicyDomain)
		if d == "" {
			continue
		}
		if old, ok := m[d]; !ok || !e.Received.Before(old.at) {
			m[d] = seen{e.Received, e.RUA}
		}
	}
	out := make(map[string][]string, len(m))
	for d, v := range m {
		out[d] = v.rua
	}
	return out
}
