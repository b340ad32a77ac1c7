package apicheck

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// loadModule lists this module once for all the tests.
var loadModule = sync.OnceValues(func() (*Module, error) {
	root, err := ModuleRoot(".")
	if err != nil {
		return nil, err
	}
	return Load(root)
})

func thisModule(t *testing.T) *Module {
	t.Helper()
	m, err := loadModule()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestPublicAPI: no exported identifier of a public package mentions a
// type from an internal package, which another module could not name.
func TestPublicAPI(t *testing.T) {
	start := time.Now()
	m := thisModule(t)
	vs, errs := CheckAPI(m)
	for _, err := range errs {
		t.Errorf("cannot check completely: %v", err)
	}
	if len(vs) > 0 {
		t.Errorf("%d exported identifiers of public packages mention internal types, which another module cannot name:\n%s",
			len(vs), String(vs))
	}
	n := 0
	for _, p := range m.Packages() {
		if m.IsPublic(p) {
			n++
		}
	}
	t.Logf("checked %d public packages in %v", n, time.Since(start).Round(time.Millisecond))
}

// TestExampleImports: no Example function's file and no program under
// examples/ imports an internal package of the module, so all of them
// build as written in another module.
func TestExampleImports(t *testing.T) {
	m := thisModule(t)
	files, err := ExternalFiles(m.Root)
	if err != nil {
		t.Fatal(err)
	}
	if bad := ImportViolations(files, m.Path); len(bad) > 0 {
		t.Errorf("%d imports of internal packages in files that must build in another module:\n%s",
			len(bad), strings.Join(bad, "\n"))
	}
	t.Logf("scanned %d files", len(files))
}

// TestExamplesBuildExternally type-checks the same files in a temporary
// module that requires this one, offline.
func TestExamplesBuildExternally(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a temporary module; skipped under -short")
	}
	m := thisModule(t)
	files, err := ExternalFiles(m.Root)
	if err != nil {
		t.Fatal(err)
	}
	out, err := BuildExternally(m.Root, m.Path, t.TempDir(), files)
	if errors.Is(err, ErrOffline) {
		t.Skipf("%v\n%s", err, out)
	}
	if err != nil {
		t.Errorf("%v\n%s", err, out)
	}
}

// synthetic is a module whose public package bad leaks internal types in
// every way the checker looks for, and whose package good only uses them
// where another module does not see them.
var synthetic = map[string]string{
	"go.mod": "module example.com/synth\n\ngo 1.22\n",
	"internal/secret/secret.go": `package secret

type T struct{ N int }
type Kind int
type Alias = string
type I interface{ M() }
`,
	"bad/bad.go": `package bad

import "example.com/synth/internal/secret"

func Get() secret.T { return secret.T{} }

type Alias = secret.T

type S struct {
	F  []secret.T
	ok int
	secret.I
}

type client struct{ inner }
type inner struct{ Field *secret.Kind }

func (client) Do(map[string]*secret.T) {}

func New() *client { return nil }

type Pub struct{}

func (*Pub) M(ch chan<- secret.Kind) {}

var V = secret.Kind(1)

const C = secret.Kind(2)

type G[X interface{ ~string | secret.Kind }] struct{}

type IF interface{ Method() func() [2]secret.T }

func Generic[X any](x X) {}

var Inst = Generic[secret.T]

var Anon struct{ A secret.Kind }
`,
	"good/good.go": `package good

import (
	"errors"

	"example.com/synth/internal/secret"
)

var ErrX = errors.New("x")

var Str secret.Alias

type S struct {
	A int
	b secret.T
}

type t struct{ x secret.T }

func (t) unexported(secret.T) {}
func (t) Exported() int      { return 0 }

func New() t { return t{} }

func F(x int) string { var s secret.T; _ = s; return "" }

type I interface {
	M() error
	private(secret.T)
}

type Self struct{ Next *Self }

func (s *Self) Walk(f func(*Self) bool) {}

var N = secret.T{}.N
`,
	"good/example_test.go": `package good_test

import (
	"fmt"

	"example.com/synth/good"
)

func ExampleF() { fmt.Println(good.F(1)) }
`,
	"good/other_test.go": `package good_test

import (
	"testing"

	"example.com/synth/internal/secret"
)

func TestOther(t *testing.T) { _ = secret.T{} }
`,
	"bad/example_test.go": `package bad_test

import (
	"fmt"

	"example.com/synth/internal/secret"
)

func Example() { fmt.Println(secret.T{}) }

func Examplefoo() {} // not an example: lower case after Example
`,
	"examples/prog/main.go": `package main

import (
	"fmt"

	"example.com/synth/internal/secret"
)

func main() { fmt.Println(secret.T{}) }
`,
	"examples/clean/main.go": `package main

import (
	"fmt"

	"example.com/synth/examples/clean/internal/helper"
	"example.com/synth/good"
)

func main() { fmt.Println(good.F(1), helper.Data) }
`,
	// An example's own internal package: allowed, copied along, with the
	// file it embeds.
	"examples/clean/internal/helper/h.go": `package helper

import _ "embed"

//go:embed data.txt
var Data string
`,
	"examples/clean/internal/helper/data.txt": "data\n",
	// Inside an example's internal/, the library's internal is still off limits.
	"examples/clean/internal/leak/l.go": `package leak

import "example.com/synth/internal/secret"

var _ = secret.T{}
`,
}

func writeModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestCheckerSynthetic checks the checker: it must flag every leak in
// package bad and nothing in package good.
func TestCheckerSynthetic(t *testing.T) {
	dir := writeModule(t, synthetic)
	m, err := Load(dir, "GOWORK=off", "GOTOOLCHAIN=local")
	if err != nil {
		t.Fatal(err)
	}
	if m.Path != "example.com/synth" {
		t.Fatalf("module path %q", m.Path)
	}

	t.Run("API", func(t *testing.T) {
		vs, errs := CheckAPI(m)
		for _, err := range errs {
			t.Errorf("type error: %v", err)
		}
		var got []string
		for _, v := range vs {
			got = append(got, v.String())
		}
		want := []string{
			"bad.Alias: mentions internal/secret.T",
			"bad.Anon.A: mentions internal/secret.Kind",
			"bad.C: mentions internal/secret.Kind",
			"bad.G: mentions internal/secret.Kind",
			"bad.Get: mentions internal/secret.T",
			"bad.IF.Method: mentions internal/secret.T",
			"bad.Inst: mentions internal/secret.T",
			"bad.New: mentions internal/secret.Kind (via client.inner, inner.Field)",
			"bad.New: mentions internal/secret.T (via client.Do)",
			"bad.Pub.M: mentions internal/secret.Kind",
			"bad.S.F: mentions internal/secret.T",
			"bad.S.I: mentions internal/secret.I",
			"bad.V: mentions internal/secret.Kind",
		}
		if !slices.Equal(got, want) {
			t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})

	t.Run("imports", func(t *testing.T) {
		files, err := ExternalFiles(dir)
		if err != nil {
			t.Fatal(err)
		}
		got := ImportViolations(files, m.Path)
		want := []string{
			"bad/example_test.go (Example): imports internal/secret",
			"examples/clean/internal/leak/l.go: imports internal/secret",
			"examples/prog/main.go: imports internal/secret",
		}
		if !slices.Equal(got, want) {
			t.Errorf("import violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})

	t.Run("external", func(t *testing.T) {
		if testing.Short() {
			t.Skip("builds a temporary module; skipped under -short")
		}
		files, err := ExternalFiles(dir)
		if err != nil {
			t.Fatal(err)
		}
		var clean, leaky []SourceFile
		for _, f := range files {
			if f.Rel == "examples/prog/main.go" || f.Rel == "bad/example_test.go" || f.Rel == "examples/clean/internal/leak/l.go" {
				leaky = append(leaky, f)
			} else {
				clean = append(clean, f)
			}
		}
		if len(clean) != 3 || len(leaky) != 3 {
			t.Fatalf("files: %+v", files)
		}
		if out, err := BuildExternally(dir, m.Path, t.TempDir(), clean); err != nil {
			t.Errorf("clean files: %v\n%s", err, out)
		}
		out, err := BuildExternally(dir, m.Path, t.TempDir(), leaky)
		if err == nil || errors.Is(err, ErrOffline) {
			t.Errorf("leaky files: err = %v, want a build failure\n%s", err, out)
		} else if !strings.Contains(string(out), "internal package") {
			t.Errorf("leaky files: output does not mention the internal package:\n%s", out)
		}
	})
}
