package batch_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/rtdskit/rtds/batch"
)

func ExampleLimits_Validate() {
	limits := batch.DefaultLimits()
	err := limits.Validate(batch.Record{PartitionKey: "channel-1", Data: make([]byte, 1<<20)})
	fmt.Println(errors.Is(err, batch.ErrRecordTooLarge))
	fmt.Println(err)

	var le *batch.LimitError
	if errors.As(err, &le) {
		fmt.Println(le.Limit, le.Size, le.Max)
	}
	// Output:
	// true
	// batch: record too large: 1048585 bytes of data and partition key, over the 1048576-byte record limit
	// record bytes 1048585 1048576
}

func ExamplePartitionKeyHash() {
	// Kinesis routes a record by the MD5 of its partition key.
	fmt.Println(batch.PartitionKeyHash("a"))

	m, err := batch.NewShardMap([]batch.ShardRange{
		{ShardID: "shardId-000000000000", StartingHashKey: batch.HashKey{}, EndingHashKey: batch.HashKey{Hi: 1<<63 - 1, Lo: 1<<64 - 1}},
		{ShardID: "shardId-000000000001", StartingHashKey: batch.HashKey{Hi: 1 << 63}, EndingHashKey: batch.MaxHashKey},
	})
	if err != nil {
		panic(err)
	}
	for _, pk := range []string{"a", "b"} {
		s, _ := m.Lookup(batch.PartitionKeyHash(pk))
		fmt.Println(pk, s.ShardID)
	}
	// Output:
	// 16955237001963240173058271559858726497
	// a shardId-000000000000
	// b shardId-000000000001
}

func ExampleAggregator() {
	a, err := batch.NewAggregator()
	if err != nil {
		panic(err)
	}
	for _, r := range []batch.Record{
		{PartitionKey: "channel-1", Data: []byte(`{"id":"1"}`)},
		{PartitionKey: "channel-2", Data: []byte(`{"id":"2"}`)},
		{PartitionKey: "channel-1", Data: []byte(`{"id":"3"}`)},
	} {
		if !a.WouldFit(r) {
			break // send a.Build(), a.Reset() and add r again
		}
		if err := a.Add(r); err != nil {
			panic(err)
		}
	}
	k := a.Build() // one Kinesis record for PutRecords
	fmt.Printf("%d user records, %d bytes, partition key %s\n", a.Len(), len(k.Data), k.PartitionKey)

	users, err := batch.Deaggregate(batch.KinesisRecord{SequenceNumber: "4959", PartitionKey: k.PartitionKey, Data: k.Data})
	if err != nil {
		panic(err)
	}
	for _, u := range users {
		fmt.Println(u.SequenceNumber, u.SubSequenceNumber, u.PartitionKey, string(u.Data))
	}
	// Output:
	// 3 user records, 90 bytes, partition key channel-1
	// 4959 0 channel-1 {"id":"1"}
	// 4959 1 channel-2 {"id":"2"}
	// 4959 2 channel-1 {"id":"3"}
}

func ExampleShardAggregator() {
	// Two shards splitting the hash key space in halves.
	m, err := batch.NewShardMap([]batch.ShardRange{
		{ShardID: "shardId-000000000000", StartingHashKey: batch.HashKey{}, EndingHashKey: batch.HashKey{Hi: 1<<63 - 1, Lo: 1<<64 - 1}},
		{ShardID: "shardId-000000000001", StartingHashKey: batch.HashKey{Hi: 1 << 63}, EndingHashKey: batch.MaxHashKey},
	})
	if err != nil {
		panic(err)
	}
	s, err := batch.NewShardAggregator(m)
	if err != nil {
		panic(err)
	}
	emit := func(k batch.Record) error {
		// k.Data is valid during this call only: copy it into a request.
		users, _ := batch.Deaggregate(batch.KinesisRecord{Data: k.Data})
		fmt.Printf("aggregate routed by %s:", k.ExplicitHashKey)
		for _, u := range users {
			fmt.Printf(" %s", u.PartitionKey)
		}
		fmt.Println()
		return nil
	}
	for _, pk := range []string{"a", "b", "c", "d", "e"} {
		if err := s.Add(batch.Record{PartitionKey: pk, Data: []byte("event")}, emit); err != nil {
			panic(err)
		}
	}
	if err := s.Flush(emit); err != nil {
		panic(err)
	}
	// Output:
	// aggregate routed by 0: a c
	// aggregate routed by 170141183460469231731687303715884105728: b d e
}

func ExampleDeaggregate_badAggregate() {
	a, _ := batch.NewAggregator()
	_ = a.Add(batch.Record{PartitionKey: "k", Data: []byte("x")})
	data := a.Build().Data
	data[len(data)-1] ^= 0xff // corrupt the MD5

	_, err := batch.Deaggregate(batch.KinesisRecord{SequenceNumber: "4960", PartitionKey: "k", Data: data})
	var de *batch.DeaggregationError
	fmt.Println(errors.Is(err, batch.ErrBadAggregate), errors.As(err, &de), de.SequenceNumber, de.Reason)
	// Output:
	// true true 4960 md5 mismatch (truncated or corrupted)
}

func ExampleBatcher() {
	limits := batch.DefaultLimits()
	b, err := batch.NewBatcher(limits.Size, func(req []batch.Record) {
		// One PutRecords request: at most 500 records and 5 MiB.
		fmt.Println("flush", len(req))
	}, batch.WithMaxLinger(50*time.Millisecond))
	if err != nil {
		panic(err)
	}
	for i := range 1200 {
		if err := b.Add(batch.Record{PartitionKey: fmt.Sprint(i), Data: []byte("event")}); err != nil {
			panic(err)
		}
	}
	b.Close() // flushes the rest
	// Output:
	// flush 500
	// flush 500
	// flush 200
}

// Several aggregates encoded into buffers of one's own, without copying
// the records' data twice, and sealed together: their MD5s are computed
// side by side.
func ExampleSeal() {
	a, err := batch.NewAggregator()
	if err != nil {
		panic(err)
	}
	var aggs [][]byte
	for shard := range 3 {
		a.Reset()
		for i := range 4 {
			data := []byte(fmt.Sprintf(`{"shard":%d,"n":%d}`, shard, i))
			// data must stay unchanged until AppendToUnsealed copies it.
			if err := a.AddShared(batch.Record{PartitionKey: fmt.Sprintf("channel-%d-%d", shard, i%2), Data: data}); err != nil {
				panic(err)
			}
		}
		aggs = append(aggs, a.AppendToUnsealed(make([]byte, 0, a.Size())))
	}
	batch.Seal(aggs...)
	for _, agg := range aggs {
		recs, err := batch.Deaggregate(batch.KinesisRecord{SequenceNumber: "1", Data: agg})
		if err != nil {
			panic(err)
		}
		fmt.Println(len(recs), recs[3].PartitionKey, string(recs[3].Data))
	}
	// Output:
	// 4 channel-0-1 {"shard":0,"n":3}
	// 4 channel-1-1 {"shard":1,"n":3}
	// 4 channel-2-1 {"shard":2,"n":3}
}
