package dmarc_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailpolicy/mailpolicy/dmarc"
)

// want9989 is what ParseRecordRFC9989 should make of a record.
type want9989 struct {
	notDMARC  bool // ErrNotDMARC
	unusable  bool // *RecordError
	p, sp, np dmarc.Policy
	adkim     dmarc.AlignMode
	psd       byte
	testing   bool
	fo        []string
	rua, ruf  []string // addresses
	ignored   int
}

func (w want9989) check(t *testing.T, txt string) {
	t.Helper()
	r, err := dmarc.ParseRecordRFC9989(txt)
	var re *dmarc.RecordError
	switch {
	case w.notDMARC:
		assert.ErrorIs(t, err, dmarc.ErrNotDMARC)
		assert.Nil(t, r)
		return
	case w.unusable:
		assert.True(t, errors.As(err, &re), "want a *RecordError, got %v", err)
		assert.Nil(t, r)
		return
	}
	require.NoError(t, err)
	if w.p == "" {
		w.p = dmarc.PolicyNone
	}
	if w.adkim == 0 {
		w.adkim = dmarc.Relaxed
	}
	if w.fo == nil {
		w.fo = []string{"0"}
	}
	assert.Equal(t, w.p, r.Policy, "p")
	assert.Equal(t, w.sp, r.SubdomainPolicy, "sp")
	assert.Equal(t, w.np, r.NPPolicy, "np")
	assert.Equal(t, w.adkim, r.ADKIM, "adkim")
	assert.Equal(t, w.psd, r.PSD, "psd")
	assert.Equal(t, w.testing, r.Testing, "t")
	assert.Equal(t, w.fo, r.FailureOptions, "fo")
	addrs := func(us []dmarc.URI) []string {
		var out []string
		for _, u := range us {
			out = append(out, u.Address)
		}
		return out
	}
	assert.Equal(t, w.rua, addrs(r.RUA), "rua")
	assert.Equal(t, w.ruf, addrs(r.RUF), "ruf")
	assert.Len(t, r.Ignored, w.ignored, "ignored %q", r.Ignored)
}

const fb = "mailto:dmarc-feedback@example.com"

// TestParseRecordRFC9989 reads records as RFC 9989 §4.7 and §4.8 say,
// with the records of its Appendix B, and shows where ParseRecord (RFC
// 7489) refuses the same text.
func TestParseRecordRFC9989(t *testing.T) {
	cases := []struct {
		name    string
		txt     string
		want    want9989
		rfc7489 bool // ParseRecord accepts it too
	}{
		// Appendix B.2: the Domain Owner examples.
		{"B.2.1 monitoring mode", "v=DMARC1; p=none; rua=" + fb,
			want9989{rua: []string{fb}}, true},
		{"B.2.2 per-message failure reports", "v=DMARC1; p=none; rua=" + fb + "; ruf=mailto:auth-reports@example.com",
			want9989{rua: []string{fb}, ruf: []string{"mailto:auth-reports@example.com"}}, true},
		{"B.2.3 third-party failure reports", "v=DMARC1; p=none; rua=" + fb + "; ruf=mailto:auth-reports@thirdparty.example.net",
			want9989{rua: []string{fb}, ruf: []string{"mailto:auth-reports@thirdparty.example.net"}}, true},
		{"B.2.4 the report consumer's own record", "v=DMARC1; rua=mailto:aggregate-reports@thirdparty.example.net; ruf=mailto:failure-reports@thirdparty.example.net",
			want9989{rua: []string{"mailto:aggregate-reports@thirdparty.example.net"}, ruf: []string{"mailto:failure-reports@thirdparty.example.net"}}, true},
		{"B.2.5 subdomain in testing", "v=DMARC1; p=quarantine; rua=" + fb + ",mailto:tld-test@thirdparty.example.net; t=y",
			want9989{p: dmarc.PolicyQuarantine, testing: true, rua: []string{fb, "mailto:tld-test@thirdparty.example.net"}}, true},
		{"B.2.5 subdomain at enforcement", "v=DMARC1; p=reject; rua=" + fb + ",mailto:tld-test@thirdparty.example.net",
			want9989{p: dmarc.PolicyReject, rua: []string{fb, "mailto:tld-test@thirdparty.example.net"}}, true},
		{"B.3.1 receiver example", "v=DMARC1; p=reject; aspf=r; rua=" + fb,
			want9989{p: dmarc.PolicyReject, rua: []string{fb}}, true},

		// §4.7 v: first, value case-sensitive, else the record is ignored.
		{"§4.7 v not first", "p=reject; v=DMARC1", want9989{notDMARC: true}, false},
		{"§4.7 v value is case-sensitive", "v=dmarc1; p=reject", want9989{notDMARC: true}, false},
		{"§4.7 v value exact", "v=DMARC12; p=reject", want9989{notDMARC: true}, false},
		{"§4.8 v tag name is ABNF, caseless", "V=DMARC1; P=Reject", want9989{p: dmarc.PolicyReject}, true},

		// §4.7 p: optional, p=none when absent.
		{"§4.7 no tags at all", "v=DMARC1", want9989{}, false},
		{"§4.7 no p, trailing separator", "v=DMARC1;", want9989{}, false},
		{"§4.7 no p, rua only", "v=DMARC1; rua=" + fb, want9989{rua: []string{fb}}, true},
		{"§4.7 no p keeps sp and np", "v=DMARC1; psd=y; np=reject", want9989{np: dmarc.PolicyReject, psd: 'y'}, false},
		{"§4.8 p anywhere after v", "v=DMARC1; sp=none; p=reject", want9989{p: dmarc.PolicyReject, sp: dmarc.PolicyNone}, false},

		// §4.10.1: invalid p, sp or np.
		{"§4.10.1 invalid p with rua acts as p=none", "v=DMARC1; p=bogus; sp=reject; rua=" + fb,
			want9989{rua: []string{fb}, ignored: 1}, true},
		{"§4.10.1 invalid sp with rua acts as p=none", "v=DMARC1; p=reject; sp=bogus; np=reject; rua=" + fb,
			want9989{rua: []string{fb}, ignored: 1}, true},
		{"§4.10.1 invalid np with rua acts as p=none", "v=DMARC1; p=reject; np=bogus; rua=" + fb,
			want9989{rua: []string{fb}, ignored: 1}, false},
		{"§4.10.1 invalid p without rua: unusable", "v=DMARC1; p=bogus", want9989{unusable: true}, false},
		{"§4.10.1 empty p without rua: unusable", "v=DMARC1; p=", want9989{unusable: true}, false},
		{"§4.10.1 invalid np without rua: unusable", "v=DMARC1; p=reject; np=rejected", want9989{unusable: true}, false},
		{"§4.10.1 rua with no valid URI does not save it", "v=DMARC1; p=bogus; rua=bogus", want9989{unusable: true}, false},

		// §4.7, §4.8: unknown tags and syntax errors are ignored.
		{"§4.7 unknown tag", "v=DMARC1; p=reject; foo=bar", want9989{p: dmarc.PolicyReject, ignored: 1}, true},
		{"§4.8 tag name is ALPHA only", "v=DMARC1; p=reject; x_y=1", want9989{p: dmarc.PolicyReject, ignored: 1}, true},
		{"§4.8 part without =", "v=DMARC1; p=reject; bogus", want9989{p: dmarc.PolicyReject, ignored: 1}, false},
		{"§4.8 empty parts", "v=DMARC1;; p=reject;;", want9989{p: dmarc.PolicyReject}, false},
		{"§4.8 bad adkim keeps the default", "v=DMARC1; p=reject; adkim=x", want9989{p: dmarc.PolicyReject, ignored: 1}, false},
		{"§4.8 adkim strict", "v=DMARC1; p=reject; adkim=S", want9989{p: dmarc.PolicyReject, adkim: dmarc.Strict}, true},
		{"§4.8 bad psd is u", "v=DMARC1; p=reject; psd=maybe", want9989{p: dmarc.PolicyReject, ignored: 1}, false},
		{"§4.8 bad t is n", "v=DMARC1; p=reject; t=yes", want9989{p: dmarc.PolicyReject, ignored: 1}, false},
		{"§4.8 fo 0 and 1 are exclusive", "v=DMARC1; p=reject; fo=0:1", want9989{p: dmarc.PolicyReject, ignored: 1}, true},
		{"§4.8 fo d at most once", "v=DMARC1; p=reject; fo=d:d", want9989{p: dmarc.PolicyReject, ignored: 1}, true},
		{"§4.8 fo d:s:1", "v=DMARC1; p=reject; fo=d:s:1", want9989{p: dmarc.PolicyReject, fo: []string{"d", "s", "1"}}, true},
		{"§4.8 value with control character", "v=DMARC1; p=reject; adkim=s\x00", want9989{p: dmarc.PolicyReject, ignored: 1}, false},
		{"§4.8 bad URI dropped, good one kept", "v=DMARC1; p=none; rua=bogus, " + fb, want9989{rua: []string{fb}, ignored: 1}, false},
		{"§4.8 unencoded ! is no URI", "v=DMARC1; p=none; rua=" + fb + "!", want9989{ignored: 1}, false},
		{"§4.8 obsolete size kept", "v=DMARC1; p=none; rua=" + fb + "!10m", want9989{rua: []string{fb}}, true},
		{"§4.8 obsolete size too large to count", "v=DMARC1; p=none; rua=" + fb + "!99999999999999999999999", want9989{rua: []string{fb}}, false},
		{"RFC 6376 §3.2 repeated tag", "v=DMARC1; p=none; p=reject", want9989{unusable: true}, false},
		{"RFC 6376 §3.2 repeated v", "v=DMARC1; p=none; v=DMARC1", want9989{unusable: true}, true},
		{"§4.7 unknown tags may repeat", "v=DMARC1; p=none; x=1; x=2", want9989{ignored: 2}, false},

		// §9.3 historic tags: pct, rf, ri are no errors; Appendix A.6.
		{"A.6 pct=0 reads as t=y", "v=DMARC1; p=reject; pct=0", want9989{p: dmarc.PolicyReject, testing: true}, true},
		{"A.6 an explicit t= wins over pct=0", "v=DMARC1; p=reject; pct=0; t=n", want9989{p: dmarc.PolicyReject}, true},
		{"A.6 pct=50 is no sampling", "v=DMARC1; p=reject; pct=50", want9989{p: dmarc.PolicyReject}, true},
		{"§9.3 invalid pct ignored", "v=DMARC1; p=reject; pct=110", want9989{p: dmarc.PolicyReject, ignored: 1}, false},
		{"§9.3 invalid rf and ri ignored", "v=DMARC1; p=reject; rf=bad.format; ri=soon", want9989{p: dmarc.PolicyReject, ignored: 2}, false},
		{"§9.3 valid rf and ri", "v=DMARC1; p=reject; rf=afrf; ri=3600", want9989{p: dmarc.PolicyReject}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.want.check(t, c.txt)
			_, err := dmarc.ParseRecord(c.txt)
			assert.Equal(t, c.rfc7489, err == nil, "ParseRecord (RFC 7489) err %v", err)
		})
	}
}

func TestParseRecordRFC9989Fields(t *testing.T) {
	r, err := dmarc.ParseRecordRFC9989("v=DMARC1; p=reject; pct=25; ri=3600; rf=afrf:iodef; rua=" + fb + "!10m; junk=1")
	require.NoError(t, err)
	assert.Equal(t, 25, r.Percent, "historic pct kept for reports")
	assert.Equal(t, uint32(3600), r.Interval)
	assert.Equal(t, []string{"afrf", "iodef"}, r.ReportFormats)
	assert.Equal(t, uint64(10<<20), r.RUA[0].MaxBytes())
	assert.Equal(t, []string{"junk=1"}, r.Ignored)
	assert.False(t, r.Testing)
}
