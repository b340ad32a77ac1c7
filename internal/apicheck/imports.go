package apicheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SourceFile is a Go file that must build in another module: a _test.go
// file with Example functions outside internal/, or a non-test file under
// examples/.
type SourceFile struct {
	Rel      string   // slash-separated path from the module root
	Package  string   // package clause
	Examples []string // Example function names (test files only)
	Imports  []string
}

// ExternalFiles walks the module rooted at root (not entering testdata,
// vendor, directories starting with "." or "_", internal/ directories or
// nested modules) and returns the files that must build in another module.
// Build constraints are ignored: a file built only under some tag must
// build elsewhere too.
func ExternalFiles(root string) ([]SourceFile, error) {
	var out []SourceFile
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "." {
				return nil
			}
			name := d.Name()
			// An example's own internal/ is part of it: whoever copies
			// the example copies those packages too, so they must
			// build elsewhere as well.
			if name == "internal" && !strings.HasPrefix(rel, "examples/") {
				return filepath.SkipDir
			}
			if name == "testdata" || name == "vendor" ||
				strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
				return filepath.SkipDir // another module
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_") {
			return nil
		}
		isTest := strings.HasSuffix(rel, "_test.go")
		underExamples := strings.HasPrefix(rel, "examples/")
		if !isTest && !underExamples {
			return nil
		}
		mode := parser.SkipObjectResolution
		if !isTest {
			mode |= parser.ImportsOnly
		}
		f, err := parser.ParseFile(fset, p, nil, mode)
		if err != nil {
			// Someone is editing it, or it is broken: go vet and go
			// test say so; here only report the file could not be read.
			return fmt.Errorf("parsing %s: %v", rel, err)
		}
		sf := SourceFile{Rel: rel, Package: f.Name.Name}
		if isTest {
			for _, decl := range f.Decls {
				if fn, ok := decl.(*ast.FuncDecl); ok && fn.Recv == nil && isExample(fn.Name.Name) {
					sf.Examples = append(sf.Examples, fn.Name.Name)
				}
			}
			if len(sf.Examples) == 0 {
				return nil
			}
		}
		for _, spec := range f.Imports {
			ipath, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				return fmt.Errorf("%s: bad import %s", rel, spec.Path.Value)
			}
			sf.Imports = append(sf.Imports, ipath)
		}
		out = append(out, sf)
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Rel < out[j].Rel })
	return out, err
}

// isExample reports whether a function name is an Example to go test:
// "Example", or "Example" followed by a character that is not a lower-case
// letter.
func isExample(name string) bool {
	rest, ok := strings.CutPrefix(name, "Example")
	if !ok {
		return false
	}
	if rest == "" {
		return true
	}
	r, _ := utf8.DecodeRuneInString(rest)
	return !unicode.IsLower(r)
}

// ImportViolations returns, for the files of [ExternalFiles], one line per
// import of an internal package of the module modPath (an example's own
// examples/NAME/internal/... is allowed from files under examples/NAME/,
// since it is copied along with the example):
// "examples/mta/main.go: imports internal/x" or
// "dane/example_test.go (ExampleNew): imports internal/x".
func ImportViolations(files []SourceFile, modPath string) []string {
	var out []string
	for _, f := range files {
		for _, ipath := range f.Imports {
			rest, ok := strings.CutPrefix(ipath, modPath+"/")
			if !ok || !IsInternalPath(rest) || ownInternal(f.Rel, rest) {
				continue
			}
			where := f.Rel
			if len(f.Examples) > 0 {
				where += " (" + strings.Join(f.Examples, ", ") + ")"
			}
			out = append(out, where+": imports "+path.Clean(rest))
		}
	}
	return out
}

// ownInternal reports whether pkg (module-relative) is under the
// internal/ of the example that file (module-relative) belongs to.
func ownInternal(file, pkg string) bool {
	parts := strings.SplitN(file, "/", 3)
	if len(parts) < 3 || parts[0] != "examples" {
		return false
	}
	return strings.HasPrefix(pkg, "examples/"+parts[1]+"/internal/") || pkg == "examples/"+parts[1]+"/internal"
}
