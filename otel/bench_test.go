package rtdsotel_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis"
)

// instantClient answers every PutRecords with success at once from one
// shard, so the benchmark measures the producer alone.
type instantClient struct {
	mu  sync.Mutex
	out []sdktypes.PutRecordsResultEntry
}

func (c *instantClient) ListShards(context.Context, *sdkkinesis.ListShardsInput, ...func(*sdkkinesis.Options)) (*sdkkinesis.ListShardsOutput, error) {
	return &sdkkinesis.ListShardsOutput{Shards: []sdktypes.Shard{{
		ShardId:             new("shardId-000000000000"),
		HashKeyRange:        &sdktypes.HashKeyRange{StartingHashKey: new("0"), EndingHashKey: new("340282366920938463463374607431768211455")},
		SequenceNumberRange: &sdktypes.SequenceNumberRange{StartingSequenceNumber: new("0")},
	}}}, nil
}

func (c *instantClient) PutRecords(_ context.Context, in *sdkkinesis.PutRecordsInput, _ ...func(*sdkkinesis.Options)) (*sdkkinesis.PutRecordsOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.out) < len(in.Records) {
		c.out = append(c.out, sdktypes.PutRecordsResultEntry{SequenceNumber: new("1"), ShardId: new("shardId-000000000000")})
	}
	return &sdkkinesis.PutRecordsOutput{Records: c.out[:len(in.Records)]}, nil
}

// batchCounter counts PutRecords calls.
type batchCounter struct{ n atomic.Int64 }

func (c *batchCounter) OnPutBatch(kinesis.PutBatchMetrics) { c.n.Add(1) }

// putAll puts n records through a fresh aggregating producer and returns
// the wall time per record.
func putAll(b *testing.B, n int, hooks ...kinesis.Hook) time.Duration {
	opts := []kinesis.ProducerOption{kinesis.WithAggregation(true), kinesis.WithLinger(time.Millisecond)}
	if len(hooks) > 0 {
		opts = append(opts, kinesis.WithHooks(hooks...))
	}
	p, err := kinesis.NewProducer(&instantClient{}, "s", opts...)
	if err != nil {
		b.Fatal(err)
	}
	data := openEvent("7f1c2a9e-1111-4a2b-8c3d-000000000001", `{"session_id":"s-1","last_delivered":{"push_id":"p"}}`)
	keys := make([]string, 64)
	for i := range keys {
		keys[i] = fmt.Sprintf("pk-%d", i)
	}
	ctx := context.Background()
	start := time.Now()
	for i := range n {
		if err := p.Put(ctx, keys[i%len(keys)], data); err != nil {
			b.Fatal(err)
		}
	}
	if err := p.Close(ctx); err != nil {
		b.Fatal(err)
	}
	return time.Since(start) / time.Duration(max(n, 1))
}

// BenchmarkProducer puts records through an aggregating producer without
// and with the adapter's hooks. Both runs measure wall time per record
// (the producer's work is pipelined over goroutines, so its CPU per record
// is higher and the overhead-% reported is an upper bound).
func BenchmarkProducer(b *testing.B) {
	m, _ := newMetrics(b, "s")
	b.Run("plain", func(b *testing.B) {
		b.ReportAllocs()
		b.ReportMetric(float64(putAll(b, b.N).Nanoseconds()), "ns/record")
	})
	b.Run("otel", func(b *testing.B) {
		b.ReportAllocs()
		var calls batchCounter
		b.ReportMetric(float64(putAll(b, b.N, m, &calls).Nanoseconds()), "ns/record")
		b.ReportMetric(float64(b.N)/float64(max(calls.n.Load(), 1)), "records/request")
	})
	// The adapter alone: the hook calls of one 500-record aggregated
	// PutRecords call (5 Kinesis records on 1 shard), per record.
	b.Run("adapter", func(b *testing.B) {
		pb := kinesis.PutBatchMetrics{Records: 500, KinesisRecords: 5, Bytes: 200 << 10, Delivered: 500, Latency: time.Millisecond,
			Shards: []kinesis.ShardBatchMetrics{{ShardID: "shardId-000000000000", Records: 500, KinesisRecords: 5, Bytes: 200 << 10}}}
		plain := putAll(b, 20000)
		b.ResetTimer()
		start := time.Now()
		for range b.N {
			m.OnPutBatch(pb)
			m.OnPutBuffer(kinesis.BufferMetrics{Records: 100, Bytes: 40000})
			m.OnPutBuffer(kinesis.BufferMetrics{})
		}
		perRecord := float64(time.Since(start).Nanoseconds()) / float64(b.N) / 500
		b.ReportMetric(perRecord, "ns/record")
		b.ReportMetric(100*perRecord/float64(plain.Nanoseconds()), "overhead-%")
	})
}

// BenchmarkDispatch measures a typed dispatch of an OPEN event (decode
// and handler call: the consumer's own per-record work after fetching, on
// one goroutine), then the adapter's hook calls for one record
// (OnHandlerDone: consumed count and handler latency), and reports the
// adapter's cost as a share of the dispatch. Timing the two apart keeps
// the share readable on a loaded machine, where two whole dispatch loops
// differ by more than the hooks cost.
func BenchmarkDispatch(b *testing.B) {
	m, _ := newMetrics(b, "s")
	rec := kinesis.Record{ShardID: "shardId-000000000000", SequenceNumber: "1",
		Data: openEvent("7f1c2a9e-1111-4a2b-8c3d-000000000001", `{"session_id":"s-1","last_delivered":{"push_id":"p"}}`)}
	d, err := kinesis.NewDispatcher(kinesis.OnOpen(func(context.Context, *event.Open) error { return nil }))
	if err != nil {
		b.Fatal(err)
	}
	hd := kinesis.HandlerDoneMetrics{ShardID: rec.ShardID, Type: event.TypeOpen, Attempt: 1, Latency: 3 * time.Microsecond}
	m.OnHandlerDone(hd)
	ctx := context.Background()
	b.ReportAllocs()
	start := time.Now()
	for range b.N {
		if err := d.Dispatch(ctx, rec); err != nil {
			b.Fatal(err)
		}
	}
	plain := float64(time.Since(start).Nanoseconds()) / float64(b.N)
	start = time.Now()
	for range b.N {
		m.OnHandlerDone(hd)
	}
	adapter := float64(time.Since(start).Nanoseconds()) / float64(b.N)
	b.ReportMetric(plain, "dispatch-ns/record")
	b.ReportMetric(adapter, "otel-ns/record")
	b.ReportMetric(100*adapter/plain, "overhead-%")
}
