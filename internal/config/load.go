package config

import (
	"flag"
	"fmt"
	"strings"
)

// Load builds a Config from defaults, then environment variables (read
// through getenv), then the flags set in args, which it parses with fs (the
// caller's subcommand flag set; Load registers one flag per setting that has
// one). It returns every problem it finds at once, as Problems; flag syntax
// errors come back as they are from fs.Parse.
func Load(fs *flag.FlagSet, args []string, getenv func(string) string) (*Config, error) {
	flags := map[string]*flagValue{}
	for _, s := range settings {
		if s.Flag != "" {
			_, boolean := s.field(&Config{}).(*bool)
			v := &flagValue{text: s.Default, boolean: boolean}
			fs.Var(v, s.Flag, s.Usage+" (env "+s.Env[0]+")")
			flags[s.Flag] = v
		}
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })

	c := &Config{Sources: map[string]string{}}
	var problems Problems
	failed := map[string]bool{}
	for _, s := range settings {
		value, source := s.Default, "default"
		for _, name := range s.Env {
			if v := getenv(name); v != "" {
				value, source = v, "env "+name
				break
			}
		}
		if given[s.Flag] {
			value, source = flags[s.Flag].text, "flag --"+s.Flag
		}
		c.Sources[s.Env[0]] = source
		if err := s.set(c, value); err != nil {
			problems = append(problems, fmt.Sprintf("%s (%s): %v", s.Env[0], source, err))
			failed[s.Env[0]] = true
		}
	}
	for _, p := range c.validate() {
		if name, _, _ := strings.Cut(p, ":"); !failed[name] {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return c, nil
}

// flagValue holds a flag's text until Load parses it with the setting's
// own rules; boolean settings take the form --flag or --flag=false.
type flagValue struct {
	text    string
	boolean bool
}

func (v *flagValue) String() string {
	if v == nil {
		return ""
	}
	return v.text
}

func (v *flagValue) Set(s string) error { v.text = s; return nil }

func (v *flagValue) IsBoolFlag() bool { return v.boolean }
