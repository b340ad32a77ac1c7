//go:build interop

package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/bmi"
	"github.com/mailpolicy/mailpolicy/internal/peertest"
)

// TestBMIInteropSpamd runs the bmi subcommand against the real spamd of
// scripts/peer-spamd.sh with GTUBE and two profiles.
func TestBMIInteropSpamd(t *testing.T) {
	addr := "127.0.0.1:" + peertest.Env("SPAMD_PORT", "7830")
	peertest.Ensure(t, "spamd", addr, peertest.RepoScript("peer-spamd.sh"))
	gtube := filepath.Join("..", "..", "bmi", "testdata", "spamd", "gtube.eml")
	code, out, errOut := runCLI(t, "bmi", "-spamd", addr, "-sender", "s@example.net",
		"-rcpt", "a@example.com strict", "-rcpt", "b@example.com lenient", "-rcpt", "c@example.com",
		"-rule", "GTUBE=1", "-none-score", "500", "-message", gtube)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	// GTUBE scores 1000: over -none-score for every profile.
	for _, w := range []string{"bmi_deliver_1=0\n", "bmi_deliver_2=0\n", "bmi_deliver_3=0\n"} {
		if !strings.Contains(out, w) {
			t.Errorf("output %q lacks %q", out, w)
		}
	}
	vs, err := bmi.ParseVerdicts(strings.TrimPrefix(strings.Split(out, "\n")[0], "bmi_verdicts="))
	if err != nil || len(vs) != 3 {
		t.Fatalf("bmi_verdicts: %v, %v (one verdict per profile expected)", vs, err)
	}
	for _, v := range vs {
		if !v.Fired(1) || v.Err != "" {
			t.Errorf("verdict %+v: GTUBE (rule 1) did not fire", v)
		}
	}
	// Marker message: spam (3 points) only for the strict profile.
	marker := filepath.Join("..", "..", "bmi", "testdata", "spamd", "marker.eml")
	code, out, errOut = runCLI(t, "bmi", "-spamd", addr, "-rcpt", "a@example.com strict",
		"-rcpt", "b@example.com lenient", "-alt-location", "Junk", "-message", marker)
	if code != 0 || errOut != "" {
		t.Fatalf("marker: exit %d, stderr %q", code, errOut)
	}
	for _, w := range []string{"bmi_alt_location_1=Junk\n", "bmi_alt_location_2=\n", "bmi_deliver_2=1\n"} {
		if !strings.Contains(out, w) {
			t.Errorf("marker: output %q lacks %q", out, w)
		}
	}
}
