package bmi

// FormatError reports an undecodable verdict, tracker string, verdict
// list or spool line.
type FormatError struct {
	What   string // "verdict", "tracker", "verdicts", "spool line", "rule list"
	Reason string
}

func (e *FormatError) Error() string { return "bmi: bad " + e.What + ": " + e.Reason }
