package condlist

// spfWords are the condition words of Exim's "spf" ACL condition.
var spfWords = []string{
	"none", "neutral", "pass", "fail", "softfail", "temperror", "permerror", "invalid",
}

// spfCanon knows the spf condition words exactly (case-sensitively) plus
// the deprecated aliases err_perm and err_temp.
func spfCanon(word string) (string, bool) {
	switch word {
	case "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror", "invalid":
		return word, true
	case "err_perm":
		return "permerror", true
	case "err_temp":
		return "temperror", true
	}
	return "", false
}
