package report_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/dmarc/report"
)

func TestParseDestinations(t *testing.T) {
	got, err := report.ParseDestinations(" mailto:dmarc@Example.COM!10m, mailto:a%2Bb@reports.example.net!50K ,," +
		"https://reports.example.org/dmarc,mailto:plain@example.com!0,mailto:x@y.example?subject=hi,mailto:big@example.com!8t")
	if err != nil {
		t.Fatal(err)
	}
	want := []report.Destination{
		{URI: "mailto:dmarc@Example.COM", Addr: "dmarc@example.com", MaxSize: 10 << 20},
		{URI: "mailto:a%2Bb@reports.example.net", Addr: "a+b@reports.example.net", MaxSize: 50 << 10},
		{URI: "https://reports.example.org/dmarc"},
		{URI: "mailto:plain@example.com", Addr: "plain@example.com"},
		{URI: "mailto:x@y.example?subject=hi", Addr: "x@y.example"},
		{URI: "mailto:big@example.com", Addr: "big@example.com", MaxSize: 8 << 40},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%+v\nwant\n%+v", got, want)
	}
	hosts := []string{"example.com", "reports.example.net", "reports.example.org", "example.com", "y.example", "example.com"}
	for i, d := range got {
		if d.Host() != hosts[i] {
			t.Errorf("%s: Host %q, want %q", d.URI, d.Host(), hosts[i])
		}
	}
}

func TestParseDestinationsErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"dmarc@example.com", "not a URI"},
		{"mailto:a@example.com!", "empty size"},
		{"mailto:a!b@example.com!10m", "unescaped"},
		{"A:!!0", "unescaped"}, // found by FuzzParseDestinations: it re-parsed differently
		{"mailto:a@example.com!10x", "bad size"},
		{"mailto:a@example.com!m", "bad size"},
		{"mailto:a@example.com!9999999999999t", "out of range"},
		{"mailto:a@example.com!99999999999999999999", "out of range"},
		{"mailto:no-at-sign", "not a plain"},
		{"mailto:a@exa mple.com", "characters"},
		{"mailto:\"a b\"@example.com", "characters"},
		{"mailto:a%0d%0aBcc:x@example.com", "not a plain"},
		{"mailto:a@-bad-.example", "not a plain"},
		{"mailto:a@example.com%", "mailto:"},
		{"1x:foo", "not a URI"},
	} {
		got, err := report.ParseDestinations("mailto:ok@example.com," + c.in)
		var de *report.DestinationError
		if !errors.As(err, &de) || de.Value != c.in || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.in, err, c.want)
		}
		if len(got) != 1 || got[0].Addr != "ok@example.com" {
			t.Errorf("%q: the good URI is lost: %+v", c.in, got)
		}
	}
	many := strings.Repeat("mailto:a@example.com,", 40)
	got, err := report.ParseDestinations(many)
	if len(got) != 32 || err == nil || !strings.Contains(err.Error(), "more than 32") {
		t.Errorf("40 URIs: %d, %v", len(got), err)
	}
	if got, err := report.ParseDestinations(""); got != nil || err != nil {
		t.Errorf("empty: %v %v", got, err)
	}
}

// FuzzParseDestinations: never a panic; what is returned is usable (a
// mailto: destination has a plain address, sizes are not negative) and
// stable when written back as a tag value.
func FuzzParseDestinations(f *testing.F) {
	for _, s := range []string{
		"mailto:dmarc@example.com!10m", "mailto:a@b.example,https://x.example/r", "mailto:a%40b@c.example!1g",
		"mailto:x@y!", ",,,", "mailto:a@example.com!9999999999999t", "mailto:%zz@x.example",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rua string) {
		ds, _ := report.ParseDestinations(rua)
		if len(ds) > 32 {
			t.Fatalf("%d destinations", len(ds))
		}
		var parts []string
		for _, d := range ds {
			if d.MaxSize < 0 {
				t.Fatalf("negative size %+v", d)
			}
			if strings.HasPrefix(strings.ToLower(d.URI), "mailto:") == (d.Addr == "") {
				t.Fatalf("mailto without address or address without mailto: %+v", d)
			}
			if strings.ContainsAny(d.Addr, "\r\n\x00 ,<>") {
				t.Fatalf("unsafe address %q", d.Addr)
			}
			p := d.URI
			if d.MaxSize > 0 {
				p += "!" + strconvI(d.MaxSize)
			}
			parts = append(parts, p)
		}
		again, err := report.ParseDestinations(strings.Join(parts, ","))
		if err != nil || !reflect.DeepEqual(again, ds) {
			t.Fatalf("%q: re-parse %+v, %v; first %+v", rua, again, err, ds)
		}
	})
}

func strconvI(n int64) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		if n /= 10; n == 0 {
			return string(b)
		}
	}
}
