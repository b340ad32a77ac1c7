package config

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// The key table in doc.go lists every key, with its flag and the
// default as default.toml writes it, so the reference an operator
// reads cannot drift from the code.
func TestDocTable(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{}
	for line := range strings.SplitSeq(string(doc), "\n") {
		f := strings.Fields(strings.TrimPrefix(line, "//\t"))
		if len(f) >= 4 && strings.HasPrefix(f[1], "-") && strings.HasPrefix(line, "//\t") {
			rows[f[0]] = f
		}
	}
	for k := range tomlFields(reflect.TypeFor[Settings]()) {
		if k == "dkim" {
			continue
		}
		row, ok := rows[k]
		if !ok {
			t.Errorf("doc.go's table has no %s", k)
			continue
		}
		if want := "-" + strings.ReplaceAll(k, "_", "-"); row[1] != want {
			t.Errorf("%s: flag %s, want %s", k, row[1], want)
		}
		m := regexp.MustCompile(`(?m)^` + k + ` = (.*)$`).FindStringSubmatch(DefaultTOML)
		if m == nil {
			t.Errorf("default.toml has no %s", k)
		} else if row[2] != m[1] {
			t.Errorf("%s: doc.go says the default is %s, default.toml %s", k, row[2], m[1])
		}
	}
}
