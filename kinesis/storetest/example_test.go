package storetest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/rtdskit/rtds/kinesis"
)

// mapStore is a user's checkpoint store: a map behind a mutex, where a real
// store would write to its database with a conditional update. It uses the
// helpers kinesis exports for store authors, and passes storetest.Run
// (storetest_test.go runs it):
//
//	func TestMapStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) kinesis.CheckpointStore { return newMapStore() })
//	}
type mapStore struct {
	mu  sync.Mutex
	cps map[[2]string]kinesis.Checkpoint
}

func newMapStore() *mapStore { return &mapStore{cps: map[[2]string]kinesis.Checkpoint{}} }

func (s *mapStore) Load(ctx context.Context, stream, shardID string) (kinesis.Checkpoint, bool, error) {
	if err := ctx.Err(); err != nil {
		return kinesis.Checkpoint{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cp, ok := s.cps[[2]string{stream, shardID}]
	return cp, ok, nil
}

func (s *mapStore) Save(ctx context.Context, stream, shardID string, cp kinesis.Checkpoint) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := cp.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{stream, shardID}
	if stored, ok := s.cps[k]; ok && cp.Compare(stored) < 0 {
		return fmt.Errorf("%w: stream %s shard %s: saving %s, stored %s", kinesis.ErrCheckpointBehind, stream, shardID, cp, stored)
	}
	s.cps[k] = cp
	return nil
}

// A store refuses a checkpoint behind the stored one, so that a stale
// worker can never move a shard backwards. storetest.Run checks this and
// the other rules of kinesis.CheckpointStore, from a test of the store.
func Example() {
	var store kinesis.CheckpointStore = newMapStore()
	ctx := context.Background()
	_ = store.Save(ctx, "events", "shardId-000000000000", kinesis.Checkpoint{SequenceNumber: "200", SubSequenceNumber: 1})
	err := store.Save(ctx, "events", "shardId-000000000000", kinesis.Checkpoint{SequenceNumber: "199"})
	fmt.Println(errors.Is(err, kinesis.ErrCheckpointBehind))
	fmt.Println(err)
	// Output:
	// true
	// kinesis: checkpoint is behind the stored one: stream events shard shardId-000000000000: saving 199/0, stored 200/1
}
