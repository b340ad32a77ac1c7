package bmi

import (
	"strings"
)

// Verdicts is a message's verdict list: Exim's bmi_verdicts, written to
// the spool and read back for delivery. Nil means the message was not
// scanned, which Exim's rules treat as "deliver to the default
// destination" for every recipient.
type Verdicts []Verdict

// String returns the verdicts as Exim keeps them: each verdict's Base64
// form, joined with ':'. Nil gives "".
func (vs Verdicts) String() string {
	var b strings.Builder
	for i := range vs {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(vs[i].Base64())
	}
	return b.String()
}

// ParseVerdicts reads String's output. Unlike Exim, which decodes each
// verdict when an address asks for it and stops at the first one it
// cannot decode, a single bad verdict makes the whole list an error: a
// damaged list is not half trusted. The caller then delivers as for an
// unscanned message (nil Verdicts), which is where Exim also ends up.
func ParseVerdicts(s string) (Verdicts, error) {
	if s == "" {
		return nil, nil
	}
	if len(s) > MaxEncoded*16 {
		return nil, &FormatError{What: "verdicts", Reason: "too long"}
	}
	vs := make(Verdicts, 0, strings.Count(s, ":")+1)
	for part := range strings.SplitSeq(s, ":") {
		v, err := ParseVerdict(part)
		if err != nil {
			return nil, err
		}
		vs = append(vs, *v)
	}
	return vs, nil
}

// Errors returns the Err texts of the verdicts that carry one, so a
// caller can log scanner failures (Exim writes them to the panic log).
func (vs Verdicts) Errors() []string {
	var errs []string
	for i := range vs {
		if vs[i].Err != "" {
			errs = append(errs, vs[i].Err)
		}
	}
	return errs
}
