package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"google.golang.org/protobuf/encoding/protowire"

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
				datas, err := splitAggregate(r.Data)
				if err != nil {
					t.Fatalf("record %s: %v", aws.ToString(r.SequenceNumber), err)
				}
				for _, d := range datas {
					e, err := event.Decode(d)
					if err != nil {
						t.Fatalf("record %s: %v", aws.ToString(r.SequenceNumber), err)
					}
					id := e.Base().ID
					if lines != nil && lines[id] != string(d) {
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

// splitAggregate returns the user records' data of a KPL aggregated record
// (checking its MD5), or the data itself for a plain record. It is a small
// independent reader, so this test does not trust the producer's encoder.
func splitAggregate(d []byte) ([][]byte, error) {
	if len(d) < 4 || !bytes.Equal(d[:4], []byte{0xF3, 0x89, 0x9A, 0xC2}) {
		return [][]byte{d}, nil
	}
	if len(d) < 20 {
		return nil, errors.New("aggregate too short")
	}
	body, sum := d[4:len(d)-16], d[len(d)-16:]
	if got := md5.Sum(body); !bytes.Equal(got[:], sum) {
		return nil, errors.New("aggregate MD5 mismatch")
	}
	var out [][]byte
	for len(body) > 0 {
		num, typ, n := protowire.ConsumeTag(body)
		if n < 0 {
			return nil, errors.New("bad tag")
		}
		body = body[n:]
		n = protowire.ConsumeFieldValue(num, typ, body)
		if n < 0 {
			return nil, errors.New("bad field")
		}
		field := body[:n]
		body = body[n:]
		if num != 3 {
			continue
		}
		rec, m := protowire.ConsumeBytes(field)
		if m < 0 {
			return nil, errors.New("bad record")
		}
		for len(rec) > 0 {
			f, ft, k := protowire.ConsumeTag(rec)
			if k < 0 {
				return nil, errors.New("bad record tag")
			}
			rec = rec[k:]
			if f == 3 && ft == protowire.BytesType {
				v, k := protowire.ConsumeBytes(rec)
				if k < 0 {
					return nil, errors.New("bad record data")
				}
				out = append(out, v)
				rec = rec[k:]
				continue
			}
			k = protowire.ConsumeFieldValue(f, ft, rec)
			if k < 0 {
				return nil, errors.New("bad record field")
			}
			rec = rec[k:]
		}
	}
	return out, nil
}
