package config

import (
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/dmarc"
)

func TestDMARCModeKey(t *testing.T) {
	s := mustParse(t)
	if m, err := s.DMARC(); err != nil || m != dmarc.ModeRFC7489 {
		t.Fatalf("default: %v %v, want rfc7489", m, err)
	}
	s = mustParse(t, "-dmarc-mode", "rfc9989")
	if m, err := s.DMARC(); err != nil || m != dmarc.ModeRFC9989 {
		t.Fatalf("-dmarc-mode rfc9989: %v %v", m, err)
	}
	p := writeFile(t, "mta.toml", "dmarc_mode = \"RFC9989\"\n")
	s = mustParse(t, "-config", p)
	if m, err := s.DMARC(); err != nil || m != dmarc.ModeRFC9989 {
		t.Errorf("dmarc_mode = RFC9989 in the file: %v %v", m, err)
	}
	s = mustParse(t)
	s.DMARCMode = "dmarcbis"
	ke := hasKey(keyErrors(t, s.Validate()), "dmarc_mode")
	if ke == nil || !strings.Contains(ke.Error(), `"dmarcbis"`) {
		t.Errorf("dmarc_mode = dmarcbis: %v", ke)
	}
}
