package smtpd

import (
	"testing"
	"time"
)

func TestLimitDefaults(t *testing.T) {
	var cfg Config
	cfg.setDefaults()
	if cfg.MaxSessions != 100 || cfg.MaxSessionsPerHost != 20 || cfg.DataTimeout != 15*time.Minute || cfg.MaxDataMemory != 256<<20 {
		t.Errorf("defaults %d %d %v %d", cfg.MaxSessions, cfg.MaxSessionsPerHost, cfg.DataTimeout, cfg.MaxDataMemory)
	}
	// Messages go to files: the memory limit does not grow with the
	// size limit.
	cfg = Config{MaxSize: 100 << 20}
	cfg.setDefaults()
	if cfg.MaxDataMemory != 256<<20 || cfg.MaxHeaderSize != 1<<20 {
		t.Errorf("data memory for a 100 MiB max size: %d, header limit %d", cfg.MaxDataMemory, cfg.MaxHeaderSize)
	}
}
