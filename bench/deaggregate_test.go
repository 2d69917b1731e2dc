package bench

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/awslabs/kinesis-aggregation/go/v2/deaggregator"

	"github.com/rtdskit/rtds/batch"
)

// aggregateOf returns one KPL aggregate as large as rtds's default limit
// (51,200 bytes, the KPL's AggregationMaxSize) of records of size bytes
// over 64 channel-id-like keys, and how many records it holds.
func aggregateOf(size int) (batch.Record, int, error) {
	a, err := batch.NewAggregator()
	if err != nil {
		return batch.Record{}, 0, err
	}
	keys := channelKeys(64)
	data := payload(size)
	for i := 0; ; i++ {
		r := batch.Record{PartitionKey: keys[i%len(keys)], Data: data}
		if !a.WouldFit(r) {
			break
		}
		if err := a.Add(r); err != nil {
			return batch.Record{}, 0, err
		}
	}
	n := a.Len()
	agg := a.Build()
	agg.Data = bytes.Clone(agg.Data)
	return agg, n, nil
}

// BenchmarkDeaggregate opens the same aggregate with rtds's batch package
// and with github.com/awslabs/kinesis-aggregation/go/v2/deaggregator (which
// github.com/harlow/kinesis-consumer also uses). One op is one aggregate;
// ns/record is per user record. lib=rtds is batch.Deaggregate, a fresh
// slice per aggregate like the deaggregator's; lib=rtds-append reuses one
// slice (AppendDeaggregated); lib=rtds-func calls a function per record
// without allocating (DeaggregateFunc).
func BenchmarkDeaggregate(b *testing.B) {
	for _, size := range []int{100, 500, 1024} {
		agg, n, err := aggregateOf(size)
		if err != nil {
			b.Fatal(err)
		}
		kr := batch.KinesisRecord{SequenceNumber: "49590338271490256608559692538361571095921575989136588898", PartitionKey: agg.PartitionKey, ExplicitHashKey: agg.ExplicitHashKey, Data: agg.Data}
		sr := sdktypes.Record{SequenceNumber: aws.String(kr.SequenceNumber), PartitionKey: aws.String(kr.PartitionKey), Data: kr.Data, ApproximateArrivalTimestamp: aws.Time(time.Unix(1700000000, 0))}
		run := func(lib string, deagg func() (int, error)) {
			b.Run(fmt.Sprintf("lib=%s/size=%d", lib, size), func(b *testing.B) {
				b.SetBytes(int64(len(agg.Data)))
				b.ReportAllocs()
				for b.Loop() {
					got, err := deagg()
					if err != nil {
						b.Fatal(err)
					}
					if got != n {
						b.Fatalf("%d user records, want %d", got, n)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/record")
			})
		}
		run("rtds", func() (int, error) {
			us, err := batch.Deaggregate(kr)
			return len(us), err
		})
		buf := make([]batch.UserRecord, 0, n)
		run("rtds-append", func() (int, error) {
			var err error
			buf, err = batch.AppendDeaggregated(buf[:0], kr)
			return len(buf), err
		})
		run("rtds-func", func() (int, error) {
			got := 0
			err := batch.DeaggregateFunc(kr, func(batch.UserRecord) error { got++; return nil })
			return got, err
		})
		run("awslabs", func() (int, error) {
			out, err := deaggregator.DeaggregateRecords([]sdktypes.Record{sr})
			return len(out), err
		})
	}
}

// TestDeaggregateSetup checks that both deaggregators return the same user
// records (keys and data, in order) from the benchmark's aggregate.
func TestDeaggregateSetup(t *testing.T) {
	for _, size := range []int{100, 500, 1024} {
		agg, n, err := aggregateOf(size)
		if err != nil {
			t.Fatal(err)
		}
		if n < 2 {
			t.Fatalf("size %d: aggregate holds %d records", size, n)
		}
		ours, err := batch.Deaggregate(batch.KinesisRecord{SequenceNumber: "1", PartitionKey: agg.PartitionKey, Data: agg.Data})
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := deaggregator.DeaggregateRecords([]sdktypes.Record{{SequenceNumber: aws.String("1"), PartitionKey: aws.String(agg.PartitionKey), Data: agg.Data}})
		if err != nil {
			t.Fatal(err)
		}
		if len(ours) != n || len(theirs) != n {
			t.Fatalf("size %d: rtds %d, awslabs %d user records, want %d", size, len(ours), len(theirs), n)
		}
		for i := range ours {
			if ours[i].PartitionKey != aws.ToString(theirs[i].PartitionKey) || !bytes.Equal(ours[i].Data, theirs[i].Data) {
				t.Fatalf("size %d: record %d differs", size, i)
			}
		}
	}
}
