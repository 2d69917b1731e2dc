package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/rtdskit/rtds/batch"
	"github.com/rtdskit/rtds/event/eventgen"
	"github.com/rtdskit/rtds/internal/testenv"
)

// putEnv is a cmdEnv pointing the AWS configuration at endpoint.
func putEnv(endpoint string, stdin string) (*cmdEnv, *bytes.Buffer, *bytes.Buffer) {
	var stdout, stderr bytes.Buffer
	vars := map[string]string{
		"AWS_ENDPOINT_URL_KINESIS": endpoint,
		"AWS_REGION":               testenv.Region,
		"AWS_ACCESS_KEY_ID":        "AKIDTEST",
		"AWS_SECRET_ACCESS_KEY":    "secret",
	}
	return &cmdEnv{
		stdin:  strings.NewReader(stdin),
		stdout: &stdout,
		stderr: &stderr,
		getenv: func(k string) string { return vars[k] },
	}, &stdout, &stderr
}

// testEvent is one UNINSTALL event's JSON with a unique id and channel.
func testEvent(i int) string {
	return fmt.Sprintf(`{"id":"00000000-0000-4000-8000-%012d","type":"UNINSTALL","offset":"%d",`+
		`"occurred":"2026-11-28T10:00:00.000Z","processed":"2026-11-28T10:00:01.000Z",`+
		`"device":{"channel":"c%07d","device_type":"ANDROID"},"body":{}}`, i, i, i%5000)
}

// readLines reads the whole stream back, deaggregating with batch, and
// returns how many times each record's data (an input line) appears.
func readLines(t *testing.T, client *sdkkinesis.Client, stream string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ls, err := client.ListShards(ctx, &sdkkinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, sh := range ls.Shards {
		it, err := client.GetShardIterator(ctx, &sdkkinesis.GetShardIteratorInput{StreamName: aws.String(stream),
			ShardId: sh.ShardId, ShardIteratorType: sdktypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		iter := it.ShardIterator
		for iter != nil {
			out, err := client.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range out.Records {
				urs, err := batch.Deaggregate(batch.KinesisRecord{SequenceNumber: aws.ToString(r.SequenceNumber),
					PartitionKey: aws.ToString(r.PartitionKey), Data: r.Data})
				if err != nil {
					t.Fatal(err)
				}
				for _, u := range urs {
					got[string(u.Data)]++
				}
			}
			iter = out.NextShardIterator
			if len(out.Records) == 0 && aws.ToInt64(out.MillisBehindLatest) == 0 {
				break
			}
		}
	}
	return got
}

func TestPutBadLinesAndFiles(t *testing.T) {
	t.Parallel()
	client, ep := testenv.Kinesalite(t)
	name, _ := testenv.CreateStream(t, client, 2)
	dir := t.TempDir()
	file := filepath.Join(dir, "events.ndjson")
	if err := os.WriteFile(file, []byte(testEvent(1)+"\n"+testEvent(2)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdin := testEvent(3) + "\nnot json\n\n" + testEvent(4) + "\n"
	env, stdout, stderr := putEnv(ep, stdin)
	code := run(context.Background(), env, []string{"put", "--stream", name, "--partition-key", "id", file, "-"})
	if code != 1 {
		t.Fatalf("exit %d, want 1 for a bad line; stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stderr.String(), "stdin:2:") {
		t.Errorf("stderr does not name the bad line 2 of stdin:\n%s", stderr)
	}
	if stdout.Len() != 0 || !strings.Contains(stderr.String(), "rtds put: 4 events") || !strings.Contains(stderr.String(), "0 failures") {
		t.Errorf("summary (stderr): %q, stdout %q", stderr, stdout)
	}
	got := readLines(t, client, name)
	for i := 1; i <= 4; i++ {
		if got[testEvent(i)] != 1 {
			t.Errorf("event %d stored %d times, want once", i, got[testEvent(i)])
		}
	}
	if len(got) != 4 {
		t.Errorf("stream holds %d distinct records, want the 4 good lines", len(got))
	}
}

func TestPutUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, reason string
		args         []string
		code         int
	}{
		{"help", "--help prints usage and succeeds", []string{"put", "--help"}, 0},
		{"no stream", "--stream is required", []string{"put"}, 2},
		{"bad key", "partition key must be known", []string{"put", "--stream", "s", "--partition-key", "nope"}, 2},
	}
	for _, tt := range tests {
		env, _, stderr := putEnv("http://127.0.0.1:1", "")
		if code := run(context.Background(), env, tt.args); code != tt.code {
			t.Errorf("%s (%s): exit %d, want %d; stderr:\n%s", tt.name, tt.reason, code, tt.code, stderr)
		}
		if tt.code != 0 && !strings.HasSuffix(stderr.String(), "run 'rtds put --help'\n") {
			t.Errorf("%s: no hint to --help on stderr: %q", tt.name, stderr)
		}
	}
}

// TestPut100k is the acceptance case: 100,000 events from the
// generator (every known type, the mix `rtds gen` writes) put with
// --aggregate to kinesalite, every one read back unchanged (about 25 s
// under -race on 2 cores).
func TestPut100k(t *testing.T) {
	t.Parallel()
	client, ep := testenv.Kinesalite(t)
	name, _ := testenv.CreateStream(t, client, 4)
	const n = 100000
	var in strings.Builder
	lines := make([]string, n)
	g := eventgen.New(1)
	for i := range n {
		lines[i] = string(g.Next())
		in.WriteString(lines[i])
		in.WriteByte('\n')
	}
	env, stdout, stderr := putEnv(ep, in.String())
	start := time.Now()
	if code := run(context.Background(), env, []string{"put", "--stream", name, "--aggregate"}); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	t.Logf("put %d events in %v: %s", n, time.Since(start), strings.TrimSpace(stderr.String()))
	if stdout.Len() != 0 || !strings.Contains(stderr.String(), fmt.Sprintf("rtds put: %d events,", n)) || !strings.Contains(stderr.String(), " 0 failures") {
		t.Errorf("summary: %q", stderr)
	}
	// Every line is in the stream exactly once, unchanged. (The generator's
	// ids are unique, so equal lines cannot hide a loss.)
	got := readLines(t, client, name)
	missing, dups := 0, 0
	for _, l := range lines {
		switch got[l] {
		case 0:
			missing++
		case 1:
		default:
			dups++
		}
	}
	if missing > 0 || dups > 0 || len(got) != n {
		t.Fatalf("%d of %d events missing, %d duplicated, %d distinct records read back", missing, n, dups, len(got))
	}
}
