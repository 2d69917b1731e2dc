package kinesis

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/internal/testenv"
	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

// BenchmarkConsumer measures records handled per second from the in-memory
// fake, so it shows the consumer's own cost per record (deaggregation,
// type peek, decode, dispatch, checkpointing), side by side for the
// handler kinds. Compare the sub-benchmarks' ns/op within one run.
func BenchmarkConsumer(b *testing.B) {
	open := testEvent("7f1c2a9e-1111-4a2b-8c3d-000000000000", event.TypeOpen, "user")
	cases := []struct {
		name      string
		aggregate int // user records per KPL aggregate; 0 for plain records
		opts      func(done func()) []ConsumerOption
	}{
		{"raw", 0, func(done func()) []ConsumerOption {
			return []ConsumerOption{OnRecord(func(context.Context, Record) error { done(); return nil })}
		}},
		{"typed", 0, func(done func()) []ConsumerOption {
			return []ConsumerOption{OnOpen(func(context.Context, *event.Open) error { done(); return nil })}
		}},
		{"typed-aggregated", 100, func(done func()) []ConsumerOption {
			return []ConsumerOption{OnOpen(func(context.Context, *event.Open) error { done(); return nil })}
		}},
		// OnEvent as well, as applications register it: every event is
		// decoded, and only once.
		{"typed-onevent", 0, func(done func()) []ConsumerOption {
			return []ConsumerOption{
				OnOpen(func(context.Context, *event.Open) error { done(); return nil }),
				OnEvent(func(context.Context, event.Event) error { done(); return nil }),
			}
		}},
		{"typed-onevent-aggregated", 100, func(done func()) []ConsumerOption {
			return []ConsumerOption{
				OnOpen(func(context.Context, *event.Open) error { done(); return nil }),
				OnEvent(func(context.Context, event.Event) error { done(); return nil }),
			}
		}},
		{"no-handler-peek-only", 0, nil},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			f := kinesistest.New(kinesistest.WithStream("s", 1))
			var es []entry
			if bc.aggregate > 0 {
				datas := make([][]byte, bc.aggregate)
				for i := range datas {
					datas[i] = open
				}
				for i := 0; i < b.N; i += bc.aggregate {
					es = append(es, entry{pk: "k", data: kplAggregate([]string{"k"}, datas[:min(bc.aggregate, b.N-i)])})
				}
			} else {
				for range b.N {
					es = append(es, entry{pk: "k", data: open})
				}
			}
			putEntries(b, f, "s", es)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var n atomic.Int64
			done := func() {
				if n.Add(1) == int64(b.N) {
					cancel()
				}
			}
			var opts []ConsumerOption
			if bc.opts != nil {
				opts = bc.opts(done)
			} else {
				opts = []ConsumerOption{OnUninstall(func(context.Context, *event.Uninstall) error { return nil })}
			}
			opts = append(opts, WithGetRecordsRate(1e6), WithIdleWait(0))
			c, err := NewConsumer(f, "s", opts...)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(open)))
			b.ReportAllocs()
			b.ResetTimer()
			if bc.opts == nil {
				// Nothing is handled: stop once every record was read.
				go func() {
					for c.Stats().Skipped < int64(b.N) {
						if ctx.Err() != nil {
							return
						}
						time.Sleep(100 * time.Microsecond)
					}
					cancel()
				}()
			}
			if err := c.Run(ctx); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if bc.opts != nil && n.Load() != int64(b.N) {
				b.Fatalf("handled %d of %d", n.Load(), b.N)
			}
		})
	}
}

// BenchmarkConsumerKinesalite measures end-to-end consumption from
// kinesalite (4 shards), plain records and KPL aggregates of 100 side by
// side: records handled per second including GetRecords round trips.
func BenchmarkConsumerKinesalite(b *testing.B) {
	client, _ := testenv.Kinesalite(b)
	open := testEvent("7f1c2a9e-1111-4a2b-8c3d-000000000000", event.TypeOpen, "user")
	for _, agg := range []int{0, 100} {
		name := "plain"
		if agg > 0 {
			name = fmt.Sprintf("aggregates-of-%d", agg)
		}
		b.Run(name, func(b *testing.B) {
			stream, _ := testenv.CreateStream(b, client, 4)
			var es []entry
			if agg > 0 {
				datas := make([][]byte, agg)
				for i := range datas {
					datas[i] = open
				}
				for i := 0; i < b.N; i += agg {
					es = append(es, entry{pk: fmt.Sprint(i), data: kplAggregate([]string{"k"}, datas[:min(agg, b.N-i)])})
				}
			} else {
				for i := range b.N {
					es = append(es, entry{pk: fmt.Sprint(i), data: open})
				}
			}
			putEntries(b, client, stream, es)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var n atomic.Int64
			c, err := NewConsumer(client, stream, WithIdleWait(10*time.Millisecond),
				OnOpen(func(context.Context, *event.Open) error {
					if n.Add(1) == int64(b.N) {
						cancel()
					}
					return nil
				}))
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(open)))
			b.ReportAllocs()
			b.ResetTimer()
			if err := c.Run(ctx); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
