// Package kinesis writes records and RTDS events to an Amazon Kinesis data
// stream and reads them back into typed handlers, without losing any.
//
// Both sides take a narrow interface over the AWS SDK's client
// (ProducerAPI, ConsumerAPI), so a *kinesis.Client from
// github.com/aws/aws-sdk-go-v2/service/kinesis works as it is, and so does
// the in-memory fake in package kinesistest. Streams are named by name or
// by ARN.
//
// # Producer
//
//	p, err := kinesis.NewProducer(client, "airship-events",
//		kinesis.WithAggregation(true),
//		kinesis.WithResultHandler(func(r kinesis.Result) {
//			if r.Err != nil {
//				log.Printf("not delivered: %v", r.Err)
//			}
//		}))
//	...
//	err = p.PutEvent(ctx, ev)         // or p.Put(ctx, partitionKey, data)
//	err = p.PutEventJSON(ctx, line)   // event JSON as read: keyed without decoding it
//	...
//	err = p.Close(ctx)                // flushes; reports what it cannot deliver
//
// Put returns once the record is buffered and blocks while the buffer
// (WithBufferBytes) is full or the record's shard holds what it can send
// within half the record TTL (WithRecordTTL): back-pressure instead of
// expiry. Records are packed into PutRecords requests within every service
// limit (WithBatchLimits, see package batch), optionally in the KPL
// aggregated format (WithAggregation, WithAggregateLimits), and every
// record gets exactly one Result: delivered, with its shard and sequence
// number, or failed, with its cause. Only the failed entries of a request
// are retried, under one retry policy (WithPutRetry, the only retry
// layer: the SDK makes one attempt per call); a throttled shard is slowed
// down alone, to the rate it delivers. See Producer for ordering and
// duplicates.
//
// # Consumer
//
//	c, err := kinesis.NewConsumer(client, "airship-events",
//		kinesis.WithCheckpointStore(store),
//		kinesis.OnUninstall(func(ctx context.Context, e *event.Uninstall) error {
//			return mail(ctx, e.NamedUserID())
//		}),
//		kinesis.WithDeadLetter(func(ctx context.Context, d kinesis.DeadLetter) error {
//			return park(ctx, d)
//		}))
//	...
//	err = c.Run(ctx) // blocks until ctx is cancelled, then drains
//
// Handlers are options, fixed at construction: one On<Type> function per
// RTDS event type (generated from the event package's table), Handle for
// any typed event, OnEvent for every event, OnUnknown for types this
// version does not know, and OnRecord for streams that carry other data.
// Events of a type nobody handles are only peeked at, not decoded.
//
// Each shard is read by its own goroutine, which calls the handlers for that
// shard's records one at a time, in sequence order; different shards run
// concurrently, so handlers must be safe for concurrent use. A handler must
// not wait for Run to return (that deadlocks the drain).
//
// The handlers and their policies (WithDeadLetter, WithHandlerRetry,
// WithDeduplication) are HandlerOptions: NewDispatcher builds the same
// handler set without a Kinesis client, for records from any source (a
// Lambda function, a replay); Dispatcher.Dispatch is the path a Consumer
// dispatches every record through.
//
// A sink that stores records in batches takes responsibility for a record
// with Defer and acknowledges it later (Ack.Done, once the object holding
// it is uploaded): the checkpoint never passes a record that is not
// acknowledged.
//
// # Delivery guarantees
//
// Processing is at least once. A record is checkpointed only after its
// handler returned nil or it went to the dead-letter handler; aggregated
// records are checkpointed at sub-sequence granularity. After a crash the
// consumer resumes at the last checkpoint, so duplicates are bounded by the
// checkpoint interval (WithCheckpointInterval: what the handlers did in one
// interval, plus one record; checkpoints are also written inside a
// GetRecords batch). Airship itself may deliver an event twice; the event
// id is the deduplication key, and WithDeduplication keeps a bounded
// window of recent ids.
//
// A record that cannot be decoded (bad JSON, a corrupt KPL aggregate, a
// missing id), or whose handler keeps failing after WithHandlerRetry's
// attempts, or returns an error wrapped with Permanent, goes to the
// dead-letter handler with its shard, sequence and sub-sequence numbers,
// its bytes, the error and a DeadLetterReason; then processing goes on.
// Nothing is skipped silently.
//
// After a split or merge, a child shard is read only when all its parents
// have been read to their end and checkpointed as ended. Expired iterators
// are re-acquired from the last processed record, and GetRecords is
// rate-limited per shard with backoff when throttled.
//
// # Checkpoints
//
// A CheckpointStore keeps one Checkpoint per stream and shard.
// NewMemoryStore is for tests and demos; package kinesis/dynamodbstore
// keeps checkpoints in a DynamoDB table with conditional writes, so a stale
// worker can never move a checkpoint backwards (ErrCheckpointBehind). It is
// a package of its own, so a program that does not use it does not link
// the DynamoDB SDK. A store of your own (Postgres, Redis, ...) follows the
// rules on CheckpointStore, with the help of Checkpoint.Compare,
// Checkpoint.Validate and ValidateLeaseUpdate, and checks them with
// package kinesis/storetest.
//
// # Several workers
//
// WithLeases makes consumers in several processes (or machines) share a
// stream: each shard is read by one worker at a time, through leases kept
// on the checkpoint records of a LeaseStore (both stores are). Workers take
// free and expired leases up to their share, a worker that joins gets
// shards from the busiest one by a graceful handoff (the owner finishes the
// record in progress and saves its checkpoint before passing the lease),
// a dead worker's shards move once their leases expire
// (Leases.Duration), and a stopping worker releases its leases after
// its final checkpoints. Parents still end before their children start,
// whichever workers read them.
//
// # Enhanced fan-out
//
// By default each shard reader polls with GetRecords, sharing the shard's
// 2 MiB/s and 5 calls per second with every other polling application.
// WithEnhancedFanOut(name) reads with SubscribeToShard instead, as the
// stream consumer name (registered on Run unless it exists; see
// WithFanOutDeregister): 2 MiB/s per shard of this application's own,
// pushed about every 70 ms. Only the source of the records changes: the
// same reader handles them (acknowledgements, checkpoints, dead letters,
// leases, resharding). Subscriptions are renewed before the service ends
// them at 5 minutes and after errors, from the last continuation sequence
// number, at most once per second per shard; an idle shard's checkpoint
// follows the continuation sequence number. The client must implement
// FanOutAPI (a *sdkkinesis.Client does), keep HTTP/2, and have no HTTP
// timeout shorter than 5 minutes.
//
// A store that also implements LineageStore records each shard's parents
// and hash key range: dynamodbstore.NewKCL keeps checkpoints and leases in
// the Java KCL's lease table layout (docs/KCL.md), so a KCL application and
// an rtds consumer resume each other's checkpoints.
//
// # Wire codec
//
// PutRecords and GetRecords carry the records, and with the SDK's own
// awsJson1.1 codec their JSON costs more CPU than anything else on either
// side (base64, string unquoting, a few allocations per record). By
// default (WithWireCodec(WireFast)) the producer and the consumer pass the
// SDK a per-call option that wraps the client's protocol
// (sdkkinesis.Options.Protocol) with this package's codec for those two
// operations: a PutRecords body is written once into a buffer of its exact
// size, base64 straight from each entry's data, byte for byte what the SDK
// writes; a successful PutRecords or GetRecords answer is decoded by a
// strict scanner into the SDK's own types, with all records' data of one
// answer in one buffer and their strings in one string. The values are the
// SDK's: tests compare both codecs on golden and fuzzed answers and on
// both emulators. Error answers, every other operation and
// SubscribeToShard go to the SDK's codec unchanged (errors.As on the SDK's
// error types works the same), and so does any answer the scanner does
// not handle exactly like the SDK. WithWireCodec(WireSDK) turns the codec
// off. Because records of one answer share a buffer, keeping one record's
// Data (OnRecord) keeps the answer's data alive.
//
// The CBOR format the Java SDK uses with Kinesis (no base64 at all) is not
// offered: neither local emulator answers it correctly (kinesalite sends
// a record's data as a serialized Node.js Buffer object, kinesis-local as
// a base64 text string), so it could not be tested here.
//
// # Observability
//
// WithLogger takes a *slog.Logger (nil discards). WithHooks takes values
// implementing any of the Hook* interfaces (batch sent, retried, failed,
// throttled, records fetched, handler done, checkpoint written, shard
// started and ended, dead-lettered, leases, schema drift); hooks are called
// synchronously and must be fast and safe for concurrent use. Producer.Stats
// and Consumer.Stats return cheap snapshots, including each shard's
// MillisBehindLatest. The module github.com/rtdskit/rtds/otel records every
// hook as OpenTelemetry metrics.
//
// # Errors
//
// Errors wrap their causes with %w: errors.As finds the SDK's typed errors
// (for example *types.ProvisionedThroughputExceededException), the event
// package's *event.DecodeError and the batch package's
// *batch.DeaggregationError. ErrClosed is returned by a Producer after Close.
package kinesis
