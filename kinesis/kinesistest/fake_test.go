package kinesistest_test

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

var ctx = context.Background()

// clock is a manually advanced clock for WithClock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func put(t *testing.T, f *kinesistest.Fake, stream string, entries ...sdktypes.PutRecordsRequestEntry) *sdkkinesis.PutRecordsOutput {
	t.Helper()
	out, err := f.PutRecords(ctx, &sdkkinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries})
	if err != nil {
		t.Fatalf("PutRecords: %v", err)
	}
	return out
}

func entry(pk, data string) sdktypes.PutRecordsRequestEntry {
	return sdktypes.PutRecordsRequestEntry{PartitionKey: aws.String(pk), Data: []byte(data)}
}

func iter(t *testing.T, f *kinesistest.Fake, in *sdkkinesis.GetShardIteratorInput) string {
	t.Helper()
	out, err := f.GetShardIterator(ctx, in)
	if err != nil {
		t.Fatalf("GetShardIterator: %v", err)
	}
	return aws.ToString(out.ShardIterator)
}

func datas(rs []sdktypes.Record) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, string(r.Data))
	}
	return out
}

// wantAPIError checks err's chain for a typed SDK error T, or an API error
// with the given code when T is smithy.APIError.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != code {
		t.Fatalf("err = %v, want API error %s", err, code)
	}
}

func TestRoutingMatchesMD5(t *testing.T) {
	t.Parallel()
	f := kinesistest.New(kinesistest.WithStream("s", 4))
	ls, err := f.ListShards(ctx, &sdkkinesis.ListShardsInput{StreamName: aws.String("s")})
	if err != nil {
		t.Fatal(err)
	}
	if len(ls.Shards) != 4 {
		t.Fatalf("%d shards, want 4", len(ls.Shards))
	}
	for i := range 200 {
		pk := fmt.Sprintf("key-%d", i)
		out := put(t, f, "s", entry(pk, "x"))
		sum := md5.Sum([]byte(pk))
		h := new(big.Int).SetBytes(sum[:])
		var want string
		for _, sh := range ls.Shards {
			lo, _ := new(big.Int).SetString(*sh.HashKeyRange.StartingHashKey, 10)
			hi, _ := new(big.Int).SetString(*sh.HashKeyRange.EndingHashKey, 10)
			if lo.Cmp(h) <= 0 && h.Cmp(hi) <= 0 {
				want = *sh.ShardId
			}
		}
		if got := aws.ToString(out.Records[0].ShardId); got != want {
			t.Fatalf("key %q went to %s, want %s", pk, got, want)
		}
	}
}

func TestExplicitHashKeyRouting(t *testing.T) {
	t.Parallel()
	f := kinesistest.New(kinesistest.WithStream("s", 2))
	half := new(big.Int).Lsh(big.NewInt(1), 127)
	tests := []struct {
		name, reason, key, want string
	}{
		{"zero", "lowest key goes to the first shard", "0", "shardId-000000000000"},
		{"below-half", "last key of the first shard's range", new(big.Int).Sub(half, big.NewInt(1)).String(), "shardId-000000000000"},
		{"half", "first key of the second shard's range", half.String(), "shardId-000000000001"},
		{"max", "2^128-1 is the top of the last shard", new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1)).String(), "shardId-000000000001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := entry("pk", "d")
			e.ExplicitHashKey = aws.String(tt.key)
			out := put(t, f, "s", e)
			if got := aws.ToString(out.Records[0].ShardId); got != tt.want {
				t.Errorf("%s: shard %s, want %s", tt.reason, got, tt.want)
			}
		})
	}
	e := entry("pk", "d")
	e.ExplicitHashKey = aws.String(new(big.Int).Lsh(big.NewInt(1), 128).String())
	_, err := f.PutRecords(ctx, &sdkkinesis.PutRecordsInput{StreamName: aws.String("s"), Records: []sdktypes.PutRecordsRequestEntry{e}})
	var ia *sdktypes.InvalidArgumentException
	if !errors.As(err, &ia) {
		t.Errorf("hash key 2^128: err = %v, want InvalidArgumentException", err)
	}
}

func TestSequenceNumbersIncrease(t *testing.T) {
	t.Parallel()
	f := kinesistest.New(kinesistest.WithStream("s", 3))
	var last *big.Int
	for i := range 50 {
		out, err := f.PutRecord(ctx, &sdkkinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String(fmt.Sprint(i)), Data: []byte("d")})
		if err != nil {
			t.Fatal(err)
		}
		n, ok := new(big.Int).SetString(aws.ToString(out.SequenceNumber), 10)
		if !ok {
			t.Fatalf("sequence number %q is not decimal", aws.ToString(out.SequenceNumber))
		}
		if last != nil && n.Cmp(last) <= 0 {
			t.Fatalf("sequence number %s not above %s", n, last)
		}
		last = n
		if !strings.HasPrefix(aws.ToString(out.ShardId), "shardId-00000000000") || len(aws.ToString(out.ShardId)) != len("shardId-000000000000") {
			t.Fatalf("shard id %q", aws.ToString(out.ShardId))
		}
	}
	if got := len(f.Records("s")); got != 50 {
		t.Errorf("Records: %d, want 50", got)
	}
	if got := f.Calls(kinesistest.OpPutRecord); got != 50 {
		t.Errorf("Calls(PutRecord) = %d, want 50", got)
	}
}

func TestAddressing(t *testing.T) {
	t.Parallel()
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	arn := kinesistest.ARN("s")
	if arn != "arn:aws:kinesis:us-east-1:000000000000:stream/s" {
		t.Fatalf("ARN = %s", arn)
	}
	tests := []struct {
		name, reason string
		sname, sarn  *string
		check        func(error) bool
	}{
		{"name", "a name alone addresses the stream", aws.String("s"), nil, func(err error) bool { return err == nil }},
		{"arn", "an ARN alone addresses the stream", nil, aws.String(arn), func(err error) bool { return err == nil }},
		{"both", "a matching name and ARN are accepted", aws.String("s"), aws.String(arn), func(err error) bool { return err == nil }},
		{"mismatch", "name and ARN of different streams are rejected", aws.String("other"), aws.String(arn), func(err error) bool {
			var e *sdktypes.InvalidArgumentException
			return errors.As(err, &e)
		}},
		{"missing", "an unknown stream is not found", aws.String("nope"), nil, func(err error) bool {
			var e *sdktypes.ResourceNotFoundException
			return errors.As(err, &e)
		}},
		{"other-account", "an ARN of another account is not found", nil, aws.String("arn:aws:kinesis:us-east-1:111111111111:stream/s"), func(err error) bool {
			var e *sdktypes.ResourceNotFoundException
			return errors.As(err, &e)
		}},
		{"neither", "a request naming no stream is invalid", nil, nil, func(err error) bool {
			var e *sdktypes.InvalidArgumentException
			return errors.As(err, &e)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.PutRecords(ctx, &sdkkinesis.PutRecordsInput{StreamName: tt.sname, StreamARN: tt.sarn, Records: []sdktypes.PutRecordsRequestEntry{entry("k", "v")}})
			if !tt.check(err) {
				t.Errorf("%s: err = %v", tt.reason, err)
			}
		})
	}
	if got := len(f.Records(arn)); got != 3 {
		t.Errorf("Records(arn) = %d records, want 3", got)
	}
}

func TestPutRecordsLimits(t *testing.T) {
	t.Parallel()
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	many := make([]sdktypes.PutRecordsRequestEntry, 501)
	for i := range many {
		many[i] = entry("k", "v")
	}
	big1 := entry("k", strings.Repeat("x", kinesistest.MaxRecordSize))
	fiveMiB := make([]sdktypes.PutRecordsRequestEntry, 6)
	for i := range fiveMiB {
		fiveMiB[i] = entry("k", strings.Repeat("x", kinesistest.MaxRecordSize-1))
	}
	tests := []struct {
		name, reason string
		records      []sdktypes.PutRecordsRequestEntry
	}{
		{"too-many", "at most 500 entries per call", many},
		{"none", "at least one entry", nil},
		{"empty-key", "partition keys have 1 to 256 characters", []sdktypes.PutRecordsRequestEntry{entry("", "v")}},
		{"long-key", "partition keys have 1 to 256 characters", []sdktypes.PutRecordsRequestEntry{entry(strings.Repeat("é", 257), "v")}},
		{"record-too-large", "data plus key must fit in 1 MiB", []sdktypes.PutRecordsRequestEntry{big1}},
		{"request-too-large", "a call carries at most 5 MiB", fiveMiB},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.PutRecords(ctx, &sdkkinesis.PutRecordsInput{StreamName: aws.String("s"), Records: tt.records})
			wantCode(t, err, "ValidationException")
		})
	}
	if n := len(f.Records("s")); n != 0 {
		t.Errorf("rejected calls stored %d records", n)
	}
	put(t, f, "s", entry(strings.Repeat("é", 256), strings.Repeat("x", kinesistest.MaxRecordSize-512)))
}

func TestFaultHook(t *testing.T) {
	t.Parallel()
	f := kinesistest.New(kinesistest.WithStream("s", 2))
	f.SetFault(func(op string, e int) error {
		if op == kinesistest.OpPutRecords && e == kinesistest.CallEntry {
			return nil
		}
		switch e {
		case 1:
			return &sdktypes.ProvisionedThroughputExceededException{Message: aws.String("slow down")}
		case 3:
			return errors.New("boom")
		}
		return nil
	})
	out := put(t, f, "s", entry("a", "0"), entry("b", "1"), entry("c", "2"), entry("d", "3"))
	if got := aws.ToInt32(out.FailedRecordCount); got != 2 {
		t.Errorf("FailedRecordCount = %d, want 2", got)
	}
	type res struct{ Code, Msg string }
	var got []res
	for _, r := range out.Records {
		got = append(got, res{aws.ToString(r.ErrorCode), aws.ToString(r.ErrorMessage)})
		if (r.ErrorCode == nil) == (r.SequenceNumber == nil) {
			t.Errorf("entry %+v has both or neither of ErrorCode and SequenceNumber", r)
		}
	}
	want := []res{{}, {"ProvisionedThroughputExceededException", "slow down"}, {}, {"InternalFailure", "boom"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("results (-want +got):\n%s", d)
	}
	var stored []string
	for _, r := range f.Records("s") {
		stored = append(stored, string(r.Data))
	}
	if d := cmp.Diff([]string{"0", "2"}, stored); d != "" {
		t.Errorf("stored (-want +got):\n%s", d)
	}

	f.SetFault(func(op string, e int) error {
		if op == kinesistest.OpGetShardIterator {
			return &sdktypes.ProvisionedThroughputExceededException{Message: aws.String("x")}
		}
		return nil
	})
	_, err := f.GetShardIterator(ctx, &sdkkinesis.GetShardIteratorInput{StreamName: aws.String("s"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: sdktypes.ShardIteratorTypeTrimHorizon})
	var pt *sdktypes.ProvisionedThroughputExceededException
	if !errors.As(err, &pt) {
		t.Errorf("GetShardIterator err = %v, want ProvisionedThroughputExceededException", err)
	}
	var oe *smithy.OperationError
	if !errors.As(err, &oe) || oe.Operation() != "GetShardIterator" || oe.Service() != "Kinesis" {
		t.Errorf("err = %v, want a smithy.OperationError like the SDK's", err)
	}
	f.SetFault(nil)
	if _, err := f.GetShardIterator(ctx, &sdkkinesis.GetShardIteratorInput{StreamName: aws.String("s"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: sdktypes.ShardIteratorTypeTrimHorizon}); err != nil {
		t.Errorf("after SetFault(nil): %v", err)
	}
	if got := f.Calls(kinesistest.OpGetShardIterator); got != 2 {
		t.Errorf("Calls(GetShardIterator) = %d, want 2 (failed calls count)", got)
	}
}

func TestContextCanceled(t *testing.T) {
	t.Parallel()
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	c, cancel := context.WithCancel(ctx)
	cancel()
	_, err := f.PutRecords(c, &sdkkinesis.PutRecordsInput{StreamName: aws.String("s"), Records: []sdktypes.PutRecordsRequestEntry{entry("k", "v")}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if n := len(f.Records("s")); n != 0 {
		t.Errorf("canceled call stored %d records", n)
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	f := kinesistest.New(kinesistest.WithStream("s", 4))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				if _, err := f.PutRecords(ctx, &sdkkinesis.PutRecordsInput{StreamName: aws.String("s"),
					Records: []sdktypes.PutRecordsRequestEntry{entry(fmt.Sprint(g, i), "a"), entry(fmt.Sprint(i, g), "b")}}); err != nil {
					t.Error(err)
					return
				}
				_, _ = f.ListShards(ctx, &sdkkinesis.ListShardsInput{StreamName: aws.String("s")})
			}
		})
	}
	wg.Wait()
	rs := f.Records("s")
	if len(rs) != 8*50*2 {
		t.Fatalf("%d records, want %d", len(rs), 8*50*2)
	}
	seen := map[string]bool{}
	for _, r := range rs {
		if seen[r.SequenceNumber] {
			t.Fatalf("duplicate sequence number %s", r.SequenceNumber)
		}
		seen[r.SequenceNumber] = true
	}
}

func TestFaultHookMayBlock(t *testing.T) {
	t.Parallel()
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	entered, release := make(chan struct{}), make(chan struct{})
	f.SetFault(func(op string, e int) error {
		if op == kinesistest.OpPutRecords && e == kinesistest.CallEntry {
			close(entered)
			<-release
		}
		return nil
	})
	c, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() {
		_, err := f.PutRecords(c, &sdkkinesis.PutRecordsInput{StreamName: aws.String("s"), Records: []sdktypes.PutRecordsRequestEntry{entry("k", "v")}})
		errc <- err
	}()
	<-entered
	// Other calls proceed while the hook blocks.
	if _, err := f.ListShards(ctx, &sdkkinesis.ListShardsInput{StreamName: aws.String("s")}); err != nil {
		t.Fatal(err)
	}
	cancel()
	close(release)
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled after the context ended in the hook", err)
	}
	if n := len(f.Records("s")); n != 0 {
		t.Errorf("a canceled call stored %d records", n)
	}
}
