package mtasts

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// The cache file: JSON, one object per policy with the policy as its
// body text, so that the file is read back through ParsePolicy and a
// hand-edited or damaged entry cannot slip past the parser.
type cacheFile struct {
	Version int         `json:"version"`
	Entries []fileEntry `json:"entries"`
}

type fileEntry struct {
	Domain  string    `json:"domain"`
	ID      string    `json:"id"`
	Policy  string    `json:"policy"`
	Fetched time.Time `json:"fetched"`
	Expires time.Time `json:"expires"`
}

const fileVersion = 1

// maxFileSize bounds what Load reads: DefaultMaxEntries policies of a
// few hundred bytes are far below it.
const maxFileSize = 64 << 20

// ensureLoaded reads File on first use unless Load did.
func (c *Cache) ensureLoaded() {
	c.loadOnce.Do(func() {
		if err := c.load(); err != nil && c.ErrorLog != nil {
			c.ErrorLog(err)
		}
	})
}

// Load reads File now (a missing file is an empty cache), so that a
// damaged one is reported at startup; without it the first Get reads
// it and reports to ErrorLog. Unexpired entries are kept; entries that
// do not parse are skipped. It does nothing after the first read.
func (c *Cache) Load() error {
	var err error
	c.loadOnce.Do(func() { err = c.load() })
	return err
}

func (c *Cache) load() error {
	if c.File == "" {
		return nil
	}
	fh, err := os.Open(c.File)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mtasts: cache file: %w", err)
	}
	defer fh.Close()
	if fi, err := fh.Stat(); err == nil && fi.Size() > maxFileSize {
		return fmt.Errorf("mtasts: cache file %s: larger than %d bytes", c.File, maxFileSize)
	}
	var cf cacheFile
	if err := json.NewDecoder(fh).Decode(&cf); err != nil {
		return fmt.Errorf("mtasts: cache file %s: %w", c.File, err)
	}
	if cf.Version != fileVersion {
		return fmt.Errorf("mtasts: cache file %s: version %d, want %d", c.File, cf.Version, fileVersion)
	}
	now := c.now()
	var bad int
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]*entry{}
	}
	for _, fe := range cf.Entries {
		d, err := normalizeDomain(fe.Domain)
		if err != nil || !validID(fe.ID) {
			bad++
			continue
		}
		p, err := ParsePolicy([]byte(fe.Policy))
		if err != nil {
			bad++
			continue
		}
		if !now.Before(fe.Expires) {
			continue
		}
		// A policy lives max_age from its fetch, whatever the file says.
		exp := fe.Expires
		if limit := fe.Fetched.Add(p.MaxAge); limit.Before(exp) {
			exp = limit
		}
		c.entries[d] = &entry{id: fe.ID, policy: p, fetched: fe.Fetched, expires: exp}
	}
	c.prune(now)
	if bad > 0 {
		return fmt.Errorf("mtasts: cache file %s: %d entries skipped (invalid)", c.File, bad)
	}
	return nil
}

// save writes File when the cache changed since the last write: a
// temporary file in the same directory, fsynced, renamed over it.
func (c *Cache) save() {
	if c.File == "" {
		return
	}
	c.saveMu.Lock()
	defer c.saveMu.Unlock()
	c.mu.Lock()
	gen := c.gen
	if gen == c.saved {
		c.mu.Unlock()
		return
	}
	cf := cacheFile{Version: fileVersion, Entries: make([]fileEntry, 0, len(c.entries))}
	for d, e := range c.entries {
		cf.Entries = append(cf.Entries, fileEntry{Domain: d, ID: e.id, Policy: e.policy.String(), Fetched: e.fetched, Expires: e.expires})
	}
	c.mu.Unlock()
	if err := writeFile(c.File, cf); err != nil {
		if c.ErrorLog != nil {
			c.ErrorLog(err)
		}
		return
	}
	c.mu.Lock()
	c.saved = gen
	c.mu.Unlock()
}

func writeFile(name string, cf cacheFile) (err error) {
	data, err := json.Marshal(cf)
	if err != nil {
		return fmt.Errorf("mtasts: cache file: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return fmt.Errorf("mtasts: cache file: %w", err)
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		return fmt.Errorf("mtasts: cache file: %w", err)
	}
	return nil
}
