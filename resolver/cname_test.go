package resolver

import (
	"net"
	"reflect"
	"testing"

	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
	"github.com/miekg/dns"
)

func cnameZone(t *testing.T) (*resolvertest.Zone, *resolvertest.Server) {
	t.Helper()
	return serve(t,
		`www.example. CNAME web.example.`,
		`web.example. CNAME host.example.`,
		`host.example. A 192.0.2.1`,
		`v6alias.example. CNAME v6.example.`,
		`v6.example. AAAA 2001:db8::1`,
		`dangling.example. CNAME gone.example.`,
		`loop1.example. CNAME loop2.example.`,
		`loop2.example. CNAME loop1.example.`,
		`txtonly.example. TXT "no address"`,
	)
}

func TestLookupCNAME(t *testing.T) {
	z, s := cnameZone(t)
	c := newClient(t, WithNameservers(s.Addr))
	tests := []struct {
		host, want string
	}{
		{"www.example", "host.example"},
		{"WWW.example.", "host.example"},
		{"web.example", "host.example"},
		{"host.example", "host.example"},     // not an alias: itself
		{"host.example.", "host.example"},    // without the dot
		{"HOST.Example", "HOST.Example"},     // as given
		{"v6alias.example", "v6.example"},    // chain ends at NODATA for A
		{"dangling.example", "gone.example"}, // chain ends at NXDOMAIN
		{"txtonly.example", "txtonly.example"},
		{"missing.example", "missing.example"},
		{"loop1.example", "loop2.example"}, // a loop ends where it turns back
	}
	for _, authentic := range []bool{false, true} {
		z.SetAuthentic(authentic)
		for _, tt := range tests {
			got, auth, err := c.LookupCNAME(ctxT(t), tt.host)
			if err != nil || got != tt.want || auth != authentic {
				t.Errorf("LookupCNAME(%q) with AD %v = %q, %v, %v; want %q, %v, nil",
					tt.host, authentic, got, auth, err, tt.want, authentic)
			}
		}
	}
}

func TestLookupCNAMEFailures(t *testing.T) {
	z, s := cnameZone(t)
	z.SetAuthentic(true)
	z.SetFault("www.example", dns.TypeA, resolvertest.FaultServFail)
	z.SetFault("web.example", dns.TypeA, resolvertest.FaultRefused)
	c := newClient(t, WithNameservers(s.Addr))
	for _, tt := range []struct {
		host string
		kind error
	}{
		{"www.example", ErrTemporary},
		{"web.example.", ErrPermanent},
		{"bad..example", ErrPermanent},
	} {
		got, auth, err := c.LookupCNAME(ctxT(t), tt.host)
		asError(t, err, tt.kind)
		if want := trimDot(tt.host); got != want || auth {
			t.Errorf("LookupCNAME(%q) = %q, %v, want %q, false", tt.host, got, auth, want)
		}
	}
}

func TestResponseCNAMEs(t *testing.T) {
	_, s := cnameZone(t)
	c := newClient(t, WithNameservers(s.Addr))
	tests := []struct {
		name   string
		qtype  uint16
		cnames []string
		target string
		kind   error
	}{
		{"www.example", dns.TypeA, []string{"web.example", "host.example"}, "host.example", nil},
		{"Www.Example.", dns.TypeA, []string{"web.example", "host.example"}, "host.example", nil},
		{"host.example", dns.TypeA, nil, "host.example", nil},
		{"v6alias.example", dns.TypeAAAA, []string{"v6.example"}, "v6.example", nil},
		{"v6alias.example", dns.TypeA, []string{"v6.example"}, "v6.example", ErrNoData},
		{"dangling.example", dns.TypeA, []string{"gone.example"}, "gone.example", ErrNotFound},
		{"missing.example", dns.TypeA, nil, "missing.example", ErrNotFound},
		{"loop1.example", dns.TypeA, []string{"loop2.example"}, "loop2.example", ErrNoData},
		// A query for the CNAME itself is answered by it, not redirected.
		{"www.example", dns.TypeCNAME, nil, "www.example", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+dns.TypeToString[tt.qtype], func(t *testing.T) {
			resp, err := c.Query(ctxT(t), tt.name, tt.qtype)
			if tt.kind != nil {
				asError(t, err, tt.kind)
			} else if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(resp.CNAMEs, tt.cnames) {
				t.Errorf("CNAMEs = %q, want %q", resp.CNAMEs, tt.cnames)
			}
			if got := resp.Target(tt.name); got != tt.target {
				t.Errorf("Target = %q, want %q", got, tt.target)
			}
		})
	}
}

func TestResponseTarget(t *testing.T) {
	var nilResp *Response
	tests := []struct {
		resp       *Response
		name, want string
	}{
		{nilResp, "a.example.", "a.example"},
		{nilResp, ".", "."},
		{&Response{}, "a.example", "a.example"},
		{&Response{CNAMEs: []string{}}, "a.example.", "a.example"},
		{&Response{CNAMEs: []string{"b.example"}}, "a.example", "b.example"},
		{&Response{CNAMEs: []string{"b.example", "c.example"}}, "a.example", "c.example"},
	}
	for _, tt := range tests {
		if got := tt.resp.Target(tt.name); got != tt.want {
			t.Errorf("%+v.Target(%q) = %q, want %q", tt.resp, tt.name, got, tt.want)
		}
	}
}

func TestNullMX(t *testing.T) {
	tests := []struct {
		mxs  []*net.MX
		want bool
	}{
		{nil, false},
		{[]*net.MX{}, false},
		{[]*net.MX{{Host: ".", Pref: 0}}, true},
		{[]*net.MX{{Host: "", Pref: 0}}, true},
		// RFC 7505 says preference 0, but the root exchange is what says
		// "no mail".
		{[]*net.MX{{Host: ".", Pref: 10}}, true},
		{[]*net.MX{{Host: "mx.example", Pref: 0}}, false},
		{[]*net.MX{{Host: ".", Pref: 0}, {Host: "mx.example", Pref: 10}}, false},
		{[]*net.MX{{Host: ".", Pref: 0}, {Host: ".", Pref: 0}}, false},
	}
	for _, tt := range tests {
		if got := NullMX(tt.mxs); got != tt.want {
			t.Errorf("NullMX(%v) = %v, want %v", tt.mxs, got, tt.want)
		}
	}

	_, s := serve(t,
		`null.example. MX 0 .`,
		`mail.example. MX 10 mx.mail.example.`,
		`mixed.example. MX 0 .`,
		`mixed.example. MX 10 mx.mail.example.`,
	)
	c := newClient(t, WithNameservers(s.Addr))
	for name, want := range map[string]bool{"null.example": true, "mail.example": false, "mixed.example": false} {
		mxs, _, err := c.LookupMX(ctxT(t), name)
		if err != nil {
			t.Fatal(err)
		}
		if got := NullMX(mxs); got != want {
			t.Errorf("NullMX(LookupMX(%s) = %v) = %v, want %v", name, mxs, got, want)
		}
	}
}
