package kinesistest_test

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/rtdskit/rtds/internal/testenv"
	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

// TestConformance runs one scenario against the fake and against
// kinesis-local, the conformance emulator, and requires the same
// observable results: shard layout, routing, per-shard order, every
// iterator type, paging, resharding (shard end, ChildShards, routing to
// children) and typed errors. Sequence numbers and stream names differ
// between the two and are compared by their properties only.
func TestConformance(t *testing.T) {
	t.Parallel()
	client, _ := testenv.KinesisLocal(t)
	name, _ := testenv.CreateStream(t, client, 1)

	emu := runScenario(t, client, name)
	f := kinesistest.New(kinesistest.WithStream(name, 1))
	fake := runScenario(t, f, name)
	if d := cmp.Diff(emu, fake); d != "" {
		t.Errorf("fake differs from kinesis-local (-emulator +fake):\n%s", d)
	}
	if testing.Verbose() {
		for _, l := range emu {
			t.Log(l)
		}
	}
	if len(emu) < 20 {
		t.Fatalf("scenario recorded only %d observations", len(emu))
	}
}

// scenarioAPI is every call the scenario makes.
type scenarioAPI interface {
	sdkAPI
}

// transcript is what a scenario observed, as comparable strings.
type transcript []string

func (tr *transcript) add(format string, args ...any) {
	*tr = append(*tr, fmt.Sprintf(format, args...))
}

func errCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	if err != nil {
		return "non-API error: " + err.Error()
	}
	return "ok"
}

func runScenario(t *testing.T, api scenarioAPI, stream string) transcript {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var tr transcript
	s := aws.String(stream)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	describeShards := func(label string) []sdktypes.Shard {
		t.Helper()
		var all []sdktypes.Shard
		in := &sdkkinesis.ListShardsInput{StreamName: s, MaxResults: aws.Int32(1)}
		pages := 0
		for {
			out, err := api.ListShards(ctx, in)
			must(err)
			pages++
			all = append(all, out.Shards...)
			if out.NextToken == nil {
				break
			}
			in = &sdkkinesis.ListShardsInput{NextToken: out.NextToken, MaxResults: aws.Int32(1)}
		}
		tr.add("%s: %d shards in %d pages", label, len(all), pages)
		for _, sh := range all {
			tr.add("%s: %s [%s..%s] parent=%q adjacent=%q closed=%v", label, aws.ToString(sh.ShardId),
				aws.ToString(sh.HashKeyRange.StartingHashKey), aws.ToString(sh.HashKeyRange.EndingHashKey),
				aws.ToString(sh.ParentShardId), aws.ToString(sh.AdjacentParentShardId),
				sh.SequenceNumberRange.EndingSequenceNumber != nil)
		}
		return all
	}
	putKeys := func(label string, entries []sdktypes.PutRecordsRequestEntry) *sdkkinesis.PutRecordsOutput {
		t.Helper()
		out, err := api.PutRecords(ctx, &sdkkinesis.PutRecordsInput{StreamName: s, Records: entries})
		must(err)
		tr.add("%s: failed=%d", label, aws.ToInt32(out.FailedRecordCount))
		for i, r := range out.Records {
			tr.add("%s: %s -> %s", label, string(entries[i].Data), aws.ToString(r.ShardId))
			if _, ok := new(big.Int).SetString(aws.ToString(r.SequenceNumber), 10); !ok {
				t.Errorf("%s: sequence number %q is not decimal", label, aws.ToString(r.SequenceNumber))
			}
		}
		return out
	}
	read := func(label, shard string, in sdkkinesis.GetShardIteratorInput) {
		t.Helper()
		in.StreamName, in.ShardId = s, aws.String(shard)
		it, err := api.GetShardIterator(ctx, &in)
		must(err)
		next := it.ShardIterator
		var got []string
		var last *sdkkinesis.GetRecordsOutput
		for pages := 0; pages < 50; pages++ {
			out, err := api.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: next, Limit: aws.Int32(3)})
			must(err)
			last = out
			prev := ""
			for _, r := range out.Records {
				got = append(got, string(r.Data))
				if prev != "" && !seqBefore(prev, aws.ToString(r.SequenceNumber)) {
					t.Errorf("%s: sequence numbers not increasing: %s then %s", label, prev, aws.ToString(r.SequenceNumber))
				}
				prev = aws.ToString(r.SequenceNumber)
			}
			if out.NextShardIterator == nil || len(out.Records) == 0 {
				break
			}
			next = out.NextShardIterator
		}
		tr.add("%s: %v end=%v behind=%d", label, got, last.NextShardIterator == nil, aws.ToInt64(last.MillisBehindLatest))
		for _, c := range last.ChildShards {
			tr.add("%s: child %s parents=%v [%s..%s]", label, aws.ToString(c.ShardId), c.ParentShards,
				aws.ToString(c.HashKeyRange.StartingHashKey), aws.ToString(c.HashKeyRange.EndingHashKey))
		}
	}
	waitActive := func() {
		t.Helper()
		for {
			out, err := api.DescribeStreamSummary(ctx, &sdkkinesis.DescribeStreamSummaryInput{StreamName: s})
			must(err)
			if out.StreamDescriptionSummary.StreamStatus == sdktypes.StreamStatusActive {
				tr.add("summary: open shards %d", aws.ToInt32(out.StreamDescriptionSummary.OpenShardCount))
				return
			}
			select {
			case <-ctx.Done():
				t.Fatal("stream never became ACTIVE")
			case <-time.After(20 * time.Millisecond):
			}
		}
	}

	// CreateStream's even split differs by one between the emulator and
	// AWS (kinesis-local ends the first of two shards at 2^127-2, AWS and
	// the fake at 2^127-1), so the scenario starts from one shard and
	// splits it explicitly.
	describeShards("initial")
	_, err := api.SplitShard(ctx, &sdkkinesis.SplitShardInput{StreamName: s, ShardToSplit: aws.String(shard0), NewStartingHashKey: aws.String(new(big.Int).Lsh(big.NewInt(1), 127).String())})
	must(err)
	waitActive()
	shards := describeShards("two shards")
	start := time.Now().Add(-time.Second)
	var entries []sdktypes.PutRecordsRequestEntry
	for i := range 12 {
		entries = append(entries, entry(fmt.Sprintf("user-%d", i), fmt.Sprintf("r%d", i)))
	}
	e := entry("ignored", "explicit-top")
	e.ExplicitHashKey = aws.String(aws.ToString(shards[2].HashKeyRange.EndingHashKey))
	entries = append(entries, e)
	out := putKeys("put", entries)

	// Every iterator type on shard 1.
	const (
		sh1 = "shardId-000000000001"
		sh2 = "shardId-000000000002"
		sh3 = "shardId-000000000003"
		sh4 = "shardId-000000000004"
		sh5 = "shardId-000000000005"
	)
	var seqs []string
	for _, r := range out.Records {
		if aws.ToString(r.ShardId) == sh1 {
			seqs = append(seqs, aws.ToString(r.SequenceNumber))
		}
	}
	if len(seqs) < 3 {
		t.Fatalf("only %d records on %s", len(seqs), sh1)
	}
	read("trim-horizon-0", shard0, sdkkinesis.GetShardIteratorInput{ShardIteratorType: sdktypes.ShardIteratorTypeTrimHorizon})
	read("trim-horizon-1", sh1, sdkkinesis.GetShardIteratorInput{ShardIteratorType: sdktypes.ShardIteratorTypeTrimHorizon})
	read("trim-horizon-2", sh2, sdkkinesis.GetShardIteratorInput{ShardIteratorType: sdktypes.ShardIteratorTypeTrimHorizon})
	read("at-seq", sh1, sdkkinesis.GetShardIteratorInput{ShardIteratorType: sdktypes.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String(seqs[1])})
	read("after-seq", sh1, sdkkinesis.GetShardIteratorInput{ShardIteratorType: sdktypes.ShardIteratorTypeAfterSequenceNumber, StartingSequenceNumber: aws.String(seqs[1])})
	read("latest", sh1, sdkkinesis.GetShardIteratorInput{ShardIteratorType: sdktypes.ShardIteratorTypeLatest})
	read("at-timestamp", sh1, sdkkinesis.GetShardIteratorInput{ShardIteratorType: sdktypes.ShardIteratorTypeAtTimestamp, Timestamp: aws.Time(start)})

	// Typed errors.
	_, err = api.GetShardIterator(ctx, &sdkkinesis.GetShardIteratorInput{StreamName: s, ShardId: aws.String("shardId-000000000042"), ShardIteratorType: sdktypes.ShardIteratorTypeLatest})
	tr.add("unknown shard: %s", errCode(err))
	_, err = api.PutRecords(ctx, &sdkkinesis.PutRecordsInput{StreamName: aws.String(stream + "-missing"), Records: entries[:1]})
	tr.add("missing stream: %s", errCode(err))
	_, err = api.SplitShard(ctx, &sdkkinesis.SplitShardInput{StreamName: s, ShardToSplit: aws.String(shard0), NewStartingHashKey: aws.String("12345")})
	tr.add("split closed shard: %s", errCode(err))

	// Split shard 1 in the middle of its range, then route and read.
	lo, _ := new(big.Int).SetString(aws.ToString(shards[1].HashKeyRange.StartingHashKey), 10)
	hi, _ := new(big.Int).SetString(aws.ToString(shards[1].HashKeyRange.EndingHashKey), 10)
	mid := new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1)
	_, err = api.SplitShard(ctx, &sdkkinesis.SplitShardInput{StreamName: s, ShardToSplit: aws.String(sh1), NewStartingHashKey: aws.String(mid.String())})
	must(err)
	waitActive()
	describeShards("after split")
	putKeys("put after split", entries)
	read("split parent", sh1, sdkkinesis.GetShardIteratorInput{ShardIteratorType: sdktypes.ShardIteratorTypeTrimHorizon})
	read("split child 3", sh3, sdkkinesis.GetShardIteratorInput{ShardIteratorType: sdktypes.ShardIteratorTypeTrimHorizon})
	read("split child 4", sh4, sdkkinesis.GetShardIteratorInput{ShardIteratorType: sdktypes.ShardIteratorTypeTrimHorizon})

	// Merge the children back.
	_, err = api.MergeShards(ctx, &sdkkinesis.MergeShardsInput{StreamName: s, ShardToMerge: aws.String(sh3), AdjacentShardToMerge: aws.String(sh4)})
	must(err)
	waitActive()
	describeShards("after merge")
	putKeys("put after merge", entries[:4])
	read("merged parent", sh4, sdkkinesis.GetShardIteratorInput{ShardIteratorType: sdktypes.ShardIteratorTypeTrimHorizon})
	read("merged child", sh5, sdkkinesis.GetShardIteratorInput{ShardIteratorType: sdktypes.ShardIteratorTypeTrimHorizon})
	for _, f := range []sdktypes.ShardFilterType{sdktypes.ShardFilterTypeAtLatest, sdktypes.ShardFilterTypeFromTrimHorizon} {
		out, err := api.ListShards(ctx, &sdkkinesis.ListShardsInput{StreamName: s, ShardFilter: &sdktypes.ShardFilter{Type: f}})
		must(err)
		tr.add("filter %s: %v", f, shardIDs(out.Shards))
	}
	return tr
}

func seqBefore(a, b string) bool {
	x, _ := new(big.Int).SetString(a, 10)
	y, _ := new(big.Int).SetString(b, 10)
	return x != nil && y != nil && x.Cmp(y) < 0
}
