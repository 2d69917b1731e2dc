package kinesis

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// testCheckpointStoreKeepsStartTimes: a store keeps a checkpoint's start
// time (Timestamp, no sequence number), alone and on an ended shard, and
// orders it behind every sequence number.
func testCheckpointStoreKeepsStartTimes(t *testing.T, s CheckpointStore) {
	ctx := context.Background()
	const stream = "start-times"
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	for shard, cp := range map[string]Checkpoint{
		"shardId-start": {Timestamp: t0},
		"shardId-ended": {ShardEnded: true, Timestamp: t0},
	} {
		if err := s.Save(ctx, stream, shard, cp); err != nil {
			t.Fatalf("Save(%+v): %v", cp, err)
		}
		if got, ok, err := s.Load(ctx, stream, shard); err != nil || !ok || got != cp {
			t.Errorf("Load = %+v, %v, %v; want %+v", got, ok, err, cp)
		}
	}

	const shard = "shardId-order"
	steps := []struct {
		cp     Checkpoint
		behind bool
	}{
		{Checkpoint{Timestamp: t0}, false},
		{Checkpoint{Timestamp: t0.Add(-time.Second)}, true},
		{Checkpoint{Timestamp: t0.Add(time.Second)}, false},
		{Checkpoint{SequenceNumber: seqA}, false},
		{Checkpoint{Timestamp: t0.Add(time.Hour)}, true},
	}
	for _, st := range steps {
		err := s.Save(ctx, stream, shard, st.cp)
		if got := errors.Is(err, ErrCheckpointBehind); got != st.behind || (err != nil && !st.behind) {
			t.Errorf("Save(%s) = %v, want behind %v", formatPosition(st.cp), err, st.behind)
		}
	}
	if got, _, err := s.Load(ctx, stream, shard); err != nil || got != (Checkpoint{SequenceNumber: seqA}) {
		t.Errorf("after a sequence number: Load = %+v, %v; want the sequence number alone", got, err)
	}
	if err := s.Save(ctx, stream, "shardId-both", Checkpoint{SequenceNumber: seqA, Timestamp: t0}); err == nil || errors.Is(err, ErrCheckpointBehind) {
		t.Errorf("Save of a sequence number with a start time = %v, want it refused as invalid", err)
	}
}

func TestMemoryCheckpointStoreKeepsStartTimes(t *testing.T) {
	t.Parallel()
	testCheckpointStoreKeepsStartTimes(t, NewMemoryCheckpointStore())
}

func TestDynamoDBCheckpointStoreKeepsStartTimes(t *testing.T) {
	t.Parallel()
	testCheckpointStoreKeepsStartTimes(t, newDynamoTestStore(t, dynaliteClient(t)))
}

// TestStartTimePositionsSortBeforeSequenceNumbers: start times compare by
// time, behind every sequence number and every ended checkpoint, in
// comparePosition and in sortablePosition's byte order alike.
func TestStartTimePositionsSortBeforeSequenceNumbers(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ordered := []Checkpoint{
		{Timestamp: t0},
		{Timestamp: t0.Add(time.Millisecond)},
		{Timestamp: t0.Add(time.Hour * 24 * 365 * 100)},
		{SequenceNumber: "0"},
		{SequenceNumber: seqA},
		{ShardEnded: true, Timestamp: t0},
	}
	for i, a := range ordered {
		if err := validateCheckpoint(a); err != nil {
			t.Errorf("validateCheckpoint(%s): %v", formatPosition(a), err)
		}
		for j, b := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := comparePosition(a, b); got != want {
				t.Errorf("comparePosition(%s, %s) = %d, want %d", formatPosition(a), formatPosition(b), got, want)
			}
		}
	}
	keys := make([]string, len(ordered))
	for i, cp := range ordered {
		keys[i] = sortablePosition(cp)
	}
	if !slices.IsSorted(keys) {
		t.Errorf("sortable positions out of order: %q", keys)
	}
	if got, want := formatPosition(Checkpoint{Timestamp: t0}), "from 2026-01-02T03:04:05Z"; got != want {
		t.Errorf("formatPosition = %q, want %q", got, want)
	}
}
