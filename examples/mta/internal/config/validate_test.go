package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestValidateRules(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "readable")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	dkimEntry := func(f func(*DKIM)) func(*Settings) {
		return func(s *Settings) {
			e := DefaultDKIM()
			e.Domain = "example.test"
			e.Selectors = []DKIMSelector{{Selector: "s1", PrivateKey: file}}
			f(&e)
			s.DKIM = append(s.DKIM, e)
		}
	}
	withCert := func(s *Settings) { s.TLSCertificate = []string{file} }
	cases := []struct {
		name string
		set  func(*Settings)
		key  string // "" : valid
		msg  string
	}{
		{"defaults", func(*Settings) {}, "", ""},
		{"listen empty", func(s *Settings) { s.Listen = "" }, "listen", "required"},
		{"listen no port", func(s *Settings) { s.Listen = "127.0.0.1" }, "listen", "host:port"},
		{"metrics on the smtp port", func(s *Settings) { s.MetricsListen = s.Listen }, "metrics_listen", "also the address of listen"},
		{"shutdown negative", func(s *Settings) { s.ShutdownTimeout = -time.Second }, "shutdown_timeout", "negative"},
		{"hostname invalid", func(s *Settings) { s.Hostname = "bad host" }, "hostname", "not a valid host name"},
		{"hostname empty", func(s *Settings) { s.Hostname = "" }, "hostname", "required"},
		{"domains required", func(s *Settings) { s.Domains = nil }, "domains", "required"},
		{"domain invalid", func(s *Settings) { s.Domains = []string{"a..b"} }, "domains", `"a..b"`},
		{"user invalid", func(s *Settings) { s.Users = []string{"a b"} }, "users", "local part"},
		{"maildir required", func(s *Settings) { s.Maildir = "" }, "maildir", "required"},
		{"nameserver name", func(s *Settings) { s.Nameserver = "dns.example" }, "nameserver", "IP address"},
		{"nameserver ok", func(s *Settings) { s.Nameserver = "[::1]:5353" }, "", ""},
		{"dns timeout", func(s *Settings) { s.Timeout = 0 }, "timeout", "positive"},
		{"proxy timeout", func(s *Settings) { s.ProxyTimeout = -1 }, "proxy_timeout", "positive"},
		{"max_size zero", func(s *Settings) { s.MaxSize = 0 }, "max_size", "must be positive"},
		{"max_size huge", func(s *Settings) { s.MaxSize = 1 << 62 }, "max_size", "at most"},
		{"data memory too small", func(s *Settings) { s.MaxDataMemory = DataMemoryNeed(s.MaxHeaderSize) - 1 }, "max_data_memory", "twice max_header_size"},
		{"data memory just enough", func(s *Settings) { s.MaxDataMemory = DataMemoryNeed(s.MaxHeaderSize) }, "", ""},
		{"max_recipients", func(s *Settings) { s.MaxRecipients = 0 }, "max_recipients", "positive"},
		{"max_errors", func(s *Settings) { s.MaxErrors = -1 }, "max_errors", "positive"},
		{"read_timeout", func(s *Settings) { s.ReadTimeout = 0 }, "read_timeout", "positive"},
		{"max_sessions zero", func(s *Settings) { s.MaxSessions = 0 }, "max_sessions", "-1 for no limit"},
		{"max_sessions unlimited", func(s *Settings) { s.MaxSessions, s.MaxSessionsPerHost = -1, -1 }, "", ""},
		{"max_sessions_per_host zero", func(s *Settings) { s.MaxSessionsPerHost = 0 }, "max_sessions_per_host", "-1"},
		{"data_timeout zero", func(s *Settings) { s.DataTimeout = 0 }, "data_timeout", "-1s"},
		{"data_timeout none", func(s *Settings) { s.DataTimeout = -time.Second }, "", ""},

		{"certificate missing", func(s *Settings) { s.TLSCertificate = []string{missing} }, "tls_certificate[0]", "no such file"},
		{"certificate is a directory", func(s *Settings) { s.TLSCertificate = []string{dir} }, "tls_certificate[0]", "not a regular file"},
		{"more keys than certificates", func(s *Settings) { withCert(s); s.TLSPrivateKey = []string{file, file} }, "tls_privatekey", "2 keys for 1"},
		{"key missing", func(s *Settings) { withCert(s); s.TLSPrivateKey = []string{missing} }, "tls_privatekey[0]", "no such file"},
		{"key in the certificate file", func(s *Settings) {
			s.TLSCertificate = []string{file, file}
			s.TLSPrivateKey = []string{""}
		}, "", ""},
		{"more ocsp files than certificates", func(s *Settings) { withCert(s); s.TLSOCSPFile = "PEM /a : /b" }, "tls_ocsp_file", "2 files for 1"},
		{"ocsp list syntax", func(s *Settings) { withCert(s); s.TLSOCSPFile = "/a : : " }, "tls_ocsp_file", "empty file name"},
		{"ocsp refresh without certificate", func(s *Settings) { s.TLSOCSPRefresh = true }, "tls_ocsp_refresh", "needs tls_certificate"},
		{"submissions without certificate", func(s *Settings) { s.SubmissionsListen = "127.0.0.1:4650" }, "submissions_listen", "needs tls_certificate"},
		{"submissions with certificate", func(s *Settings) { withCert(s); s.SubmissionsListen = "127.0.0.1:4650" }, "", ""},
		{"tls version", func(s *Settings) { s.TLSMinVersion = "1.1" }, "tls_min_version", `"1.1"`},

		{"auth without TLS", func(s *Settings) { s.AuthUsersFile = file }, "auth_users_file", "auth_plaintext_loopback"},
		{"auth on loopback", func(s *Settings) { s.AuthUsersFile, s.AuthPlaintextLoopback = file, true }, "", ""},
		{"auth after TLS", func(s *Settings) { withCert(s); s.AuthUsersFile = file }, "", ""},
		{"auth file missing", func(s *Settings) { withCert(s); s.AuthUsersFile = missing }, "auth_users_file", "no such file"},
		{"auth_max_failures", func(s *Settings) { s.AuthMaxFailures = 0 }, "auth_max_failures", "positive"},
		{"auth_failure_window", func(s *Settings) { s.AuthFailureWindow = 0 }, "auth_failure_window", "positive"},

		{"spamd address", func(s *Settings) { s.Spamd = "localhost" }, "spamd", "host:port"},
		{"optin syntax", func(s *Settings) { s.OptIn = []string{"nobody=x"} }, "optin", "ADDR=feature"},
		{"spamd_none_score", func(s *Settings) { s.SpamdNoneScore = -1 }, "spamd_none_score", "negative"},
		{"dccifd bad", func(s *Settings) { s.DCCifd = "host:99999" }, "dccifd", ""},
		{"dccifd forms", func(s *Settings) { s.DCCifd = "/var/run/dcc/dccifd" }, "", ""},
		{"dccifd host port", func(s *Settings) { s.DCCifd = "127.0.0.1 1234" }, "", ""},
		{"webhook", func(s *Settings) { s.EventWebhook = "ftp://x" }, "event_webhook", "http"},

		{"relay without spool", func(s *Settings) { s.RelayFrom = mustHostList("192.0.2.0/24") }, "relay_from", "needs spool"},
		{"relay with spool", func(s *Settings) { s.RelayFrom, s.Spool = mustHostList("192.0.2.0/24"), dir }, "", ""},
		{"smtp_port", func(s *Settings) { s.SMTPPort = 0 }, "smtp_port", "1 to 65535"},
		{"smtp_timeout", func(s *Settings) { s.SMTPTimeout = 0 }, "smtp_timeout", "positive"},
		{"retry_interval", func(s *Settings) { s.RetryInterval = 0 }, "retry_interval", "positive"},
		{"retry_max_age", func(s *Settings) { s.RetryMaxAge = 0 }, "retry_max_age", "positive"},
		{"delay_warning", func(s *Settings) { s.DelayWarning = -1 }, "delay_warning", "negative"},

		{"forward syntax", func(s *Settings) {
			s.Spool, s.SRSSecret = dir, []string{"k"}
			s.Forward = []string{"a@example.test"}
		}, "forward", "want local@domain=remote@other"},
		{"forward needs spool and srs", func(s *Settings) { s.Forward = []string{"a@example.test=b@example.org"} }, "forward", "needs spool and srs_secret"},
		{"forward ok", func(s *Settings) {
			s.Spool, s.SRSSecret = dir, []string{"k"}
			s.Forward = []string{"a@example.test=b@example.org"}
		}, "", ""},
		{"srs_redis needs secret", func(s *Settings) { s.SRSRedis = "127.0.0.1:6379" }, "srs_redis", "needs srs_secret"},
		{"srs_redis address", func(s *Settings) { s.SRSSecret, s.SRSRedis = []string{"k"}, "redis" }, "srs_redis", "host:port or /socket"},
		{"srs_redis socket", func(s *Settings) { s.SRSSecret, s.SRSRedis = []string{"k"}, "/run/redis.sock" }, "", ""},
		{"srs_redis_timeout", func(s *Settings) { s.SRSRedisTimeout = 0 }, "srs_redis_timeout", "positive"},
		{"srs_domain", func(s *Settings) { s.SRSDomain = "-bad" }, "srs_domain", "valid domain"},
		{"srs secret empty", func(s *Settings) { s.SRSSecret = []string{"k", ""} }, "srs_secret", "secret 2 is empty"},

		{"dkim ok", dkimEntry(func(*DKIM) {}), "", ""},
		{"dkim domain", dkimEntry(func(e *DKIM) { e.Domain = "not a domain" }), "dkim[0].domain", "domain"},
		{"dkim two entries for a domain", func(s *Settings) {
			dkimEntry(func(*DKIM) {})(s)
			dkimEntry(func(e *DKIM) { e.Domain = "EXAMPLE.test" })(s)
		}, "dkim[1].domain", "one entry per domain"},
		{"dkim no selectors", dkimEntry(func(e *DKIM) { e.Selectors = nil }), "dkim[0].selectors", "required"},
		{"dkim selector", dkimEntry(func(e *DKIM) { e.Selectors[0].Selector = "a b" }), "dkim[0].selectors[0].selector", "not a selector"},
		{"dkim key missing", dkimEntry(func(e *DKIM) { e.Selectors[0].PrivateKey = missing }), "dkim[0].selectors[0].private_key", "no such file"},
		{"dkim key relative", dkimEntry(func(e *DKIM) { e.Selectors[0].PrivateKey = "k.pem" }), "dkim[0].selectors[0].private_key", "absolute"},
		{"dkim key empty", dkimEntry(func(e *DKIM) { e.Selectors[0].PrivateKey = "" }), "dkim[0].selectors[0].private_key", "required"},
		{"dkim canon", dkimEntry(func(e *DKIM) { e.Canon = "loose" }), "dkim[0].canon", "relaxed"},
		{"dkim canon pair", dkimEntry(func(e *DKIM) { e.Canon = "relaxed/simple" }), "", ""},
		{"dkim hash", dkimEntry(func(e *DKIM) { e.Hash = "md5" }), "dkim[0].hash", "sha256"},
		{"dkim identity outside the domain", dkimEntry(func(e *DKIM) { e.Identity = "a@other.example" }), "dkim[0].identity", "not in domain"},
		{"dkim identity in a subdomain", dkimEntry(func(e *DKIM) { e.Identity = "@sub.example.test" }), "", ""},
		{"dkim sign_headers without From", dkimEntry(func(e *DKIM) { e.SignHeaders = "Subject:Date" }), "dkim[0].sign_headers", "From"},
		{"dkim timestamps", dkimEntry(func(e *DKIM) { e.Timestamps = time.Millisecond }), "dkim[0].timestamps", "second"},
	}
	for _, c := range cases {
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
			if ke == nil {
				t.Fatalf("got %v, want an error for %s", err, c.key)
			}
			if !strings.Contains(ke.Error(), c.msg) || !strings.HasPrefix(ke.Error(), c.key+": ") {
				t.Fatalf("got %q, want %q: …%s…", ke.Error(), c.key, c.msg)
			}
			if len(kes) != 1 {
				t.Errorf("%d errors, want only the one for %s: %v", len(kes), c.key, err)
			}
		})
	}
}

// All problems come back at once, each saying where to fix it.
func TestValidateReportsEverythingWithItsSource(t *testing.T) {
	p := writeFile(t, "mta.toml", "max_size = -5\nsmtp_port = 0\n")
	s := mustParse(t, "-config", p, "-max-errors", "0", "-listen", "nowhere")
	err := s.Validate()
	want := []string{
		p + ": max_size: must be positive",
		p + ": smtp_port: must be 1 to 65535",
		"-max-errors: must be positive",
		`-listen: "nowhere": want host:port`,
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q lacks %q", err, w)
		}
	}
	if n := len(keyErrors(t, err)); n != len(want) {
		t.Errorf("%d errors, want %d: %v", n, len(want), err)
	}
	// A default at fault names the bare key.
	s = mustParse(t)
	s.Maildir = ""
	if err := s.Validate(); err == nil || err.Error() != "maildir: required" {
		t.Errorf("got %v", err)
	}
}

// An error inside a [[dkim]] entry from the flags names the flag.
func TestValidateDKIMFlagSource(t *testing.T) {
	s := mustParse(t, "-dkim-domain", "example.test", "-dkim-selector", "s", "-dkim-private-key", "/nonexistent/k.pem")
	err := s.Validate()
	if ke := hasKey(keyErrors(t, err), "dkim[0].selectors[0].private_key"); ke == nil || !strings.HasPrefix(ke.Error(), "-dkim-private-key: ") {
		t.Fatalf("got %v", err)
	}
}
