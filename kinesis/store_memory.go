package kinesis

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// MemoryStore is a CheckpointStore and LeaseStore that keeps checkpoints
// and leases in memory: for tests, demos, consumers that may reprocess a
// stream from its start position after every restart, and several workers
// in one process sharing a stream (WithLeases). Checkpoints are lost when
// the process exits; use a durable store such as kinesis/dynamodbstore to
// resume after a restart.
//
// It follows the same rules as every store (it passes kinesis/storetest):
// a checkpoint behind the stored one is refused with an error wrapping
// ErrCheckpointBehind, saving the stored position again succeeds, and an
// ended shard is past every other position.
//
// A MemoryStore is safe for concurrent use. The zero value is not usable;
// call NewMemoryStore.
type MemoryStore struct {
	mu     sync.RWMutex
	cps    map[shardKey]Checkpoint
	leases map[shardKey]Lease
}

type shardKey struct{ stream, shardID string }

var _ LeaseStore = (*MemoryStore)(nil)

// NewMemoryStore returns an empty in-memory checkpoint and lease store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{cps: make(map[shardKey]Checkpoint), leases: make(map[shardKey]Lease)}
}

// Load returns the checkpoint of a shard; ok is false when the shard has
// none. It fails only when ctx is already done.
func (s *MemoryStore) Load(ctx context.Context, stream, shardID string) (Checkpoint, bool, error) {
	if err := ctx.Err(); err != nil {
		return Checkpoint{}, false, errorf("load checkpoint of shard %s: %w", shardID, err)
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
		return errorf("save checkpoint of shard %s: %w", shardID, err)
	}
	if err := cp.Validate(); err != nil {
		return errorf("save checkpoint of shard %s: %w", shardID, err)
	}
	k := shardKey{stream, shardID}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.cps[k]; ok && cp.Compare(old) < 0 {
		return behindError(stream, shardID, cp, old)
	}
	s.cps[k] = cp
	return nil
}

// behindError is the error for a refused Save when the stored checkpoint
// is known.
func behindError(stream, shardID string, cp, stored Checkpoint) error {
	return fmt.Errorf("%w: stream %s shard %s: saving %s, stored %s",
		ErrCheckpointBehind, stream, shardID, cp.String(), stored.String())
}

// ListLeases returns the lease of every shard of stream that has a lease
// or a checkpoint, sorted by shard id. It fails only when ctx is done.
func (s *MemoryStore) ListLeases(ctx context.Context, stream string) ([]Lease, error) {
	if err := ctx.Err(); err != nil {
		return nil, errorf("list leases of stream %s: %w", stream, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	byShard := map[string]Lease{}
	for k, l := range s.leases {
		if k.stream == stream {
			byShard[k.shardID] = l
		}
	}
	for k, cp := range s.cps {
		if k.stream != stream {
			continue
		}
		l, ok := byShard[k.shardID]
		if !ok {
			l.ShardID = k.shardID
		}
		l.ShardEnded = cp.ShardEnded
		byShard[k.shardID] = l
	}
	out := make([]Lease, 0, len(byShard))
	for _, l := range byShard {
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b Lease) int { return strings.Compare(a.ShardID, b.ShardID) })
	return out, nil
}

// UpdateLease replaces a shard's lease with next if the stored one still
// has old's Counter; see LeaseStore.
func (s *MemoryStore) UpdateLease(ctx context.Context, stream string, old, next Lease) error {
	if err := ctx.Err(); err != nil {
		return errorf("update lease of shard %s: %w", old.ShardID, err)
	}
	if err := ValidateLeaseUpdate(stream, old, next); err != nil {
		return err
	}
	k := shardKey{stream, old.ShardID}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.leases[k].Counter != old.Counter {
		return fmt.Errorf("%w: stream %s shard %s (read counter %d)", ErrLeaseChanged, stream, old.ShardID, old.Counter)
	}
	next.ShardEnded = false
	s.leases[k] = next
	return nil
}
