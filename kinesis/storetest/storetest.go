// Package storetest checks that a kinesis.CheckpointStore follows the rules
// the consumer relies on, in the manner of testing/fstest: a store's own
// tests call Run with a function returning a new, empty store.
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) kinesis.CheckpointStore {
//			return newStoreOnAFreshTable(t) // dropped in a t.Cleanup
//		})
//	}
//
// Run checks that checkpoints round-trip, only move forward (a stale writer
// is refused with kinesis.ErrCheckpointBehind, even racing other writers),
// refuse invalid positions, are kept per stream and shard, and honour a
// cancelled context. When the store is also a kinesis.LeaseStore, Run
// checks the leases too: compare and swap on the counter, one winner among
// racing workers, leases listed sorted and per stream, and leases and
// checkpoints sharing a shard's record without overwriting each other.
//
// The stores of this module pass it: kinesis.MemoryStore,
// kinesis/dynamodbstore.Store and dynamodbstore.KCLStore.
package storetest

import (
	"testing"

	"github.com/rtdskit/rtds/kinesis"
)

// Run checks the store that newStore returns against the rules of
// kinesis.CheckpointStore and, if it is one, kinesis.LeaseStore. Each
// behaviour is a subtest named after it, under "Checkpoints" and "Leases",
// with a store of its own from newStore, called with the subtest's t so
// that a store can register its cleanup there. Each store must start empty.
// The subtests of a group run in parallel; Run returns when all have
// finished.
//
// A store that does not implement kinesis.LeaseStore is checked as a
// checkpoint store only; Run logs that the lease behaviours were not
// checked.
func Run(t *testing.T, newStore func(t *testing.T) kinesis.CheckpointStore) {
	t.Helper()
	t.Run("Checkpoints", func(t *testing.T) {
		for _, tc := range checkpointTests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				tc.run(t, newStore(t))
			})
		}
	})
	t.Run("Leases", func(t *testing.T) {
		if _, ok := newStore(t).(kinesis.LeaseStore); !ok {
			t.Log("the store is not a kinesis.LeaseStore: lease behaviours not checked")
			return
		}
		for _, tc := range leaseTests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				s, ok := newStore(t).(kinesis.LeaseStore)
				if !ok {
					t.Fatal("newStore returned a kinesis.LeaseStore once, and now a store that is not one")
				}
				tc.run(t, s)
			})
		}
	})
}
