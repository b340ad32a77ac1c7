package reports

import "time"

// Clock is the Scheduler's time: tests drive the schedule with one of
// their own instead of waiting for midnight.
type Clock interface {
	Now() time.Time
	// After is time.After: the channel gets a value once d has passed.
	After(d time.Duration) <-chan time.Time
}

type wallClock struct{}

func (wallClock) Now() time.Time                         { return time.Now() }
func (wallClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// intervalStart is the start of the interval of length iv holding t.
// Truncate counts from the zero Time, a UTC midnight, so with iv
// dividing a day the intervals tile UTC days.
func intervalStart(t time.Time, iv time.Duration) time.Time {
	return t.UTC().Truncate(iv)
}
