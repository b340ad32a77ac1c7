package main

import (
	"bytes"
	"testing"
)

// The MTA's flags fail closed: a loopback pass must be asked for, since a
// PROXY list that misses the balancer makes every client 127.0.0.1.
func TestSPFLocalhostPassFlagOptIn(t *testing.T) {
	var out, errb bytes.Buffer
	base := []string{"-domains", "example.com", "-maildir", "/tmp/x"}
	o, _, ok := parseFlags(base, &out, &errb)
	if !ok || o.cfg.SPFLocalhostPass {
		t.Errorf("default: ok %v, SPFLocalhostPass %v (%s); want false", ok, ok && o.cfg.SPFLocalhostPass, errb.String())
	}
	o, _, ok = parseFlags(append(base, "-spf-localhost-pass"), &out, &errb)
	if !ok || !o.cfg.SPFLocalhostPass {
		t.Errorf("-spf-localhost-pass: ok %v (%s); want SPFLocalhostPass true", ok, errb.String())
	}
}
