package config

import (
	"io"
	"reflect"
	"slices"

	"github.com/BurntSushi/toml"
)

// Redacted stands in for a secret in WriteTOML's output.
const Redacted = "<redacted>"

// WriteTOML writes the settings as a configuration file: the effective
// configuration, for -print-config. Secrets (srs_secret) are written as
// Redacted, one per secret, so the output shows how many there are but
// is not a working file until they are put back.
func (s Settings) WriteTOML(w io.Writer) error {
	out := s
	out.SRSSecret = slices.Clone(s.SRSSecret)
	for i := range out.SRSSecret {
		out.SRSSecret[i] = Redacted
	}
	// The encoder leaves nil lists out; write them as [] so that the
	// output names every key, as default.toml does.
	v := reflect.ValueOf(&out).Elem()
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Slice && f.IsNil() && f.CanSet() && f.Type().Elem().Kind() == reflect.String {
			f.Set(reflect.MakeSlice(f.Type(), 0, 0))
		}
	}
	enc := toml.NewEncoder(w)
	enc.Indent = ""
	return enc.Encode(out)
}
