package events

import (
	"context"
	"log/slog"
)

// zeroUnset are the integer variables a log leaves out when 0.
var zeroUnset = map[string]bool{"event_defer_errno": true, "host_port": true, "sending_port": true}

// SlogSink returns a Handler that logs every event to logger (nil:
// slog.Default()) at level, with the message "event <name>" and one
// string attribute per Variable, leaving out empty values and the
// ports and event_defer_errno when 0 (event_name is always there). It
// returns "" and never fails.
func SlogSink(logger *slog.Logger, level slog.Level) Handler {
	return func(ctx context.Context, ev *Event) (string, error) {
		l := logger
		if l == nil {
			l = slog.Default()
		}
		if !l.Enabled(ctx, level) {
			return "", nil
		}
		vars := ev.Variables()
		attrs := make([]slog.Attr, 0, len(vars))
		for _, v := range vars {
			if (v.Value == "" && v.Name != "event_name") || (v.Value == "0" && zeroUnset[v.Name]) {
				continue
			}
			attrs = append(attrs, slog.String(v.Name, v.Value))
		}
		l.LogAttrs(ctx, level, "event "+Sanitize(string(ev.Name)), attrs...)
		return "", nil
	}
}
