// Package bmi models Brightmail-style per-recipient spam verdicts, the
// MTA glue of Exim's BMI support (removed from Exim in 4.100), on top of
// a scanner one can run today.
//
// The flow follows Exim. During RCPT, the ACL may set an opt-in string
// (bmi_optin) for the recipient being added, and any ACL may ask for the
// message to be scanned (control = bmi_run); an Envelope collects both.
// After the DATA ACL a Scanner turns the message into Verdicts, one per
// group of recipients; each Verdict says whether to deliver to the
// default destination, to an alternate location, or not at all, and
// which rules fired. The verdicts are written to the spool
// (Verdicts.SpoolLine, Exim's "-bmi_verdicts" line) and read back for
// delivery (ParseSpoolLine). While routing, Verdicts.For gives each
// address an Eval: its variables and router preconditions, taken from
// the verdict of the address's top-level ancestor so that aliases and
// forwards inherit the verdict of the original recipient.
//
// Exim names and their Go counterparts:
//
//	control = bmi_run             Envelope.Run
//	bmi_optin = <list>            Envelope.SetOptIn (Recipient.OptIn)
//	bmi_verdicts, -bmi_verdicts   Verdicts.String, Verdicts.SpoolLine, ParseSpoolLine
//	$bmi_deliver                  Eval.Deliver ("1"/"0" in Eval.Variables)
//	$bmi_alt_location             Eval.AltLocation
//	$bmi_base64_verdict           Eval.Base64Verdict (Verdict.Base64)
//	$bmi_base64_tracker_verdict   Eval.Base64TrackerVerdict (Verdict.TrackerBase64)
//	bmi_rule = 5:8:11             Eval.RuleFired
//	bmi_dont_deliver              Eval.DontDeliver
//	bmi_deliver_alternate         Eval.DeliverAlternate
//	bmi_deliver_default           Eval.DeliverDefault
//
// Unscanned messages (nil Verdicts) and recipients without a verdict
// behave as "deliver default", as in Exim: $bmi_deliver is 1, the other
// variables are empty, DeliverDefault holds and no rule fires. So does
// a verdict whose Err is set (the scanner failed for those recipients)
// or one that cannot be decoded.
//
// The Brightmail SDK and its verdict format are proprietary; Verdict's
// Base64 form is this package's own, versioned, length-prefixed
// encoding, which round-trips exactly and never contains ':' or
// control characters. Spamd is a Scanner over SpamAssassin's spamd:
// recipients are grouped by profile (by default the first opt-in
// feature, sent as spamd's User), one request is made per profile, the
// score chooses the Destination and a symbol map turns SpamAssassin rule
// names into rule numbers.
//
// Differences from Exim, on purpose:
//   - A bmi_optin set for a RCPT that is then rejected does not attach
//     to the next accepted recipient (BeginRcpt, RejectRcpt).
//   - Opt-in lists are colon-separated (Exim's code; its documentation
//     says comma in one place).
//   - A verdict's recipients are matched against the whole address,
//     caselessly; Exim split them at the first '@', so local parts
//     containing '@' never matched.
//   - One undecodable verdict makes ParseVerdicts fail for the whole
//     list, and the message is then treated as unscanned; Exim stopped
//     at the bad verdict when an address looked it up.
//   - A verdict with an error is not delivered to its alternate location.
package bmi
