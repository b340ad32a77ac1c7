package bmi

import "strings"

// spoolName is the spool variable Exim writes to the -H file.
const spoolName = "bmi_verdicts "

// SpoolLine returns the -H spool file line that keeps vs until
// delivery, newline included, or "" for nil (Exim writes no line for an
// unscanned message). The value came from the message, so it is written
// in Exim's tainted form, with a doubled leading dash:
//
//	--bmi_verdicts <verdict>:<verdict>
func (vs Verdicts) SpoolLine() string {
	if len(vs) == 0 {
		return ""
	}
	return "--" + spoolName + vs.String() + "\n"
}

// IsSpoolLine reports whether line is a bmi_verdicts spool line, in the
// tainted ("--") or untainted ("-") form.
func IsSpoolLine(line string) bool {
	_, ok := spoolValue(line)
	return ok
}

func spoolValue(line string) (string, bool) {
	rest, ok := strings.CutPrefix(line, "--")
	if !ok {
		rest, ok = strings.CutPrefix(line, "-")
	}
	if !ok {
		return "", false
	}
	return strings.CutPrefix(rest, spoolName)
}

// ParseSpoolLine reads a line written by SpoolLine (or by Exim: one or
// two leading dashes, trailing newline optional) back into verdicts.
// Errors are *FormatError; Exim's answer to a damaged line is to treat
// the message as unscanned.
func ParseSpoolLine(line string) (Verdicts, error) {
	v, ok := spoolValue(line)
	if !ok {
		return nil, &FormatError{What: "spool line", Reason: "not a bmi_verdicts line"}
	}
	v = strings.TrimSuffix(v, "\n")
	if strings.ContainsAny(v, "\r\n") {
		return nil, &FormatError{What: "spool line", Reason: "line break inside the value"}
	}
	return ParseVerdicts(v)
}
