package kinesistest_test

import (
	"errors"
	"math/big"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/google/go-cmp/cmp"

	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

func shardIDs(shards []sdktypes.Shard) []string {
	out := []string{}
	for _, s := range shards {
		out = append(out, aws.ToString(s.ShardId))
	}
	return out
}

func listAll(t *testing.T, f *kinesistest.Fake, in *sdkkinesis.ListShardsInput) []string {
	t.Helper()
	var ids []string
	for {
		out, err := f.ListShards(ctx, in)
		if err != nil {
			t.Fatalf("ListShards: %v", err)
		}
		ids = append(ids, shardIDs(out.Shards)...)
		if out.NextToken == nil {
			return ids
		}
		in = &sdkkinesis.ListShardsInput{NextToken: out.NextToken, MaxResults: in.MaxResults}
	}
}

func TestListShardsPaging(t *testing.T) {
	t.Parallel()
	f := kinesistest.New(kinesistest.WithStream("s", 5))
	want := []string{"shardId-000000000000", "shardId-000000000001", "shardId-000000000002", "shardId-000000000003", "shardId-000000000004"}
	for _, max := range []int32{1, 2, 5, 100} {
		got := listAll(t, f, &sdkkinesis.ListShardsInput{StreamName: aws.String("s"), MaxResults: aws.Int32(max)})
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("MaxResults %d (-want +got):\n%s", max, d)
		}
	}
	got := listAll(t, f, &sdkkinesis.ListShardsInput{StreamARN: aws.String(kinesistest.ARN("s")), ExclusiveStartShardId: aws.String("shardId-000000000002")})
	if d := cmp.Diff(want[3:], got); d != "" {
		t.Errorf("ExclusiveStartShardId (-want +got):\n%s", d)
	}
	out, err := f.ListShards(ctx, &sdkkinesis.ListShardsInput{StreamName: aws.String("s"), MaxResults: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.ListShards(ctx, &sdkkinesis.ListShardsInput{StreamName: aws.String("s"), NextToken: out.NextToken}); !isInvalid(err) {
		t.Errorf("NextToken with StreamName: err = %v, want InvalidArgumentException", err)
	}
	if _, err := f.ListShards(ctx, &sdkkinesis.ListShardsInput{StreamName: aws.String("s"), MaxResults: aws.Int32(0)}); !isInvalid(err) {
		t.Errorf("MaxResults 0: err = %v, want InvalidArgumentException", err)
	}
	// Hash ranges tile the key space without gaps or overlaps.
	all, err := f.ListShards(ctx, &sdkkinesis.ListShardsInput{StreamName: aws.String("s")})
	if err != nil {
		t.Fatal(err)
	}
	next := big.NewInt(0)
	for _, s := range all.Shards {
		lo, _ := new(big.Int).SetString(*s.HashKeyRange.StartingHashKey, 10)
		hi, _ := new(big.Int).SetString(*s.HashKeyRange.EndingHashKey, 10)
		if lo.Cmp(next) != 0 {
			t.Fatalf("shard %s starts at %s, want %s", *s.ShardId, lo, next)
		}
		next = hi.Add(hi, big.NewInt(1))
	}
	if next.Cmp(new(big.Int).Lsh(big.NewInt(1), 128)) != 0 {
		t.Errorf("ranges end at %s, want 2^128", next)
	}
}

// readShard reads a shard from TRIM_HORIZON to its end (a nil
// NextShardIterator) or to an empty page, returning the data and the last
// page's ChildShards.
func readShard(t *testing.T, f *kinesistest.Fake, stream, shard string) ([]string, []sdktypes.ChildShard, bool) {
	t.Helper()
	it := aws.String(iter(t, f, &sdkkinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: aws.String(shard), ShardIteratorType: sdktypes.ShardIteratorTypeTrimHorizon}))
	got := []string{}
	for {
		out, err := f.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: it, Limit: aws.Int32(2)})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, datas(out.Records)...)
		if out.NextShardIterator == nil {
			return got, out.ChildShards, true
		}
		if len(out.Records) == 0 {
			return got, out.ChildShards, false
		}
		it = out.NextShardIterator
	}
}

func TestSplitAndMerge(t *testing.T) {
	t.Parallel()
	f := kinesistest.New(kinesistest.WithStream("s", 2))
	half := new(big.Int).Lsh(big.NewInt(1), 127)
	quarter := new(big.Int).Lsh(big.NewInt(1), 126)
	explicit := func(k *big.Int, data string) sdktypes.PutRecordsRequestEntry {
		e := entry("pk", data)
		e.ExplicitHashKey = aws.String(k.String())
		return e
	}
	put(t, f, "s", explicit(big.NewInt(0), "a0"), explicit(quarter, "a1"), explicit(big.NewInt(1), "a2"))
	if _, err := f.SplitShard(ctx, &sdkkinesis.SplitShardInput{StreamName: aws.String("s"), ShardToSplit: aws.String(shard0), NewStartingHashKey: aws.String(quarter.String())}); err != nil {
		t.Fatal(err)
	}
	out := put(t, f, "s", explicit(big.NewInt(0), "b0"), explicit(quarter, "b1"), explicit(half, "b2"))
	if d := cmp.Diff([]string{"shardId-000000000002", "shardId-000000000003", "shardId-000000000001"}, []string{
		*out.Records[0].ShardId, *out.Records[1].ShardId, *out.Records[2].ShardId}); d != "" {
		t.Errorf("routing after split (-want +got):\n%s", d)
	}
	got, children, ended := readShard(t, f, "s", shard0)
	if d := cmp.Diff([]string{"a0", "a1", "a2"}, got); d != "" || !ended {
		t.Errorf("parent: ended=%v (-want +got):\n%s", ended, d)
	}
	wantChildren := []sdktypes.ChildShard{
		{ShardId: aws.String("shardId-000000000002"), ParentShards: []string{shard0}, HashKeyRange: &sdktypes.HashKeyRange{StartingHashKey: aws.String("0"), EndingHashKey: aws.String(new(big.Int).Sub(quarter, big.NewInt(1)).String())}},
		{ShardId: aws.String("shardId-000000000003"), ParentShards: []string{shard0}, HashKeyRange: &sdktypes.HashKeyRange{StartingHashKey: aws.String(quarter.String()), EndingHashKey: aws.String(new(big.Int).Sub(half, big.NewInt(1)).String())}},
	}
	if d := cmp.Diff(wantChildren, children, cmp.Comparer(func(a, b sdktypes.ChildShard) bool {
		return aws.ToString(a.ShardId) == aws.ToString(b.ShardId) && cmp.Equal(a.ParentShards, b.ParentShards) &&
			aws.ToString(a.HashKeyRange.StartingHashKey) == aws.ToString(b.HashKeyRange.StartingHashKey) &&
			aws.ToString(a.HashKeyRange.EndingHashKey) == aws.ToString(b.HashKeyRange.EndingHashKey)
	})); d != "" {
		t.Errorf("ChildShards (-want +got):\n%s", d)
	}

	// Splitting the closed parent again is refused.
	_, err := f.SplitShard(ctx, &sdkkinesis.SplitShardInput{StreamName: aws.String("s"), ShardToSplit: aws.String(shard0), NewStartingHashKey: aws.String("5")})
	var inUse *sdktypes.ResourceInUseException
	if !errors.As(err, &inUse) {
		t.Errorf("split closed shard: err = %v, want ResourceInUseException", err)
	}
	_, err = f.SplitShard(ctx, &sdkkinesis.SplitShardInput{StreamName: aws.String("s"), ShardToSplit: aws.String("shardId-000000000001"), NewStartingHashKey: aws.String(half.String())})
	if !isInvalid(err) {
		t.Errorf("split at the shard's own start: err = %v, want InvalidArgumentException", err)
	}
	// Merge the two children back; non-adjacent shards are refused.
	_, err = f.MergeShards(ctx, &sdkkinesis.MergeShardsInput{StreamName: aws.String("s"), ShardToMerge: aws.String("shardId-000000000002"), AdjacentShardToMerge: aws.String("shardId-000000000001")})
	if !isInvalid(err) {
		t.Errorf("merge non-adjacent: err = %v, want InvalidArgumentException", err)
	}
	if _, err := f.MergeShards(ctx, &sdkkinesis.MergeShardsInput{StreamName: aws.String("s"), ShardToMerge: aws.String("shardId-000000000003"), AdjacentShardToMerge: aws.String("shardId-000000000002")}); err != nil {
		t.Fatal(err)
	}
	out = put(t, f, "s", explicit(big.NewInt(0), "c0"))
	if got := *out.Records[0].ShardId; got != "shardId-000000000004" {
		t.Errorf("after merge, key 0 went to %s, want shardId-000000000004", got)
	}
	got, children, ended = readShard(t, f, "s", "shardId-000000000002")
	if d := cmp.Diff([]string{"b0"}, got); d != "" || !ended || len(children) != 1 ||
		!cmp.Equal(children[0].ParentShards, []string{"shardId-000000000003", "shardId-000000000002"}) {
		t.Errorf("merged parent: ended=%v children=%+v (-want +got):\n%s", ended, children, d)
	}
	got, _, ended = readShard(t, f, "s", "shardId-000000000004")
	if d := cmp.Diff([]string{"c0"}, got); d != "" || ended {
		t.Errorf("open child: ended=%v (-want +got):\n%s", ended, d)
	}

	ls, err := f.ListShards(ctx, &sdkkinesis.ListShardsInput{StreamName: aws.String("s")})
	if err != nil {
		t.Fatal(err)
	}
	merged := ls.Shards[4]
	if aws.ToString(merged.ParentShardId) != "shardId-000000000003" || aws.ToString(merged.AdjacentParentShardId) != "shardId-000000000002" {
		t.Errorf("merged shard parents: %+v", merged)
	}
	if ls.Shards[0].SequenceNumberRange.EndingSequenceNumber == nil || ls.Shards[1].SequenceNumberRange.EndingSequenceNumber != nil {
		t.Errorf("closed shards must have an EndingSequenceNumber, open ones none")
	}
	filters := []struct {
		name, reason string
		filter       sdktypes.ShardFilter
		want         []string
	}{
		{"at-latest", "only open shards", sdktypes.ShardFilter{Type: sdktypes.ShardFilterTypeAtLatest}, []string{"shardId-000000000001", "shardId-000000000004"}},
		{"at-trim-horizon", "the shards open when the stream was created", sdktypes.ShardFilter{Type: sdktypes.ShardFilterTypeAtTrimHorizon}, []string{shard0, "shardId-000000000001"}},
		{"from-trim-horizon", "every shard", sdktypes.ShardFilter{Type: sdktypes.ShardFilterTypeFromTrimHorizon}, []string{shard0, "shardId-000000000001", "shardId-000000000002", "shardId-000000000003", "shardId-000000000004"}},
		{"after-shard-id", "shards with a higher id", sdktypes.ShardFilter{Type: sdktypes.ShardFilterTypeAfterShardId, ShardId: aws.String("shardId-000000000002")}, []string{"shardId-000000000003", "shardId-000000000004"}},
	}
	for _, tt := range filters {
		t.Run(tt.name, func(t *testing.T) {
			got := listAll(t, f, &sdkkinesis.ListShardsInput{StreamName: aws.String("s"), ShardFilter: &tt.filter, MaxResults: aws.Int32(1)})
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("%s (-want +got):\n%s", tt.reason, d)
			}
		})
	}
}
