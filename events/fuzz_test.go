package events_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/events"
)

// FuzzParseName checks that ParseName accepts exactly the names of
// Names and that a known name keeps its spelling.
func FuzzParseName(f *testing.F) {
	for _, n := range events.Names() {
		f.Add(string(n))
	}
	f.Add("")
	f.Add("TCP:connect")
	f.Add("msg:")
	f.Fuzz(func(t *testing.T, s string) {
		n, err := events.ParseName(s)
		known := false
		for _, k := range events.Names() {
			if string(k) == s {
				known = true
			}
		}
		if known != (err == nil) || known != events.Known(events.Name(s)) {
			t.Fatalf("%q: known=%v err=%v", s, known, err)
		}
		if err == nil && string(n) != s {
			t.Fatalf("%q parsed as %q", s, n)
		}
		if !known && n.Info().ActsOnResult() {
			t.Fatalf("unknown %q acts", s)
		}
	})
}

// FuzzEventJSON checks that any JSON that unmarshals into an Event
// marshals back to a form that unmarshals to the same event, and that
// the event's Variables are always log-safe.
func FuzzEventJSON(f *testing.F) {
	f.Add([]byte(`{"event_name":"tcp:connect","host_address":"192.0.2.1","host_port":25}`))
	f.Add([]byte(`{"event_name":"dns:fail","event_data":"DNS_NOMATCH:a::b:A","time":"2026-11-22T05:08:20.1Z"}`))
	f.Add([]byte(`{"event_data":"a\r\nb\u0000c\u2028","sending_ip_address":"fe80::1%eth0"}`))
	f.Add([]byte(`{"peer_cert":null,"inbound":true,"verify_mode":"R"}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var ev events.Event
		if err := json.Unmarshal(b, &ev); err != nil {
			return
		}
		out, err := json.Marshal(&ev)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		var back events.Event
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("re-unmarshal %s: %v", out, err)
		}
		out2, err := json.Marshal(&back)
		if err != nil || string(out2) != string(out) {
			t.Fatalf("unstable JSON:\n%s\n%s", out, out2)
		}
		for _, v := range ev.Variables() {
			if strings.ContainsAny(v.Value, "\r\n\x00") {
				t.Fatalf("%s=%q not sanitised", v.Name, v.Value)
			}
		}
	})
}

// FuzzDNSFailData checks that the name can be recovered from dns:fail's
// data by undoubling its colons.
func FuzzDNSFailData(f *testing.F) {
	f.Add("a:b", "A")
	f.Add("::", "MX")
	f.Add("", "TXT")
	f.Fuzz(func(t *testing.T, name, qtype string) {
		if strings.Contains(qtype, ":") {
			return
		}
		d := events.DNSFailData(events.ReasonNoMatch, name, qtype)
		rest, ok := strings.CutPrefix(d, "DNS_NOMATCH:")
		if !ok {
			t.Fatal(d)
		}
		i := strings.LastIndex(rest, ":")
		if rest[i+1:] != qtype {
			t.Fatalf("%q: type %q", d, rest[i+1:])
		}
		if got := strings.ReplaceAll(rest[:i], "::", ":"); got != name {
			t.Fatalf("%q: name %q, want %q", d, got, name)
		}
	})
}
