package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailpolicy/mailpolicy/events"
)

func shExec(t *testing.T, script string) *events.Exec {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("needs /bin/sh")
	}
	if _, err := exec.LookPath("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	return &events.Exec{Path: "/bin/sh", Args: []string{"-c", script}}
}

func TestExecStdinAndEnv(t *testing.T) {
	x := shExec(t, `cat; echo; echo "name=$EXIM_EVENT_NAME data=$EXIM_EVENT_DATA addr=$EXIM_HOST_ADDRESS port=$EXIM_HOST_PORT dane=$EXIM_TLS_OUT_DANE extra=$EXTRA" >&2; exit 3`)
	x.Env = []string{"EXTRA=yes", "PATH=/usr/bin:/bin"}
	ev := &events.Event{Name: events.TCPConnect, Data: "line1\nline2",
		HostAddress: netip.MustParseAddr("192.0.2.7"), HostPort: 2525}
	_, err := x.Handler()(context.Background(), ev)
	var xe *events.ExecError
	require.True(t, errors.As(err, &xe), "%v", err)
	assert.Equal(t, "name=tcp:connect data=line1 line2 addr=192.0.2.7 port=2525 dane=no extra=yes", xe.Stderr)
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee))
	assert.Equal(t, 3, ee.ExitCode())

	// stdin carries the JSON.
	x = shExec(t, `cat`)
	out, err := x.Handler()(context.Background(), ev)
	require.NoError(t, err)
	var back events.Event
	require.NoError(t, json.Unmarshal([]byte(out), &back))
	assert.Equal(t, *ev, back)
}

func TestExecVeto(t *testing.T) {
	x := shExec(t, `read json; case "$EXIM_HOST_ADDRESS" in 192.0.2.*) echo "blocked $EXIM_HOST_ADDRESS";; esac`)
	var b events.Bus
	b.Subscribe(events.Only(events.TCPConnect), x.Handler())

	d := b.Raise(context.Background(), &events.Event{Name: events.TCPConnect, HostAddress: netip.MustParseAddr("192.0.2.9")})
	assert.Empty(t, d.Errors)
	assert.True(t, d.Acted)
	assert.Equal(t, "blocked 192.0.2.9", d.Result, "final newline removed")

	d = b.Raise(context.Background(), &events.Event{Name: events.TCPConnect, HostAddress: netip.MustParseAddr("198.51.100.1")})
	assert.Empty(t, d.Errors)
	assert.False(t, d.Acted)

	x = shExec(t, `printf 'a\n\nb\r\n'`)
	out, err := x.Handler()(context.Background(), &events.Event{})
	require.NoError(t, err)
	assert.Equal(t, "a\n\nb", out, "only one final line end is removed")
}

func TestExecNonZeroIgnored(t *testing.T) {
	logger, logs := testLogger()
	x := shExec(t, `echo veto; echo oops >&2; exit 1`)
	b := events.Bus{Logger: logger}
	b.Subscribe(nil, x.Handler())
	d := b.Raise(context.Background(), &events.Event{Name: events.TCPConnect})
	assert.False(t, d.Acted, "output of a failed command is ignored")
	require.Len(t, d.Errors, 1)
	assert.Contains(t, d.Errors[0].Error(), "exit status 1: oops")
	assert.Contains(t, logs.String(), "failed to expand event_action tcp:connect in transport")
}

func TestExecTimeout(t *testing.T) {
	x := shExec(t, `sleep 30; echo late`)
	x.Timeout = 100 * time.Millisecond
	start := time.Now()
	out, err := x.Handler()(context.Background(), &events.Event{Name: events.TCPConnect})
	assert.Less(t, time.Since(start), 10*time.Second, "killed, not waited for")
	assert.Equal(t, "", out)
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	// The bus's own timeout bounds it too.
	x.Timeout = time.Minute
	b := events.Bus{Timeout: 100 * time.Millisecond, Logger: discardLogger()}
	b.Subscribe(nil, x.Handler())
	start = time.Now()
	d := b.Raise(context.Background(), &events.Event{Name: events.TCPConnect})
	assert.Less(t, time.Since(start), 10*time.Second)
	assert.False(t, d.Acted)
	require.Len(t, d.Errors, 1)
}

func TestExecHugeOutput(t *testing.T) {
	x := shExec(t, `i=0; while [ $i -lt 3000 ]; do printf '%0100d\n' 0; i=$((i+1)); done`)
	x.MaxOutput = 1000
	out, err := x.Handler()(context.Background(), &events.Event{})
	require.NoError(t, err, "300 kB of output does not block the command")
	assert.Len(t, out, 1000)

	x.MaxOutput = 0 // default 64 KiB
	out, err = x.Handler()(context.Background(), &events.Event{})
	require.NoError(t, err)
	assert.Len(t, out, 64<<10)
	assert.True(t, strings.HasPrefix(out, "000"))
}

func TestExecMissingCommand(t *testing.T) {
	x := &events.Exec{Path: "/nonexistent/event-script"}
	_, err := x.Handler()(context.Background(), &events.Event{})
	var xe *events.ExecError
	require.True(t, errors.As(err, &xe))
	assert.Equal(t, "/nonexistent/event-script", xe.Path)
}
