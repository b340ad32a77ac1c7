package dane

import (
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// The OpenSSL DANE vectors (shared/suites/dane/danetest.json, see
// DANE-NOTES.md there), run through verifyAt with SMTP semantics.

type vectorFile struct {
	Suites []struct {
		File       string `json:"file"`
		BaseDomain string `json:"base_domain"`
		Cases      []struct {
			Test          int    `json:"test"`
			Comment       string `json:"comment"`
			NoEENameCheck bool   `json:"no_ee_namechecks"`
			VerifyError   int    `json:"expected_verify_error"`
			MatchDepth    int    `json:"expected_match_depth"`
			TLSA          []struct {
				Usage, Selector, Mtype uint8
				Data                   string
			} `json:"tlsa"`
			Chain []struct {
				PEM string `json:"pem"`
			} `json:"chain"`
		} `json:"cases"`
	} `json:"suites"`
}

func loadVectors(t testing.TB) *vectorFile {
	dir := filepath.Join("..", "..", "shared", "suites", "dane")
	if d := os.Getenv("MAILPOLICY_SHARED"); d != "" {
		dir = filepath.Join(d, "suites", "dane")
	}
	raw, err := os.ReadFile(filepath.Join(dir, "danetest.json"))
	if err != nil {
		t.Skipf("suite file not available (%v); set MAILPOLICY_SHARED", err)
	}
	var v vectorFile
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

// smtpDeviations are the cases whose OpenSSL verdict differs under RFC
// 7672 for a reason other than unusable PKIX records.
var smtpDeviations = map[string]string{
	// OpenSSL runs this case with DANE-EE name checks enabled; an SMTP
	// client never checks names for DANE-EE(3) (RFC 7672 §3.1.1, Exim's
	// DANESSL), so the match at depth 0 verifies.
	"danetest.in/54": "DANE-EE(3) ignores names in SMTP",
}

func TestOpenSSLVectors(t *testing.T) {
	v := loadVectors(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var total, passed, unusable, deviations int
	for _, s := range v.Suites {
		for _, c := range s.Cases {
			total++
			id := s.File + "/" + strconv.Itoa(c.Test)
			var recs []TLSA
			for _, r := range c.TLSA {
				data, err := hex.DecodeString(r.Data)
				if err != nil {
					t.Fatalf("%s: %v", id, err)
				}
				recs = append(recs, TLSA{r.Usage, r.Selector, r.Mtype, data})
			}
			var chain []*x509.Certificate
			for _, p := range c.Chain {
				b, _ := pem.Decode([]byte(p.PEM))
				if b == nil {
					t.Fatalf("%s: bad PEM", id)
				}
				cert, err := x509.ParseCertificate(b.Bytes)
				if err != nil {
					t.Fatalf("%s: %v", id, err)
				}
				chain = append(chain, cert)
			}
			pkixOnly := true
			for _, r := range recs {
				if r.Usage >= UsageDANETA {
					pkixOnly = false
				}
			}
			ver, err := verifyAt(recs, chain, []string{s.BaseDomain}, now)
			switch {
			case pkixOnly:
				// RFC 7672 §3.1.3: PKIX-TA(0)/PKIX-EE(1) are unusable
				// for SMTP, whatever OpenSSL's verdict.
				if !errors.Is(err, ErrNoUsableRecords) || ver.Verified || ver.Unusable != len(recs) {
					t.Errorf("%s: PKIX-only set: got %v, %+v; want ErrNoUsableRecords", id, err, ver)
					continue
				}
				unusable++
				continue
			case smtpDeviations[id] != "":
				if err != nil || !ver.Verified || ver.MatchDepth != c.MatchDepth {
					t.Errorf("%s (%s): got %v depth %d", id, smtpDeviations[id], err, ver.MatchDepth)
					continue
				}
				deviations++
				continue
			}
			var want error
			switch c.VerifyError {
			case 0:
			case 20:
				want = ErrChain
			case 62:
				want = ErrName
			case 65:
				want = ErrNoMatch
			default:
				t.Fatalf("%s: unknown OpenSSL code %d", id, c.VerifyError)
			}
			if want == nil && err != nil || want != nil && !errors.Is(err, want) {
				t.Errorf("%s %q: got error %v, want code %d", id, c.Comment, err, c.VerifyError)
				continue
			}
			if ver.MatchDepth != c.MatchDepth {
				t.Errorf("%s %q: match depth %d, want %d", id, c.Comment, ver.MatchDepth, c.MatchDepth)
				continue
			}
			if ver.Verified != (want == nil) {
				t.Errorf("%s: Verified=%v", id, ver.Verified)
				continue
			}
			passed++
		}
	}
	t.Logf("%d vectors: %d passed as OpenSSL, %d PKIX-only unusable for SMTP, %d SMTP deviations", total, passed, unusable, deviations)
	if total != 55 {
		t.Errorf("expected 55 vectors (54 + dane-cross), got %d", total)
	}
	if passed+unusable+deviations != total {
		t.Errorf("only %d of %d vectors accounted for", passed+unusable+deviations, total)
	}
}
