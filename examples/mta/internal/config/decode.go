package config

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// SyntaxError is a configuration file that is not TOML.
type SyntaxError struct {
	File string
	Line int
	Msg  string
	Err  error // the toml.ParseError
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }
func (e *SyntaxError) Unwrap() error { return e.Err }

// decode reads TOML text over s: each key found replaces that key's
// value. Key by key rather than in one toml.Decode, so that an error
// names its key, an unknown key is an error, and lists replace the
// defaults instead of sharing their memory. All key errors are
// returned joined.
func (s *Settings) decode(name, text string) error {
	var top map[string]toml.Primitive
	md, err := toml.Decode(text, &top)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return &SyntaxError{File: name, Line: pe.Position.Line, Msg: pe.Message, Err: err}
		}
		return &SyntaxError{File: name, Msg: err.Error(), Err: err}
	}
	d := &decoder{md: &md, file: name, s: s}
	d.table(top, reflect.ValueOf(s).Elem(), "")
	return errors.Join(d.errs...)
}

type decoder struct {
	md   *toml.MetaData
	file string
	s    *Settings
	errs []error
}

func (d *decoder) fail(key string, err error) {
	d.errs = append(d.errs, &KeyError{Key: key, Source: Source{File: d.file}, Err: err})
}

// bareKey is TOML's bare key syntax; any other key is written quoted
// in errors, so that "" or "a.b" still names itself.
var bareKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func keyName(k string) string {
	if bareKey.MatchString(k) {
		return k
	}
	return strconv.Quote(k)
}

// table decodes the keys of one TOML table into the struct rv.
func (d *decoder) table(prims map[string]toml.Primitive, rv reflect.Value, path string) {
	fields := tomlFields(rv.Type())
	keys := make([]string, 0, len(prims))
	for k := range prims {
		keys = append(keys, k)
	}
	slices.Sort(keys) // errors in a stable order
	for _, k := range keys {
		p := keyName(k)
		if path != "" {
			p = path + "." + p
		}
		i, ok := fields[k]
		if !ok {
			d.fail(p, errors.New("unknown key"))
			continue
		}
		v, err := d.value(prims[k], rv.Field(i).Type(), p)
		if err != nil {
			d.fail(p, err)
			continue
		}
		rv.Field(i).Set(v)
		d.s.setSource(p, Source{File: d.file})
	}
}

var (
	durationType  = reflect.TypeFor[time.Duration]()
	textUnmarshal = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// value decodes one TOML value into a new value of type t.
func (d *decoder) value(prim toml.Primitive, t reflect.Type, path string) (reflect.Value, error) {
	nv := reflect.New(t)
	switch {
	case t == durationType:
		// toml would take an integer as nanoseconds: "timeout = 5"
		// would be 5ns. Only strings, which say their unit.
		var str string
		if err := d.md.PrimitiveDecode(prim, &str); err != nil {
			return nv, errors.New(`want a duration string such as "30s" or "5m"`)
		}
		dur, err := time.ParseDuration(str)
		if err != nil {
			return nv, fmt.Errorf("%q is not a duration (such as \"30s\" or \"5m\")", str)
		}
		nv.Elem().SetInt(int64(dur))
	case nv.Type().Implements(textUnmarshal):
		// toml would turn a number or a bool into text; all these
		// types (host lists, log levels) are strings.
		var str string
		if err := d.md.PrimitiveDecode(prim, &str); err != nil {
			return nv, errors.New("want a string")
		}
		if err := nv.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(str)); err != nil {
			return nv, err
		}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		var elems []map[string]toml.Primitive
		if err := d.md.PrimitiveDecode(prim, &elems); err != nil {
			return nv, errors.New("want an array of tables")
		}
		out := reflect.MakeSlice(t, len(elems), len(elems))
		for i, e := range elems {
			ev := out.Index(i)
			if t.Elem() == reflect.TypeFor[DKIM]() {
				ev.Set(reflect.ValueOf(DefaultDKIM()))
			}
			d.table(e, ev, fmt.Sprintf("%s[%d]", path, i))
		}
		nv.Elem().Set(out)
	default:
		if err := d.md.PrimitiveDecode(prim, nv.Interface()); err != nil {
			return nv, cleanTOMLError(err)
		}
	}
	if t.Kind() == reflect.Slice && nv.Elem().Len() == 0 {
		// "[]" is the empty list, the same as the defaults' nil.
		return reflect.Zero(t), nil
	}
	return nv.Elem(), nil
}

var (
	tomlErrPrefix = regexp.MustCompile(`^toml: (line \d+ )?(\(last key "[^"]*"\): )?`)
	tomlErrTypes  = regexp.MustCompile(`^incompatible types: TOML value has type (.+); destination has type (.+)$`)
)

// cleanTOMLError drops toml's "line N (last key …)" prefix, as the
// KeyError names the key, and rephrases type mismatches.
func cleanTOMLError(err error) error {
	msg := err.Error()
	var pe toml.ParseError
	if errors.As(err, &pe) {
		msg = pe.Message
	}
	msg = tomlErrPrefix.ReplaceAllString(msg, "")
	if m := tomlErrTypes.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("want %s, not %s", article(tomlTypeName(m[2])), article(tomlTypeName(m[1])))
	}
	return errors.New(msg)
}

// tomlTypeName says toml's Go type names the way the TOML spec does.
func tomlTypeName(t string) string {
	switch {
	case t == "int64":
		return "integer"
	case t == "float64":
		return "float"
	case t == "bool":
		return "boolean"
	case t == "slice" || strings.HasPrefix(t, "[]"):
		return "array"
	case t == "map" || strings.HasPrefix(t, "map["):
		return "table"
	case t == "time.Time":
		return "datetime"
	}
	return t
}

func article(t string) string {
	t = strings.ToLower(t)
	if strings.ContainsAny(t[:1], "aeiou") {
		return "an " + t
	}
	return "a " + t
}

// tomlFields maps a struct's toml keys to field indexes.
func tomlFields(t reflect.Type) map[string]int {
	m := map[string]int{}
	for i := range t.NumField() {
		if k := tomlKey(t.Field(i)); k != "" {
			m[k] = i
		}
	}
	return m
}

func tomlKey(f reflect.StructField) string {
	k, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if !f.IsExported() || k == "-" {
		return ""
	}
	return k
}
