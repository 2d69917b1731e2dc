package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rtdskit/rtds/event"
)

var statsLines = []string{
	`{"id":"a","type":"OPEN","occurred":"2024-05-01T12:00:00Z","processed":"2024-05-01T12:00:02Z","body":{"x":1}}`,
	`{"id":"a","type":"OPEN","occurred":"2024-05-01T12:00:01Z","processed":"2024-05-01T12:00:02Z","body":{"session_id":5}}`,
	`not json`,
	``,
	`{"id":"b","type":"HOLOGRAM","occurred":"2024-05-01T11:00:00Z","body":{"secret":"payload"}}`,
	`{"id":"c","type":"UNINSTALL","occurred":"2024-05-01T12:30:00Z","processed":"2024-05-01T12:30:10Z"}`,
}

func statsJSON(t *testing.T, stdout string) StatsReport {
	t.Helper()
	var r StatsReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("--format json output: %v\n%s", err, stdout)
	}
	return r
}

func TestStatsReportsTypesTimesLagDuplicatesAndDrift(t *testing.T) {
	var out, errb bytes.Buffer
	env := &cmdEnv{stdin: strings.NewReader(strings.Join(statsLines, "\n")), stdout: &out, stderr: &errb}
	code := run(t.Context(), env, []string{"stats", "--format", "json", "--examples"})
	if code != 1 {
		t.Errorf("exit %d, want 1 for the malformed line", code)
	}
	if want := "rtds stats: stdin:3: "; !strings.HasPrefix(errb.String(), want) {
		t.Errorf("stderr = %q, want it to start with %q", errb.String(), want)
	}
	r := statsJSON(t, out.String())
	if r.Events != 4 || r.Malformed != 1 {
		t.Errorf("events %d, malformed %d; want 4, 1", r.Events, r.Malformed)
	}
	wantTypes := []TypeCounts{
		{Type: event.TypeOpen, Count: 2, Share: 0.5, BytesP50: len(statsLines[0]), BytesP99: len(statsLines[1])},
		{Type: "HOLOGRAM", Count: 1, Share: 0.25, BytesP50: len(statsLines[4]), BytesP99: len(statsLines[4])},
		{Type: event.TypeUninstall, Count: 1, Share: 0.25, BytesP50: len(statsLines[5]), BytesP99: len(statsLines[5])},
	}
	if diff := cmp.Diff(wantTypes, r.Types); diff != "" {
		t.Errorf("types (-want +got):\n%s", diff)
	}
	if r.Occurred == nil || r.Occurred.First.Hour() != 11 || r.Occurred.Last.Minute() != 30 {
		t.Errorf("occurred = %+v", r.Occurred)
	}
	if l := r.Lag; l == nil || l.Events != 3 || l.P50.Seconds() != 2 || l.Max.Seconds() != 10 {
		t.Errorf("lag = %+v, want 3 events, p50 2s, max 10s", l)
	}
	if r.Duplicates != (DuplicateCounts{Events: 1, IDs: 1}) {
		t.Errorf("duplicates = %+v", r.Duplicates)
	}
	if diff := cmp.Diff([]UnknownCount{{"HOLOGRAM", 1}}, r.Unknown); diff != "" {
		t.Errorf("unknown (-want +got):\n%s", diff)
	}
	wantDrift := []event.DriftStat{
		{Type: "HOLOGRAM", Path: "type", Kind: event.DriftUnknownType, Count: 1, FirstSeen: "stdin:5"},
		{Type: event.TypeOpen, Path: "body.session_id", Kind: event.DriftTypeMismatch, JSONType: "number", Count: 1, FirstSeen: "stdin:2", Example: "5"},
		{Type: event.TypeOpen, Path: "body.x", Kind: event.DriftUnknownField, JSONType: "number", Count: 1, FirstSeen: "stdin:1", Example: "1"},
	}
	if diff := cmp.Diff(wantDrift, r.Drift); diff != "" {
		t.Errorf("drift (-want +got):\n%s", diff)
	}
	if strings.Contains(out.String(), "payload") {
		t.Error("the report shows an unknown type's body")
	}
}

func TestStatsTextReportReadsGzipFiles(t *testing.T) {
	dir := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(statsLines[0] + "\n" + statsLines[5] + "\n"))
	zw.Close()
	path := filepath.Join(dir, "events.ndjson.gz")
	if err := os.WriteFile(path, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	env := &cmdEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
	if code := run(t.Context(), env, []string{"stats", "--type", "open", path}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{
		"1 event, 0 malformed records",
		"OPEN  1      100.0%",
		"duplicate ids: 0 ids repeated 0 times",
		"body.x  unknown_field  number  1      " + path + ":1\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "EXAMPLE") {
		t.Errorf("the report shows example values without --examples:\n%s", out.String())
	}
}

func TestStatsUsageErrors(t *testing.T) {
	tests := []struct {
		name, reason string
		args         []string
		want         string
	}{
		{"format", "only text and json exist", []string{"--format", "xml"}, `unknown --format "xml"`},
		{"stream and files", "a stream run reads no files", []string{"--stream", "s", "f.ndjson"}, "--stream reads no files"},
		{"from", "--from takes a position", []string{"--stream", "s", "--from", "yesterday"}, `--from "yesterday"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runMain(t, append([]string{"stats"}, tt.args...)...)
			if code != 2 || stdout != "" || !strings.Contains(stderr, tt.want) || !strings.HasPrefix(stderr, "rtds stats: ") {
				t.Errorf("%s: exit %d, stdout %q, stderr %q; want 2 and %q", tt.reason, code, stdout, stderr, tt.want)
			}
		})
	}
}

func TestStatsReadsAStream(t *testing.T) {
	stream, ep, _ := tailStream(t,
		[]byte(tailEvents[0]),
		tailAggregate("k", tailEvents[1], `{"id":"e9","type":"OPEN","extra":true}`),
		[]byte("not json"),
	)
	env, stdout, stderr := putEnv(ep, "")
	code := run(context.Background(), env, []string{"stats", "--stream", stream, "--idle-exit", "300ms", "--format", "json"})
	if code != 1 {
		t.Errorf("exit %d, want 1 for the malformed record; stderr:\n%s", code, stderr)
	}
	r := statsJSON(t, stdout.String())
	if r.Events != 3 || r.Malformed != 1 {
		t.Errorf("events %d, malformed %d; want 3, 1", r.Events, r.Malformed)
	}
	want := []ShardCounts{{Shard: "shardId-000000000000", Records: 4, Aggregated: 2, Plain: 2}}
	if diff := cmp.Diff(want, r.Shards); diff != "" {
		t.Errorf("shards (-want +got):\n%s", diff)
	}
	if len(r.Drift) != 1 || r.Drift[0].Path != "extra" || !strings.Contains(r.Drift[0].FirstSeen, "(sub-record 1)") {
		t.Errorf("drift = %+v, want extra first seen in sub-record 1", r.Drift)
	}
	if !strings.Contains(stderr.String(), "rtds stats: shard shardId-000000000000 sequence number ") {
		t.Errorf("stderr lacks the malformed record's position:\n%s", stderr)
	}
}
