package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/queue"
)

const queueUsage = `usage: mta [flags] queue COMMAND [ID...]

Commands (safe while the server runs: each message is worked on under its lock):
  list            the queue, like mailq or exim -bp: age, size, id, sender, then the
                  recipients (D: delivered, F: failed, pending ones plain)
  show ID         the envelope (JSON) and the message header
  show -body ID   the envelope and the whole message
  flush [ID...]   try delivery now: every message (exim -qf), or the given ones (exim -M)
  remove ID...    delete messages without a bounce (exim -Mrm)
  bounce ID...    fail the pending recipients now and bounce to the sender (exim -Mg)
`

// queueCommand runs one queue command on runner's spool. Exit codes as
// run's: 0 done, 1 a message could not be worked on, 2 usage.
func queueCommand(ctx context.Context, runner *queue.Runner, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, queueUsage)
		return exitUsage
	}
	if runner == nil {
		fmt.Fprintln(stderr, "mta queue: no spool configured (-spool)")
		return exitUsage
	}
	sp := runner.Spool
	cmd, ids := args[0], args[1:]
	failed := false
	each := func(do func(id string) error) {
		for _, id := range ids {
			if err := do(id); err != nil {
				fmt.Fprintf(stderr, "mta queue %s: %v\n", cmd, err)
				failed = true
			}
		}
	}
	switch cmd {
	case "list":
		if len(ids) > 0 {
			fmt.Fprint(stderr, queueUsage)
			return exitUsage
		}
		envs, bad, err := sp.List()
		if err != nil {
			fmt.Fprintf(stderr, "mta queue list: %v\n", err)
			return exitError
		}
		for _, env := range envs {
			writeListEntry(stdout, sp, env, time.Now())
		}
		for name, err := range bad {
			fmt.Fprintf(stderr, "mta queue list: %s: %v\n", name, err)
			failed = true
		}
	case "show":
		body := len(ids) > 0 && ids[0] == "-body"
		if body {
			ids = ids[1:]
		}
		if len(ids) != 1 {
			fmt.Fprint(stderr, queueUsage)
			return exitUsage
		}
		each(func(id string) error { return show(stdout, sp, id, body) })
	case "flush":
		defer runner.CloseIdle()
		if len(ids) == 0 {
			runner.RunOnce(ctx, true)
			break
		}
		each(func(id string) error {
			next, left, err := runner.Process(ctx, id, true)
			switch {
			case err != nil:
				return err
			case left:
				fmt.Fprintf(stdout, "%s: deferred, next attempt %s\n", id, next.Format(time.RFC3339))
			default:
				fmt.Fprintf(stdout, "%s: completed\n", id)
			}
			return nil
		})
	case "remove":
		each(func(id string) error {
			if err := sp.Delete(id); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s: removed\n", id)
			return nil
		})
	case "bounce":
		each(func(id string) error {
			if err := runner.Cancel(ctx, id, "cancelled by administrator"); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s: bounced\n", id)
			return nil
		})
	default:
		fmt.Fprintf(stderr, "mta queue: unknown command %q\n%s", cmd, queueUsage)
		return exitUsage
	}
	if failed {
		return exitError
	}
	return exitOK
}

// writeListEntry is one message in exim -bp's form:
//
//	25m  1.2K 1xYrXb-0006NX-RUM5 <sender@example.com>
//	       D delivered@example.org
//	         pending@example.net
func writeListEntry(w io.Writer, sp *queue.Spool, env *queue.Envelope, now time.Time) {
	size := "?"
	if msg, err := sp.Message(env.ID); err == nil {
		size = humanSize(len(msg))
	}
	fmt.Fprintf(w, "%4s %5s %s <%s>\n", humanAge(now.Sub(env.Arrival)), size, env.ID, env.From)
	for _, r := range env.Rcpts {
		mark := " "
		switch r.State {
		case queue.Delivered:
			mark = "D"
		case queue.Failed:
			mark = "F"
		}
		fmt.Fprintf(w, "        %s %s\n", mark, r.Addr)
	}
	fmt.Fprintln(w)
}

// show prints the envelope and the header (or the whole message).
func show(w io.Writer, sp *queue.Spool, id string, body bool) error {
	env, err := sp.Load(id)
	if err != nil {
		return err
	}
	msg, err := sp.Message(id)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s\n\n", b)
	if !body {
		if i := bytes.Index(msg, []byte("\r\n\r\n")); i >= 0 {
			msg = msg[:i+2]
		}
	}
	_, err = w.Write(bytes.ReplaceAll(msg, []byte("\r\n"), []byte("\n")))
	return err
}

// humanAge is exim -bp's age: minutes up to 1 h, then hours up to 2 d,
// then days.
func humanAge(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// humanSize is exim -bp's size: bytes, then K and M with one decimal.
func humanSize(n int) string {
	switch {
	case n < 1024:
		return fmt.Sprint(n)
	case n < 1<<20:
		return fmt.Sprintf("%.1fK", float64(n)/1024)
	}
	return fmt.Sprintf("%.1fM", float64(n)/(1<<20))
}
