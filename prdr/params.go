package prdr

// Keyword is the EHLO keyword and MAIL parameter of the extension. A
// client finds it with smtp.Extensions.Has; a server gets the MAIL
// parameter from smtp.ParseMailParams (MailParams.PRDR), which refuses
// it with a value or given twice (draft-hall-prdr-00 §4(e)).
const Keyword = "PRDR"

// MailSuffix returns " PRDR" when the parameter is to be added to the
// MAIL command: the server offered PRDR and the transaction has at
// least two recipients (Exim sends it only then). Otherwise it is "".
func MailSuffix(offered bool, recipients int) string {
	if offered && recipients >= 2 {
		return " " + Keyword
	}
	return ""
}
