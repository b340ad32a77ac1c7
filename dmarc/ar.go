package dmarc

import (
	"os"
	"strings"

	"github.com/emersion/go-msgauth/authres"
)

// authResults builds the Authentication-Results header with the spf,
// dkim (one per signature) and dmarc results, in Exim's method order.
// Every value comes through clean(), so nothing from the message can
// put a control character into the header.
func authResults(c *config, in *Input, o *Outcome) string {
	id := c.authservID
	if id == "" {
		id, _ = os.Hostname()
	}
	var results []authres.Result
	spfRes := &authres.SPFResult{Value: authres.ResultValue(in.SPF.String())}
	if in.MailFrom != "" {
		if i := strings.LastIndexByte(in.MailFrom, '@'); i >= 0 {
			spfRes.From = clean(in.MailFrom[i+1:])
		} else {
			spfRes.From = clean(in.MailFrom)
		}
	} else if in.HELO != "" {
		spfRes.Helo = clean(in.HELO)
	}
	results = append(results, spfRes)
	if len(in.DKIM) == 0 {
		results = append(results, &authres.DKIMResult{Value: authres.ResultNone})
	}
	for _, d := range in.DKIM {
		params := map[string]string{
			"header.d": clean(d.Domain),
			"header.s": clean(d.Selector),
			"header.a": clean(d.Algorithm),
			"header.i": clean(d.Identifier),
		}
		results = append(results, &authres.GenericResult{Method: "dkim", Value: dkimARWord(d), Params: params})
	}
	word := o.Status.ARWord()
	results = append(results, &authres.DMARCResult{Value: authres.ResultValue(word), From: clean(o.FromDomain)})
	// authres.Format leaves a space after a result without properties;
	// values cannot contain ";" (clean), so this only tidies that.
	v := strings.TrimRight(strings.ReplaceAll(authres.Format(clean(id), results), " ;", ";"), " ")
	return "Authentication-Results: " + v
}

// dkimARWord maps Exim's verify status to an RFC 8601 dkim result.
func dkimARWord(d DKIMResult) authres.ResultValue {
	switch d.Status {
	case "pass":
		return authres.ResultPass
	case "fail":
		return authres.ResultFail
	case "invalid":
		if d.Reason == "pubkey_unavailable" {
			return authres.ResultTempError
		}
		return authres.ResultPermError
	}
	return authres.ResultNone
}

// clean replaces control characters and the characters that would end
// a header value's token or comment, so remote text stays one value.
func clean(s string) string {
	if strings.IndexFunc(s, func(r rune) bool {
		return r < 0x20 || r == 0x7f || r == ';' || r == '(' || r == ')' || r == '"' || r == '\\'
	}) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == ';' || r == '(' || r == ')' || r == '"' || r == '\\' {
			return '?'
		}
		return r
	}, s)
}
