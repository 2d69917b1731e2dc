package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/rtdskit/rtds/internal/testenv"
)

// tail --fan-out reads with SubscribeToShard (kinesis-local, through the
// test shim that adds the initial-response event it omits).
func TestTailFanOutPrintsEveryEvent(t *testing.T) {
	t.Parallel()
	ep, hc, shim := testenv.KinesisLocalFanOutHTTP(t)
	client := testenv.KinesisClient(ep, func(o *sdkkinesis.Options) { o.HTTPClient = hc })
	stream, _ := testenv.CreateStream(t, client, 2)
	in := &sdkkinesis.PutRecordsInput{StreamName: aws.String(stream)}
	for i, e := range tailEvents {
		in.Records = append(in.Records, sdktypes.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint(i)), Data: []byte(e)})
	}
	if _, err := client.PutRecords(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	env, stdout, stderr := putEnv(ep, "")
	env.httpClient = hc
	code := run(context.Background(), env, []string{"tail", "--stream", stream, "--format", "ndjson", "--fan-out", "rtds-tail-test", "--idle-exit", "1500ms"})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(got) != len(tailEvents) {
		t.Errorf("printed %d events, want %d:\n%s", len(got), len(tailEvents), stdout)
	}
	if shim.Subscriptions() == 0 {
		t.Error("tail --fan-out did not subscribe")
	}
}
