package kinesis

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

// runCheckpointStoreConformance runs the same behavioural tests against any
// CheckpointStore, so the memory and DynamoDB stores provably agree. newStore
// returns an empty store for one subtest.
func runCheckpointStoreConformance(t *testing.T, newStore func(t *testing.T) CheckpointStore) {
	const stream = "conformance-stream"
	const shard = "shardId-000000000000"
	big129 := "9" + strings.Repeat("8", 128)

	t.Run("load missing", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		cp, ok, err := s.Load(context.Background(), stream, shard)
		if err != nil || ok || cp != (Checkpoint{}) {
			t.Fatalf("Load of a new shard = %+v, %v, %v; want zero, false, nil", cp, ok, err)
		}
	})

	t.Run("round trip", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name   string
			reason string
			cp     Checkpoint
		}{
			{"plain", "a plain record has sub-sequence 0", Checkpoint{SequenceNumber: seqA}},
			{"sub-sequence", "inside an aggregate", Checkpoint{SequenceNumber: seqA, SubSequenceNumber: 17}},
			{"max sub-sequence", "uint64 survives storage", Checkpoint{SequenceNumber: seqA, SubSequenceNumber: ^uint64(0)}},
			{"129 digits", "longest sequence number the API allows", Checkpoint{SequenceNumber: big129}},
			{"zero", "smallest sequence number", Checkpoint{SequenceNumber: "0"}},
			{"ended", "shard read to its end", Checkpoint{SequenceNumber: seqB, SubSequenceNumber: 2, ShardEnded: true}},
			{"ended empty", "a shard that ended without records", Checkpoint{ShardEnded: true}},
		}
		s := newStore(t)
		for _, tt := range tests {
			shardID := "shardId-" + strings.ReplaceAll(tt.name, " ", "-")
			if err := s.Save(context.Background(), stream, shardID, tt.cp); err != nil {
				t.Fatalf("%s: Save(%+v): %v (%s)", tt.name, tt.cp, err, tt.reason)
			}
			got, ok, err := s.Load(context.Background(), stream, shardID)
			if err != nil || !ok || got != tt.cp {
				t.Errorf("%s: Load = %+v, %v, %v; want %+v, true, nil (%s)", tt.name, got, ok, err, tt.cp, tt.reason)
			}
		}
	})

	t.Run("moves forward", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		steps := []Checkpoint{
			{SequenceNumber: "9"},
			{SequenceNumber: "9"}, // same position again: idempotent
			{SequenceNumber: "10"},
			{SequenceNumber: "10", SubSequenceNumber: 1},
			{SequenceNumber: "10", SubSequenceNumber: 1},
			{SequenceNumber: seqA},
			{SequenceNumber: seqA, ShardEnded: true},
			{SequenceNumber: seqA, ShardEnded: true}, // ended again
		}
		for i, cp := range steps {
			if err := s.Save(context.Background(), stream, shard, cp); err != nil {
				t.Fatalf("step %d: Save(%+v): %v", i, cp, err)
			}
			got, ok, err := s.Load(context.Background(), stream, shard)
			if err != nil || !ok || got != cp {
				t.Fatalf("step %d: Load = %+v, %v, %v; want %+v", i, got, ok, err, cp)
			}
		}
	})

	t.Run("stale writer refused", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name   string
			reason string
			stored Checkpoint
			stale  Checkpoint
		}{
			{"backwards sequence", "an older record", Checkpoint{SequenceNumber: seqB}, Checkpoint{SequenceNumber: seqA, SubSequenceNumber: 9}},
			{"shorter sequence", "fewer digits is a smaller number even if lexicographically larger", Checkpoint{SequenceNumber: "100"}, Checkpoint{SequenceNumber: "99"}},
			{"backwards sub-sequence", "an earlier user record of the same aggregate", Checkpoint{SequenceNumber: seqA, SubSequenceNumber: 5}, Checkpoint{SequenceNumber: seqA, SubSequenceNumber: 4}},
			{"after shard end", "an ended shard stays ended", Checkpoint{SequenceNumber: "5", ShardEnded: true}, Checkpoint{SequenceNumber: big129}},
		}
		s := newStore(t)
		for _, tt := range tests {
			shardID := "shardId-" + strings.ReplaceAll(tt.name, " ", "-")
			if err := s.Save(context.Background(), stream, shardID, tt.stored); err != nil {
				t.Fatalf("%s: Save(stored): %v", tt.name, err)
			}
			err := s.Save(context.Background(), stream, shardID, tt.stale)
			if !errors.Is(err, ErrCheckpointBehind) {
				t.Errorf("%s: Save(stale) = %v, want ErrCheckpointBehind (%s)", tt.name, err, tt.reason)
			} else {
				msg := err.Error()
				for _, want := range []string{shardID, tt.stale.String(), tt.stored.String()} {
					if !strings.Contains(msg, want) {
						t.Errorf("%s: error %q does not mention %q", tt.name, msg, want)
					}
				}
			}
			got, ok, err := s.Load(context.Background(), stream, shardID)
			if err != nil || !ok || got != tt.stored {
				t.Errorf("%s: after refused Save, Load = %+v, %v, %v; want the stored %+v", tt.name, got, ok, err, tt.stored)
			}
		}
	})

	t.Run("invalid refused", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for _, cp := range []Checkpoint{{}, {SequenceNumber: "012"}, {SequenceNumber: "abc"}, {SubSequenceNumber: 1, ShardEnded: true}} {
			err := s.Save(context.Background(), stream, shard, cp)
			if err == nil || errors.Is(err, ErrCheckpointBehind) {
				t.Errorf("Save(%+v) = %v, want a validation error", cp, err)
			}
		}
		if _, ok, err := s.Load(context.Background(), stream, shard); ok || err != nil {
			t.Errorf("after invalid saves, Load = ok %v, err %v; want nothing stored", ok, err)
		}
	})

	t.Run("isolated by stream and shard", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		keys := []struct{ stream, shard string }{
			{"stream-a", "shardId-000000000000"},
			{"stream-a", "shardId-000000000001"},
			{"stream-b", "shardId-000000000000"},
			{"arn:aws:kinesis:us-east-1:123456789012:stream/stream-a", "shardId-000000000000"},
		}
		for i, k := range keys {
			cp := Checkpoint{SequenceNumber: strings.Repeat("7", i+1)}
			if err := s.Save(context.Background(), k.stream, k.shard, cp); err != nil {
				t.Fatalf("Save %v: %v", k, err)
			}
		}
		for i, k := range keys {
			want := Checkpoint{SequenceNumber: strings.Repeat("7", i+1)}
			got, ok, err := s.Load(context.Background(), k.stream, k.shard)
			if err != nil || !ok || got != want {
				t.Errorf("Load %v = %+v, %v, %v; want %+v", k, got, ok, err, want)
			}
		}
	})

	t.Run("cancelled context", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.Save(ctx, stream, shard, Checkpoint{SequenceNumber: "1"}); !errors.Is(err, context.Canceled) {
			t.Errorf("Save with a cancelled context = %v, want context.Canceled", err)
		}
		if _, _, err := s.Load(ctx, stream, shard); !errors.Is(err, context.Canceled) {
			t.Errorf("Load with a cancelled context = %v, want context.Canceled", err)
		}
		if _, ok, err := s.Load(context.Background(), stream, shard); ok || err != nil {
			t.Errorf("after a cancelled Save, Load = ok %v, err %v; want nothing stored", ok, err)
		}
	})

	t.Run("concurrent writers", func(t *testing.T) {
		t.Parallel()
		testConcurrentWriters(t, newStore(t), stream, shard)
	})
}

// testConcurrentWriters runs 16 writers saving random positions to one
// shard while a reader checks the stored position never moves backwards.
// At the end the store must hold the largest position any writer saved.
func testConcurrentWriters(t *testing.T, s CheckpointStore, stream, shard string) {
	const writers, saves = 16, 12
	ctx := context.Background()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		max     Checkpoint
		haveMax bool
		stop    = make(chan struct{})
		readErr = make(chan error, 1)
	)
	go func() { // reader
		var last Checkpoint
		seen := false
		for {
			select {
			case <-stop:
				readErr <- nil
				return
			default:
			}
			cp, ok, err := s.Load(ctx, stream, shard)
			if err != nil {
				readErr <- err
				return
			}
			if ok {
				if seen && comparePosition(cp, last) < 0 {
					readErr <- errors.New("checkpoint moved backwards from " + last.String() + " to " + cp.String())
					return
				}
				last, seen = cp, true
			}
		}
	}()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 99))
			for range saves {
				cp := randomCheckpoint(r)
				if r.IntN(10) != 0 {
					cp.ShardEnded = false // keep ended rare so most saves race on order
					if cp.SequenceNumber == "" {
						cp.SequenceNumber = "1"
					}
				}
				err := s.Save(ctx, stream, shard, cp)
				switch {
				case err == nil:
					mu.Lock()
					if !haveMax || comparePosition(cp, max) > 0 {
						max, haveMax = cp, true
					}
					mu.Unlock()
					// What we just wrote (or something ahead) must be visible.
					got, ok, lerr := s.Load(ctx, stream, shard)
					if lerr != nil || !ok || comparePosition(got, cp) < 0 {
						t.Errorf("after Save(%s), Load = %+v, %v, %v", cp.String(), got, ok, lerr)
					}
				case errors.Is(err, ErrCheckpointBehind):
				default:
					t.Errorf("Save(%+v): %v", cp, err)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	if err := <-readErr; err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Load(ctx, stream, shard)
	if err != nil || !ok || comparePosition(got, max) != 0 {
		t.Fatalf("final Load = %+v, %v, %v; want the largest saved position %s", got, ok, err, max.String())
	}
}
