package apicheck

import (
	"fmt"
	"go/types"
	"sort"
	"strings"
)

// Violation is an exported identifier of a public package whose API
// mentions a type from an internal package.
type Violation struct {
	Pkg   string // the public package, relative to the module ("dane", "dmarc/report")
	Ident string // the exported identifier: "New", "Policy.Resolver", "Client.Lookup"
	Type  string // the internal type, e.g. "internal/dnsclient.Resolver"
	// Via, when set, is the path through unexported types by which the
	// identifier reaches the internal type: "client.Do" for a New returning
	// *client whose exported method Do takes the internal type.
	Via string
}

func (v Violation) String() string {
	s := fmt.Sprintf("%s.%s: mentions %s", v.Pkg, v.Ident, v.Type)
	if v.Via != "" {
		s += " (via " + v.Via + ")"
	}
	return s
}

// CheckAPI type-checks the module's public packages (see
// [Module.IsPublic]) and returns every place their exported API mentions a
// type from an internal package, sorted, and the errors that kept a package
// from being checked completely.
func CheckAPI(m *Module) ([]Violation, []error) {
	var public []string
	for _, path := range m.Packages() {
		if m.IsPublic(path) {
			public = append(public, path)
		}
	}
	m.Prepare(public)
	var (
		out  []Violation
		errs []error
	)
	for _, path := range public {
		pkg, perrs := m.TypeCheck(path)
		for _, err := range perrs {
			errs = append(errs, fmt.Errorf("%s: %v", m.Rel(path), err))
		}
		if pkg == nil {
			continue
		}
		out = append(out, checkPackage(m, pkg)...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, errs
}

// checkPackage walks the exported declarations of one package.
func checkPackage(m *Module, pkg *types.Package) []Violation {
	w := &walker{m: m, pkg: m.Rel(pkg.Path()), found: map[[2]string]bool{}}
	scope := pkg.Scope()
	for _, name := range scope.Names() {
		obj := scope.Lookup(name)
		if !obj.Exported() {
			continue
		}
		w.seen = map[*types.Named]bool{}
		at := loc{ident: name}
		switch obj := obj.(type) {
		case *types.Const, *types.Var:
			w.typ(obj.Type(), at)
		case *types.Func:
			w.typ(obj.Type(), at)
		case *types.TypeName:
			switch t := obj.Type().(type) {
			case *types.Alias:
				// An exported alias: what it denotes is part of the API
				// under this name.
				w.typeParams(t.TypeParams(), at)
				w.typ(types.Unalias(t), at)
			case *types.Named:
				w.surface(t, at)
			default:
				w.typ(t, at)
			}
		}
	}
	return w.out
}

// loc is where in the API the walker is: the exported identifier, and the
// members of unexported types it went through.
type loc struct {
	ident string
	via   string
}

// member returns the location of member name of the type at l: a field or
// method of an exported type extends the identifier, one of an unexported
// type (reached from an exported identifier) extends the via path.
func (l loc) member(typeName, name string, exported bool) loc {
	if exported && l.via == "" {
		return loc{ident: l.ident + "." + name}
	}
	via := typeName + "." + name
	if l.via != "" {
		via = l.via + ", " + via
	}
	return loc{ident: l.ident, via: via}
}

type walker struct {
	m     *Module
	pkg   string
	seen  map[*types.Named]bool // unexported types already walked, per identifier
	found map[[2]string]bool    // (identifier, internal type) already reported
	out   []Violation
}

func (w *walker) report(at loc, obj *types.TypeName) {
	name := w.m.Rel(obj.Pkg().Path()) + "." + obj.Name()
	key := [2]string{at.ident, name}
	if w.found[key] {
		return
	}
	w.found[key] = true
	w.out = append(w.out, Violation{Pkg: w.pkg, Ident: at.ident, Type: name, Via: at.via})
}

// surface walks what a named type declared in the module exposes: its type
// parameters' constraints, its exported fields and embedded fields, its
// exported methods (declared ones; promoted ones are reached through the
// embedded field's type) and, for other underlying types, the type itself.
// at is the location of the type itself.
func (w *walker) surface(t *types.Named, at loc) {
	t = t.Origin()
	name := t.Obj().Name()
	exported := t.Obj().Exported() && t.Obj().Parent() == t.Obj().Pkg().Scope()
	w.typeParams(t.TypeParams(), at)
	switch u := t.Underlying().(type) {
	case *types.Struct:
		w.fields(u, name, exported, at)
	case *types.Interface:
		w.iface(u, name, exported, at)
	default:
		w.typ(u, at)
	}
	for i := 0; i < t.NumMethods(); i++ {
		if fn := t.Method(i); fn.Exported() {
			w.typ(fn.Type(), at.member(name, fn.Name(), exported))
		}
	}
}

func (w *walker) fields(s *types.Struct, typeName string, exported bool, at loc) {
	for i := 0; i < s.NumFields(); i++ {
		f := s.Field(i)
		// An embedded field of an unexported type still promotes its
		// exported fields and methods, so it is walked too.
		if f.Exported() || f.Embedded() {
			w.typ(f.Type(), at.member(typeName, f.Name(), exported && f.Exported()))
		}
	}
}

func (w *walker) iface(it *types.Interface, typeName string, exported bool, at loc) {
	for i := 0; i < it.NumMethods(); i++ { // explicit and embedded methods
		if fn := it.Method(i); fn.Exported() {
			w.typ(fn.Type(), at.member(typeName, fn.Name(), exported))
		}
	}
	for i := 0; i < it.NumEmbeddeds(); i++ { // embedded interfaces, type-set terms
		w.typ(it.EmbeddedType(i), at)
	}
}

func (w *walker) typeParams(tps *types.TypeParamList, at loc) {
	for i := 0; i < tps.Len(); i++ {
		w.typ(tps.At(i).Constraint(), at)
	}
}

func (w *walker) tuple(t *types.Tuple, at loc) {
	for i := 0; i < t.Len(); i++ {
		w.typ(t.At(i).Type(), at)
	}
}

// typ walks a type appearing at location at.
func (w *walker) typ(t types.Type, at loc) {
	switch t := t.(type) {
	case nil, *types.Basic, *types.TypeParam:
		// A type parameter's constraint is walked where it is declared.
	case *types.Alias:
		// The alias's name may come from an internal package while what
		// it denotes is nameable: what matters is the denoted type (and
		// the type arguments, which Unalias keeps for a generic alias).
		w.typ(types.Unalias(t), at)
	case *types.Named:
		obj := t.Obj()
		if obj.Pkg() == nil { // error, comparable
			return
		}
		if IsInternalPath(obj.Pkg().Path()) {
			w.report(at, obj)
			return
		}
		if args := t.TypeArgs(); args != nil {
			for i := 0; i < args.Len(); i++ {
				w.typ(args.At(i), at)
			}
		}
		// An exported type of the module is checked as its own
		// identifier; another module's types are not this module's
		// business. An unexported (or function-local) type of the module
		// is walked: its exported members are reachable from here.
		if !w.m.InModule(obj.Pkg().Path()) {
			return
		}
		if obj.Exported() && obj.Parent() == obj.Pkg().Scope() {
			return
		}
		if orig := t.Origin(); !w.seen[orig] {
			w.seen[orig] = true
			w.surface(orig, at)
		}
	case *types.Pointer:
		w.typ(t.Elem(), at)
	case *types.Slice:
		w.typ(t.Elem(), at)
	case *types.Array:
		w.typ(t.Elem(), at)
	case *types.Chan:
		w.typ(t.Elem(), at)
	case *types.Map:
		w.typ(t.Key(), at)
		w.typ(t.Elem(), at)
	case *types.Signature:
		w.typeParams(t.TypeParams(), at)
		w.tuple(t.Params(), at)
		w.tuple(t.Results(), at)
	case *types.Tuple:
		w.tuple(t, at)
	case *types.Struct:
		// A literal's members are as exported as where it appears.
		w.fields(t, "struct", true, at)
	case *types.Interface:
		w.iface(t, "interface", true, at)
	case *types.Union:
		for i := 0; i < t.Len(); i++ {
			w.typ(t.Term(i).Type(), at)
		}
	default:
		panic(fmt.Sprintf("apicheck: unexpected type %T", t))
	}
}

// String returns the violations one a line.
func String(vs []Violation) string {
	var b strings.Builder
	for _, v := range vs {
		b.WriteString(v.String())
		b.WriteByte('\n')
	}
	return b.String()
}
