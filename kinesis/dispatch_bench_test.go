package kinesis

import (
	"context"
	"testing"

	"github.com/rtdskit/rtds/batch"
	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/event/eventgen"
)

// BenchmarkDispatch measures what a Dispatcher adds to event.Decode, side
// by side on the eventgen corpus (every event type): "decode" is
// event.Decode alone, "dispatch" a Dispatcher with the handlers an
// application registers (a few On<Type> handlers and OnEvent for the
// rest), "deaggregate-dispatch" the same records read out of KPL
// aggregates of about 50 KB first (batch.AppendDeaggregated, each record
// with its own partition key). Compare the ns/op within one run.
func BenchmarkDispatch(b *testing.B) {
	g := eventgen.New(1)
	events := make([][]byte, 2000)
	var total int
	for i := range events {
		events[i] = g.Next()
		total += len(events[i])
	}
	avg := int64(total / len(events))
	ctx := context.Background()
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(avg)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := event.Decode(events[i%len(events)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	newDisp := func(b *testing.B) *Dispatcher {
		d, err := NewDispatcher(
			OnOpen(func(context.Context, *event.Open) error { return nil }),
			OnSend(func(context.Context, *event.Send) error { return nil }),
			OnCustom(func(context.Context, *event.Custom) error { return nil }),
			OnUninstall(func(context.Context, *event.Uninstall) error { return nil }),
			OnTagChange(func(context.Context, *event.TagChange) error { return nil }),
			OnEvent(func(context.Context, event.Event) error { return nil }),
		)
		if err != nil {
			b.Fatal(err)
		}
		return d
	}
	b.Run("dispatch", func(b *testing.B) {
		d := newDisp(b)
		b.SetBytes(avg)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			rec := Record{ShardID: "shardId-000000000000", SequenceNumber: "49600000000000000000000000000000000000000000000000000000", PartitionKey: "k", Data: events[i%len(events)]}
			if err := d.Dispatch(ctx, rec); err != nil {
				b.Fatal(err)
			}
		}
		if d.Stats().Handled == 0 {
			b.Fatal("nothing handled")
		}
	})
	b.Run("deaggregate-dispatch", func(b *testing.B) {
		d := newDisp(b)
		// Aggregates of about 50 KB, each record under its own key.
		var aggs [][]byte
		a, err := batch.NewAggregator()
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range events {
			r := batch.Record{PartitionKey: string(e[:36]), Data: e} // a distinct key per record
			if !a.WouldFit(r) {
				aggs = append(aggs, a.AppendTo(nil))
				a.Reset()
			}
			if err := a.Add(r); err != nil {
				b.Fatal(err)
			}
		}
		aggs = append(aggs, a.AppendTo(nil))
		var buf []batch.UserRecord
		b.SetBytes(avg)
		b.ReportAllocs()
		n := 0
		for i := 0; n < b.N; i++ {
			var err error
			buf, err = batch.AppendDeaggregated(buf[:0], batch.KinesisRecord{SequenceNumber: "4960", PartitionKey: "k", Data: aggs[i%len(aggs)]})
			if err != nil {
				b.Fatal(err)
			}
			for _, u := range buf {
				rec := Record{ShardID: "shardId-000000000000", SequenceNumber: u.SequenceNumber, SubSequenceNumber: u.SubSequenceNumber, PartitionKey: u.PartitionKey, Data: u.Data, Aggregated: true}
				if err := d.Dispatch(ctx, rec); err != nil {
					b.Fatal(err)
				}
			}
			n += len(buf)
		}
	})
}
