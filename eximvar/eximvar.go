package eximvar

// Variable is one Exim expansion variable: Name is its name without the
// leading "$" (for example "spf_result"), Value its value, "" when
// unset.
type Variable struct {
	Name  string
	Value string
}

// Lookup returns the value of the first variable in vars called name,
// compared exactly (Exim's names are lower case), and whether there was
// one.
func Lookup(vars []Variable, name string) (value string, ok bool) {
	for _, v := range vars {
		if v.Name == name {
			return v.Value, true
		}
	}
	return "", false
}
