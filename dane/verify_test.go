package dane

import (
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"sync"
	"testing"
	"time"
)

func TestHandshake(t *testing.T) {
	good := newPKI(t, nil, "mx.example.com")
	wild := newPKI(t, nil, "*.example.com")
	expired := newPKI(t, func(c *x509.Certificate) {
		c.NotBefore = time.Now().Add(-48 * time.Hour)
		c.NotAfter = time.Now().Add(-24 * time.Hour)
	}, "mx.example.com")
	names := []string{"mx.example.com"}
	full := func(p *pki) tls.Certificate { return p.tlsCert(p.leaf, p.inter, p.root) }

	tests := []struct {
		name  string
		cert  tls.Certificate
		recs  func() []TLSA
		names []string
		want  error
		usage int
		depth int
	}{
		{"EE match", full(good), func() []TLSA { return []TLSA{spkiSHA256(good.leaf)} }, names, nil, 3, 0},
		{"EE ignores name", full(good), func() []TLSA { return []TLSA{spkiSHA256(good.leaf)} }, []string{"other.example.net"}, nil, 3, 0},
		{"EE ignores dates", full(expired), func() []TLSA { return []TLSA{spkiSHA256(expired.leaf)} }, names, nil, 3, 0},
		{"EE mismatch", full(good), func() []TLSA { return []TLSA{spkiSHA256(good.inter)} }, names, ErrNoMatch, -1, -1},
		{"TA intermediate", full(good), func() []TLSA { return []TLSA{taRecord(good.inter)} }, names, nil, 2, 1},
		{"TA root", full(good), func() []TLSA { return []TLSA{taRecord(good.root)} }, names, nil, 2, 2},
		{"TA root full cert from DNS", good.tlsCert(good.leaf, good.inter), func() []TLSA {
			return []TLSA{{UsageDANETA, SelectorCert, MatchFull, good.root.Raw}}
		}, names, nil, 2, 2},
		{"TA wrong name", full(good), func() []TLSA { return []TLSA{taRecord(good.inter)} }, []string{"mx.example.net"}, ErrName, 2, 1},
		{"TA wildcard one label", full(wild), func() []TLSA { return []TLSA{taRecord(wild.inter)} }, names, nil, 2, 1},
		{"TA wildcard two labels", full(wild), func() []TLSA { return []TLSA{taRecord(wild.inter)} }, []string{"a.mx.example.com"}, ErrName, 2, 1},
		{"TA expired leaf", full(expired), func() []TLSA { return []TLSA{taRecord(expired.inter)} }, names, ErrExpired, 2, 1},
		{"TA missing intermediate", good.tlsCert(good.leaf), func() []TLSA { return []TLSA{taRecord(good.root)} }, names, ErrNoMatch, -1, -1},
		{"TA root only, missing intermediate, root sent", good.tlsCert(good.leaf, good.root), func() []TLSA { return []TLSA{taRecord(good.root)} }, names, ErrChain, 2, 1},
		{"PKIX only", full(good), func() []TLSA { return []TLSA{{1, 1, 1, spkiSHA256(good.leaf).Data}} }, names, ErrNoUsableRecords, -1, -1},
		{"SHA-512 outranks SHA-256", full(good), func() []TLSA {
			sum := sha512.Sum512(good.inter.RawSubjectPublicKeyInfo) // wrong cert
			return []TLSA{spkiSHA256(good.leaf), {3, 1, 2, sum[:]}}
		}, names, ErrNoMatch, -1, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := serveTLS(t, tc.cert)
			set := &TLSASet{Host: "mx.example.com", Port: 25, State: StateSecure, Records: tc.recs()}
			v, err := dialDANE(t, addr, set, tc.names)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("handshake error %v, want %v", err, tc.want)
			}
			if v == nil {
				t.Fatal("no verification recorded")
			}
			if v.Verified != (tc.want == nil) || v.Usage != tc.usage || v.MatchDepth != tc.depth {
				t.Errorf("verification %+v, want usage %d depth %d", v, tc.usage, tc.depth)
			}
		})
	}
}

func TestClientConfigForcesSNIAndNoPKIX(t *testing.T) {
	base := &tls.Config{ServerName: "ignored.example", MinVersion: tls.VersionTLS12}
	set := &TLSASet{Host: "mx.example.com"}
	cfg := ClientConfig(base, set, []string{"mx.example.com"})
	if cfg.ServerName != "mx.example.com" || !cfg.InsecureSkipVerify || cfg.VerifyConnection == nil || cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("config %+v", cfg)
	}
	if base.InsecureSkipVerify || base.VerifyConnection != nil {
		t.Error("base modified")
	}
	if err := cfg.VerifyConnection(tls.ConnectionState{}); !errors.Is(err, ErrNoUsableRecords) {
		t.Errorf("empty set: %v", err)
	}
}

func TestNameMatches(t *testing.T) {
	for _, tc := range []struct {
		pat, ref string
		want     bool
	}{
		{"mx.example.com", "mx.example.com", true},
		{"*.example.com", "mx.example.com", true},
		{"*.example.com", "a.mx.example.com", false},
		{"*.example.com", "example.com", false},
		{"*.com", "example.com", false},
		{"m*.example.com", "mx.example.com", false},
	} {
		if got := nameMatches(tc.pat, tc.ref); got != tc.want {
			t.Errorf("nameMatches(%q, %q) = %v", tc.pat, tc.ref, got)
		}
	}
}

func TestParseTLSA(t *testing.T) {
	r, err := ParseTLSA("3 1 1 0102 0304")
	if err != nil || r.String() != "3 1 1 01020304" {
		t.Fatalf("%v %v", r, err)
	}
	for _, bad := range []string{"", "3 1 1", "256 1 1 00", "3 1 1 zz"} {
		if _, err := ParseTLSA(bad); err == nil {
			t.Errorf("ParseTLSA(%q) succeeded", bad)
		}
	}
	set := &TLSASet{State: StateSecure, Records: []TLSA{{0, 0, 1, make([]byte, 32)}, {2, 1, 1, make([]byte, 32)}, {3, 1, 2, make([]byte, 64)}, {3, 2, 1, make([]byte, 32)}}}
	if got := set.UsageBits(); got != 12 {
		t.Errorf("UsageBits = %d", got)
	}
	set.State = StateInsecure
	if got := set.UsageBits(); got != 0 {
		t.Errorf("insecure UsageBits = %d", got)
	}
}

func TestLinkCache(t *testing.T) {
	good := newPKI(t, nil, "mx.example.com")
	other := newPKI(t, nil, "mx.example.com")
	set := NewTLSASet("MX.example.com.", 25, taRecord(good.root))
	if set.Host != "mx.example.com" || set.QName != "_25._tcp.mx.example.com" || set.UsageBits() != 4 {
		t.Errorf("set %+v", set)
	}
	names := []string{"mx.example.com"}
	cs := tls.ConnectionState{PeerCertificates: []*x509.Certificate{good.leaf, good.inter, good.root}}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				if v, err := Verify(set, cs, names); err != nil || v.MatchDepth != 2 {
					t.Errorf("%v %+v", err, v)
				}
			}
		})
	}
	wg.Wait()
	if n := len(set.links.ok); n != 2 {
		t.Errorf("%d cached links, want 2", n)
	}
	// A leaf from another hierarchy under the cached intermediate: its
	// link is not cached and its signature does not verify.
	bad := tls.ConnectionState{PeerCertificates: []*x509.Certificate{other.leaf, good.inter, good.root}}
	if _, err := Verify(set, bad, names); !errors.Is(err, ErrChain) {
		t.Errorf("foreign leaf: %v", err)
	}
	// Names are still checked with a warm cache.
	if _, err := Verify(set, cs, []string{"mx.example.net"}); !errors.Is(err, ErrName) {
		t.Errorf("wrong name: %v", err)
	}
}

// TestClientConfigKeepsVerifyConnection: base's VerifyConnection runs
// after DANE's verification has passed, its error fails the handshake,
// and it is not reached when DANE fails.
func TestClientConfigKeepsVerifyConnection(t *testing.T) {
	good := newPKI(t, nil, "mx.example.com")
	addr := serveTLS(t, good.tlsCert(good.leaf, good.inter, good.root))
	match := &TLSASet{Host: "mx.example.com", Port: 25, State: StateSecure, Records: []TLSA{spkiSHA256(good.leaf)}}
	mismatch := &TLSASet{Host: "mx.example.com", Port: 25, State: StateSecure, Records: []TLSA{spkiSHA256(good.inter)}}
	errBase := errors.New("refused by the caller's check")
	for _, tc := range []struct {
		name    string
		set     *TLSASet
		baseErr error
		calls   int
		want    error
	}{
		{"DANE passes, base passes", match, nil, 1, nil},
		{"DANE passes, base refuses", match, errBase, 1, errBase},
		{"DANE fails", mismatch, nil, 0, ErrNoMatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			base := &tls.Config{VerifyConnection: func(cs tls.ConnectionState) error {
				calls++
				if len(cs.PeerCertificates) == 0 {
					t.Error("base check without the peer's certificates")
				}
				return tc.baseErr
			}}
			cfg := ClientConfig(base, tc.set, []string{"mx.example.com"})
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
			if err == nil {
				c.Close()
			}
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("handshake: %v, want %v", err, tc.want)
			}
			if calls != tc.calls {
				t.Errorf("base VerifyConnection called %d times, want %d", calls, tc.calls)
			}
		})
	}
}

// TestClientConfigVerifyPeerCertificate: base's VerifyPeerCertificate
// is kept when base itself skips PKIX verification, and then runs
// before DANE's check, also when that fails (a caller raises Exim's
// tls:cert events there); without InsecureSkipVerify it is dropped.
func TestClientConfigVerifyPeerCertificate(t *testing.T) {
	good := newPKI(t, nil, "mx.example.com")
	addr := serveTLS(t, good.tlsCert(good.leaf, good.inter, good.root))
	match := &TLSASet{Host: "mx.example.com", Port: 25, State: StateSecure, Records: []TLSA{spkiSHA256(good.leaf)}}
	mismatch := &TLSASet{Host: "mx.example.com", Port: 25, State: StateSecure, Records: []TLSA{spkiSHA256(good.inter)}}
	for _, tc := range []struct {
		name     string
		set      *TLSASet
		insecure bool
		calls    int
		want     error
	}{
		{"kept, DANE passes", match, true, 1, nil},
		{"kept, DANE fails", mismatch, true, 1, ErrNoMatch},
		{"dropped", match, false, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var order []string
			base := &tls.Config{
				InsecureSkipVerify: tc.insecure,
				VerifyPeerCertificate: func(raw [][]byte, chains [][]*x509.Certificate) error {
					order = append(order, "peer")
					if len(raw) != 3 || chains != nil {
						t.Errorf("VerifyPeerCertificate got %d certificates, chains %v", len(raw), chains)
					}
					return nil
				},
				VerifyConnection: func(tls.ConnectionState) error {
					order = append(order, "connection")
					return nil
				},
			}
			cfg := ClientConfig(base, tc.set, []string{"mx.example.com"})
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
			if err == nil {
				c.Close()
			}
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("handshake: %v, want %v", err, tc.want)
			}
			n := 0
			for _, o := range order {
				if o == "peer" {
					n++
				}
			}
			if n != tc.calls || n > 0 && order[0] != "peer" {
				t.Errorf("calls %v, want VerifyPeerCertificate %d times, first", order, tc.calls)
			}
		})
	}
}
