package kinesistest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

func ExampleNew() {
	ctx := context.Background()
	f := kinesistest.New(kinesistest.WithStream("events", 1))

	_, err := f.PutRecords(ctx, &sdkkinesis.PutRecordsInput{
		StreamName: aws.String("events"),
		Records: []sdktypes.PutRecordsRequestEntry{
			{PartitionKey: aws.String("channel-1"), Data: []byte(`{"id":"a"}`)},
			{PartitionKey: aws.String("channel-2"), Data: []byte(`{"id":"b"}`)},
		},
	})
	if err != nil {
		panic(err)
	}

	it, err := f.GetShardIterator(ctx, &sdkkinesis.GetShardIteratorInput{
		StreamName:        aws.String("events"),
		ShardId:           aws.String("shardId-000000000000"),
		ShardIteratorType: sdktypes.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		panic(err)
	}
	out, err := f.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		panic(err)
	}
	for _, r := range out.Records {
		fmt.Println(aws.ToString(r.PartitionKey), string(r.Data))
	}
	// Output:
	// channel-1 {"id":"a"}
	// channel-2 {"id":"b"}
}

func ExampleFake_SetFault() {
	ctx := context.Background()
	f := kinesistest.New(kinesistest.WithStream("events", 2))

	// Throttle the second entry of every PutRecords call.
	f.SetFault(func(op string, entry int) error {
		if op == kinesistest.OpPutRecords && entry == 1 {
			return &sdktypes.ProvisionedThroughputExceededException{Message: aws.String("Rate exceeded")}
		}
		return nil
	})
	out, err := f.PutRecords(ctx, &sdkkinesis.PutRecordsInput{
		StreamName: aws.String("events"),
		Records: []sdktypes.PutRecordsRequestEntry{
			{PartitionKey: aws.String("a"), Data: []byte("1")},
			{PartitionKey: aws.String("b"), Data: []byte("2")},
		},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("failed:", aws.ToInt32(out.FailedRecordCount), aws.ToString(out.Records[1].ErrorCode))

	// Fail whole calls: the error is typed, as from the SDK client.
	f.SetFault(func(op string, entry int) error {
		return &sdktypes.ProvisionedThroughputExceededException{Message: aws.String("Rate exceeded")}
	})
	_, err = f.ListShards(ctx, &sdkkinesis.ListShardsInput{StreamName: aws.String("events")})
	var throttled *sdktypes.ProvisionedThroughputExceededException
	fmt.Println("throttled:", errors.As(err, &throttled))
	fmt.Println("stored:", len(f.Records("events")), "PutRecords calls:", f.Calls(kinesistest.OpPutRecords))
	// Output:
	// failed: 1 ProvisionedThroughputExceededException
	// throttled: true
	// stored: 1 PutRecords calls: 1
}

func ExampleFake_Records() {
	ctx := context.Background()
	f := kinesistest.New(kinesistest.WithStream("events", 4))
	for _, key := range []string{"alpha", "beta", "gamma"} {
		_, err := f.PutRecord(ctx, &sdkkinesis.PutRecordInput{
			StreamARN:    aws.String(kinesistest.ARN("events")),
			PartitionKey: aws.String(key),
			Data:         []byte(key),
		})
		if err != nil {
			panic(err)
		}
	}
	for _, r := range f.Records("events") {
		fmt.Println(r.ShardID, r.PartitionKey)
	}
	// Output:
	// shardId-000000000000 alpha
	// shardId-000000000002 beta
	// shardId-000000000000 gamma
}

func ExampleWithShardWriteLimit() {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := kinesistest.New(
		kinesistest.WithStream("events", 1),
		kinesistest.WithClock(func() time.Time { return now }),
		kinesistest.WithShardWriteLimit(kinesistest.ShardRecordsPerSecond, kinesistest.ShardBytesPerSecond),
	)
	in := &sdkkinesis.PutRecordsInput{StreamName: aws.String("events")}
	for range 500 {
		in.Records = append(in.Records, sdktypes.PutRecordsRequestEntry{PartitionKey: aws.String("hot"), Data: []byte("x")})
	}
	for range 3 { // 1,500 records in the same second
		out, err := f.PutRecords(ctx, in)
		if err != nil {
			panic(err)
		}
		fmt.Println("failed:", aws.ToInt32(out.FailedRecordCount))
	}
	now = now.Add(time.Second) // a new second: the shard accepts writes again
	out, err := f.PutRecords(ctx, in)
	if err != nil {
		panic(err)
	}
	fmt.Println("failed:", aws.ToInt32(out.FailedRecordCount))
	// Output:
	// failed: 0
	// failed: 0
	// failed: 500
	// failed: 0
}
