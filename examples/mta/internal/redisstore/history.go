package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mailpolicy/mailpolicy/dmarc"
)

// DefaultHistoryRetention is how long a day of DMARC history is kept
// after its end: aggregate reports cover a day, and a month leaves room
// for a report run that failed to be run again.
const DefaultHistoryRetention = 31 * 24 * time.Hour

// maxHistoryDays bounds one Entries or WriteTo call.
const maxHistoryDays = 366

// historyPage is how many blocks one LRANGE reads.
const historyPage = 1000

// History is the DMARC history (Exim's dmarc_history_file) of every
// instance of a cluster in one Redis: a list per UTC day,
// prefix+"dmarc:YYYYMMDD", each element one entry's block exactly as
// the history file holds it (dmarc.HistoryEntry.AppendTo), so WriteTo
// gives a file that opendmarc-import, the report tools and
// dmarc.ParseHistory read as Exim's own. Each day's list expires
// Retention after the day ends, so Redis does not grow without bound.
//
// Append is what the MTA calls after DMARC ran; an error is logged and
// counted by the MTA and the message goes on (see the mta package): the
// history feeds reports, it does not decide mail.
type History struct {
	c         *redis.Client
	prefix    string
	timeout   time.Duration
	Retention time.Duration // 0: DefaultHistoryRetention
}

// NewHistory returns the history on c under prefix+"dmarc:"; timeout
// bounds each Append.
func NewHistory(c *redis.Client, prefix string, timeout time.Duration) *History {
	return &History{c: c, prefix: prefix, timeout: timeout}
}

func (h *History) dayKey(t time.Time) string {
	return h.prefix + "dmarc:" + t.UTC().Format("20060102")
}

func (h *History) retention() time.Duration {
	if h.Retention > 0 {
		return h.Retention
	}
	return DefaultHistoryRetention
}

// Append adds e's block to the list of its day (by e.Received) and sets
// the list's expiry, in one MULTI/EXEC so a list never lives without
// one.
func (h *History) Append(e *dmarc.HistoryEntry) error {
	ctx, cancel := context.WithTimeout(context.Background(), h.timeout)
	defer cancel()
	key := h.dayKey(e.Received)
	dayEnd := e.Received.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	_, err := h.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.RPush(ctx, key, e.AppendTo(nil))
		p.ExpireAt(ctx, key, dayEnd.Add(h.retention()))
		return nil
	})
	if err != nil {
		return fmt.Errorf("dmarc history %s: %w", key, wrap(err))
	}
	return nil
}

// Entries returns the entries received in [from, to), in the order
// they were appended within each day, days in order. The range may
// cover at most a year.
func (h *History) Entries(ctx context.Context, from, to time.Time) ([]dmarc.HistoryEntry, error) {
	var out []dmarc.HistoryEntry
	err := h.each(ctx, from, to, func(block string, e *dmarc.HistoryEntry) error {
		out = append(out, *e)
		return nil
	})
	return out, err
}

// WriteTo writes the blocks of the entries received in [from, to) to w
// in the history file format, as Exim would have appended them.
func (h *History) WriteTo(ctx context.Context, w io.Writer, from, to time.Time) error {
	return h.each(ctx, from, to, func(block string, _ *dmarc.HistoryEntry) error {
		_, err := io.WriteString(w, block)
		return err
	})
}

// each reads the day lists that [from, to) touches page by page and
// calls fn for each block whose entry is in the range.
func (h *History) each(ctx context.Context, from, to time.Time, fn func(string, *dmarc.HistoryEntry) error) error {
	if !from.Before(to) {
		return nil
	}
	first, last := from.UTC().Truncate(24*time.Hour), to.UTC().Add(-time.Nanosecond).Truncate(24*time.Hour)
	if days := int(last.Sub(first)/(24*time.Hour)) + 1; days > maxHistoryDays {
		return fmt.Errorf("dmarc history: %d days asked for, at most %d at a time", days, maxHistoryDays)
	}
	for day := first; !day.After(last); day = day.Add(24 * time.Hour) {
		key := h.dayKey(day)
		for start := int64(0); ; start += historyPage {
			blocks, err := h.c.LRange(ctx, key, start, start+historyPage-1).Result()
			if err != nil && !errors.Is(err, redis.Nil) {
				return fmt.Errorf("dmarc history %s: %w", key, wrap(err))
			}
			for i, b := range blocks {
				es, err := dmarc.ParseHistory(strings.NewReader(b))
				if err != nil || len(es) != 1 {
					return fmt.Errorf("dmarc history %s element %d: not one entry: %v", key, start+int64(i), err)
				}
				if r := es[0].Received; r.Before(from.Truncate(time.Second)) || !r.Before(to) {
					continue
				}
				if err := fn(b, &es[0]); err != nil {
					return err
				}
			}
			if len(blocks) < historyPage {
				break
			}
		}
	}
	return nil
}
