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
	"github.com/rtdskit/rtds/event"
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

// readIDs reads the whole stream back, deaggregating, and returns each
// event id's count, checking that every record is the event's line
// unchanged.
func readIDs(t *testing.T, client *sdkkinesis.Client, stream string, lines map[string]string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ls, err := client.ListShards(ctx, &sdkkinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
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
					e, err := event.Decode(u.Data)
					if err != nil {
						t.Fatalf("record %s: %v", u.SequenceNumber, err)
					}
					id := e.Base().ID
					if lines != nil && lines[id] != string(u.Data) {
						t.Fatalf("event %s: record data is not the input line", id)
					}
					ids[id]++
				}
			}
			iter = out.NextShardIterator
			if len(out.Records) == 0 && aws.ToInt64(out.MillisBehindLatest) == 0 {
				break
			}
		}
	}
	return ids
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
	if !strings.Contains(stdout.String(), "put: 4 events") || !strings.Contains(stdout.String(), "0 failures") {
		t.Errorf("summary: %q", stdout)
	}
	ids := readIDs(t, client, name, nil)
	if len(ids) != 4 {
		t.Errorf("stream holds %d events, want the 4 good lines", len(ids))
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
		if !strings.Contains(stderr.String(), "usage: rtds put") && tt.code != 0 && tt.name != "bad key" {
			t.Errorf("%s: no usage on stderr", tt.name)
		}
	}
}

// TestPut100k is the acceptance case: 100,000 generated events put
// with --aggregate to kinesalite, every one read back.
func TestPut100k(t *testing.T) {
	t.Parallel()
	client, ep := testenv.Kinesalite(t)
	name, _ := testenv.CreateStream(t, client, 4)
	const n = 100000
	var in strings.Builder
	lines := make(map[string]string, n)
	for i := range n {
		line := testEvent(i)
		lines[fmt.Sprintf("00000000-0000-4000-8000-%012d", i)] = line
		in.WriteString(line)
		in.WriteByte('\n')
	}
	env, stdout, stderr := putEnv(ep, in.String())
	start := time.Now()
	if code := run(context.Background(), env, []string{"put", "--stream", name, "--aggregate"}); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	t.Logf("put %d events in %v: %s", n, time.Since(start), strings.TrimSpace(stdout.String()))
	if !strings.HasPrefix(stdout.String(), fmt.Sprintf("put: %d events,", n)) || !strings.Contains(stdout.String(), " 0 failures") {
		t.Errorf("summary: %q", stdout)
	}
	ids := readIDs(t, client, name, lines)
	missing := 0
	for id := range lines {
		if ids[id] == 0 {
			missing++
		}
	}
	if missing > 0 || len(ids) != n {
		t.Fatalf("%d of %d events missing; %d distinct read back", missing, n, len(ids))
	}
}
