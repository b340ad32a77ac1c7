package events

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"time"
)

// EnvPrefix is the prefix of the environment variables an Exec sink
// sets: EXIM_ followed by the upper-cased Exim variable name
// (EXIM_EVENT_NAME, EXIM_EVENT_DATA, EXIM_HOST_ADDRESS, ...).
const EnvPrefix = "EXIM_"

// Exec is a sink that runs a command for each event, the equivalent of
// ${run{...}} in event_action. The command gets the event's JSON
// (Event.MarshalJSON) on standard input and every Variable in its
// environment as EXIM_<NAME> (EnvPrefix). Its standard output, without
// one final line end, is the handler's result, so a command can refuse
// a tcp:connect, smtp:connect or tls:cert by printing something. A
// non-zero exit status is an error (the output is then ignored).
//
// Exec runs nothing through a shell: use Path "/bin/sh" and Args
// {"-c", script} for one.
type Exec struct {
	Path string
	Args []string
	// Env is the environment the variables are added to; nil: the
	// process's environment.
	Env []string
	Dir string

	// Timeout bounds the command (0: 5s); the handler's context bounds
	// it too. At the deadline the command is killed, with its whole
	// process group on Unix systems (it runs in a group of its own),
	// and, one second later at most, its output pipes closed in case
	// something else keeps them open.
	Timeout time.Duration

	// MaxOutput caps the result (0: 64 KiB); further output is read
	// and discarded, so the command never blocks on a full pipe.
	MaxOutput int
}

// Handler returns the Handler running the command.
func (x *Exec) Handler() Handler {
	return x.run
}

func (x *Exec) run(ctx context.Context, ev *Event) (string, error) {
	timeout := x.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	limit := x.MaxOutput
	if limit <= 0 {
		limit = 64 << 10
	}
	input, err := ev.MarshalJSON()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, x.Path, x.Args...)
	cmd.WaitDelay = time.Second
	setProcessGroup(cmd)
	cmd.Dir = x.Dir
	env := x.Env
	if env == nil {
		env = os.Environ()
	}
	vars := ev.Variables()
	env = append(env[:len(env):len(env)], make([]string, 0, len(vars))...)
	for _, v := range vars {
		env = append(env, EnvPrefix+strings.ToUpper(v.Name)+"="+v.Value)
	}
	cmd.Env = env
	cmd.Stdin = bytes.NewReader(input)
	stdout := &capWriter{max: limit}
	stderr := &capWriter{max: 512}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil && !isExit0(err) {
			err = ctx.Err()
		}
		return "", &ExecError{Path: x.Path, Err: err, Stderr: strings.TrimSpace(Sanitize(stderr.buf.String()))}
	}
	out := stdout.buf.String()
	if strings.HasSuffix(out, "\r\n") {
		out = out[:len(out)-2]
	} else {
		out = strings.TrimSuffix(out, "\n")
	}
	return out, nil
}

func isExit0(err error) bool {
	ee, ok := err.(*exec.ExitError)
	return ok && ee.ExitCode() == 0
}

// capWriter keeps the first max bytes written and discards the rest.
type capWriter struct {
	buf       bytes.Buffer
	max       int
	Truncated bool
}

func (w *capWriter) Write(p []byte) (int, error) {
	if room := w.max - w.buf.Len(); room > 0 {
		if len(p) > room {
			w.buf.Write(p[:room])
			w.Truncated = true
		} else {
			w.buf.Write(p)
		}
	} else if len(p) > 0 {
		w.Truncated = true
	}
	return len(p), nil
}
