package eximvar

import "testing"

func TestLookup(t *testing.T) {
	vars := []Variable{{"a", "1"}, {"b", ""}, {"a", "2"}}
	for _, c := range []struct {
		name, want string
		ok         bool
	}{
		{"a", "1", true}, // the first wins
		{"b", "", true},  // set but empty
		{"c", "", false},
		{"A", "", false}, // exact names
	} {
		if got, ok := Lookup(vars, c.name); got != c.want || ok != c.ok {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", c.name, got, ok, c.want, c.ok)
		}
	}
	if _, ok := Lookup(nil, "a"); ok {
		t.Error("Lookup in nil found something")
	}
}
