package kinesis

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtdskit/rtds/event/eventgen"
	"github.com/rtdskit/rtds/internal/testenv"
)

// BenchmarkWireKinesalite runs a consumer (OnRecord, plain records) and a
// producer (aggregation on, a key per event) against kinesalite (4 shards)
// with each wire codec, side by side, on generated ~925-byte events. It
// reports the client's CPU per event (cpu-ns/op: this process only, not
// kinesalite's). Run it with a fixed count of events, for example
//
//	go test -run '^$' -bench BenchmarkWireKinesalite -benchtime 20000x -count 3 ./kinesis/
func BenchmarkWireKinesalite(b *testing.B) {
	client, _ := testenv.Kinesalite(b)
	closeIdle(b, client)
	for _, codec := range []WireCodec{WireSDK, WireFast} {
		b.Run("consume/"+codec.String(), func(b *testing.B) {
			stream, _ := testenv.CreateStream(b, client, 4)
			g := eventgen.New(1)
			es := make([]entry, b.N)
			size := 0
			for i := range es {
				es[i] = entry{pk: fmt.Sprintf("7f1c2a9e-1111-4a2b-8c3d-%012d", i), data: g.Next()}
				size += len(es[i].data)
			}
			putEntries(b, client, stream, es)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var n atomic.Int64
			c, err := NewConsumer(client, stream, WithIdleWait(10*time.Millisecond), WithWireCodec(codec),
				OnRecord(func(context.Context, Record) error {
					if n.Add(1) == int64(b.N) {
						cancel()
					}
					return nil
				}))
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size / b.N))
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.ResetTimer()
			if err := c.Run(ctx); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
		b.Run("produce/"+codec.String(), func(b *testing.B) {
			stream, _ := testenv.CreateStream(b, client, 4)
			g := eventgen.New(2)
			es := make([]entry, b.N)
			size := 0
			for i := range es {
				es[i] = entry{pk: fmt.Sprintf("7f1c2a9e-1111-4a2b-8c3d-%012d", i), data: g.Next()}
				size += len(es[i].data)
			}
			p, err := NewProducer(client, stream, WithAggregation(true), WithWireCodec(codec))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.SetBytes(int64(size / b.N))
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.ResetTimer()
			for _, e := range es {
				if err := p.Put(ctx, e.pk, e.data); err != nil {
					b.Fatal(err)
				}
			}
			if err := p.Close(ctx); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			if st := p.Stats(); st.Delivered != int64(b.N) {
				b.Fatalf("delivered %d of %d", st.Delivered, b.N)
			}
		})
	}
}
