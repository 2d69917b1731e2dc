package kinesistest

import (
	"context"
	"math/big"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// CreateStream creates a stream, ACTIVE immediately. A PROVISIONED stream
// (the default) needs ShardCount; an ON_DEMAND stream without one gets
// DefaultOnDemandShards. The hash key space is split evenly among the
// shards. An existing name gives *sdktypes.ResourceInUseException.
func (f *Fake) CreateStream(ctx context.Context, params *sdkkinesis.CreateStreamInput, optFns ...func(*sdkkinesis.Options)) (*sdkkinesis.CreateStreamOutput, error) {
	const op = OpCreateStream
	if err := f.begin(ctx, op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if params == nil {
		params = &sdkkinesis.CreateStreamInput{}
	}
	mode := sdktypes.StreamModeProvisioned
	if params.StreamModeDetails != nil && params.StreamModeDetails.StreamMode != "" {
		mode = params.StreamModeDetails.StreamMode
	}
	n := -1
	switch {
	case params.ShardCount != nil:
		n = int(*params.ShardCount)
	case mode == sdktypes.StreamModeOnDemand:
		n = DefaultOnDemandShards
	default:
		return nil, opError(op, invalidArg("ShardCount is required for a PROVISIONED stream"))
	}
	if err := f.createStream(aws.ToString(params.StreamName), n, mode); err != nil {
		return nil, opError(op, err)
	}
	return &sdkkinesis.CreateStreamOutput{}, nil
}

// DeleteStream deletes a stream and its records at once. Iterators on it
// then fail with *sdktypes.ResourceNotFoundException.
func (f *Fake) DeleteStream(ctx context.Context, params *sdkkinesis.DeleteStreamInput, optFns ...func(*sdkkinesis.Options)) (*sdkkinesis.DeleteStreamOutput, error) {
	const op = OpDeleteStream
	if err := f.begin(ctx, op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if params == nil {
		params = &sdkkinesis.DeleteStreamInput{}
	}
	s, err := f.lookup(params.StreamName, params.StreamARN)
	if err != nil {
		return nil, opError(op, err)
	}
	delete(f.streams, s.name)
	return &sdkkinesis.DeleteStreamOutput{}, nil
}

// DescribeStreamSummary describes a stream, always ACTIVE.
func (f *Fake) DescribeStreamSummary(ctx context.Context, params *sdkkinesis.DescribeStreamSummaryInput, optFns ...func(*sdkkinesis.Options)) (*sdkkinesis.DescribeStreamSummaryOutput, error) {
	const op = OpDescribeStreamSummary
	if err := f.begin(ctx, op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if params == nil {
		params = &sdkkinesis.DescribeStreamSummaryInput{}
	}
	s, err := f.lookup(params.StreamName, params.StreamARN)
	if err != nil {
		return nil, opError(op, err)
	}
	open := 0
	for _, sh := range s.shards {
		if sh.open() {
			open++
		}
	}
	return &sdkkinesis.DescribeStreamSummaryOutput{
		StreamDescriptionSummary: &sdktypes.StreamDescriptionSummary{
			StreamName:              aws.String(s.name),
			StreamARN:               aws.String(s.arn),
			StreamStatus:            sdktypes.StreamStatusActive,
			StreamModeDetails:       &sdktypes.StreamModeDetails{StreamMode: s.mode},
			RetentionPeriodHours:    aws.Int32(DefaultRetentionHours),
			StreamCreationTimestamp: aws.Time(s.created),
			EnhancedMonitoring:      []sdktypes.EnhancedMetrics{{ShardLevelMetrics: []sdktypes.MetricsName{}}},
			EncryptionType:          sdktypes.EncryptionTypeNone,
			OpenShardCount:          aws.Int32(int32(open)),
			ConsumerCount:           aws.Int32(0),
		},
	}, nil
}

// SplitShard closes an open shard and creates two children covering
// [start, NewStartingHashKey-1] and [NewStartingHashKey, end], at once.
// Reading the parent to its end then returns a nil NextShardIterator and
// both children in ChildShards.
func (f *Fake) SplitShard(ctx context.Context, params *sdkkinesis.SplitShardInput, optFns ...func(*sdkkinesis.Options)) (*sdkkinesis.SplitShardOutput, error) {
	const op = OpSplitShard
	if err := f.begin(ctx, op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if params == nil {
		params = &sdkkinesis.SplitShardInput{}
	}
	s, err := f.lookup(params.StreamName, params.StreamARN)
	if err != nil {
		return nil, opError(op, err)
	}
	parent, err := openShard(s, aws.ToString(params.ShardToSplit))
	if err != nil {
		return nil, opError(op, err)
	}
	key, ok := new(big.Int).SetString(aws.ToString(params.NewStartingHashKey), 10)
	if !ok || key.Cmp(parent.start) <= 0 || key.Cmp(parent.end) > 0 {
		return nil, opError(op, invalidArg("NewStartingHashKey %q must be a decimal integer in (%s, %s]",
			aws.ToString(params.NewStartingHashKey), parent.start, parent.end))
	}
	f.closeShard(parent)
	lo := f.newShard(s, parent.start, new(big.Int).Sub(key, big.NewInt(1)))
	hi := f.newShard(s, key, parent.end)
	lo.parent, hi.parent = parent.id, parent.id
	parent.children = []string{lo.id, hi.id}
	return &sdkkinesis.SplitShardOutput{}, nil
}

// MergeShards closes two open shards with adjacent hash ranges and creates
// one child covering both, at once. The child's ParentShardId is
// ShardToMerge and its AdjacentParentShardId is AdjacentShardToMerge.
func (f *Fake) MergeShards(ctx context.Context, params *sdkkinesis.MergeShardsInput, optFns ...func(*sdkkinesis.Options)) (*sdkkinesis.MergeShardsOutput, error) {
	const op = OpMergeShards
	if err := f.begin(ctx, op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if params == nil {
		params = &sdkkinesis.MergeShardsInput{}
	}
	s, err := f.lookup(params.StreamName, params.StreamARN)
	if err != nil {
		return nil, opError(op, err)
	}
	a, err := openShard(s, aws.ToString(params.ShardToMerge))
	if err != nil {
		return nil, opError(op, err)
	}
	b, err := openShard(s, aws.ToString(params.AdjacentShardToMerge))
	if err != nil {
		return nil, opError(op, err)
	}
	one := big.NewInt(1)
	lo, hi := a, b
	if b.start.Cmp(a.start) < 0 {
		lo, hi = b, a
	}
	if a == b || new(big.Int).Add(lo.end, one).Cmp(hi.start) != 0 {
		return nil, opError(op, invalidArg("shards %s and %s are not adjacent", a.id, b.id))
	}
	f.closeShard(a)
	f.closeShard(b)
	c := f.newShard(s, lo.start, hi.end)
	c.parent, c.adjacent = a.id, b.id
	a.children = []string{c.id}
	b.children = []string{c.id}
	return &sdkkinesis.MergeShardsOutput{}, nil
}

func openShard(s *stream, id string) (*shard, error) {
	sh := s.shard(id)
	if sh == nil {
		return nil, &sdktypes.ResourceNotFoundException{Message: aws.String("Could not find shard " + id + " in stream " + s.name + " under account " + AccountID + ".")}
	}
	if !sh.open() {
		return nil, &sdktypes.ResourceInUseException{Message: aws.String("Shard " + id + " in stream " + s.name + " under account " + AccountID + " has already been merged or split, and thus is not eligible for merging or splitting.")}
	}
	return sh, nil
}
