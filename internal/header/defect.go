package header

import "strconv"

// Kind is a way a header section departs from RFC 5322 that leaves
// field boundaries or names open to more than one reading. Obsolete
// syntax a receiver must accept (white space before the colon,
// control characters in unstructured values, 8-bit text) is no defect.
type Kind uint8

const (
	NoColon             Kind = iota + 1 // a line that is neither a field nor a continuation
	EmptyName                           // ": value"
	BadName                             // a name byte outside printable ASCII, or a space inside it
	LeadingContinuation                 // the section starts with white space
	NUL                                 // a NUL byte
	BareCR                              // a CR not followed by LF
)

func (k Kind) String() string {
	switch k {
	case NoColon:
		return "line without a colon"
	case EmptyName:
		return "empty field name"
	case BadName:
		return "invalid character in field name"
	case LeadingContinuation:
		return "continuation line before the first field"
	case NUL:
		return "NUL byte"
	case BareCR:
		return "bare CR"
	}
	return "defect " + strconv.Itoa(int(k))
}

// Defect is one defect and the line (1-based, in the section) it is on.
type Defect struct {
	Kind Kind
	Line int
}

func (d Defect) String() string { return "line " + strconv.Itoa(d.Line) + ": " + d.Kind.String() }
