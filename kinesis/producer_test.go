package kinesis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/rtdskit/rtds/batch"
	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

// putAll puts n records over keys keys from several goroutines (each key
// from one goroutine, so Put order per key is defined) and returns the
// payloads.
func putAll(t *testing.T, p *Producer, keys, n int) map[string]bool {
	t.Helper()
	want := make(map[string]bool, n)
	for i := range n {
		want[string(payload(fmt.Sprintf("key-%03d", i%keys), i))] = true
	}
	const workers = 4
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range n {
				k := i % keys
				if k%workers != w {
					continue
				}
				key := fmt.Sprintf("key-%03d", k)
				if err := p.Put(context.Background(), key, payload(key, i)); err != nil {
					t.Errorf("put %d: %v", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	return want
}

func TestProducerDeliversEveryRecordOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, reason string
		opts         []ProducerOption
		ordered      bool
	}{
		{"plain", "one entry per record", nil, false},
		{"aggregated", "KPL aggregates per predicted shard", []ProducerOption{WithAggregation(true)}, false},
		{"ordered", "one entry per key per request", []ProducerOption{WithOrdering(true)}, true},
		{"aggregated-ordered", "one aggregate per shard per request", []ProducerOption{WithAggregation(true), WithOrdering(true)}, true},
		{"tiny-batches", "request limits respected with many requests", []ProducerOption{WithBatchLimits(batchLimits(func(l *batch.Limits) { l.MaxRecordsPerRequest = 7 })), WithLinger(0)}, false},
		{"tiny-batches-ordered", "ordering with many small requests", []ProducerOption{WithBatchLimits(batchLimits(func(l *batch.Limits) { l.MaxRecordsPerRequest = 7 })), WithLinger(0), WithOrdering(true)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := kinesistest.New(kinesistest.WithStream("s", 4))
			var c collector
			p, err := NewProducer(f, "s", append([]ProducerOption{WithResultHandler(c.handle), WithLinger(time.Millisecond)}, tt.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			want := putAll(t, p, 50, 3000)
			if err := p.Close(context.Background()); err != nil {
				t.Fatalf("close: %v", err)
			}
			delivered, failed := c.tally(t)
			if len(delivered) != len(want) || len(failed) != 0 {
				t.Fatalf("%s: delivered %d, failed %d, want %d delivered", tt.reason, len(delivered), len(failed), len(want))
			}
			got := fakeRecords(t, f, "s")
			checkStream(t, got, want, tt.ordered)
			// Each Result names the shard and sequence number the record
			// really has.
			for _, r := range got {
				res := delivered[r.Data]
				if res.ShardID != r.ShardID || res.SequenceNumber != r.Seq {
					t.Fatalf("record %s: result says %s/%s, stream has %s/%s", r.Data, res.ShardID, res.SequenceNumber, r.ShardID, r.Seq)
				}
			}
			st := p.Stats()
			if st.Records != int64(len(want)) || st.Delivered != st.Records || st.Failed != 0 || st.Buffered != 0 || st.BufferedBytes != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestProducerAggregatesPerShard(t *testing.T) {
	t.Parallel()
	f := kinesistest.New(kinesistest.WithStream("s", 2))
	p, err := NewProducer(f, "s", WithAggregation(true), WithLinger(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := putAll(t, p, 100, 1000)
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(f.Records("s")); n > 4 {
		t.Errorf("1000 small records over 2 shards made %d Kinesis records, want at most 4 aggregates", n)
	}
	checkStream(t, fakeRecords(t, f, "s"), want, true)
	if got := f.Calls(kinesistest.OpPutRecords); got != 1 {
		t.Errorf("PutRecords calls = %d, want 1 (Close sends everything buffered at once)", got)
	}
}

func TestProducerStreamByARN(t *testing.T) {
	t.Parallel()
	f := kinesistest.New(kinesistest.WithStream("s", 2))
	p, err := NewProducer(f, kinesistest.ARN("s"))
	if err != nil {
		t.Fatal(err)
	}
	want := putAll(t, p, 10, 100)
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkStream(t, fakeRecords(t, f, "s"), want, true)
}

func TestProducerRetriesOnlyFailedEntries(t *testing.T) {
	t.Parallel()
	for _, ordering := range []bool{false, true} {
		for _, agg := range []bool{false, true} {
			t.Run(fmt.Sprintf("ordering=%v/aggregation=%v", ordering, agg), func(t *testing.T) {
				t.Parallel()
				f := kinesistest.New(kinesistest.WithStream("s", 3))
				rng := rand.New(rand.NewPCG(1, 2))
				var mu sync.Mutex
				var injected atomic.Int64
				f.SetFault(func(op string, entry int) error {
					if op != kinesistest.OpPutRecords || entry < 0 {
						return nil
					}
					mu.Lock()
					defer mu.Unlock()
					switch x := rng.IntN(10); {
					case x < 2:
						injected.Add(1)
						return &sdktypes.ProvisionedThroughputExceededException{Message: aws.String("slow down")}
					case x < 3:
						injected.Add(1)
						return errors.New("internal failure")
					}
					return nil
				})
				var c collector
				p, err := NewProducer(f, "s", WithResultHandler(c.handle), WithOrdering(ordering), WithAggregation(agg),
					WithAggregateLimits(AggregateLimits{MaxBytes: 1000, MaxRecords: DefaultAggregateLimits.MaxRecords}), WithLinger(time.Millisecond), WithPutRetry(fastPutRetry))
				if err != nil {
					t.Fatal(err)
				}
				want := putAll(t, p, 20, 2000)
				if err := p.Close(context.Background()); err != nil {
					t.Fatal(err)
				}
				delivered, failed := c.tally(t)
				if len(delivered) != len(want) || len(failed) != 0 {
					for _, r := range failed {
						t.Log(r.Err)
						break
					}
					t.Fatalf("delivered %d, failed %d of %d", len(delivered), len(failed), len(want))
				}
				if injected.Load() == 0 || p.Stats().Retried == 0 {
					t.Fatalf("no faults injected (%d) or no retries (%+v)", injected.Load(), p.Stats())
				}
				// Exactly once always; Put order per key only with ordering.
				checkStream(t, fakeRecords(t, f, "s"), want, ordering)
			})
		}
	}
}
