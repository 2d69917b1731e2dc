package kinesistest_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/google/go-cmp/cmp"

	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

const shard0 = "shardId-000000000000"

func TestIteratorTypes(t *testing.T) {
	t.Parallel()
	clk := newClock()
	f := kinesistest.New(kinesistest.WithStream("s", 1), kinesistest.WithClock(clk.Now))
	var seqs []string
	for i := range 5 {
		out := put(t, f, "s", entry("k", fmt.Sprint(i)))
		seqs = append(seqs, aws.ToString(out.Records[0].SequenceNumber))
		clk.Advance(time.Second)
	}
	t2 := clk.Now().Add(-3 * time.Second) // arrival of record 2
	tests := []struct {
		name, reason string
		in           sdkkinesis.GetShardIteratorInput
		want         []string
	}{
		{"trim-horizon", "reads from the oldest record", sdkkinesis.GetShardIteratorInput{ShardIteratorType: sdktypes.ShardIteratorTypeTrimHorizon}, []string{"0", "1", "2", "3", "4"}},
		{"latest", "reads only records put after the iterator", sdkkinesis.GetShardIteratorInput{ShardIteratorType: sdktypes.ShardIteratorTypeLatest}, []string{}},
		{"at-seq", "includes the named record", sdkkinesis.GetShardIteratorInput{ShardIteratorType: sdktypes.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String(seqs[2])}, []string{"2", "3", "4"}},
		{"after-seq", "excludes the named record", sdkkinesis.GetShardIteratorInput{ShardIteratorType: sdktypes.ShardIteratorTypeAfterSequenceNumber, StartingSequenceNumber: aws.String(seqs[2])}, []string{"3", "4"}},
		{"after-last", "after the last record reads nothing yet", sdkkinesis.GetShardIteratorInput{ShardIteratorType: sdktypes.ShardIteratorTypeAfterSequenceNumber, StartingSequenceNumber: aws.String(seqs[4])}, []string{}},
		{"at-timestamp", "starts at the first record that arrived at or after the time", sdkkinesis.GetShardIteratorInput{ShardIteratorType: sdktypes.ShardIteratorTypeAtTimestamp, Timestamp: aws.Time(t2)}, []string{"2", "3", "4"}},
		{"at-old-timestamp", "a time before the stream reads everything", sdkkinesis.GetShardIteratorInput{ShardIteratorType: sdktypes.ShardIteratorTypeAtTimestamp, Timestamp: aws.Time(time.Unix(0, 0))}, []string{"0", "1", "2", "3", "4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			in.StreamName, in.ShardId = aws.String("s"), aws.String(shard0)
			out, err := f.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: aws.String(iter(t, f, &in))})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, datas(out.Records)); d != "" {
				t.Errorf("%s (-want +got):\n%s", tt.reason, d)
			}
			if out.NextShardIterator == nil {
				t.Error("open shard returned a nil NextShardIterator")
			}
		})
	}
	bad := []struct {
		name, reason string
		in           sdkkinesis.GetShardIteratorInput
		check        func(error) bool
	}{
		{"unknown-shard", "a missing shard is not found", sdkkinesis.GetShardIteratorInput{ShardId: aws.String("shardId-000000000009"), ShardIteratorType: sdktypes.ShardIteratorTypeLatest}, isNotFound},
		{"bad-seq", "sequence numbers are decimal", sdkkinesis.GetShardIteratorInput{ShardId: aws.String(shard0), ShardIteratorType: sdktypes.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String("abc")}, isInvalid},
		{"no-timestamp", "AT_TIMESTAMP needs a timestamp", sdkkinesis.GetShardIteratorInput{ShardId: aws.String(shard0), ShardIteratorType: sdktypes.ShardIteratorTypeAtTimestamp}, isInvalid},
		{"bad-type", "unknown iterator types are invalid", sdkkinesis.GetShardIteratorInput{ShardId: aws.String(shard0), ShardIteratorType: "SOMETIME"}, isInvalid},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			in.StreamName = aws.String("s")
			_, err := f.GetShardIterator(ctx, &in)
			if !tt.check(err) {
				t.Errorf("%s: err = %v", tt.reason, err)
			}
		})
	}
}

func isNotFound(err error) bool {
	var e *sdktypes.ResourceNotFoundException
	return errors.As(err, &e)
}

func isInvalid(err error) bool {
	var e *sdktypes.InvalidArgumentException
	return errors.As(err, &e)
}

func TestGetRecordsLimitAndLag(t *testing.T) {
	t.Parallel()
	clk := newClock()
	f := kinesistest.New(kinesistest.WithStream("s", 1), kinesistest.WithClock(clk.Now))
	for i := range 5 {
		put(t, f, "s", entry("k", fmt.Sprint(i)))
	}
	clk.Advance(2 * time.Second)
	it := iter(t, f, &sdkkinesis.GetShardIteratorInput{StreamName: aws.String("s"), ShardId: aws.String(shard0), ShardIteratorType: sdktypes.ShardIteratorTypeTrimHorizon})
	out, err := f.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: aws.String(it), Limit: aws.Int32(3)})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"0", "1", "2"}, datas(out.Records)); d != "" {
		t.Errorf("first page (-want +got):\n%s", d)
	}
	if got := aws.ToInt64(out.MillisBehindLatest); got != 2000 {
		t.Errorf("MillisBehindLatest = %d, want 2000 (two records left, 2s old)", got)
	}
	out, err = f.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: out.NextShardIterator, Limit: aws.Int32(3)})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"3", "4"}, datas(out.Records)); d != "" {
		t.Errorf("second page (-want +got):\n%s", d)
	}
	if got := aws.ToInt64(out.MillisBehindLatest); got != 0 {
		t.Errorf("MillisBehindLatest = %d at the tip, want 0", got)
	}
	r := out.Records[0]
	if aws.ToString(r.PartitionKey) != "k" || r.ApproximateArrivalTimestamp == nil || r.SequenceNumber == nil {
		t.Errorf("record %+v lacks fields", r)
	}
	for _, limit := range []int32{0, 10001} {
		_, err := f.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: out.NextShardIterator, Limit: aws.Int32(limit)})
		if !isInvalid(err) {
			t.Errorf("Limit %d: err = %v, want InvalidArgumentException", limit, err)
		}
	}
	_, err = f.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: aws.String("garbage")})
	if !isInvalid(err) {
		t.Errorf("garbage iterator: err = %v, want InvalidArgumentException", err)
	}
}

func TestIteratorExpiry(t *testing.T) {
	t.Parallel()
	clk := newClock()
	f := kinesistest.New(kinesistest.WithStream("s", 1), kinesistest.WithClock(clk.Now), kinesistest.WithIteratorTTL(time.Minute))
	newIter := func() *string {
		return aws.String(iter(t, f, &sdkkinesis.GetShardIteratorInput{StreamName: aws.String("s"), ShardId: aws.String(shard0), ShardIteratorType: sdktypes.ShardIteratorTypeLatest}))
	}
	expired := func(err error) bool {
		var e *sdktypes.ExpiredIteratorException
		return errors.As(err, &e)
	}
	it := newIter()
	clk.Advance(time.Minute)
	out, err := f.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: it})
	if err != nil {
		t.Fatalf("iterator at exactly its TTL: %v", err)
	}
	clk.Advance(time.Minute + time.Millisecond)
	if _, err := f.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: it}); !expired(err) {
		t.Errorf("old iterator: err = %v, want ExpiredIteratorException", err)
	}
	if _, err := f.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: out.NextShardIterator}); !expired(err) {
		t.Errorf("old next iterator: err = %v, want ExpiredIteratorException", err)
	}
	it = newIter()
	f.ExpireIterators()
	if _, err := f.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: it}); !expired(err) {
		t.Errorf("after ExpireIterators: err = %v, want ExpiredIteratorException", err)
	}
	if _, err := f.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: newIter()}); err != nil {
		t.Errorf("iterator issued after ExpireIterators: %v", err)
	}
}

func TestDeleteStream(t *testing.T) {
	t.Parallel()
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	it := iter(t, f, &sdkkinesis.GetShardIteratorInput{StreamName: aws.String("s"), ShardId: aws.String(shard0), ShardIteratorType: sdktypes.ShardIteratorTypeLatest})
	if _, err := f.DeleteStream(ctx, &sdkkinesis.DeleteStreamInput{StreamARN: aws.String(kinesistest.ARN("s"))}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: aws.String(it)}); !isNotFound(err) {
		t.Errorf("iterator of a deleted stream: err = %v, want ResourceNotFoundException", err)
	}
	if _, err := f.DescribeStreamSummary(ctx, &sdkkinesis.DescribeStreamSummaryInput{StreamName: aws.String("s")}); !isNotFound(err) {
		t.Errorf("describe deleted: err = %v, want ResourceNotFoundException", err)
	}
	if _, err := f.DeleteStream(ctx, &sdkkinesis.DeleteStreamInput{StreamName: aws.String("s")}); !isNotFound(err) {
		t.Errorf("delete twice: err = %v, want ResourceNotFoundException", err)
	}
	if f.Records("s") != nil {
		t.Error("Records of a deleted stream is not nil")
	}
}

func TestCreateAndDescribe(t *testing.T) {
	t.Parallel()
	f := kinesistest.New()
	if _, err := f.CreateStream(ctx, &sdkkinesis.CreateStreamInput{StreamName: aws.String("p"), ShardCount: aws.Int32(3)}); err != nil {
		t.Fatal(err)
	}
	_, err := f.CreateStream(ctx, &sdkkinesis.CreateStreamInput{StreamName: aws.String("p"), ShardCount: aws.Int32(3)})
	var inUse *sdktypes.ResourceInUseException
	if !errors.As(err, &inUse) {
		t.Errorf("create twice: err = %v, want ResourceInUseException", err)
	}
	if _, err := f.CreateStream(ctx, &sdkkinesis.CreateStreamInput{StreamName: aws.String("bad name!"), ShardCount: aws.Int32(1)}); !isInvalid(err) {
		t.Errorf("bad name: err = %v, want InvalidArgumentException", err)
	}
	if _, err := f.CreateStream(ctx, &sdkkinesis.CreateStreamInput{StreamName: aws.String("q")}); !isInvalid(err) {
		t.Errorf("provisioned without ShardCount: err = %v, want InvalidArgumentException", err)
	}
	if _, err := f.CreateStream(ctx, &sdkkinesis.CreateStreamInput{StreamName: aws.String("od"), StreamModeDetails: &sdktypes.StreamModeDetails{StreamMode: sdktypes.StreamModeOnDemand}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		shards int32
		mode   sdktypes.StreamMode
	}{{"p", 3, sdktypes.StreamModeProvisioned}, {"od", kinesistest.DefaultOnDemandShards, sdktypes.StreamModeOnDemand}} {
		out, err := f.DescribeStreamSummary(ctx, &sdkkinesis.DescribeStreamSummaryInput{StreamName: aws.String(tc.name)})
		if err != nil {
			t.Fatal(err)
		}
		s := out.StreamDescriptionSummary
		if aws.ToInt32(s.OpenShardCount) != tc.shards || s.StreamStatus != sdktypes.StreamStatusActive ||
			aws.ToString(s.StreamARN) != kinesistest.ARN(tc.name) || s.StreamModeDetails.StreamMode != tc.mode {
			t.Errorf("%s: summary %+v", tc.name, s)
		}
	}
}
