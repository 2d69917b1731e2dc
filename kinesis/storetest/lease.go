package storetest

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rtdskit/rtds/kinesis"
)

const leaseStream = "storetest-leases"

var leaseTests = []behaviour[kinesis.LeaseStore]{
	{"NewStreamHasNoLeases", testNoLeases},
	{"TakeRenewHandoffAndReleaseSwapOnTheCounter", testLeaseLifecycle},
	{"LeasesAndCheckpointsShareTheShardRecord", testLeaseAndCheckpoint},
	{"LeasesAreListedSortedAndPerStream", testLeasesSortedPerStream},
	{"InvalidUpdateIsRefused", testInvalidLeaseUpdates},
	{"OneOfRacingWorkersTakesTheLease", testOneWinner},
}

func testNoLeases(t *testing.T, s kinesis.LeaseStore) {
	ls, err := s.ListLeases(context.Background(), leaseStream)
	if err != nil || len(ls) != 0 {
		t.Fatalf("ListLeases of a new stream = %v, %v; want none", ls, err)
	}
}

func testLeaseLifecycle(t *testing.T, s kinesis.LeaseStore) {
	ctx := context.Background()
	free := kinesis.Lease{ShardID: "shardId-000000000001"}
	a1 := kinesis.Lease{ShardID: free.ShardID, Owner: "a", Counter: 1}
	if err := s.UpdateLease(ctx, leaseStream, free, a1); err != nil {
		t.Fatalf("take a free lease: %v", err)
	}
	a2 := a1
	a2.Counter = 2
	if err := s.UpdateLease(ctx, leaseStream, a1, a2); err != nil {
		t.Fatalf("renew: %v", err)
	}
	// b asks for it; a's next renewal with the old counter fails.
	ask := a2
	ask.Counter, ask.HandoffTo = 3, "b"
	if err := s.UpdateLease(ctx, leaseStream, a2, ask); err != nil {
		t.Fatalf("ask for a handoff: %v", err)
	}
	stale := a2
	stale.Counter = 3
	if err := s.UpdateLease(ctx, leaseStream, a2, stale); !errors.Is(err, kinesis.ErrLeaseChanged) {
		t.Fatalf("renew after a handoff request = %v, want ErrLeaseChanged", err)
	}
	ls, err := s.ListLeases(ctx, leaseStream)
	if err != nil || len(ls) != 1 || ls[0] != ask {
		t.Fatalf("ListLeases = %v, %v; want [%v]", ls, err, ask)
	}
	b4 := kinesis.Lease{ShardID: free.ShardID, Owner: "b", Counter: 4}
	if err := s.UpdateLease(ctx, leaseStream, ask, b4); err != nil {
		t.Fatalf("hand over: %v", err)
	}
	released := kinesis.Lease{ShardID: free.ShardID, Counter: 5}
	if err := s.UpdateLease(ctx, leaseStream, b4, released); err != nil {
		t.Fatalf("release: %v", err)
	}
	ls, err = s.ListLeases(ctx, leaseStream)
	if err != nil || len(ls) != 1 || ls[0] != released {
		t.Fatalf("ListLeases after release = %v, %v; want [%v]", ls, err, released)
	}
	// A second "first take" of the same shard fails: the lease exists.
	if err := s.UpdateLease(ctx, leaseStream, free, a1); !errors.Is(err, kinesis.ErrLeaseChanged) {
		t.Fatalf("take with counter 0 of an existing lease = %v, want ErrLeaseChanged", err)
	}
}

func testLeaseAndCheckpoint(t *testing.T, s kinesis.LeaseStore) {
	ctx := context.Background()
	const shard = "shardId-000000000002"
	if err := s.Save(ctx, leaseStream, shard, kinesis.Checkpoint{SequenceNumber: seqA}); err != nil {
		t.Fatal(err)
	}
	// A checkpoint without a lease lists as a free lease.
	ls, err := s.ListLeases(ctx, leaseStream)
	if err != nil || len(ls) != 1 || ls[0] != (kinesis.Lease{ShardID: shard}) {
		t.Fatalf("ListLeases = %v, %v; want one free lease", ls, err)
	}
	l1 := kinesis.Lease{ShardID: shard, Owner: "w", Counter: 1}
	if err := s.UpdateLease(ctx, leaseStream, kinesis.Lease{ShardID: shard}, l1); err != nil {
		t.Fatal(err)
	}
	end := kinesis.Checkpoint{SequenceNumber: seqB, ShardEnded: true}
	if err := s.Save(ctx, leaseStream, shard, end); err != nil {
		t.Fatal(err)
	}
	cp, ok, err := s.Load(ctx, leaseStream, shard)
	if err != nil || !ok || cp != end {
		t.Fatalf("Load after a lease write = %+v, %v, %v; want %+v", cp, ok, err, end)
	}
	ls, err = s.ListLeases(ctx, leaseStream)
	want := l1
	want.ShardEnded = true
	if err != nil || len(ls) != 1 || ls[0] != want {
		t.Fatalf("ListLeases after the end checkpoint = %v, %v; want [%v]", ls, err, want)
	}
	// A lease write keeps the checkpoint.
	l2 := kinesis.Lease{ShardID: shard, Counter: 2}
	if err := s.UpdateLease(ctx, leaseStream, l1, l2); err != nil {
		t.Fatal(err)
	}
	if cp, ok, err := s.Load(ctx, leaseStream, shard); err != nil || !ok || cp != end {
		t.Fatalf("Load after release = %+v, %v, %v; want %+v", cp, ok, err, end)
	}
}

func testLeasesSortedPerStream(t *testing.T, s kinesis.LeaseStore) {
	ctx := context.Background()
	take := func(stream, id string) {
		t.Helper()
		if err := s.UpdateLease(ctx, stream, kinesis.Lease{ShardID: id}, kinesis.Lease{ShardID: id, Owner: "w", Counter: 1}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"shardId-000000000009", "shardId-000000000003", "shardId-000000000005"} {
		take(leaseStream, id)
	}
	take("storetest-other", "shardId-000000000000")
	ls, err := s.ListLeases(ctx, leaseStream)
	if err != nil || len(ls) != 3 {
		t.Fatalf("ListLeases = %v, %v; want 3 leases", ls, err)
	}
	for i, id := range []string{"shardId-000000000003", "shardId-000000000005", "shardId-000000000009"} {
		if ls[i].ShardID != id {
			t.Errorf("lease %d is %s, want %s (sorted by shard id)", i, ls[i].ShardID, id)
		}
	}
}

func testInvalidLeaseUpdates(t *testing.T, s kinesis.LeaseStore) {
	tests := []struct {
		reason    string
		old, next kinesis.Lease
	}{
		{"counter must step by one", kinesis.Lease{ShardID: "s"}, kinesis.Lease{ShardID: "s", Owner: "w", Counter: 2}},
		{"same shard", kinesis.Lease{ShardID: "s"}, kinesis.Lease{ShardID: "t", Owner: "w", Counter: 1}},
		{"shard id needed", kinesis.Lease{}, kinesis.Lease{Owner: "w", Counter: 1}},
	}
	for _, tt := range tests {
		err := s.UpdateLease(context.Background(), leaseStream, tt.old, tt.next)
		if err == nil || errors.Is(err, kinesis.ErrLeaseChanged) {
			t.Errorf("UpdateLease(%v, %v) = %v, want the error of kinesis.ValidateLeaseUpdate (%s)", tt.old, tt.next, err, tt.reason)
		}
	}
	if ls, err := s.ListLeases(context.Background(), leaseStream); err != nil || len(ls) != 0 {
		t.Errorf("after invalid updates, ListLeases = %v, %v; want none", ls, err)
	}
}

func testOneWinner(t *testing.T, s kinesis.LeaseStore) {
	const shard = "shardId-000000000007"
	var wins atomic.Int32
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			next := kinesis.Lease{ShardID: shard, Owner: "w" + strconv.Itoa(w), Counter: 1}
			err := s.UpdateLease(context.Background(), leaseStream, kinesis.Lease{ShardID: shard}, next)
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, kinesis.ErrLeaseChanged):
				t.Errorf("worker %d: %v", w, err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d workers took the same lease, want 1", wins.Load())
	}
}
