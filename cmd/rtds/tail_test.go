package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/internal/testenv"
)

// tailAggregate encodes datas as one KPL aggregate under key.
func tailAggregate(key string, datas ...string) []byte {
	var msg []byte
	msg = protowire.AppendTag(msg, 1, protowire.BytesType)
	msg = protowire.AppendString(msg, key)
	for _, d := range datas {
		var r []byte
		r = protowire.AppendTag(r, 1, protowire.VarintType)
		r = protowire.AppendVarint(r, 0)
		r = protowire.AppendTag(r, 3, protowire.BytesType)
		r = protowire.AppendString(r, d)
		msg = protowire.AppendTag(msg, 3, protowire.BytesType)
		msg = protowire.AppendBytes(msg, r)
	}
	sum := md5.Sum(msg)
	return append(append([]byte{0xF3, 0x89, 0x9A, 0xC2}, msg...), sum[:]...)
}

// tailStream creates a one-shard stream holding records and returns its
// name, the endpoint and the sequence numbers.
func tailStream(t *testing.T, records ...[]byte) (string, string, []string) {
	t.Helper()
	client, ep := testenv.Kinesalite(t)
	stream, _ := testenv.CreateStream(t, client, 1)
	in := &sdkkinesis.PutRecordsInput{StreamName: aws.String(stream)}
	for i, r := range records {
		in.Records = append(in.Records, sdktypes.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint(i)), Data: r})
	}
	out, err := client.PutRecords(context.Background(), in)
	if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
		t.Fatalf("PutRecords: %v", err)
	}
	var seqs []string
	for _, r := range out.Records {
		seqs = append(seqs, aws.ToString(r.SequenceNumber))
	}
	return stream, ep, seqs
}

var tailEvents = []string{
	`{"id":"e1","type":"OPEN","occurred":"2024-05-01T12:00:00Z","device":{"channel":"c1","device_type":"IOS"}}`,
	`{"id":"e2", "type":"UNINSTALL","occurred":"2024-05-01T12:01:00Z","device":{"channel":"c1","device_type":"IOS","named_user_id":"ada"}}`,
	`{"id":"e3","type":"OPEN","occurred":"2024-05-01T12:02:00Z","device":{"android_channel":"c2"}}`,
	`{"id":"e4","type":"UNINSTALL","occurred":"2024-05-01T12:03:00Z"}`,
}

func TestTailNDJSONExactBytesAndMalformed(t *testing.T) {
	stream, ep, seqs := tailStream(t,
		[]byte(tailEvents[0]),
		tailAggregate("k", tailEvents[1], `{"id":"broken"`, tailEvents[2]),
		[]byte("not json"),
		[]byte(tailEvents[3]),
	)
	env, stdout, stderr := putEnv(ep, "")
	code := run(context.Background(), env, []string{"tail", "--stream", stream, "--format", "ndjson", "--idle-exit", "300ms"})
	if code != 1 {
		t.Errorf("exit %d, want 1 for malformed records; stderr:\n%s", code, stderr)
	}
	if want := strings.Join(tailEvents, "\n") + "\n"; stdout.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
	}
	for _, want := range []string{
		fmt.Sprintf("sequence number %s (sub-record 1)", seqs[1]),
		fmt.Sprintf("sequence number %s: not an event", seqs[2]),
		"shard shardId-",
		"rtds tail: 4 events, 2 malformed records",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestTailPrettyTypeLimit(t *testing.T) {
	var recs [][]byte
	for _, e := range tailEvents {
		recs = append(recs, []byte(e))
	}
	stream, ep, _ := tailStream(t, recs...)
	env, stdout, stderr := putEnv(ep, "")
	code := run(context.Background(), env, []string{"tail", "--stream", stream, "--type", "uninstall", "--limit", "1"})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := "2024-05-01T12:01:00.000Z UNINSTALL                id=e2 channel=c1 named_user=ada shard=shardId-000000000000\n"
	if stdout.String() != want {
		t.Errorf("stdout:\n%q\nwant:\n%q", stdout, want)
	}
}

func TestTailCSV(t *testing.T) {
	var recs [][]byte
	for _, e := range tailEvents {
		recs = append(recs, []byte(e))
	}
	stream, ep, _ := tailStream(t, recs...)
	env, stdout, stderr := putEnv(ep, "")
	code := run(context.Background(), env, []string{"tail", "--stream", stream, "--type", "OPEN", "--format", "csv", "--idle-exit", "300ms"})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var want bytes.Buffer
	w, err := event.NewCSVWriter(&want, event.TypeOpen)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 2} {
		ev, err := event.Decode([]byte(tailEvents[i]))
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != want.String() {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want.String())
	}
}

func TestTailUsage(t *testing.T) {
	tests := []struct {
		name, reason string
		args         []string
		code         int
		stderr       string
	}{
		{"help", "--help prints the usage", []string{"--help"}, 0, "usage: rtds tail"},
		{"no stream", "--stream is required", []string{}, 2, "--stream is required"},
		{"csv without type", "csv is per type", []string{"--stream", "s", "--format", "csv"}, 2, "exactly one --type"},
		{"csv two types", "csv is per type", []string{"--stream", "s", "--format", "csv", "--type", "OPEN,CLOSE"}, 2, "exactly one --type"},
		{"bad format", "formats are fixed", []string{"--stream", "s", "--format", "xml"}, 2, "unknown --format"},
		{"bad from", "from is a keyword or a time", []string{"--stream", "s", "--from", "yesterday"}, 2, "RFC 3339"},
		{"negative limit", "limit counts events", []string{"--stream", "s", "--limit", "-1"}, 2, "--limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, stdout, stderr := putEnv("http://127.0.0.1:1", "")
			got := stderr
			if tt.code == 0 {
				got = stdout // --help
			}
			if code := run(context.Background(), env, append([]string{"tail"}, tt.args...)); code != tt.code || !strings.Contains(got.String(), tt.stderr) {
				t.Errorf("%s: exit %d (want %d), output:\n%s", tt.reason, code, tt.code, got)
			}
		})
	}
}

// failWriter fails every write, like a closed pipe.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestTailWriteErrorStops(t *testing.T) {
	stream, ep, _ := tailStream(t, []byte(tailEvents[0]), []byte(tailEvents[1]))
	env, _, stderr := putEnv(ep, "")
	env.stdout = failWriter{}
	code := run(context.Background(), env, []string{"tail", "--stream", stream, "--idle-exit", "5s"})
	if code != 1 || !strings.Contains(stderr.String(), "broken pipe") || strings.Contains(stderr.String(), "not an event") {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 1 reporting the write error", code, stderr)
	}
}
