package mtasts

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/miekg/dns"
)

func TestParseRecord(t *testing.T) {
	for _, tc := range []struct {
		in   string
		id   string
		ext  []Extension
		fail string // part of the error, "" for success
	}{
		{in: "v=STSv1; id=20160831085700Z;", id: "20160831085700Z"},
		{in: "v=STSv1;id=abc", id: "abc"},
		{in: "v=STSv1 ; id=abc ; ", id: "abc"}, // erratum 6285: white space before ";"
		{in: "v=STSv1;\tid=abc;\t", id: "abc"},
		{in: "v=STSv1; id=12345678901234567890123456789012", id: "12345678901234567890123456789012"},
		{in: "v=STSv1; id=a; ext_1.x-y=v!al~ue", id: "a", ext: []Extension{{"ext_1.x-y", "v!al~ue"}}},
		{in: "v=STSv1; x=1; id=a", id: "a", ext: []Extension{{"x", "1"}}},
		{in: "v=STSv1", fail: "no id"},
		{in: "v=STSv1;", fail: "no id"},
		{in: "v=STSv2; id=a", fail: `does not begin with "v=STSv1"`},
		{in: "v=STSv10; id=a", fail: `does not begin with "v=STSv1"`},
		{in: " v=STSv1; id=a", fail: `does not begin`},
		{in: "V=STSv1; id=a", fail: `does not begin`},
		{in: "id=a; v=STSv1", fail: `does not begin`},
		{in: "v=STSv1; id=", fail: "1 to 32"},
		{in: "v=STSv1; id=123456789012345678901234567890123", fail: "1 to 32"},
		{in: "v=STSv1; id=a-b", fail: "1 to 32"},
		{in: "v=STSv1; id=a; id=b", fail: "more than one id"},
		{in: "v=STSv1; v=STSv1; id=a", fail: "more than one v"},
		{in: "v=STSv1; id=a;; x=1", fail: "field without ="},
		{in: "v=STSv1; id=a b", fail: `want ";"`},
		{in: "v=STSv1 id=a", fail: `want ";"`},
		{in: "v=STSv1; id=a; _x=1", fail: "invalid field name"},
		{in: "v=STSv1; id=a; x=", fail: "invalid field value"},
		{in: "v=STSv1; id=a; x=a=b", fail: "invalid field value"},
		{in: "v=STSv1; id=a; x=\x00", fail: "invalid field value"},
		{in: "v=STSv1; id=a; ID=b", id: "a", ext: []Extension{{"ID", "b"}}}, // names are case-sensitive
	} {
		r, err := ParseRecord(tc.in)
		if tc.fail != "" {
			var se *SyntaxError
			if !errors.As(err, &se) || se.What != "record" || !strings.Contains(err.Error(), tc.fail) {
				t.Errorf("ParseRecord(%q) = %+v, %v; want a record SyntaxError with %q", tc.in, r, err, tc.fail)
			}
			continue
		}
		if err != nil || r.ID != tc.id || !reflect.DeepEqual(r.Extensions, tc.ext) {
			t.Errorf("ParseRecord(%q) = %+v, %v; want id %q ext %v", tc.in, r, err, tc.id, tc.ext)
			continue
		}
		if r2, err := ParseRecord(r.String()); err != nil || !reflect.DeepEqual(r, r2) {
			t.Errorf("%q: String %q reads back as %+v, %v", tc.in, r.String(), r2, err)
		}
	}
}

func TestLookupRecord(t *testing.T) {
	z, r := dnsFor(t,
		`_mta-sts.good.test. TXT "v=STSv1; id=1;"`,
		`_mta-sts.split.test. TXT "v=STSv1; " "id=22"`, // one record in two strings
		`_mta-sts.other.test. TXT "v=spf1 -all"`,
		`_mta-sts.mixed.test. TXT "v=spf1 -all"`,
		`_mta-sts.mixed.test. TXT "v=STSv1; id=3"`,
		`_mta-sts.two.test. TXT "v=STSv1; id=4"`,
		`_mta-sts.two.test. TXT "v=STSv1; id=5"`,
		`_mta-sts.bad.test. TXT "v=STSv1; id=not-alnum"`,
		`_mta-sts.alias.test. CNAME _mta-sts.good.test.`,
		`nodata.test. A 192.0.2.1`,
		`_mta-sts.nodata.test. A 192.0.2.1`,
	)
	z.SetRcode("_mta-sts.broken.test", dns.TypeTXT, dns.RcodeServerFailure)
	ctx := context.Background()
	for _, tc := range []struct {
		domain string
		id     string
		check  func(error) bool
	}{
		{domain: "good.test", id: "1"},
		{domain: "GOOD.test.", id: "1"},
		{domain: "split.test", id: "22"},
		{domain: "mixed.test", id: "3"},
		{domain: "alias.test", id: "1"},
		{domain: "missing.test", check: func(err error) bool {
			return errors.Is(err, ErrNoRecord) && errors.Is(err, resolver.ErrNotFound)
		}},
		{domain: "nodata.test", check: func(err error) bool { return errors.Is(err, ErrNoRecord) }},
		{domain: "other.test", check: func(err error) bool { return errors.Is(err, ErrNoRecord) }},
		{domain: "two.test", check: func(err error) bool { return errors.Is(err, ErrMultipleRecords) }},
		{domain: "bad.test", check: func(err error) bool {
			var se *SyntaxError
			return errors.As(err, &se) && se.What == "record"
		}},
		{domain: "broken.test", check: func(err error) bool {
			return errors.Is(err, resolver.ErrTemporary) && !errors.Is(err, ErrNoRecord)
		}},
		{domain: "bad..test", check: func(err error) bool { return errors.Is(err, ErrInvalidDomain) }},
		{domain: "[192.0.2.1]", check: func(err error) bool { return errors.Is(err, ErrInvalidDomain) }},
		{domain: "bücher.test", check: func(err error) bool { return errors.Is(err, ErrInvalidDomain) }},
	} {
		rec, err := LookupRecord(ctx, r, tc.domain)
		if tc.check != nil {
			if rec != nil || !tc.check(err) {
				t.Errorf("%s: %+v, %v", tc.domain, rec, err)
			}
			continue
		}
		if err != nil || rec.ID != tc.id {
			t.Errorf("%s: %+v, %v; want id %s", tc.domain, rec, err, tc.id)
		}
	}
}

// The resolver package's resolvers are this package's Resolver.
var (
	_ Resolver = (*resolver.Resolver)(nil)
	_ Resolver = resolver.NetResolver{}
)
