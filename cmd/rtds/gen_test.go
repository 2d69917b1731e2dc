package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/event/eventgen"
)

func runGenCommand(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cmdEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code = run(ctx, env, append([]string{"gen"}, args...))
	return code, out.String(), errb.String()
}

func genLines(t *testing.T, out string) []string {
	t.Helper()
	if out != "" && !strings.HasSuffix(out, "\n") {
		t.Fatalf("output does not end in a newline: ...%q", out[max(0, len(out)-40):])
	}
	return strings.Split(strings.TrimSuffix(out, "\n"), "\n")
}

func TestGenWritesTheGeneratorsEvents(t *testing.T) {
	code, out, errs := runGenCommand(t, t.Context(), "--count", "500", "--seed", "42")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	lines := genLines(t, out)
	if len(lines) != 500 {
		t.Fatalf("got %d lines, want 500", len(lines))
	}
	g := eventgen.New(42)
	for i, l := range lines {
		if want := string(g.Next()); l != want {
			t.Fatalf("line %d = %s\nwant the generator's event %s", i+1, l, want)
		}
		if !json.Valid([]byte(l)) {
			t.Fatalf("line %d is not valid JSON: %s", i+1, l)
		}
	}
}

func TestGenDeterministic(t *testing.T) {
	_, a, _ := runGenCommand(t, t.Context(), "--count", "200", "--seed", "9")
	_, b, _ := runGenCommand(t, t.Context(), "--count", "200", "--seed", "9")
	_, c, _ := runGenCommand(t, t.Context(), "--count", "200", "--seed", "10")
	if a != b {
		t.Error("the same seed gave different output")
	}
	if a == c {
		t.Error("different seeds gave the same output")
	}
	_, d, _ := runGenCommand(t, t.Context(), "--count", "200")
	_, e, _ := runGenCommand(t, t.Context(), "--count", "200", "--seed", "1")
	if d != e {
		t.Error("the default seed is not 1")
	}
}

func TestGenDefaultCount(t *testing.T) {
	code, out, _ := runGenCommand(t, t.Context())
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if n := len(genLines(t, out)); n != defaultGenCount {
		t.Errorf("got %d lines, want %d", n, defaultGenCount)
	}
}

func TestGenTypes(t *testing.T) {
	code, out, errs := runGenCommand(t, t.Context(), "--count", "300", "--types", " uninstall, OPEN ,")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	seen := map[event.Type]int{}
	for i, l := range genLines(t, out) {
		typ, err := event.PeekType([]byte(l))
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		seen[typ]++
	}
	if len(seen) != 2 || seen[event.TypeUninstall] == 0 || seen[event.TypeOpen] == 0 {
		t.Errorf("types = %v, want only UNINSTALL and OPEN", seen)
	}
}

func TestGenUsageErrors(t *testing.T) {
	tests := []struct {
		name   string
		reason string
		args   []string
		code   int
		stderr string
	}{
		{name: "help", reason: "--help prints the usage and succeeds", args: []string{"--help"}, code: 0, stderr: "usage: rtds gen [--count N]"},
		{name: "help lists types", reason: "users need the type names for --types", args: []string{"-h"}, code: 0, stderr: "FEATURE_FLAG_INTERACTION"},
		{name: "unknown type", reason: "a typo must not silently produce nothing", args: []string{"--types", "OPEN,OPNE"}, code: 2, stderr: `unknown event type "OPNE"`},
		{name: "empty types", reason: "a list of commas names nothing", args: []string{"--types", ",,"}, code: 2, stderr: "names no event type"},
		{name: "negative count", reason: "a count is never negative", args: []string{"--count", "-1"}, code: 2, stderr: "--count must be 0 or more"},
		{name: "bad count", reason: "flag parse errors are usage errors", args: []string{"--count", "many"}, code: 2, stderr: "invalid value"},
		{name: "argument", reason: "gen takes no files", args: []string{"events.json"}, code: 2, stderr: `unexpected argument "events.json"`},
		{name: "unknown flag", reason: "flag errors are usage errors", args: []string{"--cont", "3"}, code: 2, stderr: "flag provided but not defined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errs := runGenCommand(t, t.Context(), tc.args...)
			if code != tc.code {
				t.Errorf("%s: exit %d, want %d (stderr %q)", tc.reason, code, tc.code, errs)
			}
			// --help goes to stdout (and nothing to stderr); errors to stderr.
			got, other := errs, out
			if tc.code == 0 {
				got, other = out, errs
			}
			if !strings.Contains(got, tc.stderr) {
				t.Errorf("%s: output %q does not contain %q", tc.reason, got, tc.stderr)
			}
			if other != "" {
				t.Errorf("%s: wrote to the other stream: %q", tc.reason, other)
			}
		})
	}
}

// cancelAfter cancels its context once n bytes have been written.
type cancelAfter struct {
	bytes.Buffer
	n      int
	cancel context.CancelFunc
}

func (w *cancelAfter) Write(p []byte) (int, error) {
	n, err := w.Buffer.Write(p)
	if w.Len() >= w.n {
		w.cancel()
	}
	return n, err
}

func TestGenUnboundedStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := &cancelAfter{n: 1 << 20, cancel: cancel}
	var errb bytes.Buffer
	code := run(ctx, &cmdEnv{stdout: out, stderr: &errb}, []string{"gen", "--count", "0"})
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	lines := genLines(t, out.String())
	if len(lines) < 100 {
		t.Fatalf("only %d events before the cancel", len(lines))
	}
	for i, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("line %d is not whole JSON after the cancel", i+1)
		}
	}
}

func TestGenInterruptedCountIsAnError(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := &cancelAfter{n: 1 << 20, cancel: cancel}
	var errb bytes.Buffer
	code := run(ctx, &cmdEnv{stdout: out, stderr: &errb}, []string{"gen", "--count", "1000000"})
	if code != 1 || !strings.Contains(errb.String(), "interrupted after") {
		t.Fatalf("exit %d, stderr %q; want 1 and the count written", code, errb.String())
	}
	for i, l := range genLines(t, out.String()) {
		if !json.Valid([]byte(l)) {
			t.Fatalf("line %d is not whole JSON after the interrupt", i+1)
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestGenWriteError(t *testing.T) {
	var errb bytes.Buffer
	code := run(t.Context(), &cmdEnv{stdout: failingWriter{}, stderr: &errb}, []string{"gen", "--count", "1000"})
	if code != 1 || !strings.Contains(errb.String(), "disk full") {
		t.Fatalf("exit %d, stderr %q; want 1 and the write error", code, errb.String())
	}
}

// TestGenPipesIntoCSV runs the pipeline in-process:
// rtds gen --count 1000 | rtds csv --type OPEN.
func TestGenPipesIntoCSV(t *testing.T) {
	code, gen, _ := runGenCommand(t, t.Context(), "--count", "1000")
	if code != 0 {
		t.Fatalf("gen exit %d", code)
	}
	opens := 0
	sc := bufio.NewScanner(strings.NewReader(gen))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if typ, _ := event.PeekType(sc.Bytes()); typ == event.TypeOpen {
			opens++
		}
	}
	if opens == 0 {
		t.Fatal("no OPEN events in 1000")
	}
	code, out, errs := runCSVCommand(t, t.Context(), gen, "--type", "OPEN")
	if code != 0 || errs != "" {
		t.Fatalf("csv exit %d, stderr %q", code, errs)
	}
	recs := csvParse(t, out)
	header, _ := event.CSVHeader(event.TypeOpen)
	if strings.Join(recs[0], ",") != strings.Join(header, ",") {
		t.Errorf("header = %v, want %v", recs[0], header)
	}
	if len(recs)-1 != opens {
		t.Errorf("%d rows, want one per OPEN event (%d)", len(recs)-1, opens)
	}
}
