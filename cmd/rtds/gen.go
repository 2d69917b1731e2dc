package main

import (
	"bufio"
	"context"
	"fmt"

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

const genUsage = `usage: rtds gen [--count N] [--seed S] [--type T1,T2 ...]

Writes realistic synthetic RTDS events to standard output, one JSON object
per line: every known event type with the fields Airship sends, legacy and
current device forms, email and SMS devices, numbers sent as strings,
unicode, commas and quotes in strings. Ids are unique and offsets
increase. The output depends only on the flags.

  rtds gen --count 1000 | rtds csv --type OPEN
  rtds gen --count 100000 --type UNINSTALL,OPEN | rtds put --stream events

Types:
  %s

Flags:
`

func runGen(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "gen", fmt.Sprintf(genUsage, wrap(eventgen.Types(), 72)))
	count := fs.Int64("count", defaultGenCount, "how many events to write; 0 writes until interrupted")
	seed := fs.Int64("seed", 1, "the generator `seed`: the same seed gives the same events")
	types := newTypeList(eventgen.Types())
	fs.Var(types, "type", "generate only events of this `TYPE`, each type equally likely (repeatable, or comma-separated;\n--types is an alias; default: every type, in a realistic mix)")
	fs.Var(types, "types", "alias of --type")
	if ok, code := fs.parse(args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return fs.usageError("unexpected argument %q", fs.Arg(0))
	}
	if *count < 0 {
		return fs.usageError("--count must be 0 or more, not %d", *count)
	}
	var opts []eventgen.Option
	if len(types.types) > 0 {
		ts := make([]string, len(types.types))
		for i, t := range types.types {
			ts[i] = string(t)
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
