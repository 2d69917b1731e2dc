// Package dynamodbstore keeps the checkpoints and leases of rtds consumers
// (package kinesis) in a DynamoDB table, so that a consumer resumes where it
// stopped after a restart or a crash, and workers in several processes can
// share a stream (kinesis.WithLeases).
//
// It is a package of its own so that a program using kinesis with the
// memory store, or a store of its own, does not link the DynamoDB SDK.
//
//	store, err := dynamodbstore.New(dynamodb.NewFromConfig(cfg), "rtds-checkpoints",
//		dynamodbstore.WithApplication("uninstall-email"))
//	if err != nil { ... }
//	if err := store.EnsureTable(ctx); err != nil { ... } // creates it unless it exists
//	c, err := kinesis.NewConsumer(client, "airship-events", kinesis.WithCheckpointStore(store), ...)
//
// # Table and item layout
//
// The table has a string partition key "app_stream" and a string sort key
// "shard_id" (EnsureTable creates it with on-demand billing). One item holds
// one shard's checkpoint:
//
//	app_stream         S     application name + "#" + stream (as passed to Load and Save)
//	shard_id           S     shard id, e.g. "shardId-000000000001"
//	checkpoint_seq     S     Checkpoint.SequenceNumber (absent when empty)
//	checkpoint_subseq  N     Checkpoint.SubSequenceNumber
//	shard_ended        BOOL  Checkpoint.ShardEnded
//	checkpoint_at      S     Checkpoint.Timestamp, RFC 3339 (absent when zero)
//	checkpoint_pos     S     sortable position (see below)
//	checkpoint_updated S     time of the last write, RFC 3339 (informational)
//
// The same item holds the shard's lease when workers share the stream
// (kinesis.WithLeases; see kinesis.Lease):
//
//	lease_owner        S     Lease.Owner (absent when the lease is free)
//	lease_counter      N     Lease.Counter (absent before the first lease write)
//	lease_handoff      S     Lease.HandoffTo (absent when none)
//
// So one Query on app_stream lists an application's checkpoints and leases
// for a stream. Save and UpdateLease write with UpdateItem and set only
// their own attributes, so a checkpoint write never clobbers a lease and
// the other way round. UpdateLease writes on condition that lease_counter
// still has the value the worker read (compare and swap).
//
// # Never backwards
//
// checkpoint_pos encodes the position so that string order is position
// order (kinesis.Checkpoint.Compare): "0" and the 20-digit Unix
// nanoseconds for a start time (Timestamp without a sequence number); "1", the 3-digit length of the
// sequence number, the sequence number, and the sub-sequence number
// zero-padded to 20 digits; "2" for an ended shard. Save writes on condition
// "attribute_not_exists(checkpoint_pos) OR checkpoint_pos <= :pos", so a
// stale writer (a worker that lost its lease, an old process) can never
// move a checkpoint backwards, even racing other writers. Such a Save
// returns an error wrapping both kinesis.ErrCheckpointBehind and the SDK's
// *types.ConditionalCheckFailedException.
//
// # The Java KCL's layout
//
// NewKCL returns a KCLStore instead: the same rules (never backwards,
// leases by compare and swap on the counter) in the lease table layout of
// the Java Kinesis Client Library 2.x and 3.x, one table per application
// and stream, hash key leaseKey (the shard id):
//
//	leaseKey                      S   shard id
//	leaseOwner                    S   Lease.Owner (the next owner during a handoff; absent when free)
//	checkpointOwner               S   Lease.Owner during a handoff (KCL 3.x)
//	leaseCounter                  N   Lease.Counter
//	ownerSwitchesSinceCheckpoint  N   +1 when a held lease changes owner, 0 on checkpoint
//	checkpoint                    S   sequence number, SHARD_END, or TRIM_HORIZON/LATEST/AT_TIMESTAMP
//	checkpointSubSequenceNumber   N   Checkpoint.SubSequenceNumber
//	parentShardId, childShardIds  SS  the shard's lineage (kinesis.LineageStore)
//	startingHashKey, endingHashKey S  its hash key range
//
// A KCL application and an rtds consumer resume each other's checkpoints
// through it. docs/KCL.md maps every attribute and says what does not
// interoperate (running both side by side as one application).
//
// Both stores pass the conformance suite of package kinesis/storetest.
package dynamodbstore
