package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/rtdskit/rtds/event"
)

// The conventions every command follows (README, "The rtds command"):
//
//   - errors and notes go to standard error, each line prefixed "rtds CMD: ";
//     a position in an input is written "file:line:" (stdin for standard
//     input);
//   - --help prints the command's usage to standard output and exits 0;
//   - a usage error prints one line and "run 'rtds CMD --help'" to standard
//     error and exits 2;
//   - commands that move data write their progress and summary to standard
//     error: standard output is data.

// flagName matches a flag as the flag package writes it in errors.
var flagName = regexp.MustCompile(`(^| )-([A-Za-z])`)

// cmdFlags is a command's flag set with the conventions above.
type cmdFlags struct {
	*flag.FlagSet
	name  string // the command, e.g. "put"
	usage string // the text before the flag list
	env   *cmdEnv
}

func newFlags(env *cmdEnv, name, usage string) *cmdFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &cmdFlags{FlagSet: fs, name: name, usage: usage, env: env}
}

// parse parses args. When it returns false the command must return code: 0
// after --help, 2 after a usage error (already reported).
func (f *cmdFlags) parse(args []string) (ok bool, code int) {
	err := f.Parse(args)
	switch {
	case err == nil:
		return true, 0
	case errors.Is(err, flag.ErrHelp):
		f.printUsage(f.env.stdout)
		return false, 0
	}
	// The flag package writes "-name"; rtds documents "--name".
	msg := flagName.ReplaceAllString(err.Error(), "$1--$2")
	return false, f.usageError("%s", msg)
}

// usageError reports a usage error in one line, with the hint to --help,
// and returns 2.
func (f *cmdFlags) usageError(format string, a ...any) int {
	fmt.Fprintf(f.env.stderr, "rtds %s: %s\n", f.name, fmt.Sprintf(format, a...))
	fmt.Fprintf(f.env.stderr, "run 'rtds %s --help'\n", f.name)
	return 2
}

// printUsage writes the usage text and every flag as --name.
func (f *cmdFlags) printUsage(w io.Writer) {
	fmt.Fprint(w, f.usage)
	f.VisitAll(func(fl *flag.Flag) {
		if strings.HasPrefix(fl.Usage, "alias of ") {
			return
		}
		arg, usage := flag.UnquoteUsage(fl)
		line := "  --" + fl.Name
		if arg != "" {
			line += " " + arg
		}
		fmt.Fprintln(w, line)
		if def := fl.DefValue; def != "" && def != "false" && def != "0" && def != "0s" {
			usage += fmt.Sprintf(" (default %s)", def)
		}
		fmt.Fprintf(w, "    \t%s\n", strings.ReplaceAll(usage, "\n", "\n    \t"))
	})
}

// errorf writes one error line with the command's prefix.
func (env *cmdEnv) errorf(cmd, format string, a ...any) {
	fmt.Fprintf(env.stderr, "rtds %s: %s\n", cmd, fmt.Sprintf(format, a...))
}

// plural returns "1 event" or "2 events": n and the noun, pluralized with
// an s unless n is 1.
func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// typeList is a repeatable --type flag; each value may also be a
// comma-separated list. Names are upper-cased and checked against known.
type typeList struct {
	types []event.Type
	known []string // accepted names, sorted
}

func newTypeList(known []string) *typeList {
	k := slices.Clone(known)
	slices.Sort(k)
	return &typeList{known: k}
}

// knownEventTypes are the types every filtering command accepts.
func knownEventTypes() []string {
	var names []string
	for _, t := range event.KnownTypes() {
		names = append(names, string(t))
	}
	return names
}

func (l *typeList) String() string {
	if l == nil {
		return ""
	}
	parts := make([]string, len(l.types))
	for i, t := range l.types {
		parts[i] = string(t)
	}
	return strings.Join(parts, ",")
}

func (l *typeList) Set(s string) error {
	n := 0
	for _, p := range strings.Split(s, ",") {
		p = strings.ToUpper(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		if !slices.Contains(l.known, p) {
			return fmt.Errorf("unknown event type %q; known types: %s", p, strings.Join(l.known, ", "))
		}
		l.types = append(l.types, event.Type(p))
		n++
	}
	if n == 0 {
		return fmt.Errorf("%q names no event type", s)
	}
	return nil
}
