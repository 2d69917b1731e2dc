package kinesis

import (
	"context"

	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// The narrow interfaces below copy the SDK's method signatures exactly, so a
// *sdkkinesis.Client satisfies every one of them, and so does the in-memory
// fake in package kinesistest.

// PutRecordsAPI is the SDK's PutRecords call.
type PutRecordsAPI interface {
	PutRecords(ctx context.Context, params *sdkkinesis.PutRecordsInput, optFns ...func(*sdkkinesis.Options)) (*sdkkinesis.PutRecordsOutput, error)
}

// ListShardsAPI is the SDK's ListShards call.
type ListShardsAPI interface {
	ListShards(ctx context.Context, params *sdkkinesis.ListShardsInput, optFns ...func(*sdkkinesis.Options)) (*sdkkinesis.ListShardsOutput, error)
}

// GetRecordsAPI is the SDK's GetRecords call.
type GetRecordsAPI interface {
	GetRecords(ctx context.Context, params *sdkkinesis.GetRecordsInput, optFns ...func(*sdkkinesis.Options)) (*sdkkinesis.GetRecordsOutput, error)
}

// GetShardIteratorAPI is the SDK's GetShardIterator call.
type GetShardIteratorAPI interface {
	GetShardIterator(ctx context.Context, params *sdkkinesis.GetShardIteratorInput, optFns ...func(*sdkkinesis.Options)) (*sdkkinesis.GetShardIteratorOutput, error)
}

// ProducerAPI is what a Producer calls: PutRecords, and ListShards to
// predict each record's shard. With aggregation, the producer reuses the
// memory of an entry's Data once the PutRecords call carrying it has
// returned: an implementation that keeps the data must copy it.
type ProducerAPI interface {
	PutRecordsAPI
	ListShardsAPI
}

// ConsumerAPI is what a Consumer calls.
type ConsumerAPI interface {
	ListShardsAPI
	GetShardIteratorAPI
	GetRecordsAPI
}

var (
	_ ProducerAPI = (*sdkkinesis.Client)(nil)
	_ ConsumerAPI = (*sdkkinesis.Client)(nil)
)
