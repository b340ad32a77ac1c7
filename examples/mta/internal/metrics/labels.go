package metrics

import "sync"

// maxLabelLen bounds one label value: a value comes in part from what a
// remote client sent (an AUTH mechanism, a listener name from config), and
// a long one costs memory in every scrape and in the TSDB.
const maxLabelLen = 32

// Values every label may take whatever its allow-list or cap says, so that
// a caller can always record something.
const (
	labelOther = "other" // refused by the allow-list or past the cap
	labelNone  = "none"  // the caller passed ""
)

// sanitize lower-cases s and keeps only [a-z0-9_.-], replacing each other
// rune by '_' and cutting it to maxLabelLen bytes, so that no label value
// can carry a quote, a newline or a control character into an exposition.
// It never returns "".
func sanitize(s string) string {
	if s == "" {
		return labelNone
	}
	if clean(s) {
		return s // the common case: the caller passed a constant
	}
	b := make([]byte, 0, min(len(s), maxLabelLen))
	for _, r := range s {
		if len(b) == maxLabelLen {
			break
		}
		switch {
		case r >= 'A' && r <= 'Z':
			b = append(b, byte(r-'A'+'a'))
		case r < 0x80 && allowedByte(byte(r)):
			b = append(b, byte(r))
		default:
			b = append(b, '_')
		}
	}
	return string(b)
}

func clean(s string) bool {
	if len(s) > maxLabelLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !allowedByte(s[i]) {
			return false
		}
	}
	return true
}

func allowedByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

// label maps what a caller passes for one label to the value recorded.
// With an allow-list only those values (after sanitize) pass; without one
// the first max distinct values pass. Everything else becomes "other", so
// the series of a metric stay bounded by the product of its labels' sizes
// however hostile the input. A value once admitted stays admitted, so a
// gauge moved up and down by the same caller value always moves one series.
type label struct {
	max int

	mu   sync.RWMutex
	seen map[string]struct{}
}

func allowList(values ...string) *label {
	l := &label{seen: make(map[string]struct{}, len(values))}
	for _, v := range values {
		l.seen[sanitize(v)] = struct{}{}
	}
	l.max = len(l.seen) // full from the start: nothing else is admitted
	return l
}

func capped(max int) *label {
	return &label{max: max, seen: make(map[string]struct{}, max)}
}

func (l *label) value(raw string) string {
	v := sanitize(raw)
	if v == labelOther || v == labelNone {
		return v
	}
	l.mu.RLock()
	_, ok := l.seen[v]
	l.mu.RUnlock()
	if ok {
		return v
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.seen[v]; ok {
		return v
	}
	if len(l.seen) >= l.max {
		return labelOther
	}
	l.seen[v] = struct{}{}
	return v
}
