package authres

import (
	"testing"

	"github.com/mailpolicy/mailpolicy/dmarc"
)

// TestFromDMARCRFC9989: the words of RFC 9989 §9.2 and the properties
// of §9.1 (header.from, policy.dmarc) for outcomes of ModeRFC9989;
// Exim's words still win with WithEximDMARCWords, and the same outcomes
// in ModeRFC7489 get no policy.dmarc.
func TestFromDMARCRFC9989(t *testing.T) {
	rec := &dmarc.Record{Policy: dmarc.PolicyReject}
	bad := &dmarc.RecordError{Record: "v=DMARC1; p=bogus", Reason: "invalid p"}
	m9989 := dmarc.ModeRFC9989
	for _, c := range []struct {
		name      string
		o         dmarc.Outcome
		rfc, exim string
	}{
		{"§9.2 pass, policy still named", dmarc.Outcome{Status: dmarc.StatusAccept, FromDomain: "f.example", Record: rec, AppliedPolicy: dmarc.PolicyReject},
			"dmarc=pass header.from=f.example policy.dmarc=reject", "dmarc=pass header.from=f.example"},
		{"§9.1 policy.dmarc is the policy after t=y", dmarc.Outcome{Status: dmarc.StatusQuarantine, FromDomain: "f.example", Record: rec, AppliedPolicy: dmarc.PolicyQuarantine},
			"dmarc=fail header.from=f.example policy.dmarc=quarantine", "dmarc=fail header.from=f.example"},
		{"§9.2 fail under p=none", dmarc.Outcome{Status: dmarc.StatusNone, FromDomain: "f.example", Record: rec, AppliedPolicy: dmarc.PolicyNone},
			"dmarc=fail header.from=f.example policy.dmarc=none", "dmarc=none header.from=f.example"},
		{"§9.2 none: no record", dmarc.Outcome{Status: dmarc.StatusNoRecord, FromDomain: "f.example"},
			"dmarc=none header.from=f.example", "dmarc=none header.from=f.example"},
		{"§9.2 none: several records are discarded", dmarc.Outcome{Status: dmarc.StatusNoRecord, FromDomain: "f.example", Err: dmarc.ErrMultipleRecords},
			"dmarc=none header.from=f.example", "dmarc=none header.from=f.example"},
		{"§9.2 permerror: improperly formatted record", dmarc.Outcome{Status: dmarc.StatusNoRecord, FromDomain: "f.example", Err: bad},
			"dmarc=permerror header.from=f.example", "dmarc=none header.from=f.example"},
		{"§9.2 temperror, no policy", dmarc.Outcome{Status: dmarc.StatusTempError, FromDomain: "f.example", Record: rec},
			"dmarc=temperror header.from=f.example", "dmarc=temperror header.from=f.example"},
		{"no From", dmarc.Outcome{Status: dmarc.StatusNoFrom}, "dmarc=permerror", "dmarc=temperror"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := c.o
			o.Mode = m9989
			if got := one(FromDMARC(&o)); got != c.rfc {
				t.Errorf("got %q, want %q", got, c.rfc)
			}
			if got := one(FromDMARC(&o, WithEximDMARCWords())); got != c.exim {
				t.Errorf("Exim words: got %q, want %q", got, c.exim)
			}
			o.Mode = dmarc.ModeRFC7489
			if got := one(FromDMARC(&o, WithEximDMARCWords())); got != c.exim {
				t.Errorf("RFC 7489 outcome, Exim words: got %q, want %q", got, c.exim)
			}
		})
	}
	// The same failure evaluated under RFC 7489 has no policy.dmarc,
	// and a bad record there is none, as before.
	o := dmarc.Outcome{Status: dmarc.StatusReject, FromDomain: "f.example", Record: rec, AppliedPolicy: dmarc.PolicyReject}
	if got := one(FromDMARC(&o)); got != "dmarc=fail header.from=f.example" {
		t.Errorf("RFC 7489: %q", got)
	}
	o = dmarc.Outcome{Status: dmarc.StatusNoRecord, FromDomain: "f.example", Err: bad}
	if got := one(FromDMARC(&o)); got != "dmarc=none header.from=f.example" {
		t.Errorf("RFC 7489 bad record: %q", got)
	}
}
