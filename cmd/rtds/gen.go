package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/rtdskit/rtds/event/eventgen"
)

func init() {
	register(command{
		name:    "gen",
		summary: "generate realistic synthetic RTDS events as newline-delimited JSON",
		run:     runGen,
	})
}

// defaultGenCount is how many events rtds gen writes without --count.
const defaultGenCount = 1000

func runGen(ctx context.Context, env *cmdEnv, args []string) int {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	count := fs.Int64("count", defaultGenCount, "how many events to write; 0 writes until interrupted")
	seed := fs.Int64("seed", 1, "the generator `seed`: the same seed gives the same events")
	types := fs.String("types", "", "comma-separated event `TYPES` to generate, each equally likely (default: every type, in a realistic mix)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `usage: rtds gen [--count N] [--seed S] [--types T1,T2]

Writes realistic synthetic RTDS events to standard output, one JSON object
per line: every known event type with the fields Airship sends, legacy and
current device forms, email and SMS devices, numbers sent as strings,
unicode, commas and quotes in strings. Ids are unique and offsets
increase. The output depends only on the flags.

  rtds gen --count 1000 | rtds csv --type OPEN
  rtds gen --count 100000 --types UNINSTALL,OPEN | rtds put --stream events

Types:
  %s

Flags:
`, wrap(eventgen.Types(), 72))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.stderr, "rtds gen: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	if *count < 0 {
		fmt.Fprintf(env.stderr, "rtds gen: --count must be 0 or more, not %d\n", *count)
		return 2
	}
	var opts []eventgen.Option
	if *types != "" {
		ts, err := parseGenTypes(*types)
		if err != nil {
			fmt.Fprintf(env.stderr, "rtds gen: %v (run rtds gen --help for the types)\n", err)
			return 2
		}
		opts = append(opts, eventgen.WithTypes(ts...))
	}

	g := eventgen.New(*seed, opts...)
	w := bufio.NewWriterSize(env.stdout, 64<<10)
	var line []byte
	var n int64
	for ; *count == 0 || n < *count; n++ {
		if n%1024 == 0 && ctx.Err() != nil {
			break
		}
		line = append(g.AppendNext(line[:0]), '\n')
		if _, err := w.Write(line); err != nil {
			fmt.Fprintf(env.stderr, "rtds gen: writing event %d: %v\n", n+1, err)
			return 1
		}
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(env.stderr, "rtds gen: %v\n", err)
		return 1
	}
	if ctx.Err() != nil && *count != 0 && n < *count {
		fmt.Fprintf(env.stderr, "rtds gen: interrupted after %d of %d events\n", n, *count)
		return 1
	}
	return 0
}

// parseGenTypes splits a --types list, upper-cases each name and checks it
// against the known types.
func parseGenTypes(list string) ([]string, error) {
	known := eventgen.Types()
	var out []string
	for _, t := range strings.Split(list, ",") {
		t = strings.ToUpper(strings.TrimSpace(t))
		if t == "" {
			continue
		}
		if !slices.Contains(known, t) {
			return nil, fmt.Errorf("unknown event type %q", t)
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--types %q names no type", list)
	}
	return out, nil
}
