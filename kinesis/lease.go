package kinesis

import (
	"context"
	"errors"
	"fmt"
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

// LeaseStore is a CheckpointStore that also keeps shard leases, in the same
// records as the checkpoints. MemoryStore (workers in one process, tests)
// and dynamodbstore.Store (workers anywhere) implement it.
//
// A store author's UpdateLease first checks its arguments with
// ValidateLeaseUpdate, then writes next only if the stored Counter is still
// old.Counter, atomically (compare and swap): of several workers racing to
// update the same lease, exactly one wins. A lease write never changes the
// shard's checkpoint, nor a checkpoint write the lease. Package
// kinesis/storetest checks these rules.
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

// ValidateLeaseUpdate checks the arguments of LeaseStore.UpdateLease: a
// non-empty stream and shard id, next for the same shard as old, and
// next.Counter == old.Counter+1 (old.Counter >= 0). A LeaseStore calls it
// first and refuses an update it rejects, without writing anything; such an
// error does not wrap ErrLeaseChanged.
func ValidateLeaseUpdate(stream string, old, next Lease) error {
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

// ShardLineage is a shard as ListShards (or its parent's end) describes
// it: its parents, and its hash key range as decimal strings (empty when
// unknown).
type ShardLineage struct {
	ShardID                        string
	Parents                        []string
	StartingHashKey, EndingHashKey string
}

// LineageStore is a CheckpointStore that also keeps each shard's lineage,
// for other readers of the same table: dynamodbstore.KCLStore writes it
// as the Java KCL's parentShardId, childShardIds and hash keys, which the
// KCL needs to read parents before children. A consumer calls RecordShard
// for every shard it discovers, before it loads the shard's checkpoint.
// RecordShard must be idempotent and must not change a checkpoint or a
// lease.
type LineageStore interface {
	CheckpointStore
	RecordShard(ctx context.Context, stream string, s ShardLineage) error
}
