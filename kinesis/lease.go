package kinesis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Lease is one shard's lease: which worker of an application reads the
// shard. Leases let several consumers (workers, usually processes on
// different machines) share a stream, each shard read by one worker at a
// time. See WithLeases.
//
// A lease is never locked: every change increments Counter, and a change
// is applied only if the stored lease still has the Counter the writer
// last read (compare and swap). A worker renews its leases by incrementing
// their counters; a lease whose counter has not moved for the lease
// duration, as observed by another worker's own clock, has expired and can
// be taken. No two clocks are compared.
type Lease struct {
	// ShardID is the shard the lease is for.
	ShardID string
	// Owner is the worker holding the lease; empty when it is free.
	Owner string
	// Counter is incremented by every change; 0 means no lease was ever
	// written for the shard.
	Counter int64
	// HandoffTo is set when a worker with fewer shards asked the owner to
	// hand the shard over: the owner stops reading it, saves its
	// checkpoint and makes HandoffTo the owner.
	HandoffTo string
	// ShardEnded reports that the shard's checkpoint marks it read to its
	// end. ListLeases reports it; UpdateLease ignores it.
	ShardEnded bool
}

// String describes the lease for logs and errors.
func (l Lease) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s owner=%q counter=%d", l.ShardID, l.Owner, l.Counter)
	if l.HandoffTo != "" {
		fmt.Fprintf(&b, " handoff_to=%q", l.HandoffTo)
	}
	if l.ShardEnded {
		b.WriteString(" ended")
	}
	return b.String()
}

// ErrLeaseChanged is returned (wrapped) by LeaseStore.UpdateLease when the
// stored lease is no longer the one the caller read: another worker took,
// renewed or asked for it in the meantime.
var ErrLeaseChanged = errors.New("kinesis: lease changed since it was read")

// LeaseStore is a CheckpointStore that also keeps shard leases, in the same
// records as the checkpoints. MemoryStore (workers in one
// process, tests) and DynamoDBCheckpointStore (workers anywhere)
// implement it.
type LeaseStore interface {
	CheckpointStore
	// ListLeases returns the lease of every shard of stream that has a
	// lease or a checkpoint, sorted by shard id. A shard that is not
	// listed has a free lease with Counter 0.
	ListLeases(ctx context.Context, stream string) ([]Lease, error)
	// UpdateLease replaces a shard's lease with next if the stored lease
	// still has old's Counter (a Counter of 0: no lease stored yet). next
	// must be for the same shard with Counter old.Counter+1. Otherwise it
	// returns an error wrapping ErrLeaseChanged, and nothing is written.
	// The shard's checkpoint is left alone.
	UpdateLease(ctx context.Context, stream string, old, next Lease) error
}

// validateLeaseUpdate checks the arguments of UpdateLease.
func validateLeaseUpdate(stream string, old, next Lease) error {
	switch {
	case stream == "" || old.ShardID == "":
		return errors.New("kinesis: update lease: empty stream or shard id")
	case next.ShardID != old.ShardID:
		return fmt.Errorf("kinesis: update lease of shard %s: next lease is for shard %s", old.ShardID, next.ShardID)
	case old.Counter < 0 || next.Counter != old.Counter+1:
		return fmt.Errorf("kinesis: update lease of shard %s: counter %d after %d, want %d", old.ShardID, next.Counter, old.Counter, old.Counter+1)
	}
	return nil
}

// leaseChangedError is the error of an UpdateLease whose condition failed.
func leaseChangedError(stream string, old Lease, err error) error {
	if err != nil {
		return fmt.Errorf("%w: stream %s shard %s (read counter %d): %w", ErrLeaseChanged, stream, old.ShardID, old.Counter, err)
	}
	return fmt.Errorf("%w: stream %s shard %s (read counter %d)", ErrLeaseChanged, stream, old.ShardID, old.Counter)
}

// ListLeases returns the lease of every shard of stream that has a lease
// or a checkpoint, sorted by shard id. It fails only when ctx is done.
func (s *MemoryStore) ListLeases(ctx context.Context, stream string) ([]Lease, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("kinesis: list leases of stream %s: %w", stream, err)
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
		return fmt.Errorf("kinesis: update lease of shard %s: %w", old.ShardID, err)
	}
	if err := validateLeaseUpdate(stream, old, next); err != nil {
		return err
	}
	k := shardKey{stream, old.ShardID}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.leases[k].Counter != old.Counter {
		return leaseChangedError(stream, old, nil)
	}
	next.ShardEnded = false
	s.leases[k] = next
	return nil
}

var _ LeaseStore = (*MemoryStore)(nil)
