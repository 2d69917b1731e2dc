package kinesislambda

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// kinesalite returns a client for the kinesalite emulator that
// scripts/emulators.sh starts (RTDS_KINESALITE_ENDPOINT, as in the main
// module's tests). Without it the test fails under RTDS_INTEGRATION=required
// (make test) and is skipped otherwise.
func kinesalite(t *testing.T) *sdkkinesis.Client {
	t.Helper()
	ep := os.Getenv("RTDS_KINESALITE_ENDPOINT")
	if ep == "" {
		if os.Getenv("RTDS_INTEGRATION") == "required" {
			t.Fatal("RTDS_KINESALITE_ENDPOINT is not set: the emulators are not running (make test starts them)")
		}
		t.Skip("RTDS_KINESALITE_ENDPOINT not set; run `make test`, or `scripts/emulators.sh start && . .emulators/env`")
	}
	return sdkkinesis.New(sdkkinesis.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(ep),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	})
}

// createStream creates a stream, waits until it is ACTIVE and deletes it
// when the test ends.
func createStream(t *testing.T, c *sdkkinesis.Client, shards int32) string {
	t.Helper()
	name := fmt.Sprintf("kinesislambda-%d", time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.CreateStream(ctx, &sdkkinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = c.DeleteStream(context.Background(), &sdkkinesis.DeleteStreamInput{StreamName: aws.String(name)})
	})
	for {
		out, err := c.DescribeStreamSummary(ctx, &sdkkinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err == nil && out.StreamDescriptionSummary.StreamStatus == sdktypes.StreamStatusActive {
			return name
		}
		select {
		case <-ctx.Done():
			t.Fatalf("stream %s not active: %v", name, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
