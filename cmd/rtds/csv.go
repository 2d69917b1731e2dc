package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rtdskit/rtds/event"
)

func init() {
	register(command{
		name:    "csv",
		summary: "convert newline-delimited event JSON to the S3 CSV format of one event type",
		run:     runCSV,
	})
}

// csvMaxLine is the longest input line rtds csv accepts: far above any RTDS
// event (a Kinesis record holds at most 1 MiB).
const csvMaxLine = 16 << 20

const csvUsageText = `usage: rtds csv --type TYPE [FILE...]

Reads newline-delimited RTDS event JSON from the files (or standard input)
and writes the events of TYPE as CSV to standard output: the S3
integration's header for TYPE first, then one row per event in input
order. Events of other types are skipped. A line that is not a valid event
is reported on standard error as file:line: (stdin:line: for standard
input), the rest is still converted, and the exit status is 1.

TAG_CHANGE rows hold the common columns only: the S3 CSV format has no tag
columns.

Types with a CSV layout:
`

func csvUsage() string {
	var names []string
	for _, t := range event.KnownTypes() {
		if _, err := event.CSVHeader(t); err == nil {
			names = append(names, string(t))
		}
	}
	return csvUsageText + "  " + wrap(names, 72) + "\n\nFlags:\n"
}

// noteCSVType says once on standard error what a CSV of t lacks.
func noteCSVType(env *cmdEnv, cmd string, t event.Type) {
	if t == event.TypeTagChange {
		env.errorf(cmd, "note: TAG_CHANGE has no tag columns in the S3 CSV format; its rows hold the common columns only, no tag data")
	}
}

func runCSV(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "csv", csvUsage())
	typ := fs.String("type", "", "the event `TYPE` to convert, e.g. OPEN (required)")
	if ok, code := fs.parse(args); !ok {
		return code
	}
	if *typ == "" {
		return fs.usageError("--type is required")
	}
	t := event.Type(strings.ToUpper(*typ))
	out := bufio.NewWriterSize(env.stdout, 64<<10)
	w, err := event.NewCSVWriter(out, t)
	if err != nil {
		return fs.usageError("%v", err)
	}
	noteCSVType(env, "csv", t)
	c := &csvRun{ctx: ctx, env: env, t: t, w: w}
	if fs.NArg() == 0 {
		c.convert("stdin", env.stdin)
	}
	for _, name := range fs.Args() {
		if c.stopped {
			break
		}
		if name == "-" {
			c.convert("stdin", env.stdin)
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(env.stderr, "rtds csv: %v\n", err)
			c.failed = true
			continue
		}
		c.convert(name, f)
		f.Close()
	}
	if err := w.Flush(); err == nil {
		err = out.Flush()
		if err != nil {
			fmt.Fprintf(env.stderr, "rtds csv: writing output: %v\n", err)
			return 1
		}
	} else {
		fmt.Fprintf(env.stderr, "rtds csv: %v\n", err)
		return 1
	}
	if c.failed {
		return 1
	}
	return 0
}

// csvRun is one run of rtds csv over its inputs.
type csvRun struct {
	ctx     context.Context
	env     *cmdEnv
	t       event.Type
	w       *event.CSVWriter
	failed  bool // a bad line or unreadable input: exit 1
	stopped bool // cancelled or output failed: stop reading
}

// convert converts one input; name labels its lines in messages.
func (c *csvRun) convert(name string, in io.Reader) {
	r := bufio.NewReaderSize(in, 64<<10)
	var long []byte // a line longer than the reader's buffer, so far
	pending := false
	line := 0
	for {
		chunk, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if len(long) <= csvMaxLine {
				long = append(long, chunk...)
			}
			pending = true
			continue
		}
		data := chunk
		if pending {
			long = append(long, chunk...)
			data = long
		}
		if len(data) > 0 {
			line++
			if !c.line(name, line, data) {
				return
			}
		}
		long, pending = long[:0], false
		if err != nil {
			if err != io.EOF {
				fmt.Fprintf(c.env.stderr, "rtds csv: %s:%d: %v\n", name, line+1, err)
				c.failed = true
			}
			return
		}
	}
}

// line converts one input line; false stops reading.
func (c *csvRun) line(name string, n int, data []byte) bool {
	if err := c.ctx.Err(); err != nil {
		fmt.Fprintf(c.env.stderr, "rtds csv: stopped at %s:%d: %v\n", name, n, context.Cause(c.ctx))
		c.failed, c.stopped = true, true
		return false
	}
	data = bytes.TrimSpace(data)
	switch {
	case len(data) == 0:
		return true // blank lines are keep-alives in RTDS streams
	case len(data) > csvMaxLine:
		fmt.Fprintf(c.env.stderr, "rtds csv: %s:%d: line longer than %d bytes\n", name, n, csvMaxLine)
		c.failed = true
		return true
	}
	e, err := event.Decode(data)
	if err != nil {
		fmt.Fprintf(c.env.stderr, "rtds csv: %s:%d: %v\n", name, n, err)
		c.failed = true
		return true
	}
	if e.EventType() != c.t {
		return true
	}
	if err := c.w.Write(e); err != nil {
		fmt.Fprintf(c.env.stderr, "rtds csv: %s:%d: %v\n", name, n, err)
		c.failed, c.stopped = true, true
		return false
	}
	return true
}

// wrap joins words into lines of at most width characters.
func wrap(words []string, width int) string {
	var b strings.Builder
	n := 0
	for i, w := range words {
		if i > 0 {
			if n+1+len(w) > width {
				b.WriteString("\n  ")
				n = 0
			} else {
				b.WriteString(" ")
				n++
			}
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}
