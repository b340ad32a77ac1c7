package events

import (
	"errors"
	"fmt"
)

// A NameError reports a string that is not an event name.
type NameError struct {
	Name string
}

func (e *NameError) Error() string {
	return fmt.Sprintf("events: unknown event name %q", e.Name)
}

// ErrTimeout is the cause of a HandlerError for a handler that did not
// return within Bus.Timeout.
var ErrTimeout = errors.New("handler timed out")

// A HandlerError reports a handler that returned an error, panicked
// (Err is a *PanicError) or timed out (Err is ErrTimeout). As with
// Exim's expansion failures, the handler's result is ignored.
type HandlerError struct {
	Name  Name   // the event
	Hook  string // "main" or "transport" (Event.Hook)
	Index int    // the handler's position among the handlers called
	Err   error
}

// Error gives Exim's panic-log text:
// "failed to expand event_action <event> in <hook>: <msg>".
func (e *HandlerError) Error() string {
	return fmt.Sprintf("failed to expand event_action %s in %s: %v", e.Name, e.Hook, e.Err)
}

func (e *HandlerError) Unwrap() error { return e.Err }

// A PanicError is a panic recovered from a handler.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("handler panic: %v", e.Value)
}

// An ExecError reports a command of an Exec sink that could not be run,
// exited with a non-zero status or was killed.
type ExecError struct {
	Path   string
	Err    error  // from os/exec (an *exec.ExitError for a non-zero exit)
	Stderr string // the start of the command's standard error, sanitised
}

func (e *ExecError) Error() string {
	if e.Stderr != "" {
		return fmt.Sprintf("events: exec %s: %v: %s", e.Path, e.Err, e.Stderr)
	}
	return fmt.Sprintf("events: exec %s: %v", e.Path, e.Err)
}

func (e *ExecError) Unwrap() error { return e.Err }
