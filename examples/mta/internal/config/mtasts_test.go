package config

import (
	"strings"
	"testing"
)

func TestValidateMTASTS(t *testing.T) {
	for _, c := range []struct {
		name string
		set  func(*Settings)
		key  string // "": valid
		msg  string
	}{
		{"on", func(s *Settings) { s.MTASTS, s.Spool = true, "/spool" }, "", ""},
		{"with a cache file", func(s *Settings) { s.MTASTS, s.Spool, s.MTASTSCache = true, "/spool", "/var/lib/mta/sts.json" }, "", ""},
		{"no spool", func(s *Settings) { s.MTASTS = true }, "mta_sts", "needs spool"},
		{"cache without mta_sts", func(s *Settings) { s.Spool, s.MTASTSCache = "/spool", "/x" }, "mta_sts_cache", "needs mta_sts"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := mustParse(t)
			c.set(&s)
			err := s.Validate()
			kes := keyErrors(t, err)
			if c.key == "" {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			ke := hasKey(kes, c.key)
			if ke == nil || !strings.Contains(ke.Error(), c.msg) || len(kes) != 1 {
				t.Fatalf("got %v, want one error for %s: …%s…", err, c.key, c.msg)
			}
		})
	}
	p := writeFile(t, "mta.toml", "spool = \"/s\"\nmta_sts = true\n")
	s := mustParse(t, "-config", p, "-mta-sts-cache", "/s/sts.json")
	if !s.MTASTS || s.MTASTSCache != "/s/sts.json" {
		t.Errorf("mta_sts %v, mta_sts_cache %q", s.MTASTS, s.MTASTSCache)
	}
}
