package kinesis

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// runLeaseStoreConformance runs the same lease tests against any
// LeaseStore, so the memory and DynamoDB stores provably agree.
func runLeaseStoreConformance(t *testing.T, newStore func(t *testing.T) LeaseStore) {
	const stream = "lease-stream"
	ctx := context.Background()

	t.Run("empty", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ls, err := s.ListLeases(ctx, stream)
		if err != nil || len(ls) != 0 {
			t.Fatalf("ListLeases of a new stream = %v, %v; want none", ls, err)
		}
	})

	t.Run("take renew handoff release", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		free := Lease{ShardID: "shardId-000000000001"}
		a1 := Lease{ShardID: free.ShardID, Owner: "a", Counter: 1}
		if err := s.UpdateLease(ctx, stream, free, a1); err != nil {
			t.Fatalf("take a free lease: %v", err)
		}
		a2 := a1
		a2.Counter = 2
		if err := s.UpdateLease(ctx, stream, a1, a2); err != nil {
			t.Fatalf("renew: %v", err)
		}
		// b asks for it; a's next renewal with the old counter fails.
		ask := a2
		ask.Counter, ask.HandoffTo = 3, "b"
		if err := s.UpdateLease(ctx, stream, a2, ask); err != nil {
			t.Fatalf("ask for a handoff: %v", err)
		}
		stale := a2
		stale.Counter = 3
		if err := s.UpdateLease(ctx, stream, a2, stale); !errors.Is(err, ErrLeaseChanged) {
			t.Fatalf("renew after a handoff request = %v, want ErrLeaseChanged", err)
		}
		ls, err := s.ListLeases(ctx, stream)
		if err != nil || len(ls) != 1 || ls[0] != ask {
			t.Fatalf("ListLeases = %v, %v; want [%v]", ls, err, ask)
		}
		b4 := Lease{ShardID: free.ShardID, Owner: "b", Counter: 4}
		if err := s.UpdateLease(ctx, stream, ask, b4); err != nil {
			t.Fatalf("hand over: %v", err)
		}
		released := Lease{ShardID: free.ShardID, Counter: 5}
		if err := s.UpdateLease(ctx, stream, b4, released); err != nil {
			t.Fatalf("release: %v", err)
		}
		ls, err = s.ListLeases(ctx, stream)
		if err != nil || len(ls) != 1 || ls[0] != released {
			t.Fatalf("ListLeases after release = %v, %v; want [%v]", ls, err, released)
		}
		// A second "first take" of the same shard fails: the lease exists.
		if err := s.UpdateLease(ctx, stream, free, a1); !errors.Is(err, ErrLeaseChanged) {
			t.Fatalf("take with counter 0 of an existing lease = %v, want ErrLeaseChanged", err)
		}
	})

	t.Run("leases and checkpoints share the record", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		const shard = "shardId-000000000002"
		if err := s.Save(ctx, stream, shard, Checkpoint{SequenceNumber: seqA}); err != nil {
			t.Fatal(err)
		}
		// A checkpoint without a lease lists as a free lease.
		ls, err := s.ListLeases(ctx, stream)
		if err != nil || len(ls) != 1 || ls[0] != (Lease{ShardID: shard}) {
			t.Fatalf("ListLeases = %v, %v; want one free lease", ls, err)
		}
		l1 := Lease{ShardID: shard, Owner: "w", Counter: 1}
		if err := s.UpdateLease(ctx, stream, Lease{ShardID: shard}, l1); err != nil {
			t.Fatal(err)
		}
		end := Checkpoint{SequenceNumber: seqB, ShardEnded: true}
		if err := s.Save(ctx, stream, shard, end); err != nil {
			t.Fatal(err)
		}
		cp, ok, err := s.Load(ctx, stream, shard)
		if err != nil || !ok || cp != end {
			t.Fatalf("Load after a lease write = %+v, %v, %v; want %+v", cp, ok, err, end)
		}
		ls, err = s.ListLeases(ctx, stream)
		want := l1
		want.ShardEnded = true
		if err != nil || len(ls) != 1 || ls[0] != want {
			t.Fatalf("ListLeases after the end checkpoint = %v, %v; want [%v]", ls, err, want)
		}
		// A lease write keeps the checkpoint.
		l2 := Lease{ShardID: shard, Counter: 2}
		if err := s.UpdateLease(ctx, stream, l1, l2); err != nil {
			t.Fatal(err)
		}
		if cp, ok, err := s.Load(ctx, stream, shard); err != nil || !ok || cp != end {
			t.Fatalf("Load after release = %+v, %v, %v; want %+v", cp, ok, err, end)
		}
	})

	t.Run("sorted and per stream", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for _, id := range []string{"shardId-000000000009", "shardId-000000000003", "shardId-000000000005"} {
			if err := s.UpdateLease(ctx, stream, Lease{ShardID: id}, Lease{ShardID: id, Owner: "w", Counter: 1}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.UpdateLease(ctx, "other", Lease{ShardID: "shardId-000000000000"}, Lease{ShardID: "shardId-000000000000", Owner: "w", Counter: 1}); err != nil {
			t.Fatal(err)
		}
		ls, err := s.ListLeases(ctx, stream)
		if err != nil || len(ls) != 3 {
			t.Fatalf("ListLeases = %v, %v; want 3 leases", ls, err)
		}
		for i, id := range []string{"shardId-000000000003", "shardId-000000000005", "shardId-000000000009"} {
			if ls[i].ShardID != id {
				t.Errorf("lease %d is %s, want %s (sorted by shard id)", i, ls[i].ShardID, id)
			}
		}
	})

	t.Run("invalid updates", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		tests := []struct {
			reason    string
			old, next Lease
		}{
			{"counter must step by one", Lease{ShardID: "s"}, Lease{ShardID: "s", Owner: "w", Counter: 2}},
			{"same shard", Lease{ShardID: "s"}, Lease{ShardID: "t", Owner: "w", Counter: 1}},
			{"shard id needed", Lease{}, Lease{Owner: "w", Counter: 1}},
		}
		for _, tt := range tests {
			err := s.UpdateLease(ctx, stream, tt.old, tt.next)
			if err == nil || errors.Is(err, ErrLeaseChanged) {
				t.Errorf("UpdateLease(%v, %v) = %v, want a validation error (%s)", tt.old, tt.next, err, tt.reason)
			}
		}
	})

	t.Run("one winner", func(t *testing.T) {
		t.Parallel()
		// Workers race to take the same free lease: exactly one wins.
		s := newStore(t)
		const shard = "shardId-000000000007"
		var wins atomic.Int32
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				err := s.UpdateLease(ctx, stream, Lease{ShardID: shard}, Lease{ShardID: shard, Owner: fmt.Sprint("w", w), Counter: 1})
				switch {
				case err == nil:
					wins.Add(1)
				case !errors.Is(err, ErrLeaseChanged):
					t.Errorf("worker %d: %v", w, err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d workers took the same lease, want 1", wins.Load())
		}
	})
}

func TestDynamoDBLeaseStoreConformance(t *testing.T) {
	t.Parallel()
	client := dynaliteClient(t)
	runLeaseStoreConformance(t, func(t *testing.T) LeaseStore { return newDynamoTestStore(t, client) })
}

func TestDynamoDBLeaseChangedWrapsSDKError(t *testing.T) {
	t.Parallel()
	s := newDynamoTestStore(t, dynaliteClient(t))
	ctx := context.Background()
	l := Lease{ShardID: "shardId-000000000000", Owner: "a", Counter: 1}
	if err := s.UpdateLease(ctx, "s", Lease{ShardID: l.ShardID}, l); err != nil {
		t.Fatal(err)
	}
	err := s.UpdateLease(ctx, "s", Lease{ShardID: l.ShardID}, l)
	var ccf *ddbtypes.ConditionalCheckFailedException
	if !errors.Is(err, ErrLeaseChanged) || !errors.As(err, &ccf) {
		t.Fatalf("err = %v, want ErrLeaseChanged wrapping *types.ConditionalCheckFailedException", err)
	}
}
