package kinesis

import (
	"context"
	"time"
)

// Checkpoint is how far a consumer has processed one shard.
//
// It names the last user record whose handler returned nil (or that was
// dead-lettered): the Kinesis record SequenceNumber and, inside an
// aggregated record, the SubSequenceNumber (index) of that user record; 0 for
// a plain record. A consumer resumes at SequenceNumber and skips user
// records at or below SubSequenceNumber, so a crash in the middle of an
// aggregate does not replay the aggregate's finished part.
type Checkpoint struct {
	SequenceNumber    string
	SubSequenceNumber uint64
	// ShardEnded is true once the shard was read to its end (it is closed
	// after a split or merge) and every record in it was handled. Child
	// shards are read only after all their parents have ended.
	ShardEnded bool
	// Timestamp, set only without a SequenceNumber, is the time a reader
	// started the shard from (StartLatest, StartAtTimestamp) before it
	// processed a record: the next reader resumes AT_TIMESTAMP there. With
	// ShardEnded it is the time an ended shard was read from without
	// finding a record. It is behind every checkpoint with a
	// SequenceNumber.
	Timestamp time.Time
}

// CheckpointStore keeps checkpoints per stream and shard. Implementations
// must be safe for concurrent use. MemoryStore keeps them in memory;
// package kinesis/dynamodbstore keeps them in a DynamoDB table.
//
// # Writing a store
//
// Any storage that can write on a condition (a SQL transaction or
// conditional UPDATE, a Redis script, a compare-and-swap) can be a store.
// Save must:
//
//   - refuse an invalid checkpoint with the error of Checkpoint.Validate,
//     before storing anything;
//   - refuse a checkpoint cp that is behind the stored one
//     (cp.Compare(stored) < 0) with an error wrapping ErrCheckpointBehind
//     that names the shard and both positions (Checkpoint.String), keeping
//     the stored checkpoint, and decide this atomically with the write, so
//     two racing writers can never move a checkpoint backwards;
//   - accept the stored position again, and anything ahead of it.
//
// Both methods return ctx's error when ctx is done before they store or
// read anything. To share a stream between workers, implement LeaseStore
// too (see ValidateLeaseUpdate). Package kinesis/storetest checks all of
// this: call storetest.Run from a test of your store.
type CheckpointStore interface {
	// Load returns the checkpoint of a shard; ok is false when the shard has
	// none yet.
	Load(ctx context.Context, stream, shardID string) (cp Checkpoint, ok bool, err error)
	// Save stores cp for a shard. It never moves a checkpoint backwards: a
	// cp behind the stored one (a stale writer) is refused with an error
	// wrapping ErrCheckpointBehind, and the stored checkpoint is kept.
	Save(ctx context.Context, stream, shardID string, cp Checkpoint) error
}
