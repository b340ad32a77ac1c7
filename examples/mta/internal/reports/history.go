package reports

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/durable"
)

// HistorySource is where DMARC reports are built from: a FileHistory
// (dmarc_history) or redisstore.History (dmarc_history_redis). Entries
// returns the entries received in [from, to).
type HistorySource interface {
	Entries(ctx context.Context, from, to time.Time) ([]dmarc.HistoryEntry, error)
}

// trimmer is a history that can drop what has been reported. The Redis
// history has no need: its day lists expire.
type trimmer interface {
	Trim(before time.Time) error
}

// maxHistoryLine bounds one line of the file, as dmarc.ParseHistory
// does.
const maxHistoryLine = 1 << 20

// FileHistory is the history file (Exim's dmarc_history_file) as both
// the MTA's appender (mta.Config.History) and the Scheduler's source.
// Being both lets Trim rewrite the file between two appends and reopen
// it, so that no entry of this process goes to the old file. Another
// process appending to the same file (Exim itself) would lose what it
// writes during a Trim: give it a file of its own.
type FileHistory struct {
	path   string
	Logger *slog.Logger // nil: slog.Default()

	mu sync.RWMutex // Append holds it shared, Trim exclusive
	h  *dmarc.History
}

// OpenFileHistory opens (creating) the history file at path.
func OpenFileHistory(path string) (*FileHistory, error) {
	h, err := dmarc.OpenHistory(path)
	if err != nil {
		return nil, err
	}
	return &FileHistory{path: path, h: h}, nil
}

// Append writes e's block (dmarc.History.Append).
func (f *FileHistory) Append(e *dmarc.HistoryEntry) error {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.h.Append(e)
}

// Close closes the file.
func (f *FileHistory) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.h.Close()
}

func (f *FileHistory) log() *slog.Logger {
	if f.Logger != nil {
		return f.Logger
	}
	return slog.Default()
}

// Entries reads the entries received in [from, to). The file is read
// block by block, so its size does not matter, and a block that does
// not parse (one cut short by a full disk) is logged and skipped rather
// than costing every report.
func (f *FileHistory) Entries(ctx context.Context, from, to time.Time) ([]dmarc.HistoryEntry, error) {
	fh, err := os.Open(f.path)
	if err != nil {
		return nil, fmt.Errorf("reports: history: %w", err)
	}
	defer fh.Close()
	var out []dmarc.HistoryEntry
	// The whole file at once first, the common case; block by block
	// only when some block is broken.
	if all, err := dmarc.ParseHistory(bufio.NewReaderSize(fh, 64<<10)); err == nil {
		for _, e := range all {
			if !e.Received.Before(from) && e.Received.Before(to) {
				out = append(out, e)
			}
		}
		return out, nil
	}
	if _, err := fh.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("reports: history: %w", err)
	}
	err = eachBlock(fh, func(block string, line int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		e, err := parseBlock(block)
		if err != nil {
			f.log().Warn("dmarc history: block skipped", "file", f.path, "line", line, "err", err)
			return nil
		}
		if !e.Received.Before(from) && e.Received.Before(to) {
			out = append(out, *e)
		}
		return nil
	})
	return out, err
}

// Trim rewrites the file with the blocks received at or after before
// (each as it was written, unknown lines included), and reopens it.
// The new file is complete and fsynced before it replaces the old one.
// Blocks that do not parse cannot be reported and are dropped.
func (f *FileHistory) Trim(before time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	src, err := os.Open(f.path)
	if err != nil {
		return fmt.Errorf("reports: trimming history: %w", err)
	}
	defer src.Close()
	st, err := src.Stat()
	if err != nil {
		return fmt.Errorf("reports: trimming history: %w", err)
	}
	tmp := f.path + ".trim"
	os.Remove(tmp) // a leftover of a crash
	dst, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, st.Mode().Perm())
	if err != nil {
		return fmt.Errorf("reports: trimming history: %w", err)
	}
	w := bufio.NewWriter(dst)
	dropped := 0
	err = eachBlock(src, func(block string, _ int) error {
		if e, err := parseBlock(block); err != nil || e.Received.Before(before) {
			dropped++
			return nil
		}
		_, err := w.WriteString(block)
		return err
	})
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil && dropped == 0 {
		os.Remove(tmp)
		return nil
	}
	if err == nil {
		err = os.Rename(tmp, f.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("reports: trimming history: %w", err)
	}
	if err := durable.SyncDir(filepath.Dir(f.path)); err != nil {
		f.log().Warn("dmarc history: fsync of the directory", "err", err)
	}
	h, err := dmarc.OpenHistory(f.path)
	if err != nil {
		// The old descriptor still appends, to the unlinked file: better
		// than failing every append.
		return fmt.Errorf("reports: reopening trimmed history: %w", err)
	}
	f.h.Close()
	f.h = h
	f.log().Info("dmarc history trimmed", "file", f.path, "dropped", dropped, "before", before.UTC())
	return nil
}

// parseBlock parses one block: exactly one entry.
func parseBlock(block string) (*dmarc.HistoryEntry, error) {
	es, err := dmarc.ParseHistory(strings.NewReader(block))
	if err != nil {
		return nil, err
	}
	if len(es) != 1 {
		return nil, errors.New("not one entry")
	}
	return &es[0], nil
}

// eachBlock calls fn for each block of r, a "job" line and the lines up
// to the next one, newlines included, with the block's first line
// number. Lines before the first job line belong to no block and are
// passed as one block, which does not parse.
func eachBlock(r io.Reader, fn func(block string, line int) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var b strings.Builder
	start, n := 1, 0
	flush := func() error {
		if b.Len() == 0 {
			return nil
		}
		s := b.String()
		b.Reset()
		return fn(s, start)
	}
	for {
		line, err := br.ReadString('\n')
		if len(line) > maxHistoryLine {
			return fmt.Errorf("reports: history line %d longer than %d bytes", n+1, maxHistoryLine)
		}
		if line != "" {
			n++
			if key, _, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " "); key == "job" {
				if err := flush(); err != nil {
					return err
				}
				start = n
			}
			b.WriteString(line)
			if !strings.HasSuffix(line, "\n") {
				b.WriteByte('\n')
			}
		}
		if errors.Is(err, io.EOF) {
			return flush()
		}
		if err != nil {
			return fmt.Errorf("reports: history: %w", err)
		}
	}
}

// compile-time check that the file history is what the MTA appends to
// and the Scheduler reads and trims.
var (
	_ HistorySource = (*FileHistory)(nil)
	_ trimmer       = (*FileHistory)(nil)
)
