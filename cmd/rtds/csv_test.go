package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rtdskit/rtds/event"
)

const (
	csvOpenA  = `{"id":"a","type":"OPEN","offset":"1","occurred":"2024-05-01T12:00:00.1Z","processed":"2024-05-01T12:00:01Z","device":{"channel":"c1","device_type":"IOS","named_user_id":"nu"},"body":{"session_id":"s, \"1\""}}`
	csvCloseB = `{"id":"b","type":"CLOSE","offset":"2","device":{"channel":"c2","device_type":"ANDROID"},"body":{"session_id":"s2"}}`
	csvOpenC  = `{"id":"c","type":"OPEN","offset":3,"device":{"android_channel":"c3"},"body":{"triggering_push":{"push_id":"p","variant_id":"2"}}}`
)

func runCSVCommand(t *testing.T, ctx context.Context, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cmdEnv{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code = run(ctx, env, append([]string{"csv"}, args...))
	return code, out.String(), errb.String()
}

func csvParse(t *testing.T, s string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatalf("output is not CSV: %v\n%s", err, s)
	}
	return recs
}

func TestCSVConvertsOneTypeInOrder(t *testing.T) {
	in := csvOpenA + "\n\n" + csvCloseB + "\n" + csvOpenC + "\n"
	code, out, errs := runCSVCommand(t, t.Context(), in, "--type", "OPEN")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	header, _ := event.CSVHeader(event.TypeOpen)
	recs := csvParse(t, out)
	if len(recs) != 3 {
		t.Fatalf("got %d records, want header + 2:\n%s", len(recs), out)
	}
	if diff := cmp.Diff(header, recs[0]); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	for i, want := range []event.Event{csvDecode(t, csvOpenA), csvDecode(t, csvOpenC)} {
		row, _ := event.CSVRecord(want)
		if diff := cmp.Diff(row, recs[i+1]); diff != "" {
			t.Errorf("row %d (-want +got):\n%s", i+1, diff)
		}
	}
	if recs[1][0] != "a" || recs[2][0] != "c" {
		t.Errorf("rows out of input order: %v", recs)
	}
}

func csvDecode(t *testing.T, s string) event.Event {
	t.Helper()
	e, err := event.Decode([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestCSVBadLines(t *testing.T) {
	in := strings.Join([]string{
		csvOpenA,
		`{"id":"x","type":"OPEN",`, // 2: truncated
		`["not","an","event"]`,     // 3: not an object
		`{"type":"OPEN"}`,          // 4: no id
		`{"id":"y","type":"OPEN","occurred":"soon"}`, // 5: bad timestamp
		csvOpenC,
	}, "\n")
	code, out, errs := runCSVCommand(t, t.Context(), in, "--type", "OPEN")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{"stdin:2: ", "stdin:3: ", "stdin:4: event: id: missing", "stdin:5: event: occurred: invalid timestamp"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	if n := strings.Count(errs, "\n"); n != 4 {
		t.Errorf("stderr has %d lines, want 4:\n%s", n, errs)
	}
	if recs := csvParse(t, out); len(recs) != 3 {
		t.Errorf("good lines not all converted: %d records\n%s", len(recs), out)
	}
}

func TestCSVFiles(t *testing.T) {
	dir := t.TempDir()
	f1 := filepath.Join(dir, "one.ndjson")
	f2 := filepath.Join(dir, "two.ndjson")
	if err := os.WriteFile(f1, []byte(csvOpenA+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f2, []byte(csvCloseB+"\nnot json\n"+csvOpenC), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.ndjson")
	code, out, errs := runCSVCommand(t, t.Context(), "", "--type", "open", f1, missing, f2)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(errs, "missing.ndjson") || !strings.Contains(errs, "two.ndjson:2: ") {
		t.Errorf("stderr:\n%s", errs)
	}
	recs := csvParse(t, out)
	if len(recs) != 3 || recs[1][0] != "a" || recs[2][0] != "c" {
		t.Errorf("records %v", recs)
	}
}

func TestCSVUsage(t *testing.T) {
	tests := []struct {
		name, reason string
		args         []string
		code         int
		stderr       string
	}{
		{name: "help", reason: "--help prints usage and succeeds", args: []string{"--help"}, code: 0, stderr: "usage: rtds csv --type TYPE [FILE...]"},
		{name: "help lists types", reason: "users need the types with a layout", args: []string{"-h"}, code: 0, stderr: "IN_APP_PAGER_SUMMARY"},
		{name: "no type", reason: "--type is required", args: nil, code: 2, stderr: "--type is required"},
		{name: "no layout", reason: "types outside the appendix have no CSV", args: []string{"--type", "COMPLIANCE"}, code: 2, stderr: `no CSV layout for type "COMPLIANCE"`},
		{name: "unknown flag", reason: "flag errors are usage errors", args: []string{"--typo", "OPEN"}, code: 2, stderr: "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCSVCommand(t, t.Context(), "", tt.args...)
			// --help goes to stdout (and nothing to stderr); errors to stderr.
			got, other := errs, out
			if tt.code == 0 {
				got, other = out, errs
			}
			if code != tt.code || !strings.Contains(got, tt.stderr) {
				t.Errorf("exit %d (want %d), output:\n%s", code, tt.code, got)
			}
			if other != "" {
				t.Errorf("other stream %q, want nothing", other)
			}
		})
	}
}

func TestCSVHeaderOnlyWhenNoEvents(t *testing.T) {
	code, out, _ := runCSVCommand(t, t.Context(), csvCloseB+"\n", "--type", "TAG_CHANGE")
	if code != 0 {
		t.Errorf("exit %d", code)
	}
	if recs := csvParse(t, out); len(recs) != 1 || recs[0][0] != "ID" {
		t.Errorf("records %v", recs)
	}
}

func TestCSVCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	code, _, errs := runCSVCommand(t, ctx, csvOpenA+"\n", "--type", "OPEN")
	if code != 1 || !strings.Contains(errs, "stopped") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

func TestCSVLongAndUnterminatedLines(t *testing.T) {
	// A line longer than the read buffer is still one line; a line over the
	// limit is reported and skipped; the last line needs no newline.
	long := `{"id":"l","type":"OPEN","body":{"session_id":"` + strings.Repeat("s", 200<<10) + `"}}`
	tooLong := strings.Repeat("x", csvMaxLine+10)
	in := csvOpenA + "\n" + long + "\n" + tooLong + "\n" + csvOpenC
	code, out, errs := runCSVCommand(t, t.Context(), in, "--type", "OPEN")
	if code != 1 || !strings.Contains(errs, "stdin:3: line longer than") || strings.Count(errs, "\n") != 1 {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	recs := csvParse(t, out)
	if len(recs) != 4 || recs[2][0] != "l" || len(recs[2][len(recs[2])-1]) != 200<<10 || recs[3][0] != "c" {
		t.Errorf("got %d records", len(recs))
	}
}
