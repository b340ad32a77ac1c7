package config

import (
	"strings"
)

// Source is where a setting's value came from. Both fields empty: the
// default.
type Source struct {
	File string // the configuration file, as named to -config
	Flag string // the flag's name without '-', when set on the command line
}

// KeyError is a problem with one setting. Its message names the
// setting the way the operator wrote it: "-max-size: …" for a flag,
// "mta.toml: max_size: …" for the file, "max_size: …" for a default.
type KeyError struct {
	// Key is the key path: "max_size", "dkim[0].selectors[1].private_key".
	Key    string
	Source Source
	Err    error
}

func (e *KeyError) Error() string {
	switch {
	case e.Source.Flag != "":
		return "-" + e.Source.Flag + ": " + e.Err.Error()
	case e.Source.File != "":
		return e.Source.File + ": " + e.Key + ": " + e.Err.Error()
	}
	return e.Key + ": " + e.Err.Error()
}

func (e *KeyError) Unwrap() error { return e.Err }

// SourceOf says where the value of a key path came from. A path inside
// an entry the file or a flag set ("dkim[0].canon") takes the entry's
// source when the key itself was not written.
func (s Settings) SourceOf(key string) Source {
	for k := key; k != ""; k = parentKey(k) {
		if src, ok := s.src[k]; ok {
			return src
		}
	}
	return Source{}
}

// parentKey strips the last element of a key path: "a[0].b" → "a[0]"
// → "a" → "".
func parentKey(k string) string {
	if i := strings.LastIndexAny(k, ".["); i >= 0 {
		return k[:i]
	}
	return ""
}

// Blame wraps err as a *KeyError for key, naming where its value came
// from. The MTA uses it for problems found only when it acts on a
// setting (a maildir it cannot create, a port already in use).
func (s Settings) Blame(key string, err error) error {
	return &KeyError{Key: key, Source: s.SourceOf(key), Err: err}
}

func (s *Settings) setSource(key string, src Source) {
	if s.src == nil {
		s.src = map[string]Source{}
	}
	s.src[key] = src
}
