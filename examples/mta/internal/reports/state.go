package reports

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/durable"
)

// state is what the Scheduler has done, kept across restarts.
type state struct {
	// DMARCDone is the end of the last interval whose DMARC reports are
	// all queued; DMARCSent the destinations ("domain address") of the
	// next interval queued already, when a run stopped half-way.
	DMARCDone time.Time `json:"dmarc_done,omitzero"`
	DMARCSent []string  `json:"dmarc_sent,omitempty"`
	// TLSDone and TLSSent are the same for the UTC days of TLS reports.
	TLSDone time.Time `json:"tls_done,omitzero"`
	TLSSent []string  `json:"tls_sent,omitempty"`
	// Posts are TLS reports whose HTTPS POST failed, to try again.
	Posts []pendingPost `json:"posts,omitempty"`
}

// pendingPost is one TLS report still to be POSTed: its gzip body,
// which tlsrpt.Parse reads back.
type pendingPost struct {
	URL    string    `json:"url"`
	Domain string    `json:"domain"`
	Report []byte    `json:"report"`
	Tries  int       `json:"tries"`
	First  time.Time `json:"first"`
}

func (st *state) sent(list []string, key string) bool { return slices.Contains(list, key) }

// loadState reads the state file; a missing one is the empty state.
func loadState(path string) (*state, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &state{}, nil
	}
	if err != nil {
		return &state{}, fmt.Errorf("reports: state: %w", err)
	}
	st := &state{}
	if err := json.Unmarshal(b, st); err != nil {
		return &state{}, fmt.Errorf("reports: state %s: %w", path, err)
	}
	return st, nil
}

// save replaces the state file: written and fsynced under a temporary
// name, renamed over the old one, the directory fsynced, so a crash
// leaves the old state or the new one, never half of one.
func (st *state) save(path string) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("reports: state: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("reports: state: %w", err)
	}
	tmp := path + ".tmp"
	os.Remove(tmp) // a leftover of a crash
	if err := durable.WriteFile(tmp, append(b, '\n')); err != nil {
		return fmt.Errorf("reports: state: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("reports: state: %w", err)
	}
	if err := durable.SyncDir(dir); err != nil {
		return fmt.Errorf("reports: state: %w", err)
	}
	return nil
}
