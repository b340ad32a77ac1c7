package dmarc_test

import (
	"context"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/dkim"
	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
	"github.com/mailpolicy/mailpolicy/spf"
)

// fo= end to end: Evaluate over DNS chooses the ruf= recipients, and
// ForensicReports builds the reports fo= asks for: in RFC 9989 mode the
// RFC 9991 kinds (fo=0/1 DMARC, fo=d DKIM, fo=s SPF), in RFC 7489 mode
// Exim's DMARC report whenever fo= selected the recipients.
func TestForensicFailureOptions(t *testing.T) {
	z := resolvertest.NewZone()
	z.MustAdd(t,
		`example. SOA ns.example. hostmaster.example. 1 3600 600 86400 60`,
		`_dmarc.fo0.example. TXT "v=DMARC1; p=reject; fo=0; ruf=mailto:r@fo0.example"`,
		`_dmarc.fo1.example. TXT "v=DMARC1; p=reject; fo=1; ruf=mailto:r@fo1.example"`,
		`_dmarc.fod.example. TXT "v=DMARC1; p=reject; fo=d; ruf=mailto:r@fod.example"`,
		`_dmarc.fos.example. TXT "v=DMARC1; p=reject; fo=s; ruf=mailto:r@fos.example"`,
	)
	srv := resolvertest.Start(t, z)
	r, err := resolver.New(resolver.WithNameservers(srv.Addr), resolver.WithTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	type msg struct {
		spf     spf.Result
		dkim    dkim.Status
		dkimDom string // "" → the From domain
	}
	bothFail := msg{spf.Fail, dkim.StatusFail, ""}
	spfOnly := msg{spf.Pass, dkim.StatusFail, ""}
	bothPass := msg{spf.Pass, dkim.StatusPass, ""}
	unalignedFail := msg{spf.Pass, dkim.StatusFail, "other.example"}
	for _, c := range []struct {
		domain           string
		m                msg
		rfc9989, rfc7489 []string
	}{
		{"fo0.example", bothFail, []string{"dmarc"}, []string{"dmarc"}},
		{"fo0.example", spfOnly, nil, nil},
		{"fo0.example", bothPass, nil, nil},
		{"fo1.example", bothFail, []string{"dmarc"}, []string{"dmarc"}},
		{"fo1.example", spfOnly, []string{"dmarc"}, []string{"dmarc"}},
		{"fo1.example", unalignedFail, []string{"dmarc"}, []string{"dmarc"}},
		{"fo1.example", bothPass, nil, nil},
		{"fod.example", bothFail, []string{"bodyhash"}, []string{"dmarc"}},
		{"fod.example", spfOnly, []string{"bodyhash"}, []string{"dmarc"}},
		{"fod.example", unalignedFail, []string{"bodyhash"}, []string{"dmarc"}},
		{"fod.example", bothPass, nil, nil},
		{"fos.example", bothFail, []string{"spf"}, []string{"dmarc"}},
		{"fos.example", spfOnly, nil, nil},
		{"fos.example", bothPass, nil, nil},
	} {
		for _, mode := range []dmarc.Mode{dmarc.ModeRFC9989, dmarc.ModeRFC7489} {
			dom := c.m.dkimDom
			if dom == "" {
				dom = c.domain
			}
			in := dmarc.Input{
				HeaderFrom: []string{"Sender <s@" + c.domain + ">"}, MailFrom: "bounce@" + c.domain,
				ClientIP: netip.MustParseAddr("192.0.2.1"), SPF: c.m.spf, SPFDomain: c.domain,
				DKIM: []dkim.Result{{Domain: dom, Selector: "s", Status: c.m.dkim, Reason: reasonFor(c.m.dkim)}},
			}
			o := dmarc.Evaluate(context.Background(), in, dmarc.WithResolver(r), dmarc.WithMode(mode))
			if o.Record == nil {
				t.Fatalf("%s: no record: %+v", c.domain, o)
			}
			reports, err := dmarc.ForensicReports(&in, o, []byte("From: s@"+c.domain+"\r\n\r\n"),
				dmarc.WithForensicSender("dmarc@mx.receiver.example"))
			if err != nil {
				t.Fatalf("%s %v: %v", c.domain, mode, err)
			}
			var got []string
			for _, rep := range reports {
				got = append(got, rep.AuthFailure)
				if rep.To != "r@"+c.domain {
					t.Errorf("%s: report to %q", c.domain, rep.To)
				}
			}
			want := c.rfc7489
			if mode == dmarc.ModeRFC9989 {
				want = c.rfc9989
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s %+v %v: reports %v, want %v", c.domain, c.m, mode, got, want)
			}
		}
	}
}

func reasonFor(s dkim.Status) dkim.Reason {
	if s == dkim.StatusFail {
		return dkim.ReasonBodyHashMismatch
	}
	return ""
}
