package kinesistest_test

import (
	"context"

	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/rtdskit/rtds/kinesis"
	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

// The fake must stand in for the SDK client wherever package kinesis
// accepts one.
var (
	_ kinesis.ProducerAPI = (*kinesistest.Fake)(nil)
	_ kinesis.ConsumerAPI = (*kinesistest.Fake)(nil)
)

// sdkAPI lists every call the fake implements. Both the SDK client and the
// fake satisfy it, which proves the signatures are identical.
type sdkAPI interface {
	kinesis.ProducerAPI
	kinesis.ConsumerAPI
	PutRecord(context.Context, *sdkkinesis.PutRecordInput, ...func(*sdkkinesis.Options)) (*sdkkinesis.PutRecordOutput, error)
	DescribeStreamSummary(context.Context, *sdkkinesis.DescribeStreamSummaryInput, ...func(*sdkkinesis.Options)) (*sdkkinesis.DescribeStreamSummaryOutput, error)
	CreateStream(context.Context, *sdkkinesis.CreateStreamInput, ...func(*sdkkinesis.Options)) (*sdkkinesis.CreateStreamOutput, error)
	DeleteStream(context.Context, *sdkkinesis.DeleteStreamInput, ...func(*sdkkinesis.Options)) (*sdkkinesis.DeleteStreamOutput, error)
	SplitShard(context.Context, *sdkkinesis.SplitShardInput, ...func(*sdkkinesis.Options)) (*sdkkinesis.SplitShardOutput, error)
	MergeShards(context.Context, *sdkkinesis.MergeShardsInput, ...func(*sdkkinesis.Options)) (*sdkkinesis.MergeShardsOutput, error)
}

var (
	_ sdkAPI = (*sdkkinesis.Client)(nil)
	_ sdkAPI = (*kinesistest.Fake)(nil)
)
