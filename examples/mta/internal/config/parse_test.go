package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestFileOverridesDefaults(t *testing.T) {
	p := writeFile(t, "mta.toml", `
listen = "127.0.0.1:2626"
domains = ["Example.ORG.", "example.net"]
max_size = 1000
read_timeout = "1m"
relay_from = "192.0.2.0/24 : !*"
log_level = "debug"
spamd_none_score = 7
`)
	s := mustParse(t, "-config", p)
	if s.Listen != "127.0.0.1:2626" || s.MaxSize != 1000 || s.ReadTimeout != time.Minute || s.LogLevel != slog.LevelDebug || s.SpamdNoneScore != 7 {
		t.Fatalf("file not applied: %+v", s)
	}
	if !reflect.DeepEqual(s.Domains, []string{"example.org", "example.net"}) {
		t.Fatalf("domains %q: want lower case without the final dot", s.Domains)
	}
	if s.RelayFrom.String() != "192.0.2.0/24 : !*" || s.RelayFrom.Empty() {
		t.Fatalf("relay_from %q", s.RelayFrom)
	}
	// Keys the file leaves out keep their defaults.
	if d := Default(); s.MaxRecipients != d.MaxRecipients || s.DANETry.String() != "*" {
		t.Fatalf("defaults lost: max_recipients %d dane_try %q", s.MaxRecipients, s.DANETry)
	}
	if got := s.SourceOf("max_size"); got.File != p {
		t.Fatalf("max_size source %+v", got)
	}
	if got := s.SourceOf("max_recipients"); got != (Source{}) {
		t.Fatalf("max_recipients source %+v, want the default", got)
	}
}

func TestFlagsOverrideFile(t *testing.T) {
	p := writeFile(t, "mta.toml", `
max_size = 1000
max_errors = 3
domains = ["a.example"]
forward = ["x@a.example=y@b.example"]
srs_secret = ["one"]
`)
	s := mustParse(t, "-config", p, "-max-size", "2000", "-domains", "b.example,c.example",
		"-forward", "p@b.example=q@d.example", "-forward", "r@b.example=s@d.example")
	if s.MaxSize != 2000 || s.MaxErrors != 3 {
		t.Fatalf("max_size %d (want the flag's 2000), max_errors %d (want the file's 3)", s.MaxSize, s.MaxErrors)
	}
	if !reflect.DeepEqual(s.Domains, []string{"b.example", "c.example"}) {
		t.Fatalf("domains %q", s.Domains)
	}
	// A repeatable flag replaces the file's list; it does not add to it.
	if want := []string{"p@b.example=q@d.example", "r@b.example=s@d.example"}; !reflect.DeepEqual(s.Forward, want) {
		t.Fatalf("forward %q, want %q", s.Forward, want)
	}
	if !reflect.DeepEqual(s.SRSSecret, []string{"one"}) {
		t.Fatalf("srs_secret %q: the file's value should stay", s.SRSSecret)
	}
	if got := s.SourceOf("max_size"); got.Flag != "max-size" {
		t.Fatalf("max_size source %+v", got)
	}
	if got := s.SourceOf("max_errors"); got.File != p {
		t.Fatalf("max_errors source %+v", got)
	}
}

// flagValue is a valid, non-default value for a field of type t, and
// what the field then holds.
func flagValue(t reflect.Type, name string) (arg string, want any) {
	switch t {
	case reflect.TypeFor[time.Duration]():
		return "7s", 7 * time.Second
	case reflect.TypeFor[HostList]():
		return "192.0.2.7", "192.0.2.7"
	case reflect.TypeFor[slog.Level]():
		return "warn", slog.LevelWarn
	case reflect.TypeFor[[]string]():
		return "a" + name + "@example.test", []string{"a" + name + "@example.test"}
	}
	switch t.Kind() {
	case reflect.String:
		return "v-" + name, "v-" + name
	case reflect.Bool:
		return "true", true
	case reflect.Int:
		return "7", 7
	case reflect.Int64:
		return "7", int64(7)
	case reflect.Float64:
		return "1.5", 1.5
	}
	panic("no test value for " + t.String())
}

// Every flag is a key: -x-y is x_y, a field of Settings, or one of the
// few flags that are not a key of their own (-config, and the -dkim-*
// flags that make a [[dkim]] entry). This test keeps "every flag is
// settable in the file" true.
func TestEveryFlagIsAKey(t *testing.T) {
	fs := flag.NewFlagSet("mta", flag.ContinueOnError)
	register(fs)
	fields := tomlFields(reflect.TypeFor[Settings]())
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		n++
		switch f.Name {
		case flagConfig, flagDKIMDomain, flagDKIMSelector, flagDKIMPrivateKey:
			return
		}
		if _, ok := fields[strings.ReplaceAll(f.Name, "-", "_")]; !ok {
			t.Errorf("flag -%s has no key %s", f.Name, strings.ReplaceAll(f.Name, "-", "_"))
		}
	})
	// And every key but dkim has its flag.
	for k := range fields {
		if k != "dkim" && fs.Lookup(strings.ReplaceAll(k, "_", "-")) == nil {
			t.Errorf("key %s has no flag", k)
		}
	}
	if n < 60 {
		t.Fatalf("only %d flags", n)
	}
}

// Every flag, given on the command line, sets its own key (and not a
// neighbour's: a flag bound to the wrong field fails here).
func TestEveryFlagSetsItsKey(t *testing.T) {
	fs := flag.NewFlagSet("mta", flag.ContinueOnError)
	register(fs)
	st := reflect.TypeFor[Settings]()
	fields := tomlFields(st)
	var args []string
	want := map[string]any{}
	fs.VisitAll(func(f *flag.Flag) {
		key := strings.ReplaceAll(f.Name, "-", "_")
		i, ok := fields[key]
		if !ok {
			return
		}
		arg, w := flagValue(st.Field(i).Type, f.Name)
		args = append(args, "-"+f.Name+"="+arg)
		want[key] = w
	})
	s := mustParse(t, args...)
	v := reflect.ValueOf(s)
	for key, w := range want {
		got := v.Field(fields[key]).Interface()
		if h, ok := got.(HostList); ok {
			got = h.String()
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %#v, want %#v", key, got, w)
		}
		if src := s.SourceOf(key); src.Flag != strings.ReplaceAll(key, "_", "-") {
			t.Errorf("%s source %+v", key, src)
		}
	}
}

func TestUnknownKeys(t *testing.T) {
	p := writeFile(t, "mta.toml", `
max_sise = 5
"a.b" = 2
[[dkim]]
domain = "example.test"
selector = "s"
[tls]
x = 1
[""]
`)
	_, err := parse(t, "-config", p)
	kes := keyErrors(t, err)
	// Keys that are not bare TOML keys are named quoted, as written.
	for _, k := range []string{"max_sise", "dkim[0].selector", "tls", `""`, `"a.b"`} {
		ke := hasKey(kes, k)
		if ke == nil {
			t.Errorf("no error for %s in %v", k, err)
			continue
		}
		if want := p + ": " + k + ": unknown key"; ke.Error() != want {
			t.Errorf("got %q, want %q", ke.Error(), want)
		}
	}
}

func TestTypeErrorsNameTheKey(t *testing.T) {
	cases := []struct{ text, key, msg string }{
		{`max_size = "big"`, "max_size", "want an integer, not a string"},
		{`domains = "a.example"`, "domains", "want an array, not a string"},
		{`spf_localhost_pass = 1`, "spf_localhost_pass", "want a boolean, not an integer"},
		{`timeout = 5`, "timeout", "duration string"},
		{`timeout = "5 minutes"`, "timeout", "not a duration"},
		{`relay_from = "net-lsearch;/etc/relay"`, "relay_from", ""},
		{`dane_try = true`, "dane_try", "want a string"},
		{`log_level = "loud"`, "log_level", ""},
		{`max_recipients = 99999999999999999999`, "", ""}, // a TOML syntax error (integer overflow)
		{"[[dkim]]\ndomain = 5", "dkim[0].domain", "want a string, not an integer"},
		{"[[dkim]]\nselectors = [{selector = \"s\", private_key = 1}]", "dkim[0].selectors[0].private_key", "want a string"},
		{"dkim = 5", "dkim", "array of tables"},
	}
	for _, c := range cases {
		p := writeFile(t, "mta.toml", c.text)
		_, err := parse(t, "-config", p)
		if err == nil {
			t.Errorf("%s: no error", c.text)
			continue
		}
		if c.key == "" {
			var se *SyntaxError
			if !errors.As(err, &se) || se.File != p || se.Line != 1 {
				t.Errorf("%s: got %v, want a *SyntaxError at line 1", c.text, err)
			}
			continue
		}
		ke := hasKey(keyErrors(t, err), c.key)
		if ke == nil || ke.Source.File != p {
			t.Errorf("%s: got %v, want an error for %s from the file", c.text, err, c.key)
			continue
		}
		if !strings.HasPrefix(ke.Error(), p+": "+c.key+": ") || !strings.Contains(ke.Error(), c.msg) {
			t.Errorf("%s: got %q", c.text, ke.Error())
		}
	}
}

func TestFlagTypeErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-max-size", "big"},
		{"-timeout", "5"},
		{"-relay-from", "net-lsearch;/etc/relay"},
		{"-log-level", "loud"},
		{"-spf-localhost-pass=maybe"},
	} {
		_, err := parse(t, args...)
		if err == nil || !strings.Contains(err.Error(), args[0][:strings.IndexAny(args[0]+"=", "=")]) {
			t.Errorf("%q: got %v, want an error naming the flag", args, err)
		}
	}
}

func TestHostListAndDurationFromBothSources(t *testing.T) {
	p := writeFile(t, "mta.toml", `
proxy_required = "<; 2001:db8::1 ; 192.0.2.0/24"
data_timeout = "-1s"
`)
	s := mustParse(t, "-config", p, "-proxy-optional", "*.example.test : 198.51.100.1", "-smtp-timeout", "90s")
	if s.ProxyRequired.String() != "<; 2001:db8::1 ; 192.0.2.0/24" || s.DataTimeout != -time.Second {
		t.Fatalf("file: proxy_required %q data_timeout %v", s.ProxyRequired, s.DataTimeout)
	}
	if s.ProxyOptional.String() != "*.example.test : 198.51.100.1" || s.SMTPTimeout != 90*time.Second {
		t.Fatalf("flags: proxy_optional %q smtp_timeout %v", s.ProxyOptional, s.SMTPTimeout)
	}
	// Parsed once, and it matches as the list says.
	l := s.ProxyRequired.List()
	if !l.Match("", mustAddr("2001:db8::1")) || !l.Match("", mustAddr("192.0.2.9")) || l.Match("", mustAddr("192.0.3.1")) {
		t.Fatal("proxy_required does not match as written")
	}
	if !s.RelayFrom.Empty() || s.RelayFrom.List() == nil || s.RelayFrom.List().Match("", mustAddr("192.0.2.1")) {
		t.Fatal("the empty list must be a non-nil list that matches nothing")
	}
}

func TestRepeatableFlags(t *testing.T) {
	s := mustParse(t, "-srs-secret", "one", "-srs-secret", "two", "-optin", "a@example.test=x:y",
		"-tls-certificate", "/a.pem", "-tls-certificate", "/b.pem", "-users", "Alice, bob")
	if !reflect.DeepEqual(s.SRSSecret, []string{"one", "two"}) || !reflect.DeepEqual(s.TLSCertificate, []string{"/a.pem", "/b.pem"}) {
		t.Fatalf("srs_secret %q tls_certificate %q", s.SRSSecret, s.TLSCertificate)
	}
	if !reflect.DeepEqual(s.OptIns(), map[string]string{"a@example.test": "x:y"}) {
		t.Fatalf("optins %v", s.OptIns())
	}
	if !reflect.DeepEqual(s.Users, []string{"alice", "bob"}) {
		t.Fatalf("users %q: want split on commas and lower case", s.Users)
	}
}

func TestHelpListsEveryFlag(t *testing.T) {
	var out strings.Builder
	fs := flag.NewFlagSet("mta", flag.ContinueOnError)
	fs.SetOutput(&out)
	_, err := Parse(fs, []string{"-help"})
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("got %v, want flag.ErrHelp", err)
	}
	fs.VisitAll(func(f *flag.Flag) {
		if !strings.Contains(out.String(), "-"+f.Name+" ") && !strings.Contains(out.String(), "-"+f.Name+"\n") {
			t.Errorf("-help does not list -%s", f.Name)
		}
	})
	d := Default()
	for _, want := range []string{
		fmt.Sprintf("(default %d)", d.MaxSize),
		fmt.Sprintf("(default %q)", d.Listen),
		"(default example.test)",
		"(default info)",
		"(default *)",
		"(default " + d.RetryMaxAge.String() + ")",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-help lacks %q", want)
		}
	}
}

func TestDKIMFlags(t *testing.T) {
	p := writeFile(t, "mta.toml", `
[[dkim]]
domain = "a.example"
canon = "simple"
selectors = [{selector = "old", private_key = "/old.pem"}, {selector = "old2", private_key = "/old2.pem"}]
`)
	// Override the file's entry for a.example: its one selector is now
	// the flags', its other keys stay.
	s := mustParse(t, "-config", p, "-dkim-domain", "A.example", "-dkim-selector", "new", "-dkim-private-key", "k.pem")
	if len(s.DKIM) != 1 || s.DKIM[0].Canon != "simple" || len(s.DKIM[0].Selectors) != 1 || s.DKIM[0].Selectors[0].Selector != "new" {
		t.Fatalf("got %+v", s.DKIM)
	}
	// A relative key path is made absolute against the working directory.
	if abs, _ := filepath.Abs("k.pem"); s.DKIM[0].Selectors[0].PrivateKey != abs {
		t.Fatalf("private_key %q, want %q", s.DKIM[0].Selectors[0].PrivateKey, abs)
	}
	if got := s.SourceOf("dkim[0].selectors[0].private_key"); got.Flag != flagDKIMPrivateKey {
		t.Fatalf("source %+v", got)
	}
	if got := s.SourceOf("dkim[0].canon"); got.File != p {
		t.Fatalf("canon source %+v", got)
	}
	// Another domain adds an entry, with the dkim defaults.
	s = mustParse(t, "-config", p, "-dkim-domain", "b.example", "-dkim-selector", "s", "-dkim-private-key", "/k.pem")
	if len(s.DKIM) != 2 || s.DKIM[1].Domain != "b.example" || s.DKIM[1].Canon != "relaxed" || s.DKIM[1].Hash != "sha256" {
		t.Fatalf("got %+v", s.DKIM)
	}
	if got := s.SourceOf("dkim[1].canon"); got.Flag != flagDKIMDomain {
		t.Fatalf("source of the added entry's canon %+v, want -dkim-domain", got)
	}
	// The three go together.
	_, err := parse(t, "-dkim-domain", "b.example", "-dkim-selector", "s")
	if ke := hasKey(keyErrors(t, err), "dkim"); ke == nil || !strings.Contains(ke.Error(), "-dkim-private-key") {
		t.Fatalf("got %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	if _, err := parse(t, "stray"); err == nil || !strings.Contains(err.Error(), `"stray"`) {
		t.Errorf("stray argument: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "none.toml")
	_, err := parse(t, "-config", missing)
	if ke := hasKey(keyErrors(t, err), "config"); ke == nil || !strings.HasPrefix(ke.Error(), "-config: ") {
		t.Errorf("missing file: %v", err)
	}
	p := writeFile(t, "mta.toml", "listen = \"a\"\nmax_size = = 3\n")
	_, err = parse(t, "-config", p)
	var se *SyntaxError
	if !errors.As(err, &se) || se.Line != 2 || !strings.HasPrefix(err.Error(), p+":2: ") {
		t.Errorf("syntax error: %v", err)
	}
}

// Hostname "" is the system's name; srs_domain "" the first domain;
// max_data_memory 0 is the default, whatever max_size (messages go to
// files).
func TestFill(t *testing.T) {
	s := mustParse(t, "-domains", "b.example,c.example", "-max-size", "100000000", "-hostname", "")
	if s.Hostname == "" || s.SRSDomain != "b.example" || s.MaxDataMemory != DefaultDataMemory {
		t.Fatalf("hostname %q srs_domain %q max_data_memory %d", s.Hostname, s.SRSDomain, s.MaxDataMemory)
	}
	s = mustParse(t, "-srs-domain", "SRS.Example.", "-max-data-memory", "123456789")
	if s.SRSDomain != "srs.example" || s.MaxDataMemory != 123456789 {
		t.Fatalf("srs_domain %q max_data_memory %d", s.SRSDomain, s.MaxDataMemory)
	}
}

func TestParseArgsLeavesTheRest(t *testing.T) {
	fs := flag.NewFlagSet("mta", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	s, rest, err := ParseArgs(fs, []string{"-max-size", "2000", "queue", "show", "ID"})
	if err != nil || s.MaxSize != 2000 || len(rest) != 3 || rest[0] != "queue" || rest[2] != "ID" {
		t.Errorf("ParseArgs: %v %d %q", err, s.MaxSize, rest)
	}
}
