package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/mta"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/queue"
	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

// queueFixture is a server that is not serving (as in a queue command
// run beside the real one), a spool with two messages from a local
// sender to a domain that does not exist, and the Maildir bounces go to.
func queueFixture(t *testing.T) (*queue.Runner, string, []string) {
	t.Helper()
	ns := resolvertest.Start(t, resolvertest.NewZone())
	r, err := resolver.New(resolver.WithNameservers(ns.Addr), resolver.WithTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	md := t.TempDir()
	srv, err := mta.New(mta.Config{Hostname: "mx.example", Domains: []string{"example.com"}, Maildir: md,
		Spool: t.TempDir(), Resolver: r, Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	q := srv.Queue()
	var ids []string
	for _, subj := range []string{"one", "two"} {
		id, err := q.Spool.Enqueue(queue.NewID(), "alice@example.com", []string{"bob@nowhere.test"},
			[]byte("From: alice@example.com\r\nSubject: "+subj+"\r\n\r\nbody "+subj+"\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return q, md, ids
}

func runQueue(t *testing.T, q *queue.Runner, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := queueCommand(context.Background(), q, args, &out, &errb)
	return code, out.String(), errb.String()
}

func bounces(t *testing.T, md string) []string {
	t.Helper()
	ents, _ := os.ReadDir(filepath.Join(md, "new"))
	var out []string
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(md, "new", e.Name()))
		out = append(out, string(b))
	}
	return out
}

func TestQueueListShow(t *testing.T) {
	q, _, ids := queueFixture(t)
	code, out, _ := runQueue(t, q, "list")
	if code != exitOK || strings.Count(out, "<alice@example.com>") != 2 || !strings.Contains(out, ids[0]) ||
		!strings.Contains(out, "          bob@nowhere.test") || !strings.HasPrefix(out, "  0m ") {
		t.Errorf("list: %d\n%s", code, out)
	}
	code, out, _ = runQueue(t, q, "show", ids[0])
	if code != exitOK || !strings.Contains(out, `"from": "alice@example.com"`) || !strings.Contains(out, "Subject: one\n") || strings.Contains(out, "body one") {
		t.Errorf("show: %d\n%s", code, out)
	}
	if _, out, _ = runQueue(t, q, "show", "-body", ids[0]); !strings.Contains(out, "body one") {
		t.Errorf("show -body:\n%s", out)
	}
	for _, args := range [][]string{{}, {"frobnicate"}, {"show"}, {"list", "x"}} {
		if code, _, _ := runQueue(t, q, args...); code != exitUsage {
			t.Errorf("%q: exit %d, want usage", args, code)
		}
	}
	if code, _, errs := runQueue(t, q, "show", "../../etc/passwd"); code != exitError || !strings.Contains(errs, "no such message") {
		t.Errorf("show outside the spool: %d %s", code, errs)
	}
}

func TestQueueFlushBounceRemove(t *testing.T) {
	q, md, ids := queueFixture(t)
	// flush ID: nowhere.test does not exist, so the recipient fails
	// and the DSN goes to the local sender.
	if code, out, errs := runQueue(t, q, "flush", ids[0]); code != exitOK || out != ids[0]+": completed\n" {
		t.Fatalf("flush: %d %q %s", code, out, errs)
	}
	if b := bounces(t, md); len(b) != 1 || !strings.Contains(b[0], "Subject: one") {
		t.Fatalf("bounce after flush: %q", b)
	}
	// A message another process holds is left alone.
	unlock, err := q.Spool.Lock(ids[1])
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"flush", "remove", "bounce"} {
		if code, _, errs := runQueue(t, q, cmd, ids[1]); code != exitError || !strings.Contains(errs, "worked on by another process") {
			t.Errorf("%s of a locked message: %d %s", cmd, code, errs)
		}
	}
	unlock()
	if code, out, _ := runQueue(t, q, "bounce", ids[1]); code != exitOK || out != ids[1]+": bounced\n" {
		t.Errorf("bounce: %d %q", code, out)
	}
	b := bounces(t, md)
	if len(b) != 2 {
		t.Fatalf("%d bounces", len(b))
	}
	if !strings.Contains(strings.Join(b, ""), "cancelled by administrator") {
		t.Errorf("bounce now lacks the reason:\n%s", b[1])
	}
	if envs, _, _ := q.Spool.List(); len(envs) != 0 {
		t.Errorf("%d messages left", len(envs))
	}
	// remove: gone, no bounce.
	id, _ := q.Spool.Enqueue(queue.NewID(), "alice@example.com", []string{"bob@nowhere.test"}, []byte("Subject: three\r\n\r\nx\r\n"))
	if code, out, _ := runQueue(t, q, "remove", id); code != exitOK || out != id+": removed\n" {
		t.Errorf("remove: %d %q", code, out)
	}
	if code, _, _ := runQueue(t, q, "remove", id); code != exitError {
		t.Error("removing a removed message succeeded")
	}
	if len(bounces(t, md)) != 2 {
		t.Error("remove sent a bounce")
	}
}

// closeCounter wraps the real courier and counts CloseIdle calls, so
// the test sees whether flush ends the kept connections.
type closeCounter struct {
	queue.Courier
	closed int
}

func (c *closeCounter) CloseIdle() { c.closed++ }

func TestQueueFlushClosesKeptConnections(t *testing.T) {
	for _, args := range [][]string{{"flush"}, {"flush", "ID"}} {
		q, _, ids := queueFixture(t)
		cc := &closeCounter{Courier: q.Courier}
		q.Courier = cc
		if args[len(args)-1] == "ID" {
			args = []string{"flush", ids[0]}
		}
		if code, _, errs := runQueue(t, q, args...); code != exitOK {
			t.Fatalf("%v: %d %s", args, code, errs)
		}
		if cc.closed != 1 {
			t.Errorf("%v: CloseIdle called %d times, want 1", args, cc.closed)
		}
		if code, _, _ := runQueue(t, q, "list"); code != exitOK || cc.closed != 1 {
			t.Errorf("list: CloseIdle called %d times, want it left at 1", cc.closed)
		}
	}
}
