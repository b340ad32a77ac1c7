package apicheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// listPackage is the part of `go list -json` output the loader uses.
type listPackage struct {
	Dir        string
	ImportPath string
	Name       string
	Standard   bool
	GoFiles    []string
	CgoFiles   []string
	ImportMap  map[string]string
	Module     *struct {
		Path string
		Main bool
	}
	Error      *struct{ Err string }
	DepsErrors []*struct{ Err string }
}

// Module is a module's packages as listed by the go command, type-checked
// lazily from source.
type Module struct {
	Root string // directory holding go.mod
	Path string // module path

	env   []string
	fset  *token.FileSet
	list  map[string]*listPackage // by import path
	order []string                // the module's own packages, sorted

	mu      sync.Mutex
	checked map[string]*checkResult
}

type checkResult struct {
	done chan struct{}
	pkg  *types.Package
	errs []error
}

// ModuleRoot returns the directory of the main module's go.mod, as the go
// command sees it from dir.
func ModuleRoot(dir string) (string, error) {
	cmd := exec.Command("go", "env", "GOMOD")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("no go.mod above %s", dir)
	}
	return filepath.Dir(gomod), nil
}

// Load lists the packages of the module rooted at root, with all their
// dependencies, by running `go list -e -deps -json ./...` there. extraEnv
// is appended to the environment of the go command.
//
// CGO_ENABLED=0 is set so every package, the standard library's included,
// is pure Go and can be type-checked from source; the exported API of this
// module does not depend on it.
func Load(root string, extraEnv ...string) (*Module, error) {
	env := append(append(os.Environ(), "CGO_ENABLED=0"), extraEnv...)
	cmd := exec.Command("go", "list", "-e", "-deps", "-json", "./...")
	cmd.Dir = root
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list in %s: %v\n%s", root, err, stderr.Bytes())
	}
	m := &Module{
		Root:    root,
		env:     env,
		fset:    token.NewFileSet(),
		list:    map[string]*listPackage{},
		checked: map[string]*checkResult{},
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		p := new(listPackage)
		if err := dec.Decode(p); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("decoding go list output: %v", err)
		}
		m.list[p.ImportPath] = p
		if p.Module != nil && p.Module.Main {
			m.Path = p.Module.Path
			m.order = append(m.order, p.ImportPath)
		}
	}
	if m.Path == "" {
		return nil, fmt.Errorf("go list in %s: no package of the main module", root)
	}
	sort.Strings(m.order)
	return m, nil
}

// Packages returns the import paths of the module's own packages.
func (m *Module) Packages() []string { return m.order }

// Rel returns path relative to the module path ("dane", "internal/x"), or
// path itself when it is not in the module. The module's root package is
// its last path element.
func (m *Module) Rel(path string) string {
	if path == m.Path {
		return path[strings.LastIndex(path, "/")+1:]
	}
	if rest, ok := strings.CutPrefix(path, m.Path+"/"); ok {
		return rest
	}
	return path
}

// InModule reports whether path is the module's path or below it.
func (m *Module) InModule(path string) bool {
	return path == m.Path || strings.HasPrefix(path, m.Path+"/")
}

// IsInternalPath reports whether an import path has an "internal" element,
// which makes the go command refuse it from outside its parent's tree.
func IsInternalPath(path string) bool {
	for _, elem := range strings.Split(path, "/") {
		if elem == "internal" {
			return true
		}
	}
	return false
}

// IsPublic reports whether an import path of the module names a package
// another module may import and that is part of the library: not under an
// internal/ directory and not under examples/.
func (m *Module) IsPublic(path string) bool {
	if !m.InModule(path) || IsInternalPath(path) {
		return false
	}
	rel := strings.TrimPrefix(path, m.Path)
	return rel != "/examples" && !strings.HasPrefix(rel, "/examples/")
}

// Prepare type-checks the given packages, and so all their dependencies,
// in parallel; later calls of [Module.TypeCheck] hit the cache.
func (m *Module) Prepare(paths []string) {
	var wg sync.WaitGroup
	for _, path := range paths {
		wg.Add(1)
		go func() { defer wg.Done(); m.TypeCheck(path) }()
	}
	wg.Wait()
}

// TypeCheck returns the package at path, type-checked from source without
// function bodies (only declarations matter to the exported API), and the
// errors met loading or checking it. Results are cached; concurrent calls
// are safe.
func (m *Module) TypeCheck(path string) (*types.Package, []error) {
	if path == "unsafe" {
		return types.Unsafe, nil
	}
	m.mu.Lock()
	r, ok := m.checked[path]
	if !ok {
		r = &checkResult{done: make(chan struct{})}
		m.checked[path] = r
	}
	m.mu.Unlock()
	if ok {
		<-r.done
		return r.pkg, r.errs
	}
	defer close(r.done)
	r.pkg, r.errs = m.check(path)
	return r.pkg, r.errs
}

var sizes = types.SizesFor("gc", runtime.GOARCH)

func (m *Module) check(path string) (*types.Package, []error) {
	p := m.list[path]
	if p == nil {
		return nil, []error{fmt.Errorf("package %s not listed by go list", path)}
	}
	var errs []error
	if p.Error != nil {
		errs = append(errs, errors.New(strings.TrimSpace(p.Error.Err)))
	}
	// Parse the files in parallel: parsing is the larger part of the cost.
	names := append(append([]string(nil), p.GoFiles...), p.CgoFiles...)
	files := make([]*ast.File, len(names))
	perr := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			files[i], perr[i] = parser.ParseFile(m.fset, filepath.Join(p.Dir, name), nil, parser.SkipObjectResolution)
		}()
	}
	wg.Wait()
	kept := files[:0]
	for i, f := range files {
		if perr[i] != nil {
			errs = append(errs, perr[i])
		}
		if f != nil {
			kept = append(kept, f)
		}
	}
	// Type-check the imports first (in parallel) so the checker, which
	// runs in one goroutine, only waits on finished packages.
	var iwg sync.WaitGroup
	for _, f := range kept {
		for _, spec := range f.Imports {
			ipath := strings.Trim(spec.Path.Value, "\"`")
			if mapped, ok := p.ImportMap[ipath]; ok {
				ipath = mapped
			}
			if ipath == "C" || ipath == "unsafe" {
				continue
			}
			iwg.Add(1)
			go func() { defer iwg.Done(); m.TypeCheck(ipath) }()
		}
	}
	iwg.Wait()
	conf := types.Config{
		IgnoreFuncBodies: true,
		FakeImportC:      true,
		Sizes:            sizes,
		Importer: importerFunc(func(ipath string) (*types.Package, error) {
			if mapped, ok := p.ImportMap[ipath]; ok {
				ipath = mapped
			}
			pkg, ierrs := m.TypeCheck(ipath)
			if pkg == nil {
				return nil, fmt.Errorf("importing %s: %v", ipath, errors.Join(ierrs...))
			}
			return pkg, nil
		}),
		Error: func(err error) {
			if len(errs) < 20 {
				errs = append(errs, err)
			}
		},
	}
	pkg, _ := conf.Check(path, m.fset, kept, nil)
	return pkg, errs
}

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }
