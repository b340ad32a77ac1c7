package dmarc

// Unquoted is arOutside for the external tests: s without its quoted
// strings.
func Unquoted(s string) string {
	out, _ := arOutside(s)
	return out
}
