package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
)

// Parse defines every setting's flag and -config on fs, parses args
// and returns the settings: the defaults, then the -config file over
// them, then the flags given on the command line over that. It fills
// in the derived values (see fill) but does not validate; call
// Validate. flag.ErrHelp comes back as is, for the caller to exit 0.
// Flags fs already has that are not settings are left to the caller.
func Parse(fs *flag.FlagSet, args []string) (Settings, error) {
	s, rest, err := ParseArgs(fs, args)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected argument %q", rest[0])
	}
	return s, err
}

// ParseArgs is Parse for a command line that goes on after the flags
// (a subcommand and its arguments), which it returns.
func ParseArgs(fs *flag.FlagSet, args []string) (Settings, []string, error) {
	s, err := parseSettings(fs, args)
	return s, fs.Args(), err
}

func parseSettings(fs *flag.FlagSet, args []string) (Settings, error) {
	v := register(fs)
	if err := fs.Parse(args); err != nil {
		return Settings{}, err
	}
	s := Default()
	if v.config != "" {
		data, err := os.ReadFile(v.config)
		if err != nil {
			return Settings{}, &KeyError{Key: flagConfig, Source: Source{Flag: flagConfig}, Err: err}
		}
		if err := s.decode(v.config, string(data)); err != nil {
			return Settings{}, err
		}
	}
	if err := s.applyFlags(fs, v); err != nil {
		return Settings{}, err
	}
	s.fill()
	return s, nil
}

// Load is Parse and Validate on a flag set of its own named "mta",
// which writes -help and flag errors to output.
func Load(args []string, output io.Writer) (Settings, error) {
	fs := flag.NewFlagSet("mta", flag.ContinueOnError)
	fs.SetOutput(output)
	s, err := Parse(fs, args)
	if err != nil {
		return s, err
	}
	return s, s.Validate()
}

// applyFlags copies the value of every flag set on the command line
// over s.
func (s *Settings) applyFlags(fs *flag.FlagSet, v *flagVars) error {
	fields := tomlFields(reflect.TypeFor[Settings]())
	dst, src := reflect.ValueOf(s).Elem(), reflect.ValueOf(&v.s).Elem()
	var dkimSet []string
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case flagDKIMDomain, flagDKIMSelector, flagDKIMPrivateKey:
			dkimSet = append(dkimSet, f.Name)
			return
		}
		key := strings.ReplaceAll(f.Name, "-", "_")
		if i, ok := fields[key]; ok {
			dst.Field(i).Set(src.Field(i))
			s.setSource(key, Source{Flag: f.Name})
		}
	})
	if len(dkimSet) == 0 {
		return nil
	}
	return s.applyDKIMFlags(v, dkimSet)
}

// applyDKIMFlags makes -dkim-domain, -dkim-selector and
// -dkim-private-key the one selector of that domain's [[dkim]] entry,
// adding the entry when the file has none. The three go together.
func (s *Settings) applyDKIMFlags(v *flagVars, set []string) error {
	var errs []error
	for _, need := range []string{flagDKIMDomain, flagDKIMSelector, flagDKIMPrivateKey} {
		if !contains(set, need) {
			errs = append(errs, &KeyError{Key: "dkim", Source: Source{Flag: set[0]},
				Err: fmt.Errorf("needs -%s (-%s, -%s and -%s go together)", need, flagDKIMDomain, flagDKIMSelector, flagDKIMPrivateKey)})
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	i := -1
	for j, d := range s.DKIM {
		if strings.EqualFold(d.Domain, v.dkimDomain) {
			i = j
			break
		}
	}
	if i < 0 {
		// A copy: the file's entries must not share memory with ours.
		s.DKIM = append(s.DKIM[:len(s.DKIM):len(s.DKIM)], DefaultDKIM())
		i = len(s.DKIM) - 1
		s.setSource(fmt.Sprintf("dkim[%d]", i), Source{Flag: flagDKIMDomain})
	}
	s.DKIM[i].Domain = v.dkimDomain
	s.DKIM[i].Selectors = []DKIMSelector{v.dkimSel}
	p := fmt.Sprintf("dkim[%d]", i)
	for k := range s.src {
		if strings.HasPrefix(k, p+".selectors") {
			delete(s.src, k)
		}
	}
	s.setSource(p+".domain", Source{Flag: flagDKIMDomain})
	s.setSource(p+".selectors[0].selector", Source{Flag: flagDKIMSelector})
	s.setSource(p+".selectors[0].private_key", Source{Flag: flagDKIMPrivateKey})
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// fill turns the values that stand for others into what they stand
// for, so that the settings say what the MTA will do: "" hostname is
// the system's name, "" srs_domain the first local domain, 0
// max_data_memory DefaultDataMemory. Domains lose a final dot
// and, like users, are lower-cased; DKIM key paths become absolute
// (relative to the working directory), as the dkim package takes only
// an absolute path for a file.
func (s *Settings) fill() {
	if s.Hostname == "" {
		s.Hostname, _ = os.Hostname()
	}
	for i, d := range s.Domains {
		s.Domains[i] = normDomain(d)
	}
	for i, u := range s.Users {
		s.Users[i] = strings.ToLower(u)
	}
	s.SRSDomain = normDomain(s.SRSDomain)
	if s.SRSDomain == "" && len(s.Domains) > 0 {
		s.SRSDomain = s.Domains[0]
	}
	if s.MaxDataMemory == 0 {
		s.MaxDataMemory = DefaultDataMemory
	}
	for i := range s.DKIM {
		for j, sel := range s.DKIM[i].Selectors {
			if sel.PrivateKey != "" && !filepath.IsAbs(sel.PrivateKey) {
				if abs, err := filepath.Abs(sel.PrivateKey); err == nil {
					s.DKIM[i].Selectors[j].PrivateKey = abs
				}
			}
		}
	}
}

func normDomain(d string) string { return strings.ToLower(strings.TrimSuffix(d, ".")) }
