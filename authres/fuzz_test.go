package authres

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/dkim"
)

// FuzzRemoveOwn: what RemoveOwn leaves claims nothing, a second pass
// removes nothing, the body is untouched and only whole fields go.
func FuzzRemoveOwn(f *testing.F) {
	f.Add([]byte("Authentication-Results: mx.example; dkim=pass\r\nSubject: x\r\n\r\nbody"), "mx.example")
	f.Add([]byte("Authentication-Results: (c) \"MX.example\" 1; none\n\tx\nA: b\n"), "mx.example")
	f.Add([]byte("authentication-results : mx.example.\r\n\r\nAuthentication-Results: mx.example"), "mx.example")
	f.Add([]byte("Authentication-Results: mx.exampleX; a=b\r\n"), "mx.example")
	f.Fuzz(func(t *testing.T, header []byte, id string) {
		out, n := RemoveOwn(header, id)
		if n == 0 && !bytes.Equal(out, header) {
			t.Fatal("changed without removing")
		}
		if len(out) > len(header) {
			t.Fatal("grew")
		}
		again, m := RemoveOwn(out, id)
		if m != 0 || !bytes.Equal(again, out) {
			t.Fatalf("second pass removed %d from %q", m, out)
		}
		// The body (from the first empty line) is kept.
		if i := bodyStart(header); i >= 0 && !bytes.HasSuffix(out, header[i:]) {
			t.Fatalf("body changed: %q -> %q", header, out)
		}
	})
}

func bodyStart(h []byte) int {
	for i := 0; i < len(h); {
		if h[i] == '\n' || h[i] == '\r' && i+1 < len(h) && h[i+1] == '\n' {
			return i
		}
		nl := bytes.IndexByte(h[i:], '\n')
		if nl < 0 {
			return -1
		}
		i += nl + 1
	}
	return -1
}

// FuzzHeader: whatever the values, the field keeps its promises and
// RemoveOwn finds it by its id.
func FuzzHeader(f *testing.F) {
	f.Add("mx.example", "a.example", "sel", "u@a.example", "mail.example", "reason", "comment")
	f.Add("mx", "a\r\nX: y", "s;dkim=pass", "(", ")", "\"", "\\")
	f.Add("mx", strings.Repeat("a", 2000), "\xff", "\x00", "é", "", strings.Repeat("( ", 300))
	f.Fuzz(func(t *testing.T, id, d, s, i, ptr, reason, comment string) {
		h := Build(id,
			IPrev("pass", ptr, netip.MustParseAddr("192.0.2.1")),
			Auth(comment, i),
			Method{Name: "x-" + s, Result: reason, Comment: comment, Reason: reason, Props: []Prop{{d, s, i}}},
		)
		h.Methods = append(h.Methods, FromDKIM([]dkim.Result{{Domain: d, Selector: s, Identifier: i, Algorithm: reason, Status: dkim.StatusFail}})...)
		n := len(h.Methods)
		str := h.String()
		checkField(t, str, n)
		if strings.TrimSpace(id) != "" && plainValue(id, false) {
			if _, k := RemoveOwn([]byte(h.Field()), id); k != 1 {
				t.Fatalf("own field not removed: %q", str)
			}
		}
	})
}
