// Package apicheck is a test-only package: its tests, run by
// `go test ./...` (and so by CI), check mechanically that the module's
// public surface is usable from another module.
//
// Go refuses to import a package under an internal/ directory from outside
// the tree rooted at that directory's parent. A public package whose
// exported API mentions an internal type therefore hands other modules a
// value they cannot name: they cannot declare a variable of that type,
// implement an interface that takes it, or fill a struct field of it. The
// same goes for the programs under examples/ and for the Example functions
// shown in the documentation: if they import an internal package they only
// build inside this module, so they do not show how an importer would
// really use the library.
//
// The checks are:
//
//   - [CheckAPI]: every exported const, var, func, type, alias, struct
//     field, method, interface method, embedded field and type parameter
//     constraint of every public package (one not under an internal/ or
//     examples/ directory) is type-checked from source with go/types and
//     walked, through pointers, slices, arrays, maps, channels, function
//     signatures, struct and interface literals and the exported members of
//     unexported types it returns, looking for a named type whose package
//     path has an "internal" element. Each one is reported as
//     "pkg.Ident: mentions internal/x.Type".
//   - [ScanImports]: no _test.go file holding an Example function (outside
//     internal/) and no non-test file under examples/ imports one of this
//     module's internal packages, except an example's own
//     examples/NAME/internal/..., which is part of it and checked the same
//     way (its files may not import the library's internal packages).
//   - [BuildExternally]: the same files (with the data files beside them,
//     for go:embed, and an example's imports of its own packages pointed at
//     the copy), copied into a temporary module that
//     requires this one through a replace directive, type-check with
//     GOPROXY=off (skipped under -short or when the module cache cannot
//     serve the build offline).
//
// The package only uses the standard library and the go command already
// needed to run the tests.
package apicheck
