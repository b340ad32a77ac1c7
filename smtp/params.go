package smtp

import (
	"fmt"
	"strconv"
	"strings"
)

// A Param is one ESMTP parameter of a MAIL or RCPT command. Keyword is
// upper-cased; Value is "" for a parameter without "=".
type Param struct {
	Keyword  string
	Value    string
	HasValue bool
}

func (p Param) String() string {
	if p.HasValue {
		return p.Keyword + "=" + p.Value
	}
	return p.Keyword
}

// Body is the value of MAIL's BODY parameter.
type Body string

// BODY values.
const (
	Body7Bit       Body = "7BIT"
	Body8BitMIME   Body = "8BITMIME"   // RFC 6152
	BodyBinaryMIME Body = "BINARYMIME" // RFC 3030, with CHUNKING only
)

// Ret is the value of MAIL's RET parameter (RFC 3461 §4.3).
type Ret string

// RET values.
const (
	RetFull    Ret = "FULL" // return the whole message in a failure DSN
	RetHeaders Ret = "HDRS" // return its header only
)

// Notify is the value of RCPT's NOTIFY parameter (RFC 3461 §4.1), a set
// of conditions; the zero value means the parameter was not given.
type Notify uint8

// NOTIFY conditions. NotifyNever excludes the others.
const (
	NotifyNever Notify = 1 << iota
	NotifySuccess
	NotifyFailure
	NotifyDelay
)

var notifyNames = [...]string{"NEVER", "SUCCESS", "FAILURE", "DELAY"}

// String returns the parameter value: "NEVER" or conditions joined by
// commas ("SUCCESS,FAILURE"); "" for none.
func (n Notify) String() string {
	var b strings.Builder
	for i, name := range notifyNames {
		if n&(1<<i) != 0 {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(name)
		}
	}
	return b.String()
}

// MailParams are the ESMTP parameters of MAIL FROM:<...>.
type MailParams struct {
	Size     int64  // SIZE= (RFC 1870); 0 when not given
	Body     Body   // BODY= (RFC 6152, RFC 3030); "" when not given
	PRDR     bool   // PRDR (draft-hall-prdr-00)
	SMTPUTF8 bool   // SMTPUTF8 (RFC 6531)
	Ret      Ret    // RET= (RFC 3461); "" when not given
	EnvID    string // ENVID= (RFC 3461), decoded from xtext
	// Auth is AUTH= (RFC 4954 §5), decoded from xtext: the mailbox that
	// submitted the message, or "<>" for unknown; "" when not given.
	Auth string
	// Others are the parameters not listed above, in order.
	Others []Param
}

// RcptParams are the ESMTP parameters of RCPT TO:<...>.
type RcptParams struct {
	Notify Notify            // NOTIFY= (RFC 3461 §4.1)
	ORCPT  OriginalRecipient // ORCPT= (RFC 3461 §4.2)
	Others []Param           // the other parameters, in order
}

// OriginalRecipient is the value of the ORCPT parameter; the zero
// value means it was not given.
type OriginalRecipient struct {
	Type string // address type, "rfc822" or "utf-8" (RFC 6533)
	Addr string // the address, decoded from xtext
}

// A ParamError reports a MAIL or RCPT parameter list that cannot be
// used: a server answers it with 501 (555 is for a parameter it does
// not implement, which is left to the caller: see Others).
type ParamError struct {
	Param  string // the offending parameter as given
	Reason string
}

func (e *ParamError) Error() string {
	return fmt.Sprintf("smtp: parameter %s: %s", quote(e.Param), e.Reason)
}

// Limits of RFC 3461 on parameter values, in octets of xtext.
const (
	maxEnvID = 100
	maxORCPT = 500
)

// ParseMailParams parses the ESMTP parameters that follow the reverse
// path of a MAIL command, separated by spaces or tabs. Keywords are
// matched without regard to case, and so are the words of BODY and
// RET. Every parameter must be an RFC 5321 esmtp-keyword with an
// optional non-empty esmtp-value (UTF-8 allowed, RFC 6531), and may
// appear once. The known ones must have valid values: SIZE digits,
// BODY 7BIT, 8BITMIME or BINARYMIME, RET FULL or HDRS, ENVID xtext of
// at most 100 octets, AUTH xtext or "<>"; PRDR and SMTPUTF8 take none.
//
// A server that does not offer an extension should treat its parameter
// as unknown (555) or ignore it, as Exim does with PRDR when
// prdr_enable is false.
func ParseMailParams(s string) (MailParams, error) {
	var mp MailParams
	var seen uint8
	once := func(f string, bit uint8) error {
		if seen&bit != 0 {
			return &ParamError{Param: f, Reason: "given twice"}
		}
		seen |= bit
		return nil
	}
	err := eachParam(s, &mp.Others, func(f string, p Param) (bool, error) {
		switch p.Keyword {
		case "SIZE":
			if err := once(f, 1); err != nil {
				return true, err
			}
			n, err := parseSize(p.Value)
			if err != nil {
				return true, &ParamError{Param: f, Reason: err.Error()}
			}
			mp.Size = n
		case "BODY":
			if err := once(f, 2); err != nil {
				return true, err
			}
			switch b := Body(strings.ToUpper(p.Value)); b {
			case Body7Bit, Body8BitMIME, BodyBinaryMIME:
				mp.Body = b
			default:
				return true, &ParamError{Param: f, Reason: "BODY must be 7BIT, 8BITMIME or BINARYMIME"}
			}
		case "PRDR", "SMTPUTF8":
			bit := uint8(4)
			if p.Keyword == "SMTPUTF8" {
				bit = 8
			}
			if err := once(f, bit); err != nil {
				return true, err
			}
			if p.HasValue {
				return true, &ParamError{Param: f, Reason: p.Keyword + " takes no value"}
			}
			if bit == 4 {
				mp.PRDR = true
			} else {
				mp.SMTPUTF8 = true
			}
		case "RET":
			if err := once(f, 16); err != nil {
				return true, err
			}
			switch r := Ret(strings.ToUpper(p.Value)); r {
			case RetFull, RetHeaders:
				mp.Ret = r
			default:
				return true, &ParamError{Param: f, Reason: "RET must be FULL or HDRS"}
			}
		case "ENVID":
			if err := once(f, 32); err != nil {
				return true, err
			}
			if len(p.Value) > maxEnvID {
				return true, &ParamError{Param: f, Reason: "ENVID longer than 100 octets"}
			}
			v, err := DecodeXtext(p.Value)
			if err != nil || !p.HasValue {
				return true, &ParamError{Param: f, Reason: "ENVID is not xtext"}
			}
			mp.EnvID = v
		case "AUTH":
			if err := once(f, 64); err != nil {
				return true, err
			}
			if p.Value == "<>" {
				mp.Auth = "<>"
				break
			}
			v, err := DecodeXtext(p.Value)
			if err != nil || v == "" {
				return true, &ParamError{Param: f, Reason: "AUTH is not xtext or <>"}
			}
			mp.Auth = v
		default:
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return MailParams{}, err
	}
	return mp, nil
}

// ParseRcptParams parses the ESMTP parameters that follow the forward
// path of a RCPT command, under the rules of ParseMailParams. NOTIFY
// must be NEVER or a comma-separated list of SUCCESS, FAILURE and
// DELAY; ORCPT must be "addr-type;xtext" of at most 500 octets.
func ParseRcptParams(s string) (RcptParams, error) {
	var rp RcptParams
	err := eachParam(s, &rp.Others, func(f string, p Param) (bool, error) {
		switch p.Keyword {
		case "NOTIFY":
			if rp.Notify != 0 {
				return true, &ParamError{Param: f, Reason: "given twice"}
			}
			n, err := parseNotify(p.Value)
			if err != nil {
				return true, &ParamError{Param: f, Reason: err.Error()}
			}
			rp.Notify = n
		case "ORCPT":
			if rp.ORCPT.Type != "" {
				return true, &ParamError{Param: f, Reason: "given twice"}
			}
			typ, addr, ok := strings.Cut(p.Value, ";")
			if !ok || !validAtom(typ) || len(p.Value) > maxORCPT {
				return true, &ParamError{Param: f, Reason: "ORCPT must be addr-type;address"}
			}
			a, err := DecodeXtext(addr)
			if err != nil || a == "" {
				return true, &ParamError{Param: f, Reason: "ORCPT address is not xtext"}
			}
			rp.ORCPT = OriginalRecipient{Type: typ, Addr: a}
		default:
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return RcptParams{}, err
	}
	return rp, nil
}

// eachParam splits s into parameters, checks their syntax and calls
// known for each; a parameter known does not take is appended to
// others, after a check that it is not given twice.
func eachParam(s string, others *[]Param, known func(f string, p Param) (bool, error)) error {
	for s != "" {
		i := strings.IndexAny(s, " \t")
		f := s
		if i >= 0 {
			f, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		if f == "" {
			continue
		}
		kw, val, hasVal := strings.Cut(f, "=")
		if !validKeyword(kw) {
			return &ParamError{Param: f, Reason: "invalid keyword"}
		}
		if hasVal && !validValue(val) {
			return &ParamError{Param: f, Reason: "invalid value"}
		}
		p := Param{Keyword: strings.ToUpper(kw), Value: val, HasValue: hasVal}
		done, err := known(f, p)
		if err != nil {
			return err
		}
		if done {
			continue
		}
		for _, o := range *others {
			if o.Keyword == p.Keyword {
				return &ParamError{Param: f, Reason: "given twice"}
			}
		}
		*others = append(*others, p)
	}
	return nil
}

// validValue: esmtp-value = 1*(%d33-60 / %d62-126), or UTF-8 beyond
// ASCII (RFC 6531).
func validValue(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 33 || c == '=' || c == 127 {
			return false
		}
	}
	return textOK(s, syntax{utf8: true})
}

// validAtom: an addr-type (RFC 3461 §4.2) is an atom.
func validAtom(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAtext(s[i]) {
			return false
		}
	}
	return true
}

func parseSize(v string) (int64, error) {
	if v == "" || len(v) > 20 {
		return 0, fmt.Errorf("SIZE must be 1 to 20 digits")
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, fmt.Errorf("SIZE must be 1 to 20 digits")
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("SIZE too large")
	}
	return n, nil
}

func parseNotify(v string) (Notify, error) {
	if strings.EqualFold(v, "NEVER") {
		return NotifyNever, nil
	}
	var n Notify
	for w := range strings.SplitSeq(v, ",") {
		var bit Notify
		switch strings.ToUpper(w) {
		case "SUCCESS":
			bit = NotifySuccess
		case "FAILURE":
			bit = NotifyFailure
		case "DELAY":
			bit = NotifyDelay
		default:
			return 0, fmt.Errorf("NOTIFY must be NEVER or a list of SUCCESS, FAILURE, DELAY")
		}
		if n&bit != 0 {
			return 0, fmt.Errorf("NOTIFY lists %s twice", strings.ToUpper(w))
		}
		n |= bit
	}
	return n, nil
}

// String returns the parameters as sent after the path, separated by
// spaces, without a leading space: "SIZE=1234 BODY=8BITMIME PRDR".
// ENVID and AUTH are xtext-encoded.
func (p MailParams) String() string {
	var b []string
	if p.Size > 0 {
		b = append(b, "SIZE="+strconv.FormatInt(p.Size, 10))
	}
	if p.Body != "" {
		b = append(b, "BODY="+string(p.Body))
	}
	if p.SMTPUTF8 {
		b = append(b, "SMTPUTF8")
	}
	if p.PRDR {
		b = append(b, "PRDR")
	}
	if p.Ret != "" {
		b = append(b, "RET="+string(p.Ret))
	}
	if p.EnvID != "" {
		b = append(b, "ENVID="+EncodeXtext(p.EnvID))
	}
	switch p.Auth {
	case "":
	case "<>":
		b = append(b, "AUTH=<>")
	default:
		b = append(b, "AUTH="+EncodeXtext(p.Auth))
	}
	for _, o := range p.Others {
		b = append(b, o.String())
	}
	return strings.Join(b, " ")
}

// String returns the parameters as sent after the path (see
// MailParams.String). ORCPT's address is xtext-encoded.
func (p RcptParams) String() string {
	var b []string
	if p.Notify != 0 {
		b = append(b, "NOTIFY="+p.Notify.String())
	}
	if p.ORCPT.Type != "" {
		b = append(b, "ORCPT="+p.ORCPT.Type+";"+EncodeXtext(p.ORCPT.Addr))
	}
	for _, o := range p.Others {
		b = append(b, o.String())
	}
	return strings.Join(b, " ")
}

// check reports a parameter list that cannot be sent as it is.
func (p *MailParams) check() error {
	switch p.Body {
	case "", Body7Bit, Body8BitMIME, BodyBinaryMIME:
	default:
		return &ParamError{Param: "BODY=" + string(p.Body), Reason: "BODY must be 7BIT, 8BITMIME or BINARYMIME"}
	}
	switch p.Ret {
	case "", RetFull, RetHeaders:
	default:
		return &ParamError{Param: "RET=" + string(p.Ret), Reason: "RET must be FULL or HDRS"}
	}
	if p.Size < 0 {
		return &ParamError{Param: "SIZE", Reason: "negative"}
	}
	return checkOthers(p.Others)
}

func (p *RcptParams) check() error {
	if p.Notify&NotifyNever != 0 && p.Notify != NotifyNever || p.Notify >= 1<<len(notifyNames) {
		return &ParamError{Param: "NOTIFY=" + p.Notify.String(), Reason: "NEVER excludes the other conditions"}
	}
	if p.ORCPT.Type != "" && !validAtom(p.ORCPT.Type) || p.ORCPT.Type == "" && p.ORCPT.Addr != "" {
		return &ParamError{Param: "ORCPT=" + p.ORCPT.Type, Reason: "invalid address type"}
	}
	return checkOthers(p.Others)
}

func checkOthers(ps []Param) error {
	for _, o := range ps {
		if !validKeyword(o.Keyword) || o.HasValue && !validValue(o.Value) || !o.HasValue && o.Value != "" {
			return &ParamError{Param: o.String(), Reason: "invalid parameter"}
		}
	}
	return nil
}
