package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/rtdskit/rtds/internal/testenv"
)

// exportEnv is a cmdEnv whose AWS configuration points at the emulators.
func exportEnv(t *testing.T) (*cmdEnv, *bytes.Buffer) {
	t.Helper()
	vars := map[string]string{
		"AWS_ENDPOINT_URL_KINESIS":  testenv.Lookup(t, testenv.EnvKinesalite),
		"AWS_ENDPOINT_URL_S3":       testenv.Lookup(t, testenv.EnvS3),
		"AWS_ENDPOINT_URL_DYNAMODB": testenv.Lookup(t, testenv.EnvDynalite),
		"AWS_REGION":                testenv.Region,
		"AWS_ACCESS_KEY_ID":         "AKIDTEST",
		"AWS_SECRET_ACCESS_KEY":     "secret",
	}
	var stdout, stderr bytes.Buffer
	return &cmdEnv{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
		getenv: func(k string) string { return vars[k] }}, &stderr
}

// exportEvent is an event of type typ processed at p.
func exportEvent(i int, typ string, p time.Time) []byte {
	return fmt.Appendf(nil, `{"id":"e-%06d","type":%q,"offset":"%d","occurred":%q,"processed":%q,`+
		`"device":{"channel":"c-%03d","device_type":"ANDROID"},"body":{"session_id":"s"}}`,
		i, typ, i, p.Format(time.RFC3339Nano), p.Format(time.RFC3339Nano), i%37)
}

// inOrderEvents are n events in processed order over three hours and two
// days, of a few types, one without a CSV layout.
func inOrderEvents(n int) [][]byte { return inOrderEventsOver(n, 3*time.Hour) }

// inOrderEventsOver is inOrderEvents over span.
func inOrderEventsOver(n int, span time.Duration) [][]byte {
	base := time.Date(2026, 3, 8, 22, 30, 0, 0, time.UTC)
	types := []string{"OPEN", "CLOSE", "UNINSTALL", "TAG_CHANGE", "COMPLIANCE"}
	out := make([][]byte, n)
	for i := range out {
		out[i] = exportEvent(i, types[i%len(types)], base.Add(time.Duration(i)*span/time.Duration(n)))
	}
	return out
}

func putAll(t *testing.T, kc *sdkkinesis.Client, stream string, recs [][]byte) {
	t.Helper()
	for i, d := range recs {
		if _, err := kc.PutRecord(context.Background(), &sdkkinesis.PutRecordInput{
			StreamName: aws.String(stream), PartitionKey: aws.String(fmt.Sprint("k", i%37)), Data: d}); err != nil {
			t.Fatal(err)
		}
	}
}

// files returns the data files below dir (not the exporter's manifests).
func files(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if strings.Contains(rel, ".rtds") || strings.HasSuffix(rel, ".cp") {
			return nil
		}
		b, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func gunzipString(t *testing.T, s string) string {
	t.Helper()
	r, err := gzip.NewReader(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// rtds export writes the layout to a directory, reports types without a
// CSV layout, and with --idle-exit stops at the tip with status 0, having
// checkpointed everything: a second run finds nothing to do. Checkpoints
// in a file and in DynamoDB.
func TestExportWritesTheLayoutAndStopsWhenIdle(t *testing.T) {
	for _, store := range []string{"file", "dynamodb"} {
		t.Run(store, func(t *testing.T) { testExportLayoutAndIdle(t, store) })
	}
}

func testExportLayoutAndIdle(t *testing.T, store string) {
	kc, _ := testenv.Kinesalite(t)
	stream, _ := testenv.CreateStream(t, kc, 1)
	recs := inOrderEvents(100)
	putAll(t, kc, stream, recs)
	dir := t.TempDir()
	cp := "file://" + filepath.Join(dir, "export.cp")
	if store == "dynamodb" {
		table := testenv.UniqueName("rtds-export")
		cp = "dynamodb://" + table
		ddb, _ := testenv.DynamoDB(t)
		t.Cleanup(func() {
			_, _ = ddb.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
		})
	}
	args := []string{"--stream", stream, "--to", "file://" + filepath.Join(dir, "out"), "--app-key", "APP",
		"--integration-id", "INT", "--format", "csv", "--checkpoint", cp, "--idle-exit", "300ms"}
	env, stderr := exportEnv(t)
	if code := run(context.Background(), env, append([]string{"export"}, args...)); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got := files(t, filepath.Join(dir, "out"))
	want := []string{
		"APP/INT/S3_CSV/CLOSE/2026_03_08/2026_03_08_22_31_48.csv",
		"APP/INT/S3_CSV/CLOSE/2026_03_08/2026_03_08_23_07_48.csv",
		"APP/INT/S3_CSV/CLOSE/2026_03_09/2026_03_09_00_01_48.csv",
		"APP/INT/S3_CSV/CLOSE/2026_03_09/2026_03_09_01_04_48.csv",
		"APP/INT/S3_CSV/OPEN/2026_03_08/2026_03_08_22_30_00.csv",
		"APP/INT/S3_CSV/OPEN/2026_03_08/2026_03_08_23_06_00.csv",
		"APP/INT/S3_CSV/OPEN/2026_03_09/2026_03_09_00_00_00.csv",
		"APP/INT/S3_CSV/OPEN/2026_03_09/2026_03_09_01_03_00.csv",
		"APP/INT/S3_CSV/TAG_CHANGE/2026_03_08/2026_03_08_22_35_24.csv",
		"APP/INT/S3_CSV/TAG_CHANGE/2026_03_08/2026_03_08_23_02_24.csv",
		"APP/INT/S3_CSV/TAG_CHANGE/2026_03_09/2026_03_09_00_05_24.csv",
		"APP/INT/S3_CSV/TAG_CHANGE/2026_03_09/2026_03_09_01_08_24.csv",
		"APP/INT/S3_CSV/UNINSTALL/2026_03_08/2026_03_08_22_33_36.csv",
		"APP/INT/S3_CSV/UNINSTALL/2026_03_08/2026_03_08_23_00_36.csv",
		"APP/INT/S3_CSV/UNINSTALL/2026_03_09/2026_03_09_00_03_36.csv",
		"APP/INT/S3_CSV/UNINSTALL/2026_03_09/2026_03_09_01_06_36.csv",
	}
	if diff := cmp.Diff(want, sortedKeys(got)); diff != "" {
		t.Fatalf("files (-want +got):\n%s", diff)
	}
	rows := 0
	for _, v := range got {
		rows += strings.Count(v, "\n") - 1
	}
	if rows != 80 {
		t.Errorf("%d rows, want 80 (20 COMPLIANCE events have no CSV layout)", rows)
	}
	out := stderr.String()
	for _, s := range []string{"80 events in 16 files", "not written (no CSV layout): COMPLIANCE 20"} {
		if !strings.Contains(out, s) {
			t.Errorf("stderr lacks %q:\n%s", s, out)
		}
	}
	// Everything was checkpointed: a second run writes nothing.
	env, stderr = exportEnv(t)
	if code := run(context.Background(), env, append([]string{"export"}, args...)); code != 0 {
		t.Fatalf("second run: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr.String(), "0 events in 0 files") {
		t.Errorf("second run: %s", stderr)
	}
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

// Export a one-shard stream as gzipped JSON, replay the files into a new
// one-shard stream, export that: the same files.
func TestReplayRoundTripGivesIdenticalFiles(t *testing.T) {
	kc, _ := testenv.Kinesalite(t)
	first, _ := testenv.CreateStream(t, kc, 1)
	putAll(t, kc, first, inOrderEvents(300))
	dir := t.TempDir()
	export := func(stream, to string) {
		t.Helper()
		env, stderr := exportEnv(t)
		code := run(context.Background(), env, []string{"export", "--stream", stream, "--to", to,
			"--app-key", "APP", "--integration-id", "INT", "--format", "json", "--gzip", "--idle-exit", "300ms"})
		if code != 0 {
			t.Fatalf("export: exit %d: %s", code, stderr)
		}
	}
	export(first, "file://"+filepath.Join(dir, "a"))
	second, _ := testenv.CreateStream(t, kc, 1)
	env, stderr := exportEnv(t)
	if code := run(context.Background(), env, []string{"replay", "--from", "file://" + filepath.Join(dir, "a"), "--stream", second}); code != 0 {
		t.Fatalf("replay: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr.String(), "300 events put from 4 files") {
		t.Errorf("replay: %s", stderr)
	}
	export(second, "file://"+filepath.Join(dir, "b"))
	a, b := files(t, filepath.Join(dir, "a")), files(t, filepath.Join(dir, "b"))
	if len(a) != 4 {
		t.Fatalf("first export: %v", sortedKeys(a))
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("exports differ (-first +second):\n%s", diff)
	}
	if n := strings.Count(gunzipString(t, a["APP/INT/S3_JSON/2026_03_08/2026_03_08_22_30_00.json.gz"]), "\n"); n != 50 {
		t.Errorf("first hour: %d events, want 50", n)
	}
}

// Replay from S3 with filters: --since, --until and --type.
func TestReplayFromS3Filters(t *testing.T) {
	kc, _ := testenv.Kinesalite(t)
	first, _ := testenv.CreateStream(t, kc, 1)
	putAll(t, kc, first, inOrderEvents(60))
	s3c, _ := testenv.S3(t)
	bucket := testenv.CreateBucket(t, s3c)
	env, stderr := exportEnv(t)
	if code := run(context.Background(), env, []string{"export", "--stream", first, "--to", "s3://" + bucket + "/exp",
		"--app-key", "APP", "--integration-id", "INT", "--sse", "AES256", "--idle-exit", "300ms"}); code != 0 {
		t.Fatalf("export: exit %d: %s", code, stderr)
	}
	h, err := s3c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket),
		Key: aws.String("exp/APP/INT/S3_JSON/2026_03_08/2026_03_08_22_30_00.json")})
	if err != nil || h.ServerSideEncryption != "AES256" {
		t.Fatalf("HeadObject: %v %v", err, h)
	}
	second, _ := testenv.CreateStream(t, kc, 1)
	env, stderr = exportEnv(t)
	code := run(context.Background(), env, []string{"replay", "--from", "s3://" + bucket + "/exp/APP", "--stream", second,
		"--since", "2026-03-08T23:00:00Z", "--until", "2026-03-09T00:00:00Z", "--type", "OPEN"})
	if code != 0 {
		t.Fatalf("replay: exit %d: %s", code, stderr)
	}
	// 20 events per hour, every fifth an OPEN.
	if !strings.Contains(stderr.String(), "4 events put from 4 files, 56 events filtered out") {
		t.Errorf("replay: %s", stderr)
	}
}

func TestExportFailsClearlyOnBadDestinations(t *testing.T) {
	kc, _ := testenv.Kinesalite(t)
	stream, _ := testenv.CreateStream(t, kc, 1)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--to", "s3://no-such-bucket-rtds-test"}, 1, "bucket no-such-bucket-rtds-test does not exist"},
		{[]string{"--to", "ftp://x"}, 2, "want s3://bucket[/prefix] or file://dir"},
		{[]string{"--to", "file:///tmp/x", "--format", "xml"}, 2, "unknown --format"},
		{[]string{"--to", "file:///tmp/x", "--kms-key-id", "k"}, 2, "--kms-key-id needs --sse aws:kms"},
	} {
		env, stderr := exportEnv(t)
		args := append([]string{"export", "--stream", stream, "--app-key", "A", "--integration-id", "I"}, tc.args...)
		if code := run(context.Background(), env, args); code != tc.code || !strings.Contains(stderr.String(), tc.msg) {
			t.Errorf("%v: exit %d, want %d; stderr %q lacks %q", tc.args, code, tc.code, stderr, tc.msg)
		}
	}
}

// Access denied on upload stops rtds export with status 1 and S3's error,
// and no checkpoint passes an event that was not stored.
func TestExportStopsWhenUploadsAreDenied(t *testing.T) {
	kc, _ := testenv.Kinesalite(t)
	stream, _ := testenv.CreateStream(t, kc, 1)
	putAll(t, kc, stream, inOrderEvents(60))
	s3c, s3ep := testenv.S3(t)
	bucket := testenv.CreateBucket(t, s3c)
	deny := testenv.DenyWritesProxy(t, s3ep)
	env, stderr := exportEnv(t)
	getenv := env.getenv
	env.getenv = func(k string) string {
		if k == "AWS_ENDPOINT_URL_S3" {
			return deny
		}
		return getenv(k)
	}
	cp := filepath.Join(t.TempDir(), "export.cp")
	code := run(context.Background(), env, []string{"export", "--stream", stream, "--to", "s3://" + bucket,
		"--app-key", "APP", "--integration-id", "INT", "--checkpoint", "file://" + cp, "--idle-exit", "2s"})
	t.Logf("stderr:\n%s", stderr)
	if code != 1 || !strings.Contains(stderr.String(), "AccessDenied: Access Denied") {
		t.Fatalf("exit %d, want 1 with AccessDenied:\n%s", code, stderr)
	}
	if b, err := os.ReadFile(cp); err == nil && strings.Contains(string(b), "SequenceNumber") {
		t.Errorf("a checkpoint was saved: %s", b)
	}
}

// With several shards, export, replay into another stream with several
// shards and export again: the same events per type and hour (files
// differ, as events land on other shards).
func TestReplayRoundTripWithSeveralShardsKeepsEventsPerTypeAndHour(t *testing.T) {
	kc, _ := testenv.Kinesalite(t)
	first, _ := testenv.CreateStream(t, kc, 3)
	putAll(t, kc, first, inOrderEvents(300))
	dir := t.TempDir()
	export := func(stream, to string) {
		t.Helper()
		env, stderr := exportEnv(t)
		if code := run(context.Background(), env, []string{"export", "--stream", stream, "--to", to,
			"--app-key", "APP", "--integration-id", "INT", "--idle-exit", "300ms"}); code != 0 {
			t.Fatalf("export: exit %d: %s", code, stderr)
		}
	}
	export(first, "file://"+filepath.Join(dir, "a"))
	second, _ := testenv.CreateStream(t, kc, 2)
	env, stderr := exportEnv(t)
	if code := run(context.Background(), env, []string{"replay", "--from", "file://" + filepath.Join(dir, "a"), "--stream", second}); code != 0 {
		t.Fatalf("replay: exit %d: %s", code, stderr)
	}
	export(second, "file://"+filepath.Join(dir, "b"))
	byTypeHour := func(fs map[string]string) map[string][]string {
		out := map[string][]string{}
		for _, body := range fs {
			for _, line := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
				var e struct{ ID, Type, Processed string }
				if err := json.Unmarshal([]byte(line), &e); err != nil {
					t.Fatal(err)
				}
				k := e.Type + " " + e.Processed[:13]
				out[k] = append(out[k], e.ID)
			}
		}
		for k := range out {
			slices.Sort(out[k])
		}
		return out
	}
	a, b := files(t, filepath.Join(dir, "a")), files(t, filepath.Join(dir, "b"))
	for _, k := range sortedKeys(a) {
		if !strings.HasSuffix(k, "_0.json") && !strings.HasSuffix(k, "_1.json") && !strings.HasSuffix(k, "_2.json") {
			t.Errorf("several shards, but %s has no shard number", k)
		}
	}
	ga, gb := byTypeHour(a), byTypeHour(b)
	if len(ga) != 20 {
		t.Errorf("%d type-hours, want 20", len(ga))
	}
	if diff := cmp.Diff(ga, gb); diff != "" {
		t.Errorf("events per type and hour differ (-first +second):\n%s", diff)
	}
}
