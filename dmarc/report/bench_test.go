package report_test

import (
	"io"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/dmarc/report"
)

// benchEntries is a day of history for a mid-sized receiver: 10 000
// messages for 50 policy domains from 400 sources, one or two
// signatures each, a tenth of them failing.
func benchEntries(n int) []dmarc.HistoryEntry {
	begin := time.Unix(1700006400, 0).UTC()
	entries := make([]dmarc.HistoryEntry, n)
	for i := range entries {
		domain := "domain" + strconv.Itoa(i%50) + ".example"
		e := dmarc.HistoryEntry{
			Job: "job" + strconv.Itoa(i), Reporter: "mx.receiver.example", Received: begin.Add(time.Duration(i) * 8 * time.Second),
			IPAddr: netip.AddrFrom4([4]byte{192, 0, byte(2 + i%4), byte(i % 100)}), From: domain, MailFrom: "bounce." + domain,
			SPF: dmarc.ARESPass, PolicyDomain: domain, Policy: dmarc.HistoryPolicyPass, Pct: 100,
			ADKIM: 'r', ASPF: 'r', P: 'q', AlignDKIM: dmarc.HistoryAlignPass, AlignSPF: dmarc.HistoryAlignPass,
			Action: dmarc.HistoryActionAccept, RUA: []string{"mailto:rua@" + domain},
			DKIM: []dmarc.HistoryDKIM{{Domain: domain, Selector: "s1", Result: dmarc.ARESPass}},
		}
		if i%3 == 0 {
			e.DKIM = append(e.DKIM, dmarc.HistoryDKIM{Domain: "esp.example", Selector: "k", Result: dmarc.ARESPass})
		}
		if i%10 == 0 {
			e.SPF, e.AlignSPF, e.AlignDKIM, e.Action, e.Policy = dmarc.ARESFail, dmarc.HistoryAlignFail, dmarc.HistoryAlignFail,
				dmarc.HistoryActionQuarantine, dmarc.HistoryPolicyQuarantine
			e.DKIM[0].Result = dmarc.ARESFail
		}
		entries[i] = e
	}
	return entries
}

// BenchmarkAggregateGzip10k builds a day's reports from 10 000 history
// entries and writes each gzipped: the daily job of a receiver.
func BenchmarkAggregateGzip10k(b *testing.B) {
	entries := benchEntries(10000)
	begin := time.Unix(1700006400, 0).UTC()
	end := begin.Add(24 * time.Hour)
	org := report.Reporter{OrgName: "Receiver", Email: "dmarc@receiver.example"}
	b.ReportAllocs()
	for b.Loop() {
		reports := report.Aggregate(entries, begin, end, org)
		if len(reports) != 50 {
			b.Fatalf("%d reports", len(reports))
		}
		for _, f := range reports {
			if err := f.WriteGzip(io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	}
}
