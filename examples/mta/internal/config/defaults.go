package config

import (
	_ "embed"
	"log/slog"
	"time"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/queue"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/remote"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/smtpd"
)

// DefaultTOML is the embedded default configuration: the file form of
// Default, with a comment on every key, to copy as the start of one's
// own. It runs a loopback server for the test domain example.test
// delivering into ./Maildir.
//
//go:embed default.toml
var DefaultTOML string

// Limits behind the computed defaults.
const (
	// DefaultDataMemory is max_data_memory's default.
	DefaultDataMemory = smtpd.DefaultMaxDataMemory
	// MaxMessageSize bounds max_size so that the memory arithmetic
	// (4 × max_size, 2 × (max_size + headroom)) cannot overflow.
	MaxMessageSize = 1 << 40
)

// Default returns the defaults: every key's value when neither the
// file nor a flag sets it. It equals decoding DefaultTOML (a test keeps
// them together). Hostname, SRSDomain and MaxDataMemory are left empty
// here; Parse fills them in from the system and the other keys.
func Default() Settings {
	return Settings{
		Listen:          "127.0.0.1:2525",
		ShutdownTimeout: 30 * time.Second,
		LogLevel:        slog.LevelInfo,

		Domains: []string{"example.test"},
		Maildir: "./Maildir",

		Timeout: 2 * time.Second,

		ProxyTimeout: 3 * time.Second,

		MaxSize:            smtpd.DefaultMaxSize,
		MaxHeaderSize:      smtpd.DefaultMaxHeaderSize,
		MaxRecipients:      smtpd.DefaultMaxRecipients,
		MaxErrors:          smtpd.DefaultMaxErrors,
		ReadTimeout:        smtpd.DefaultReadTimeout,
		MaxSessions:        smtpd.DefaultMaxSessions,
		MaxSessionsPerHost: smtpd.DefaultMaxSessionsPerHost,
		DataTimeout:        smtpd.DefaultDataTimeout,

		TLSAdvertiseHosts: mustHostList("*"),
		TLSMinVersion:     "1.2",

		AuthMaxFailures:   5,
		AuthFailureWindow: 5 * time.Minute,

		SpamdAltLocation: "Junk",

		DMARCMode: "rfc7489",

		SMTPPort:      remote.DefaultSMTPPort,
		SMTPTimeout:   remote.DefaultSMTPTimeout,
		RetryInterval: queue.DefaultRetryInterval,
		RetryMaxAge:   queue.DefaultRetryMaxAge,

		MaxDeliveries:               queue.DefaultMaxDeliveries,
		MaxDeliveriesPerDestination: queue.DefaultMaxPerDestination,
		ConnectionMaxMessages:       remote.DefaultConnectionMaxMessages,
		ConnectionIdleTimeout:       remote.DefaultConnectionIdleTimeout,

		DANETry: mustHostList("*"),

		SRSRedisTimeout: 2 * time.Second,
		SRSRedisPrefix:  "mailpolicy:srs:",

		RedisTimeout: 2 * time.Second,
		RedisPrefix:  "mailpolicy:",
	}
}

// DefaultDKIM is what a [[dkim]] entry holds before its keys are read:
// Exim's dkim_canon and dkim_hash defaults.
func DefaultDKIM() DKIM {
	return DKIM{Canon: "relaxed", Hash: "sha256"}
}

// DataMemoryNeed is the least max_data_memory that can take one
// message with a header of maxHeader: its write buffer and twice the
// header, as a growing header buffer briefly exists twice
// (smtpd.MinDataMemory).
func DataMemoryNeed(maxHeader int) int64 { return smtpd.MinDataMemory(maxHeader) }
