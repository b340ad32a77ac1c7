package redisstore

import (
	"bytes"
	"context"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/dmarc"
)

func historyEntry(job string, at time.Time) *dmarc.HistoryEntry {
	return &dmarc.HistoryEntry{Job: job, Reporter: "mx1.example", Received: at, IPAddr: netip.MustParseAddr("192.0.2.10"),
		From: "sender.test", MailFrom: "sender.test", SPF: dmarc.ARESPass,
		DKIM:         []dmarc.HistoryDKIM{{Domain: "sender.test", Selector: "sel", Result: dmarc.ARESPass}},
		PolicyDomain: "sender.test", Policy: dmarc.HistoryPolicyPass, RUA: []string{"mailto:agg@sender.test"}, Pct: 100,
		ADKIM: 'r', ASPF: 'r', P: 'r', AlignDKIM: dmarc.HistoryAlignPass, AlignSPF: dmarc.HistoryAlignPass, Action: dmarc.HistoryActionAccept}
}

// Entries appended by two instances come back for a time range, and
// WriteTo is a history file that dmarc.ParseHistory reads as the same
// entries, and that is byte for byte what the file History writes.
func TestHistoryRoundTrip(t *testing.T) {
	addr := redisAddr(t)
	prefix := testPrefix(t)
	h1 := NewHistory(testClient(t, addr, prefix), prefix, 2*time.Second)
	h2 := NewHistory(testClient(t, addr, prefix), prefix, 2*time.Second)
	// Days of this week: Redis expires a day's list by the wall clock.
	day := time.Now().UTC().Truncate(24 * time.Hour).Add(-3 * 24 * time.Hour)
	var all []*dmarc.HistoryEntry
	for i, at := range []time.Duration{time.Hour, 23*time.Hour + 59*time.Minute, 24*time.Hour + time.Minute, 50 * time.Hour} {
		e := historyEntry("job"+string(rune('A'+i)), day.Add(at))
		if err := []*History{h1, h2}[i%2].Append(e); err != nil {
			t.Fatal(err)
		}
		all = append(all, e)
	}
	ctx := context.Background()
	got, err := h1.Entries(ctx, day, day.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Job != "jobA" || got[1].Job != "jobB" || got[2].Job != "jobC" {
		t.Fatalf("got %d entries: %+v", len(got), got)
	}
	for i := range got {
		want := *all[i]
		want.Received = want.Received.Truncate(time.Second)
		got[i].Received = got[i].Received.UTC()
		if !reflect.DeepEqual(got[i], want) {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, got[i], want)
		}
	}
	// A range inside one day.
	if got, _ := h1.Entries(ctx, day.Add(2*time.Hour), day.Add(24*time.Hour)); len(got) != 1 || got[0].Job != "jobB" {
		t.Errorf("inside a day: %+v", got)
	}
	var buf bytes.Buffer
	if err := h2.WriteTo(ctx, &buf, day, day.Add(72*time.Hour)); err != nil {
		t.Fatal(err)
	}
	var file []byte
	for _, e := range all {
		file = e.AppendTo(file)
	}
	if buf.String() != string(file) {
		t.Errorf("WriteTo:\n%s\nwant:\n%s", buf.String(), file)
	}
	if es, err := dmarc.ParseHistory(&buf); err != nil || len(es) != 4 {
		t.Errorf("ParseHistory of WriteTo: %d %v", len(es), err)
	}
	// Each day's list expires Retention after the day ends.
	c := h1.c
	exp := c.ExpireTime(ctx, h1.dayKey(day)).Val()
	if want := day.Add(24*time.Hour + DefaultHistoryRetention); exp != time.Duration(want.Unix())*time.Second {
		t.Errorf("expire time %v, want %v", exp, want.Unix())
	}
	// Ranges: empty, too long.
	if got, err := h1.Entries(ctx, day, day); err != nil || len(got) != 0 {
		t.Errorf("empty range: %v %v", got, err)
	}
	if _, err := h1.Entries(ctx, day, day.Add(400*24*time.Hour)); err == nil || !strings.Contains(err.Error(), "at most") {
		t.Errorf("400 days: %v", err)
	}
	// A list element that is not a block is an error, not a skipped
	// entry.
	c.RPush(ctx, h1.dayKey(day.Add(4*24*time.Hour)), "garbage\n")
	if _, err := h1.Entries(ctx, day.Add(4*24*time.Hour), day.Add(5*24*time.Hour)); err == nil {
		t.Error("garbage element accepted")
	}
}

// Pages: more entries in a day than one LRANGE reads.
func TestHistoryPages(t *testing.T) {
	addr := redisAddr(t)
	prefix := testPrefix(t)
	h := NewHistory(testClient(t, addr, prefix), prefix, 2*time.Second)
	day := time.Now().UTC().Truncate(24 * time.Hour)
	n := historyPage*2 + 7
	for i := range n {
		if err := h.Append(historyEntry("j", day.Add(time.Duration(i)*time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	got, err := h.Entries(context.Background(), day, day.Add(24*time.Hour))
	if err != nil || len(got) != n {
		t.Fatalf("%d entries, %v", len(got), err)
	}
}

func TestHistoryAppendFails(t *testing.T) {
	c, _ := Open("127.0.0.1:1", 200*time.Millisecond)
	defer c.Close()
	h := NewHistory(c, "p:", 200*time.Millisecond)
	if err := h.Append(historyEntry("j", time.Now())); err == nil || !strings.Contains(err.Error(), "dmarc history") {
		t.Errorf("Append with Redis down: %v", err)
	}
}
