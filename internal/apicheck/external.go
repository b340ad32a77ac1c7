package apicheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ErrOffline is wrapped by [BuildExternally]'s error when the go command
// could not set up the external module without the network.
var ErrOffline = errors.New("external module cannot be built offline")

// BuildExternally copies files (from [ExternalFiles]; Example files only
// when they are in an external _test package, as an in-package example
// cannot be copied out of its package) into a new module in dir that
// requires the module at root, replaced by root, and type-checks them
// there with `go vet`, with GOPROXY=off so only the module cache is used.
// It returns the go command's output.
func BuildExternally(root, modPath, dir string, files []SourceFile) ([]byte, error) {
	cmd := exec.Command("go", "mod", "edit", "-json")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go mod edit -json: %v", err)
	}
	var gomod struct {
		Go      string
		Require []struct{ Path, Version string }
		Replace []struct {
			Old, New struct{ Path, Version string }
		}
	}
	if err := json.Unmarshal(out, &gomod); err != nil {
		return nil, fmt.Errorf("go mod edit -json: %v", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "module apicheck.invalid/external\n\ngo %s\n\nrequire (\n", gomod.Go)
	fmt.Fprintf(&b, "\t%s v0.0.0-00010101000000-000000000000\n", modPath)
	for _, r := range gomod.Require {
		// The same versions the module builds with, so the go command
		// needs nothing the module cache does not hold.
		fmt.Fprintf(&b, "\t%s %s\n", r.Path, r.Version)
	}
	fmt.Fprintf(&b, ")\n\nreplace %s => %s\n", modPath, root)
	for _, r := range gomod.Replace {
		np := r.New.Path
		if r.New.Version == "" && !filepath.IsAbs(np) { // a directory, relative to root
			np = filepath.Join(root, np)
		}
		old := r.Old.Path
		if r.Old.Version != "" {
			old += " " + r.Old.Version
		}
		fmt.Fprintf(&b, "replace %s => %s %s\n", old, np, r.New.Version)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(b.String()), 0o666); err != nil {
		return nil, err
	}
	if sum, err := os.ReadFile(filepath.Join(root, "go.sum")); err == nil {
		if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o666); err != nil {
			return nil, err
		}
	}
	n := 0
	for _, f := range files {
		if len(f.Examples) > 0 && !strings.HasSuffix(f.Package, "_test") {
			continue
		}
		src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f.Rel)))
		if err != nil {
			return nil, err
		}
		// The copy lives in the external module: an example's imports
		// of its own packages point there, as they would for a user who
		// copied the example into their module.
		src = bytes.ReplaceAll(src, []byte(`"`+modPath+`/examples/`), []byte(`"apicheck.invalid/external/examples/`))
		dst := filepath.Join(dir, filepath.FromSlash(f.Rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o777); err != nil {
			return nil, err
		}
		if err := os.WriteFile(dst, src, 0o666); err != nil {
			return nil, err
		}
		if err := copyDataFiles(filepath.Dir(filepath.Join(root, filepath.FromSlash(f.Rel))), filepath.Dir(dst)); err != nil {
			return nil, err
		}
		n++
	}
	if n == 0 {
		return nil, nil
	}

	// go vet type-checks every package and test package; -atomic selects
	// a single cheap analyzer so only compile errors matter.
	cmd = exec.Command("go", "vet", "-atomic", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GOFLAGS="+withModMod(os.Getenv("GOFLAGS")),
		"GOPROXY=off",
		"GOWORK=off",
		"GOTOOLCHAIN=local",
	)
	out, err = cmd.CombinedOutput()
	if err != nil {
		if offlineFailure(out, modPath) {
			return out, fmt.Errorf("%w: %v", ErrOffline, err)
		}
		return out, fmt.Errorf("go vet in the external module: %v", err)
	}
	return out, nil
}

// withModMod returns GOFLAGS with any -mod flag replaced by -mod=mod.
func withModMod(goflags string) string {
	var keep []string
	for _, f := range strings.Fields(goflags) {
		if !strings.HasPrefix(f, "-mod=") && !strings.HasPrefix(f, "--mod=") {
			keep = append(keep, f)
		}
	}
	return strings.Join(append(keep, "-mod=mod"), " ")
}

// offlineFailure reports whether the go command failed for want of the
// network (a module or checksum missing from the cache), not because a
// file does not compile.
func offlineFailure(out []byte, modPath string) bool {
	if bytes.Contains(out, []byte("use of internal package")) {
		return false // the very failure this check is for
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, modPath) && !strings.Contains(line, "@") {
			continue // about a package of the module itself: a real error
		}
		for _, marker := range []string{
			"GOPROXY=off", "module lookup disabled", "missing go.sum entry",
			"verifying ", "SECURITY ERROR", "dial tcp", "no such host",
		} {
			if strings.Contains(line, marker) {
				return true
			}
		}
	}
	return false
}

// copyDataFiles copies the files of src that are not Go source into
// dst (what a //go:embed in the package may name), once per directory.
func copyDataFiles(src, dst string) error {
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !e.Type().IsRegular() || strings.HasSuffix(e.Name(), ".go") {
			continue
		}
		to := filepath.Join(dst, e.Name())
		if _, err := os.Stat(to); err == nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(to, b, 0o666); err != nil {
			return err
		}
	}
	return nil
}
