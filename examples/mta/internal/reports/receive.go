package reports

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mailpolicy/mailpolicy/dmarc/report"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/durable"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/metrics"
	"github.com/mailpolicy/mailpolicy/tlsrpt"
)

// DefaultMaxSize bounds the message a Receiver reads and, on its own,
// what its report decompresses to.
const DefaultMaxSize = 32 << 20

// maxParsing is how many reports are parsed at once: a parse holds the
// decompressed report in memory.
const maxParsing = 2

// Stored report kinds, the subdirectories of the store.
const (
	KindDMARC    = "dmarc"
	KindTLS      = "tls"
	KindUnparsed = "unparsed"
)

// ErrDuplicate is returned by Store for a report already in the store.
var ErrDuplicate = errors.New("reports: report already stored")

// Receiver parses the mail of the report inbox and stores the reports
// under Dir (report_store): dmarc/NAME.json, tls/NAME.json, and the
// messages that did not parse under unparsed/.
type Receiver struct {
	Dir string
	// MaxSize bounds the message and, on its own, the decompressed
	// report (a gzip bomb is refused past it); 0: DefaultMaxSize.
	MaxSize int64
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	Clock   Clock // nil: the wall clock

	sem chan struct{}
}

// NewReceiver makes dir and its subdirectories.
func NewReceiver(dir string) (*Receiver, error) {
	for _, k := range []string{KindDMARC, KindTLS, KindUnparsed} {
		if err := os.MkdirAll(filepath.Join(dir, k), 0o750); err != nil {
			return nil, fmt.Errorf("reports: report store: %w", err)
		}
	}
	return &Receiver{Dir: dir, sem: make(chan struct{}, maxParsing)}, nil
}

// Stored is what became of a received message: a report of Kind
// stored at Path (unparsed: the raw message).
type Stored struct {
	Kind string
	Path string
}

// Stored is the JSON file of a received report: when and what, then
// the report as its package reads it.
type storedFile struct {
	Kind      string    `json:"kind"`
	Received  time.Time `json:"received"`
	MessageID string    `json:"message_id,omitempty"`
	From      string    `json:"from,omitempty"`
	Subject   string    `json:"subject,omitempty"`
	Report    any       `json:"report"`
}

// Receive is the MTA's hook (mta.Config.ReceiveReport): Store, with
// the outcome logged. It never fails the delivery, which is done
// already.
func (r *Receiver) Receive(ctx context.Context, msg io.Reader) {
	st, err := r.Store(ctx, msg)
	log := r.log()
	switch {
	case errors.Is(err, ErrDuplicate):
		r.count(st.Kind, "duplicate")
		log.Info("reports: received report already stored", "kind", st.Kind, "path", st.Path)
	case err != nil && st.Path != "":
		r.count("none", "unparsed")
		log.Warn("reports: received message is no report that parses, kept raw", "path", st.Path, "err", err)
	case err != nil:
		r.count("none", "unparsed")
		log.Warn("reports: received message not stored", "err", err)
	default:
		r.count(st.Kind, "stored")
		log.Info("reports: received report stored", "kind", st.Kind, "path", st.Path)
	}
}

// Store parses msg as a TLS report (a part typed
// application/tlsrpt+gzip or application/tlsrpt+json) or else a DMARC
// aggregate report, and stores it. A message that is neither is stored
// raw under unparsed/ and the parse error returned with its path.
func (r *Receiver) Store(ctx context.Context, msg io.Reader) (Stored, error) {
	select {
	case r.sem <- struct{}{}:
		defer func() { <-r.sem }()
	case <-ctx.Done():
		return Stored{}, ctx.Err()
	}
	limit := r.MaxSize
	if limit <= 0 {
		limit = DefaultMaxSize
	}
	data, err := io.ReadAll(io.LimitReader(msg, limit+1))
	if err != nil {
		return Stored{}, fmt.Errorf("reports: reading the message: %w", err)
	}
	if int64(len(data)) > limit {
		err = fmt.Errorf("reports: message larger than %d bytes", limit)
		return r.unparsed(data[:limit], err)
	}
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return r.unparsed(data, fmt.Errorf("reports: message: %w", err))
	}
	meta := storedFile{Received: r.now().UTC(), MessageID: m.Header.Get("Message-Id"), From: m.Header.Get("From"), Subject: m.Header.Get("Subject")}
	rep, err := tlsrpt.Parser{MaxSize: limit, MaxDecompressedSize: limit}.ParseMessage(bytes.NewReader(data))
	switch {
	case err == nil:
		meta.Kind, meta.Report = KindTLS, rep
		return r.write(KindTLS, tlsName(rep), &meta)
	case !errors.Is(err, tlsrpt.ErrNoReport):
		return r.unparsed(data, err)
	}
	f, err := report.Parser{MaxSize: limit}.ParseMessage(bytes.NewReader(data))
	if err != nil {
		return r.unparsed(data, err)
	}
	meta.Kind, meta.Report = KindDMARC, f
	return r.write(KindDMARC, dmarcName(f), &meta)
}

// write stores meta as kind/name.json unless that file exists (the
// same report received again).
func (r *Receiver) write(kind, name string, meta *storedFile) (Stored, error) {
	b, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return Stored{}, fmt.Errorf("reports: encoding the report: %w", err)
	}
	st := Stored{Kind: kind, Path: filepath.Join(r.Dir, kind, name+".json")}
	err = durable.WriteFile(st.Path, append(b, '\n'))
	if errors.Is(err, fs.ErrExist) {
		return st, ErrDuplicate
	}
	if err != nil {
		return Stored{Kind: kind}, fmt.Errorf("reports: storing the report: %w", err)
	}
	durable.SyncDir(filepath.Dir(st.Path))
	return st, nil
}

// unparsed keeps the raw message and returns why it did not parse.
func (r *Receiver) unparsed(data []byte, why error) (Stored, error) {
	sum := sha256.Sum256(data)
	name := r.now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(sum[:6]) + ".eml"
	st := Stored{Kind: KindUnparsed, Path: filepath.Join(r.Dir, KindUnparsed, name)}
	if err := durable.WriteFile(st.Path, data); err != nil && !errors.Is(err, fs.ErrExist) {
		return Stored{Kind: KindUnparsed}, errors.Join(why, fmt.Errorf("reports: keeping the raw message: %w", err))
	}
	return st, why
}

// dmarcName names a DMARC report's file: the RFC 7489 file name
// without its extension, and a hash of the reporter and report_id, so
// that two reports of one period are two files and the same report
// twice is one.
func dmarcName(f *report.Feedback) string {
	base := strings.TrimSuffix(f.Filename(), ".xml.gz")
	sum := sha256.Sum256([]byte(f.Metadata.OrgName + "\x00" + f.Metadata.Email + "\x00" + f.Metadata.ReportID))
	return safeName(base) + "!" + hex.EncodeToString(sum[:6])
}

// tlsName is dmarcName for a TLS report.
func tlsName(rep *tlsrpt.Report) string {
	base := strings.TrimSuffix(rep.Filename(), ".json.gz")
	sum := sha256.Sum256([]byte(rep.OrganizationName + "\x00" + rep.ContactInfo + "\x00" + rep.ReportID))
	return safeName(base) + "!" + hex.EncodeToString(sum[:6])
}

// safeName keeps a name from strangers to one path element of sane
// length.
func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == '!') {
			b[i] = '_'
		}
	}
	if len(b) > 180 {
		b = b[:180]
	}
	if len(b) == 0 || b[0] == '.' {
		return "_" + string(b)
	}
	return string(b)
}

func (r *Receiver) now() time.Time {
	if r.Clock != nil {
		return r.Clock.Now()
	}
	return time.Now()
}

func (r *Receiver) log() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

func (r *Receiver) count(kind, outcome string) {
	if c := countersOf(r.Metrics); c != nil {
		c.received.WithLabelValues(kind, outcome).Inc()
	}
}
