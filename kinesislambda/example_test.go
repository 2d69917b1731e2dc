package kinesislambda_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis"
	"github.com/rtdskit/rtds/kinesis/kinesistest"
	"github.com/rtdskit/rtds/kinesislambda"
)

// The seed's uninstall email as a Lambda function; main would call
// lambda.Start(h.Handle). Here the handler is called with an event built
// by hand: the second user's email fails, so Lambda is told to retry from
// that record.
func ExampleNew() {
	h, err := kinesislambda.New(kinesis.OnUninstall(func(ctx context.Context, e *event.Uninstall) error {
		if e.NamedUserID() == "grace" {
			return errors.New("mail service unavailable")
		}
		fmt.Println("email", e.NamedUserID())
		return nil
	}))
	if err != nil {
		panic(err)
	}
	h.Logger = slog.New(slog.DiscardHandler)

	var in events.KinesisEvent
	for i, user := range []string{"ada", "grace", "linus"} {
		seq := fmt.Sprint(4959000 + i)
		in.Records = append(in.Records, events.KinesisEventRecord{
			EventID: "shardId-000000000000:" + seq,
			Kinesis: events.KinesisRecord{SequenceNumber: seq, Data: []byte(`{"id":"e` + seq + `","type":"UNINSTALL",` +
				`"occurred":"2024-05-01T12:00:00Z","device":{"channel":"c","device_type":"IOS","named_user_id":"` + user + `"}}`)},
		})
	}
	resp, _ := h.Handle(context.Background(), in)
	fmt.Printf("retry from %+v\n", resp.BatchItemFailures)
	// Output:
	// email ada
	// retry from [{ItemIdentifier:4959001}]
}

// Serve runs a function on a stream as Lambda's event source mapping
// would, here on the in-memory fake (any Kinesis endpoint works).
func ExampleServe() {
	fake := kinesistest.New(kinesistest.WithStream("rtds", 1))
	for _, user := range []string{"ada", "grace"} {
		_, err := fake.PutRecord(context.Background(), &sdkkinesis.PutRecordInput{
			StreamName: aws.String("rtds"), PartitionKey: aws.String(user),
			Data: []byte(`{"id":"` + user + `-1","type":"UNINSTALL","occurred":"2024-05-01T12:00:00Z",` +
				`"device":{"channel":"c","device_type":"IOS","named_user_id":"` + user + `"}}`),
		})
		if err != nil {
			panic(err)
		}
	}

	ctx, stop := context.WithCancel(context.Background())
	emails := 0
	h, err := kinesislambda.New(kinesis.OnUninstall(func(_ context.Context, e *event.Uninstall) error {
		fmt.Println("email", e.NamedUserID())
		if emails++; emails == 2 {
			stop() // a real program runs until it is told to stop
		}
		return nil
	}))
	if err != nil {
		panic(err)
	}
	err = kinesislambda.Serve(ctx, fake, "rtds", h.Handle,
		kinesislambda.WithBatchSize(100),
		kinesislambda.WithBisectBatchOnFunctionError(true),
		kinesislambda.WithMaximumRetryAttempts(5),
		kinesislambda.WithStartingPosition(sdktypes.ShardIteratorTypeTrimHorizon),
		kinesislambda.WithPollInterval(10*time.Millisecond),
		kinesislambda.WithServeLogger(slog.New(slog.NewTextHandler(os.Stderr, nil))),
		kinesislambda.WithOnFailure(func(_ context.Context, f kinesislambda.Failure) error {
			fmt.Println("gave up on", f.ShardID, f.StartSequenceNumber, f.EndSequenceNumber, f.Condition)
			return nil
		}))
	fmt.Println("Serve:", err)
	// Output:
	// email ada
	// email grace
	// Serve: <nil>
}
