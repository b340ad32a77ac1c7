package mta

import (
	"context"
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/metrics"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/ratelimit"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/smtpd"
	"github.com/mailpolicy/mailpolicy/smtp"
)

// RateLimits are Exim's ratelimit conditions at the three points the
// MTA checks them, as an Exim configuration would write
//
//	acl_smtp_connect: defer ratelimit = <Conn> / per_conn
//	acl_smtp_mail:    defer ratelimit = <Mail> / per_mail / $key
//	acl_smtp_rcpt:    defer ratelimit = <Rcpt> / per_rcpt / $key
//	acl_smtp_data:    defer ratelimit = <Data> / per_byte / $key
//
// The key is the client's address (ratelimit.HostKey: an IPv6 client
// by its /64), the PROXY source when proxied; at MAIL and RCPT an
// authenticated client is keyed by its user instead ("auth:" + the
// user), so a user is limited wherever it submits from. RCPT counts the
// recipients that routing accepted, MAIL every MAIL command, DATA the
// size of each message received (before any other check, as the first
// condition of Exim's DATA ACL; a message over the limit gets 451 for
// all its recipients and leaves no copy). With the
// Limiter's Store shared (redisstore.RateLimit) the limits hold across
// the instances of a cluster.
type RateLimits struct {
	Limiter                *ratelimit.Limiter
	Conn, Mail, Rcpt, Data *ratelimit.Rule // nil: no check there
}

// HistoryAppender is where DMARC history entries go: *dmarc.History
// (Exim's dmarc_history_file) or redisstore.History (shared by a
// cluster).
type HistoryAppender interface {
	Append(*dmarc.HistoryEntry) error
}

// Replies. Over the limit is Exim's "defer ratelimit": 451 with the
// text its documentation suggests; a store that cannot answer is
// Exim's DEFER for "ratelimit database not available", 451 4.3.0
// "Temporary local problem". At connect smtpd sends either as 421.
const tempProblem = "Temporary local problem - please try later"

// sharedMetrics are the series of this file, registered beside the
// metrics package's own.
type sharedMetrics struct {
	checks  *prometheus.CounterVec // check, result
	history prometheus.Counter
}

func newSharedMetrics() *sharedMetrics {
	return &sharedMetrics{
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mta_ratelimit_checks_total",
			Help: "Rate-limit checks by point (conn, mail, rcpt) and result (ok, over, error: the store did not answer and the check deferred).",
		}, []string{"check", "result"}),
		history: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mta_dmarc_history_failures_total",
			Help: "DMARC history entries that could not be stored (the message went on).",
		}),
	}
}

// initShared registers the series and makes History failures counted.
func (s *Server) initShared() error {
	m := newSharedMetrics()
	var err error
	if m.checks, err = register(s.cfg.Metrics, m.checks); err != nil {
		return err
	}
	if m.history, err = register(s.cfg.Metrics, m.history); err != nil {
		return err
	}
	s.shared = m
	if rl := s.cfg.RateLimits; rl != nil {
		if rl.Limiter == nil {
			return errors.New("rate limits without a Limiter")
		}
		// Each point counts its own thing under its own key: a rule
		// written without per_* gets the point's, one with another
		// point's per_* is a mistake.
		c := *rl
		for _, p := range []struct {
			r    **ratelimit.Rule
			want ratelimit.Measure
		}{{&c.Conn, ratelimit.PerConn}, {&c.Mail, ratelimit.PerMail}, {&c.Rcpt, ratelimit.PerRcpt}, {&c.Data, ratelimit.PerByte}} {
			if *p.r == nil {
				continue
			}
			r := **p.r
			if r.Measure != ratelimit.PerUnset && r.Measure != p.want {
				return fmt.Errorf("rate limit %q at the %s check", r.String(), p.want)
			}
			r.Measure = p.want
			*p.r = &r
		}
		s.cfg.RateLimits = &c
	}
	if s.cfg.History != nil {
		s.cfg.History = countedHistory{s.cfg.History, m.history}
	}
	return nil
}

// register adds c to m's registry, or returns the collector a Server
// sharing m registered first. A nil m registers nothing; the counters
// then count unseen.
func register[T prometheus.Collector](m *metrics.Metrics, c T) (T, error) {
	err := m.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(T); ok {
			return existing, nil
		}
	}
	return c, fmt.Errorf("metrics: %w", err)
}

// countedHistory counts failed appends. The caller (Data) logs the
// error and goes on with the message: the history feeds aggregate
// reports, it decides no mail, and a report store being down must not
// become mail being refused (Exim, too, logs a history file it cannot
// write and carries on). A lost entry is a gap in one report, counted
// here so that an operator sees it.
type countedHistory struct {
	h        HistoryAppender
	failures prometheus.Counter
}

func (c countedHistory) Append(e *dmarc.HistoryEntry) error {
	err := c.h.Append(e)
	if err != nil {
		c.failures.Inc()
	}
	return err
}

// Connect implements smtpd.Connector: the per_conn check.
func (s *Server) Connect(ctx context.Context, c *smtpd.Conn) *smtpd.Reply {
	rl := s.cfg.RateLimits
	if rl == nil || rl.Conn == nil {
		return nil
	}
	r := s.rateCheck(ctx, c, "conn", rl.Conn, ratelimit.HostKey(c.Client.Addr()), 1)
	if r != nil {
		r.Text = s.cfg.Hostname + " " + r.Text
		if r.Enhanced == "4.7.1" {
			s.cfg.Metrics.ConnectionRefused("ratelimit")
		} else {
			s.cfg.Metrics.ConnectionRefused("ratelimit_unavailable")
		}
	}
	return r
}

// rateMail is the per_mail check, at MAIL.
func (s *Server) rateMail(ctx context.Context, c *smtpd.Conn) *smtpd.Reply {
	if rl := s.cfg.RateLimits; rl != nil && rl.Mail != nil {
		return s.rateCheck(ctx, c, "mail", rl.Mail, senderKey(c), 1)
	}
	return nil
}

// rateRcpt is the per_rcpt check, at RCPT, for a recipient routing
// accepted.
func (s *Server) rateRcpt(ctx context.Context, c *smtpd.Conn) *smtpd.Reply {
	if rl := s.cfg.RateLimits; rl != nil && rl.Rcpt != nil {
		return s.rateCheck(ctx, c, "rcpt", rl.Rcpt, senderKey(c), 1)
	}
	return nil
}

// rateData is the per_byte check, at the end of DATA, counting the
// message's size.
func (s *Server) rateData(ctx context.Context, c *smtpd.Conn, size int64) *smtpd.Reply {
	if rl := s.cfg.RateLimits; rl != nil && rl.Data != nil {
		return s.rateCheck(ctx, c, "data", rl.Data, senderKey(c), float64(size))
	}
	return nil
}

// senderKey is an authenticated client's user, else its address.
func senderKey(c *smtpd.Conn) string {
	if c.AuthUser != "" {
		return "auth:" + c.AuthUser
	}
	return ratelimit.HostKey(c.Client.Addr())
}

// rateWhat names what a check counts, for the reply.
var rateWhat = map[string]string{"conn": "connections", "mail": "messages", "rcpt": "recipients", "data": "bytes"}

// rateCheck runs one rule: nil under the limit, 451 4.7.1 over it,
// 451 4.3.0 when the store does not answer (never an acceptance).
func (s *Server) rateCheck(ctx context.Context, c *smtpd.Conn, check string, rule *ratelimit.Rule, key string, n float64) *smtpd.Reply {
	log := s.cfg.Logger.With("session", c.ID, "client", c.Client.String())
	d, err := s.cfg.RateLimits.Limiter.Check(ctx, rule, key, n)
	if err != nil {
		s.countCheck(check, "error")
		log.Warn("ratelimit store failed: deferring", "check", check, "err", err)
		return &smtpd.Reply{Code: smtp.ReplyLocalError, Enhanced: "4.3.0", Text: tempProblem}
	}
	if !d.Over {
		s.countCheck(check, "ok")
		log.Debug("ratelimit", "check", check, "key", d.Key, "sender_rate", d.SenderRate)
		return nil
	}
	s.countCheck(check, "over")
	log.Info("ratelimit: over the limit", "check", check, "key", d.Key, "sender_rate", d.SenderRate,
		"sender_rate_limit", d.SenderRateLimit, "sender_rate_period", d.SenderRatePeriod)
	return &smtpd.Reply{Code: smtp.ReplyLocalError, Enhanced: "4.7.1",
		Text: fmt.Sprintf("Sender rate exceeds %s %s per %s", d.SenderRateLimit, rateWhat[check], d.SenderRatePeriod)}
}

func (s *Server) countCheck(check, result string) {
	s.shared.checks.WithLabelValues(check, result).Inc()
}
