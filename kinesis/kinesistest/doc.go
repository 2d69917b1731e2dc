// Package kinesistest provides Fake, an in-memory Amazon Kinesis Data
// Streams service for fast unit tests, runnable examples and your own
// tests of code built on package kinesis.
//
// # Quick start
//
// A *Fake has the exact method signatures of *sdkkinesis.Client for the
// calls rtds uses, so it satisfies kinesis.ProducerAPI and
// kinesis.ConsumerAPI and can be passed wherever a client is expected:
//
//	f := kinesistest.New(kinesistest.WithStream("events", 2))
//	p, err := kinesis.NewProducer(f, "events")
//	...
//	for _, r := range f.Records("events") {
//		fmt.Println(r.ShardID, r.PartitionKey, string(r.Data))
//	}
//
// # What it models
//
// PutRecords, PutRecord, ListShards (paging, ExclusiveStartShardId,
// ShardFilter), GetShardIterator (TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER,
// AFTER_SEQUENCE_NUMBER, AT_TIMESTAMP), GetRecords (Limit,
// MillisBehindLatest, a nil NextShardIterator and ChildShards at the end of
// a closed shard), DescribeStreamSummary, CreateStream, DeleteStream,
// SplitShard and MergeShards. Streams are addressed by name or by ARN
// (arn:aws:kinesis:us-east-1:000000000000:stream/NAME, see ARN). Records
// are routed like Kinesis does: the MD5 of the partition key read as a
// 128-bit big-endian integer, or the explicit hash key, selects the open
// shard whose hash key range holds it. Sequence numbers are increasing
// decimal strings; shard ids look like shardId-000000000000. Request limits
// (500 entries and 5 MiB per PutRecords, 1 MiB per record, 256-character
// partition keys, GetRecords Limit up to 10000) are enforced. CreateStream
// gives shard i of n the hash keys from i*2^128/n up to the next shard's
// start minus one (kinesis-local puts the boundaries slightly lower).
//
// WithShardWriteLimit adds Kinesis's per-shard write limits (1000 records
// and 1 MiB per second), so a hot shard throttles while the others do not.
//
// It does not model time-based stream states (every change completes at
// once and streams are always ACTIVE), retention (records are never
// trimmed), read throughput limits, enhanced fan-out or encryption.
//
// # Errors
//
// Errors are the SDK's typed errors (*sdktypes.ResourceNotFoundException,
// *sdktypes.InvalidArgumentException, *sdktypes.ExpiredIteratorException,
// *sdktypes.ResourceInUseException, ...) wrapped in a *smithy.OperationError
// like the real client's, so errors.As works the same way against the fake
// and against AWS. Limit violations are smithy.APIError values with code
// "ValidationException", as AWS sends them.
//
// # Fault injection
//
// SetFault installs a FaultFunc that can fail whole calls (for example with
// *sdktypes.ProvisionedThroughputExceededException) or single PutRecords
// entries, which then carry the error's code in ErrorCode and count in
// FailedRecordCount. ExpireIterators expires every iterator issued so far.
// Calls and Records let a test check what happened.
//
// # Concurrency
//
// A Fake is safe for concurrent use. Each call reads or changes the fake's
// state under one lock, so calls are linearizable; the fault hook runs
// outside that lock and may block to simulate a slow endpoint.
//
// The fake is a test double, never the only test of a feature: rtds also
// runs its tests against real Kinesis emulators, and this package's own
// conformance test checks the fake against one.
package kinesistest
