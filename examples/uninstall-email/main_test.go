package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/rtdskit/rtds/internal/testenv"
	"github.com/rtdskit/rtds/kinesis"
	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

// events are the test stream: two uninstalls with a named user (one named
// on the device, one on the user), one without, and other events.
var events = []string{
	`{"id":"1","type":"OPEN","occurred":"2024-05-01T12:00:00Z","device":{"channel":"c1","device_type":"IOS"}}`,
	`{"id":"2","type":"UNINSTALL","occurred":"2024-05-01T12:01:00Z","device":{"channel":"c1","device_type":"IOS","named_user_id":"named-user-id-123"}}`,
	`{"id":"3","type":"UNINSTALL","occurred":"2024-05-01T12:02:00Z","device":{"channel":"c2","device_type":"ANDROID"}}`,
	`{"id":"4","type":"CUSTOM","occurred":"2024-05-01T12:03:00Z","body":{"name":"purchase"}}`,
	`{"id":"5","type":"OPEN","occurred":"2024-05-01T12:04:00Z"}`,
	`{"id":"6","type":"UNINSTALL","occurred":"2024-05-01T12:05:00Z","device":{"channel":"c3"},"user":{"named_user_id":"ada"}}`,
	`{"id":"7","type":"SOMETHING_NEW","occurred":"2024-05-01T12:06:00Z"}`,
	`not an event`,
}

func putEvents(t *testing.T, client interface {
	PutRecords(context.Context, *sdkkinesis.PutRecordsInput, ...func(*sdkkinesis.Options)) (*sdkkinesis.PutRecordsOutput, error)
}, stream string) {
	t.Helper()
	in := &sdkkinesis.PutRecordsInput{StreamName: aws.String(stream)}
	for i, e := range events {
		in.Records = append(in.Records, sdktypes.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint(i)), Data: []byte(e)})
	}
	out, err := client.PutRecords(context.Background(), in)
	if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
		t.Fatalf("PutRecords: %v", err)
	}
}

const wantSummary = `uninstalls: 3 (emails: 2, without named user: 1)
other events: 4 (CUSTOM=1 OPEN=2 SOMETHING_NEW=1)
poison records: 1, shards read: 2 of 2
`

func TestUninstallEmail(t *testing.T) {
	f := kinesistest.New()
	c := &clients{kinesis: f}
	var stdout, stderr bytes.Buffer
	ctx := context.Background()
	if code := run(ctx, []string{"-stream", "rtds", "-create-stream", "-shards", "2"}, &stdout, &stderr, c); code != 0 {
		t.Fatalf("create: exit %d: %s", code, stderr.String())
	}
	putEvents(t, f, "rtds")
	stdout.Reset()
	if code := run(ctx, []string{"-stream", "rtds", "-idle-exit", "100ms"}, &stdout, &stderr, c); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if stdout.String() != wantSummary {
		t.Errorf("summary:\n%s\nwant:\n%s", stdout.String(), wantSummary)
	}
	log := stderr.String()
	for _, want := range []string{"named_user=named-user-id-123", "named_user=ada"} {
		if strings.Count(log, "would send email") != 2 || !strings.Contains(log, want) {
			t.Errorf("log lacks one email to %s:\n%s", want, log)
		}
	}
	if !strings.Contains(log, "level=ERROR") || strings.Contains(log, "not an event") {
		t.Errorf("the poison record is not logged at Error without its payload:\n%s", log)
	}
}

func TestUninstallEmailFlags(t *testing.T) {
	tests := []struct {
		name, reason string
		args         []string
		code         int
	}{
		{"no stream", "the stream is required", []string{}, 2},
		{"bad from", "-from takes trim_horizon, latest or a time", []string{"-stream", "s", "-from", "yesterday"}, 2},
		{"help", "-h is not an error", []string{"-h"}, 0},
		{"share without table", "leases live in the checkpoint table", []string{"-stream", "s", "-share"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("RTDS_STREAM", "")
			var out, errb bytes.Buffer
			if code := run(context.Background(), tt.args, &out, &errb, &clients{kinesis: kinesistest.New()}); code != tt.code {
				t.Errorf("%s: exit %d, want %d (%s)", tt.reason, code, tt.code, errb.String())
			}
		})
	}
}

// On kinesalite with checkpoints in dynalite, a second run resumes after
// the first one: it sends no email twice.
func TestUninstallEmailIntegration(t *testing.T) {
	c, stream, table := integrationSetup(t)
	var stdout, stderr bytes.Buffer
	args := []string{"-stream", stream, "-idle-exit", "300ms", "-checkpoint-table", table}
	if code := run(context.Background(), args, &stdout, &stderr, c); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if stdout.String() != wantSummary {
		t.Errorf("summary:\n%s\nwant:\n%s", stdout.String(), wantSummary)
	}
	stdout.Reset()
	stderr.Reset()
	if code := run(context.Background(), args, &stdout, &stderr, c); code != 0 {
		t.Fatalf("second run: exit %d: %s", code, stderr.String())
	}
	want := "uninstalls: 0 (emails: 0, without named user: 0)\nother events: 0 ()\npoison records: 0, shards read: 2 of 2\n"
	if stdout.String() != want {
		t.Errorf("second run summary:\n%s\nwant:\n%s", stdout.String(), want)
	}
}

// With -share, an instance alone holds every shard's lease, handles every
// event, and releases the leases when it exits.
func TestUninstallEmailShared(t *testing.T) {
	c, stream, table := integrationSetup(t)
	var stdout, stderr bytes.Buffer
	args := []string{"-stream", stream, "-idle-exit", "500ms", "-checkpoint-table", table, "-share", "-worker-id", "instance-1"}
	if code := run(context.Background(), args, &stdout, &stderr, c); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if stdout.String() != wantSummary {
		t.Errorf("summary:\n%s\nwant:\n%s", stdout.String(), wantSummary)
	}
	if !strings.Contains(stderr.String(), "lease taken") || !strings.Contains(stderr.String(), "lease released") {
		t.Errorf("the log does not show the leases taken and released:\n%s", stderr.String())
	}
}

// integrationSetup creates a 2-shard kinesalite stream holding the test
// events, and names a checkpoint table in dynalite, deleted at the end.
func integrationSetup(t *testing.T) (c *clients, stream, table string) {
	t.Helper()
	kc, _ := testenv.Kinesalite(t)
	ddb, _ := testenv.DynamoDB(t)
	stream, _ = testenv.CreateStream(t, kc, 2)
	putEvents(t, kc, stream)
	table = testenv.UniqueName("uninstall-email")
	t.Cleanup(func() {
		_, _ = ddb.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
	return &clients{kinesis: kc, dynamodb: ddb}, stream, table
}

// The README documents every flag the program defines.
func TestReadmeDocumentsEveryFlag(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, &out, &errb, &clients{kinesis: kinesistest.New()}); code != 0 {
		t.Fatalf("-h: exit %d", code)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	flags := regexp.MustCompile(`(?m)^  -([a-z-]+)`).FindAllStringSubmatch(errb.String(), -1)
	if len(flags) < 8 {
		t.Fatalf("found %d flags in the -h output:\n%s", len(flags), errb.String())
	}
	for _, f := range flags {
		if !strings.Contains(string(readme), "| `-"+f[1]+"`") {
			t.Errorf("README.md's flag table lacks -%s", f[1])
		}
	}
}

// With -share, an instance's summary counts the shards it read, not the
// stream's: here another instance holds one of the two shards.
func TestUninstallEmailSharedSummaryCountsItsOwnShards(t *testing.T) {
	c, stream, table := integrationSetup(t)
	store, err := kinesis.NewDynamoDBCheckpointStore(c.dynamodb, table)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	shard := "shardId-000000000000"
	if err := store.UpdateLease(context.Background(), stream, kinesis.Lease{ShardID: shard},
		kinesis.Lease{ShardID: shard, Owner: "other-instance", Counter: 1}); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	args := []string{"-stream", stream, "-idle-exit", "500ms", "-checkpoint-table", table, "-share", "-worker-id", "instance-1"}
	if code := run(context.Background(), args, &stdout, &stderr, c); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "shards read: 1 of 2\n") {
		t.Errorf("summary:\n%s\nwant 1 of the 2 shards read", stdout.String())
	}
}

// A stream that cannot be reached fails at start with the cause, even with
// -idle-exit (which used to report an idle, empty stream).
func TestUninstallEmailFailsFastWhenUnreachable(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_KINESIS", "http://127.0.0.1:1")
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:1")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent/rtds-test-config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/rtds-test-credentials")
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run(context.Background(), []string{"-stream", "s", "-idle-exit", "1s"}, &stdout, &stderr, nil)
	if took := time.Since(start); code != 1 || took > checkStreamTimeout+2*time.Second {
		t.Errorf("exit %d after %v, want 1 within %v", code, took, checkStreamTimeout)
	}
	if !strings.Contains(stderr.String(), "uninstall-email: stream s: ") || !strings.Contains(stderr.String(), "connection refused") {
		t.Errorf("stderr does not give the cause:\n%s", stderr.String())
	}
}
