package reports

import (
	"context"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/queue"
)

// SpoolInjector leaves a committed message in the spool, as a DSN is,
// and wakes the runner.
func TestSpoolInjector(t *testing.T) {
	sp, err := queue.OpenSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	woken := 0
	inject := SpoolInjector(sp, func() { woken++ })
	msg := "From: dmarc@example.test\nTo: agg@a.test\nSubject: Report\n\nbody\n"
	if err := inject(context.Background(), "dmarc@example.test", []string{"agg@a.test"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	envs, bad, err := sp.List()
	if err != nil || len(bad) > 0 || len(envs) != 1 {
		t.Fatalf("%v %v %v", envs, bad, err)
	}
	env := envs[0]
	if env.From != "dmarc@example.test" || len(env.Rcpts) != 1 || env.Rcpts[0].Addr != "agg@a.test" || env.Rcpts[0].State != queue.Pending ||
		env.Size != int64(len(msg)+strings.Count(msg, "\n")) {
		t.Fatalf("envelope %+v", env)
	}
	data, err := sp.Message(env.ID)
	if err != nil || string(data) != msg {
		t.Fatalf("message %q %v", data, err)
	}
	if woken != 1 {
		t.Fatalf("woken %d times", woken)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := inject(ctx, "a@b.test", []string{"c@d.test"}, []byte(msg)); err == nil {
		t.Fatal("queued after the context ended")
	}
}
