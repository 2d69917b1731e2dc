package kinesis

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/rtdskit/rtds/batch"
	"github.com/rtdskit/rtds/internal/faultproxy"
	"github.com/rtdskit/rtds/internal/testenv"
)

// readStream reads every record of every shard (closed parents first, as
// ListShards lists them) from TRIM_HORIZON, deaggregated.
func readStream(t *testing.T, client *sdkkinesis.Client, stream string) []storedRecord {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var shards []sdktypes.Shard
	in := &sdkkinesis.ListShardsInput{StreamName: aws.String(stream)}
	for {
		out, err := client.ListShards(ctx, in)
		if err != nil {
			t.Fatalf("list shards: %v", err)
		}
		shards = append(shards, out.Shards...)
		if out.NextToken == nil {
			break
		}
		in = &sdkkinesis.ListShardsInput{NextToken: out.NextToken}
	}
	var all []storedRecord
	for _, sh := range shards {
		it, err := client.GetShardIterator(ctx, &sdkkinesis.GetShardIteratorInput{StreamName: aws.String(stream),
			ShardId: sh.ShardId, ShardIteratorType: sdktypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatalf("shard iterator %s: %v", *sh.ShardId, err)
		}
		iter := it.ShardIterator
		for iter != nil {
			out, err := client.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
			if err != nil {
				t.Fatalf("get records %s: %v", *sh.ShardId, err)
			}
			for _, r := range out.Records {
				all = append(all, readAggregate(t, *sh.ShardId, r)...)
			}
			iter = out.NextShardIterator
			if len(out.Records) == 0 && aws.ToInt64(out.MillisBehindLatest) == 0 {
				break // caught up on an open shard
			}
		}
	}
	return all
}

func TestProducerIntegrationConformance(t *testing.T) {
	t.Parallel()
	client, _ := testenv.KinesisLocal(t)
	tests := []struct {
		name, reason string
		byARN        bool
		opts         []ProducerOption
		ordered      bool
	}{
		{"plain-by-name", "one entry per record, stream by name", false, nil, false},
		{"aggregated-by-arn", "KPL aggregates, stream by ARN", true, []ProducerOption{WithAggregation(true)}, false},
		{"ordered", "ordering without aggregation", false, []ProducerOption{WithOrdering(true)}, true},
		{"aggregated-ordered-by-arn", "ordering with aggregation, by ARN", true, []ProducerOption{WithAggregation(true), WithOrdering(true)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			name, arn := testenv.CreateStream(t, client, 3)
			stream := name
			if tt.byARN {
				stream = arn
			}
			var c collector
			p, err := NewProducer(client, stream, append([]ProducerOption{WithResultHandler(c.handle), WithLinger(20 * time.Millisecond)}, tt.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			want := putAll(t, p, 40, 1500)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := p.Close(ctx); err != nil {
				t.Fatal(err)
			}
			delivered, failed := c.tally(t)
			if len(delivered) != len(want) || len(failed) != 0 {
				for _, r := range failed {
					t.Log(r.Err)
					break
				}
				t.Fatalf("%s: delivered %d, failed %d of %d", tt.reason, len(delivered), len(failed), len(want))
			}
			got := readStream(t, client, name)
			checkStream(t, got, want, tt.ordered)
			for _, r := range got {
				if res := delivered[r.Data]; res.ShardID != r.ShardID || res.SequenceNumber != r.Seq {
					t.Fatalf("record %s: result says %s/%s, stream has %s/%s", r.Data, res.ShardID, res.SequenceNumber, r.ShardID, r.Seq)
				}
			}
		})
	}
}

func TestProducerIntegrationResharding(t *testing.T) {
	t.Parallel()
	client, _ := testenv.KinesisLocal(t)
	name, _ := testenv.CreateStream(t, client, 2)
	var c collector
	p, err := NewProducer(client, name, WithResultHandler(c.handle), WithAggregation(true), WithOrdering(true),
		WithLinger(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	want := map[string]bool{}
	put := func(from, to int) {
		for i := from; i < to; i++ {
			k := fmt.Sprintf("key-%03d", i%30)
			want[string(payload(k, i))] = true
			if err := p.Put(ctx, k, payload(k, i)); err != nil {
				t.Fatal(err)
			}
			if i%200 == 199 {
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	put(0, 1000)
	ls, err := client.ListShards(ctx, &sdkkinesis.ListShardsInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	sh := ls.Shards[0]
	start, _ := batch.ParseHashKey(*sh.HashKeyRange.StartingHashKey)
	mid := hashKey{Hi: start.Hi + 1<<62, Lo: start.Lo}
	if _, err := client.SplitShard(ctx, &sdkkinesis.SplitShardInput{StreamName: aws.String(name),
		ShardToSplit: sh.ShardId, NewStartingHashKey: aws.String(mid.String())}); err != nil {
		t.Fatal(err)
	}
	put(1000, 2000)
	if _, err := testenv.WaitActive(ctx, client, name); err != nil {
		t.Fatal(err)
	}
	put(2000, 3000)
	// Records now land on the children, so the producer re-reads the map.
	extra := 3000
	for deadline := time.Now().Add(10 * time.Second); ; {
		p.mu.Lock()
		n := len(p.shards)
		p.mu.Unlock()
		if n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("producer's shard map still has %d open shards after the split, want 3", n)
		}
		put(extra, extra+1) // keep answers coming
		extra++
		time.Sleep(50 * time.Millisecond)
	}
	put(4000, 4500)
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	delivered, failed := c.tally(t)
	if len(delivered) != len(want) || len(failed) != 0 {
		t.Fatalf("delivered %d, failed %d of %d", len(delivered), len(failed), len(want))
	}
	checkStream(t, readStream(t, client, name), want, true)
}

func TestProducerIntegrationVolume(t *testing.T) {
	t.Parallel()
	client, _ := testenv.Kinesalite(t)
	for _, agg := range []bool{false, true} {
		t.Run(fmt.Sprintf("aggregation-%v", agg), func(t *testing.T) {
			t.Parallel()
			name, _ := testenv.CreateStream(t, client, 4)
			var c collector
			p, err := NewProducer(client, name, WithResultHandler(c.handle), WithAggregation(agg))
			if err != nil {
				t.Fatal(err)
			}
			want := putAll(t, p, 500, 20000)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := p.Close(ctx); err != nil {
				t.Fatal(err)
			}
			delivered, failed := c.tally(t)
			if len(delivered) != len(want) || len(failed) != 0 {
				t.Fatalf("delivered %d, failed %d of %d", len(delivered), len(failed), len(want))
			}
			checkStream(t, readStream(t, client, name), want, false)
		})
	}
}

// TestProducerIntegrationFaults runs the producer through the fault proxy:
// every record must be delivered or reported failed, the counts must add
// up, every delivered record must be in the stream (duplicates are allowed
// only where the proxy dropped an answer after the emulator stored it),
// and retries must have happened.
func TestProducerIntegrationFaults(t *testing.T) {
	t.Parallel()
	_, ep := testenv.Kinesalite(t)
	tests := []struct {
		name, reason string
		cfg          faultproxy.Config
		opts         []ProducerOption
	}{
		{"throttled-calls", "whole calls throttled are retried", faultproxy.Config{Throttle: 0.3}, nil},
		{"partial-failures", "only failed entries are retried, in order", faultproxy.Config{FailEntries: 0.2}, []ProducerOption{WithOrdering(true)}},
		{"internal-errors", "500s are retried", faultproxy.Config{InternalError: 0.3, FailEntries: 0.1, EntryErrorCode: faultproxy.CodeInternalFailure}, []ProducerOption{WithAggregation(true)}},
		{"dropped-connections", "network errors before and after the emulator acted", faultproxy.Config{DropBefore: 0.15, DropAfter: 0.15}, []ProducerOption{WithAggregation(true)}},
		{"slow", "slow answers", faultproxy.Config{Latency: 50 * time.Millisecond, FailEntries: 0.1}, nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			proxy, err := faultproxy.New(ep, faultproxy.WithSeed(int64(i+1)))
			if err != nil {
				t.Fatal(err)
			}
			defer proxy.Close()
			direct := testenv.KinesisClient(ep)
			name, _ := testenv.CreateStream(t, direct, 3)
			if err := proxy.SetConfig(func() faultproxy.Config { c := tt.cfg; c.Ops = []string{"PutRecords"}; return c }()); err != nil {
				t.Fatal(err)
			}
			// The SDK's own retries off, so the producer sees every fault.
			client := testenv.KinesisClient(proxy.URL(), func(o *sdkkinesis.Options) { o.RetryMaxAttempts = 1 })
			var c collector
			// Small requests and aggregates, so there are many calls to
			// inject faults into.
			p, err := NewProducer(client, name, append([]ProducerOption{WithResultHandler(c.handle), WithPutRetry(fastPutRetry),
				WithLinger(5 * time.Millisecond), WithBatchLimits(batchLimits(func(l *batch.Limits) { l.MaxRecordsPerRequest = 50 })), WithAggregateLimits(AggregateLimits{MaxBytes: 1000, MaxRecords: DefaultAggregateLimits.MaxRecords})}, tt.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			want := putAll(t, p, 30, 2000)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := p.Close(ctx); err != nil {
				t.Fatal(err)
			}
			delivered, failed := c.tally(t)
			if len(delivered)+len(failed) != len(want) {
				t.Fatalf("%s: %d delivered + %d failed != %d put", tt.reason, len(delivered), len(failed), len(want))
			}
			if len(failed) != 0 {
				t.Errorf("%s: %d records failed, first: %v", tt.reason, len(failed), firstErr(failed))
			}
			st := p.Stats()
			if st.Retried == 0 || st.Delivered != int64(len(delivered)) {
				t.Errorf("stats %+v", st)
			}
			ps := proxy.Stats()
			if ps.Throttled+ps.InternalErrors+ps.DroppedBefore+ps.DroppedAfter+ps.FailedEntries == 0 {
				t.Fatalf("the proxy injected no fault: %+v", ps)
			}
			got := readStream(t, direct, name)
			seen := map[string]int{}
			for _, r := range got {
				seen[r.Data]++
			}
			for d := range delivered {
				if seen[d] == 0 {
					t.Fatalf("record %s reported delivered but missing from the stream", d)
				}
			}
			dups := 0
			for _, n := range seen {
				dups += n - 1
			}
			if dups > 0 && ps.StoredThenDropped == 0 {
				t.Errorf("%d duplicates without any answer dropped after storing", dups)
			}
			if tt.cfg.DropAfter == 0 {
				checkStream(t, got, want, len(tt.opts) > 0 && tt.name == "partial-failures")
			}
		})
	}
}

func firstErr(m map[string]Result) error {
	for _, r := range m {
		return r.Err
	}
	return nil
}

// TestProducerIntegrationEndpointDown checks that memory stays bounded while
// the endpoint is unreachable, that Put honours its context, and that
// everything is delivered once the endpoint is back.
func TestProducerIntegrationEndpointDown(t *testing.T) {
	t.Parallel()
	_, ep := testenv.Kinesalite(t)
	proxy, err := faultproxy.New(ep, faultproxy.WithSeed(9))
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	direct := testenv.KinesisClient(ep)
	name, _ := testenv.CreateStream(t, direct, 2)
	client := testenv.KinesisClient(proxy.URL(), func(o *sdkkinesis.Options) { o.RetryMaxAttempts = 1 })
	var c collector
	const buf = 256 << 10
	p, err := NewProducer(client, name, WithResultHandler(c.handle), WithBufferBytes(buf), WithBatchLimits(batchLimits(func(l *batch.Limits) { l.MaxRecordBytes = 64 << 10 })),
		WithPutRetry(fastPutRetry), WithLinger(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	// Let the producer read the shard map, then cut the endpoint.
	if err := p.Put(t.Context(), "warm", []byte("up")); err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := proxy.SetConfig(faultproxy.Config{Unreachable: true, Ops: []string{"PutRecords"}}); err != nil {
		t.Fatal(err)
	}
	put := 1
	for ; put < 10000; put++ {
		data := fmt.Appendf(make([]byte, 0, 1000), "%06d", put)[:1000]
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := p.Put(ctx, fmt.Sprintf("k%d", put), data)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if st := p.Stats(); st.BufferedBytes > buf || put > buf/1000+1 {
		t.Fatalf("buffered %d bytes in %d records with the endpoint down; the buffer holds %d", st.BufferedBytes, put, buf)
	}
	// Make sure the producer really hit the dead endpoint (and is
	// retrying) before bringing it back.
	for deadline := time.Now().Add(30 * time.Second); proxy.Stats().Unreachable == 0; {
		if time.Now().After(deadline) {
			t.Fatal("no PutRecords call reached the dead endpoint")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := proxy.SetConfig(faultproxy.Config{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	delivered, failed := c.tally(t)
	if len(delivered) != put || len(failed) != 0 {
		t.Fatalf("delivered %d, failed %d of %d", len(delivered), len(failed), put)
	}
}
