package reports

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mailpolicy/mailpolicy/tlsrpt"
)

// runTLS retries the waiting POSTs, then reports every UTC day that
// has ended since the last one done.
func (s *Scheduler) runTLS(ctx context.Context, now time.Time) error {
	st := s.st
	errPosts := s.retryPosts(ctx, now)
	cur := intervalStart(now, day)
	begin, skipped := s.firstInterval(st.TLSDone, cur, day, "tls")
	if skipped {
		st.TLSSent = nil
	}
	if !st.TLSDone.IsZero() {
		s.TLS.Forget(st.TLSDone) // in case the last run stopped between saving and forgetting
	}
	for begin.Before(cur) {
		end := intervalStart(begin, day).Add(day)
		err := s.tlsDay(ctx, begin, end, now)
		if err != nil && now.Before(end.Add(s.giveUp())) {
			return errors.Join(errPosts, err)
		}
		if err != nil {
			s.log().Warn("reports: tls day closed with destinations that kept failing", "begin", begin, "err", err)
		}
		st.TLSDone, st.TLSSent = end, nil
		if err := s.save(); err != nil {
			return errors.Join(errPosts, err)
		}
		s.TLS.Forget(end)
		begin = end
	}
	return errPosts
}

// tlsDay sends the reports of [begin, end) to the rua of each policy
// domain's TLSRPT record: mailto: through the queue, https: by POST (a
// failed POST waits in the state for the next runs).
func (s *Scheduler) tlsDay(ctx context.Context, begin, end, now time.Time) error {
	var errs []error
	for _, rep := range s.TLS.Reports(begin, end, s.TLSOrg) {
		domain := rep.PolicyDomain()
		rec, err := tlsrpt.Lookup(ctx, s.Resolver, domain)
		switch {
		case errors.Is(err, tlsrpt.ErrTemporary):
			s.count("tls", "failed")
			errs = append(errs, err)
			continue
		case err != nil:
			// No record, several, or a broken one: the domain takes no
			// reports (RFC 8460 §3).
			s.log().Debug("reports: no tls report for the domain", "domain", domain, "err", err)
			continue
		}
		for _, addr := range rec.MailAddresses() {
			key := domain + " mailto:" + addr
			if s.st.sent(s.st.TLSSent, key) {
				continue
			}
			var msg bytes.Buffer
			if err := rep.Mail(&msg, tlsrpt.MailOptions{From: s.TLSOrg.Contact, To: addr, Date: now}); err != nil {
				s.log().Warn("reports: tls report not written", "domain", domain, "err", err)
				continue
			}
			if err := s.Inject(ctx, s.TLSOrg.Contact, []string{addr}, msg.Bytes()); err != nil {
				s.count("tls", "failed")
				errs = append(errs, fmt.Errorf("%s to %s: queueing: %w", domain, addr, err))
				continue
			}
			s.count("tls", "queued")
			s.log().Info("reports: tls report queued", "domain", domain, "to", addr, "report_id", rep.ReportID)
			if err := s.markTLS(key); err != nil {
				return err
			}
		}
		for _, url := range rec.HTTPSURLs() {
			key := domain + " " + url
			if s.st.sent(s.st.TLSSent, key) {
				continue
			}
			if err := tlsrpt.Post(ctx, s.httpClient(), url, rep); err != nil {
				var gz bytes.Buffer
				if werr := rep.WriteGzip(&gz); werr != nil {
					s.log().Warn("reports: tls report not written", "domain", domain, "err", werr)
					continue
				}
				s.count("tls", "failed")
				s.log().Warn("reports: tls report POST failed, retried later", "domain", domain, "url", url, "err", err)
				s.st.Posts = append(s.st.Posts, pendingPost{URL: url, Domain: domain, Report: gz.Bytes(), Tries: 1, First: now})
			} else {
				s.count("tls", "posted")
				s.log().Info("reports: tls report posted", "domain", domain, "url", url, "report_id", rep.ReportID)
			}
			if err := s.markTLS(key); err != nil {
				return err
			}
		}
	}
	return errors.Join(errs...)
}

func (s *Scheduler) markTLS(key string) error {
	s.st.TLSSent = append(s.st.TLSSent, key)
	return s.save()
}

// retryPosts tries the waiting POSTs again; one that fails too often,
// or for longer than GiveUp, is dropped. The error says some still
// wait.
func (s *Scheduler) retryPosts(ctx context.Context, now time.Time) error {
	if len(s.st.Posts) == 0 {
		return nil
	}
	var kept []pendingPost
	for _, p := range s.st.Posts {
		rep, err := tlsrpt.Parse(bytes.NewReader(p.Report))
		if err != nil {
			s.log().Warn("reports: waiting tls report unreadable, dropped", "domain", p.Domain, "err", err)
			continue
		}
		if err := tlsrpt.Post(ctx, s.httpClient(), p.URL, rep); err != nil {
			p.Tries++
			if p.Tries >= maxPostTries || !now.Before(p.First.Add(s.giveUp())) {
				s.log().Warn("reports: tls report POST given up", "domain", p.Domain, "url", p.URL, "tries", p.Tries, "err", err)
				continue
			}
			kept = append(kept, p)
			continue
		}
		s.count("tls", "posted")
		s.log().Info("reports: tls report posted on retry", "domain", p.Domain, "url", p.URL, "tries", p.Tries+1)
	}
	s.st.Posts = kept
	if err := s.save(); err != nil {
		return err
	}
	if len(kept) > 0 {
		return fmt.Errorf("%d tls report POSTs still waiting", len(kept))
	}
	return nil
}
