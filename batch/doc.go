// Package batch turns user records into Amazon Kinesis requests and back,
// within every service limit and without losing a record. It has no
// network code and does not import the AWS SDK, so producers, consumers,
// Lambda handlers and users' own code can share it.
//
// # Limits
//
// [Limits] holds the PutRecords limits: 500 entries and 5 MiB per request,
// 1 MiB per record counting data plus partition key ([DefaultLimits]), or
// 10 MiB per record and request on a stream with large records enabled
// ([LargeRecordLimits]). [Limits.Validate] rejects a record that can never
// be sent — too large, a partition key outside 1 to 256 characters, an
// explicit hash key that is not a decimal in [0, 2^128) — with a
// [*LimitError] naming the limit and the record's size, which matches
// [ErrRecordTooLarge], [ErrInvalidPartitionKey] or
// [ErrInvalidExplicitHashKey] with [errors.Is].
//
// # Packing requests
//
// A [Batcher] groups items into batches that fit one PutRecords request
// and hands each to a flush function: when the batch is full (by count or
// bytes), when its first item has waited [DefaultMaxLinger] (see
// [WithMaxLinger]), on [Batcher.Flush] and on [Batcher.Close]. It is
// generic, so it batches a producer's own entry type as well as [Record];
// for records, pass [Limits.Size] as the size function and invalid records
// are refused by [Batcher.Add]. A steady state does not allocate.
//
// # Hash keys and shards
//
// [HashKey] is a 128-bit hash key ([ParseHashKey], [HashKey.String]),
// [PartitionKeyHash] the MD5 mapping Kinesis applies to partition keys, and
// [ShardMap] predicts the shard of a hash key from the open shards' ranges
// ([ParseShardRange] reads ListShards' decimal strings) by binary search.
//
// # KPL aggregation
//
// An [Aggregator] packs user records into one Kinesis record in the Kinesis
// Producer Library's aggregated format: the magic bytes F3 89 9A C2, the
// protobuf AggregatedRecord (a partition key table, an explicit hash key
// table, and records indexing into them) and the MD5 of the protobuf. Each
// user record keeps its own partition key and explicit hash key; each
// distinct key is stored once. The aggregate's size, counting its partition
// key as Kinesis does, is tracked exactly as records are added, so
// [Aggregator.WouldFit] never over- or underestimates; the default bound is
// the KPL's 51,200 bytes ([DefaultMaxAggregateBytes]).
//
// A [ShardAggregator] keeps one open aggregate per shard of a [ShardMap]:
// records whose keys hash to the same shard share an aggregate, and the
// aggregate's explicit hash key (the shard's starting hash key) routes it
// there. Without a shard map it aggregates per partition key. A record too
// large to aggregate is passed on alone, in order.
//
// # Deaggregation
//
// [Deaggregate] splits a Kinesis record into its user records, with their
// sub-sequence numbers; a record without the magic bytes is one plain user
// record. [AppendDeaggregated] reuses a slice, and [DeaggregateFunc] does
// not allocate at all. A record with the magic bytes that is not a valid
// aggregate (wrong MD5, truncated or malformed protobuf, an index out of
// range, a record without data) is a [*DeaggregationError] carrying the
// sequence number and the reason, matching [ErrBadAggregate]: route it to
// a dead-letter handler. It is never passed through as data, and no user
// record is ever dropped: there is no filtering by the shard's hash range
// (after a reshard, an aggregate can hold records of keys that now belong
// to a sibling shard; they are still delivered).
//
// # Putting it together
//
// A producer aggregates per shard and packs the aggregates into requests.
// The emit function copies the aggregate, which is only valid during the
// call:
//
//	limits := batch.DefaultLimits()
//	requests, _ := batch.NewBatcher(limits.Size, func(req []batch.Record) {
//		// one PutRecords call; retry failed entries
//	})
//	agg, _ := batch.NewShardAggregator(shards)
//	emit := func(k batch.Record) error {
//		k.Data = bytes.Clone(k.Data)
//		return requests.Add(k)
//	}
//	err := agg.Add(batch.Record{PartitionKey: channel, Data: event}, emit)
//
// A consumer reads each Kinesis record with [AppendDeaggregated] or
// [DeaggregateFunc] and checkpoints (sequence number, sub-sequence number).
//
// # Compatibility
//
// The encoding is byte for byte what the npm package aws-kinesis-agg writes
// for the same records and what the generated code of
// github.com/awslabs/kinesis-aggregation/go/v2 marshals; the tests
// cross-check both directions with both. Unlike that Go deaggregator, a
// record with the magic bytes and a wrong MD5 is an error here, not data.
//
// # Performance
//
// Aggregation and deaggregation do little beyond the MD5 they must compute
// over the whole aggregate: BenchmarkKPLRatio measures them interleaved
// with crypto/md5 over the same bytes (go test -run '^$' -bench KPLRatio
// ./batch/). On a 2-core AMD EPYC, full 51,200-byte aggregates of 128-,
// 512- and 2048-byte records over 64 keys aggregate at 0.82, 0.91 and 0.96
// of md5's throughput and deaggregate at 0.82, 0.94 and 0.98. Packing and
// aggregating do not allocate in a steady state.
//
// To go below one MD5 per aggregate's worth of CPU, encode several
// aggregates with [Aggregator.AppendToUnsealed] and fill in their MD5
// trailers with one [Seal] call, which computes up to eight MD5s side by
// side on amd64 CPUs with AVX2: BenchmarkSealRatio measures 16 aggregates
// of 1 KiB records sealed together at about a third of the CPU time of
// AppendTo one by one. [Aggregator.AddShared] adds a record without copying
// its data, which AppendTo and AppendToUnsealed then copy once. The kinesis
// producer does both.
package batch
