// Package batch turns user records into Amazon Kinesis requests and back,
// within every service limit and without losing a record. It has no
// network code and does not import the AWS SDK, so producers, consumers,
// Lambda handlers and users' own code can share it.
//
// # Limits
//
// [Limits] holds the PutRecords limits: 500 entries and 5 MiB per request,
// 1 MiB per record (data plus partition key), or 10 MiB with
// [LargeRecordLimits]. [Limits.Validate] rejects a record that can never be
// sent with a [*LimitError] naming the limit and the record's size, which
// matches [ErrRecordTooLarge], [ErrInvalidPartitionKey] or
// [ErrInvalidExplicitHashKey] with [errors.Is].
//
// # Packing requests
//
// A [Batcher] groups items into requests of at most
// [Limits.MaxRecordsPerRequest] entries and [Limits.MaxRequestBytes]
// bytes, and flushes a request when it is full or when its oldest item has
// waited [DefaultMaxLinger] (configurable with [WithMaxLinger]).
//
// # Hash keys and shards
//
// [HashKey] is a 128-bit hash key, [PartitionKeyHash] the MD5 mapping
// Kinesis applies to partition keys, and [ShardMap] predicts the shard of a
// hash key from the shards' ranges by binary search.
//
// # KPL aggregation
//
// An [Aggregator] packs user records into one Kinesis record in the Kinesis
// Producer Library's aggregated format: the magic bytes F3 89 9A C2, the
// protobuf AggregatedRecord (a partition key table, an explicit hash key
// table, and records indexing into them) and the MD5 of the protobuf. Each
// user record keeps its own partition key and explicit hash key. Its size is
// tracked incrementally so [Aggregator.WouldFit] is exact. A [ShardAggregator]
// keeps one aggregate per predicted shard (or per partition key without a
// [ShardMap]) and routes each aggregate to its shard with an explicit hash
// key.
//
// # Deaggregation
//
// [Deaggregate] splits a Kinesis record into its user records, with their
// sub-sequence numbers; a record without the magic bytes is one plain user
// record. A record with the magic bytes that is not a valid aggregate (bad
// MD5, truncated or malformed protobuf, an index out of range, a record
// without data) is a [*DeaggregationError] carrying the sequence number and
// the reason, matching [ErrBadAggregate]: it is never passed through as
// data, and no user record is ever dropped (there is no hash range
// filtering). [DeaggregateFunc] does the same without allocating.
//
// # Compatibility
//
// The encoding is byte for byte what the npm package aws-kinesis-agg writes
// for the same records, and the tests cross-check both directions with it
// and with github.com/awslabs/kinesis-aggregation/go/v2.
package batch
