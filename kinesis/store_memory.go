package kinesis

import (
	"context"
	"fmt"
	"sync"
)

// MemoryStore is a CheckpointStore and LeaseStore that keeps
// checkpoints and leases in memory: for tests, demos, consumers that may
// reprocess a stream from its start position after every restart, and
// several workers in one process sharing a stream (WithLeases). Checkpoints are lost when the process
// exits; use DynamoDBCheckpointStore to resume after a restart.
//
// It follows the same rules as the DynamoDB store (a shared conformance test
// runs against both): a checkpoint behind the stored one is refused with an
// error wrapping ErrCheckpointBehind, saving the stored position again
// succeeds, and an ended shard is past every other position.
//
// A MemoryStore is safe for concurrent use. The zero value is not
// usable; call NewMemoryStore.
type MemoryStore struct {
	mu     sync.RWMutex
	cps    map[shardKey]Checkpoint
	leases map[shardKey]Lease
}

type shardKey struct{ stream, shardID string }

var _ CheckpointStore = (*MemoryStore)(nil)

// NewMemoryStore returns an empty in-memory checkpoint store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{cps: make(map[shardKey]Checkpoint), leases: make(map[shardKey]Lease)}
}

// Load returns the checkpoint of a shard; ok is false when the shard has
// none. It fails only when ctx is already done.
func (s *MemoryStore) Load(ctx context.Context, stream, shardID string) (Checkpoint, bool, error) {
	if err := ctx.Err(); err != nil {
		return Checkpoint{}, false, fmt.Errorf("kinesis: load checkpoint of shard %s: %w", shardID, err)
	}
	s.mu.RLock()
	cp, ok := s.cps[shardKey{stream, shardID}]
	s.mu.RUnlock()
	return cp, ok, nil
}

// Save stores cp for a shard unless it is behind the stored checkpoint, in
// which case it returns an error wrapping ErrCheckpointBehind that names
// the shard and both positions, and keeps the stored checkpoint. Saving
// the stored position again succeeds. A cp without a valid sequence number
// (only an ended shard may have none) is refused.
func (s *MemoryStore) Save(ctx context.Context, stream, shardID string, cp Checkpoint) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("kinesis: save checkpoint of shard %s: %w", shardID, err)
	}
	if err := validateCheckpoint(cp); err != nil {
		return fmt.Errorf("kinesis: save checkpoint of shard %s: %w", shardID, err)
	}
	k := shardKey{stream, shardID}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.cps[k]; ok && comparePosition(cp, old) < 0 {
		return behindError(stream, shardID, cp, old)
	}
	s.cps[k] = cp
	return nil
}

// behindError is the error for a refused Save when the stored checkpoint
// is known.
func behindError(stream, shardID string, cp, stored Checkpoint) error {
	return fmt.Errorf("%w: stream %s shard %s: saving %s, stored %s",
		ErrCheckpointBehind, stream, shardID, formatPosition(cp), formatPosition(stored))
}
