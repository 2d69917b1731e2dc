package storetest

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtdskit/rtds/kinesis"
)

const (
	stream = "storetest-stream"
	shard  = "shardId-000000000000"
	// Realistic 56-digit sequence numbers, beyond int64 and uint64.
	seqA = "49590338271490256608559692538361571095921575989136588898"
	seqB = "49590338271490256608559692538361571095921575989136588899"
)

// big129 is a sequence number of the most digits Kinesis allows.
var big129 = "9" + strings.Repeat("8", 128)

// behaviour is one subtest of Run: a rule that store S must follow.
type behaviour[S any] struct {
	name string
	run  func(t *testing.T, s S)
}

var checkpointTests = []behaviour[kinesis.CheckpointStore]{
	{"LoadOfNewShardFindsNothing", testLoadOfNewShard},
	{"SavedCheckpointLoadsUnchanged", testRoundTrip},
	{"SaveMovesForwardAndRepeats", testMovesForward},
	{"SaveBehindStoredIsRefused", testStaleWriterRefused},
	{"SaveOfInvalidCheckpointIsRefused", testInvalidRefused},
	{"CheckpointsArePerStreamAndShard", testIsolation},
	{"CancelledContextFails", testCancelledContext},
	{"ConcurrentWritersNeverMoveBackwards", testConcurrentWriters},
	{"StartTimesAreKeptAndOrderedBehindSequenceNumbers", testStartTimes},
}

// testStartTimes: a store keeps a checkpoint's start time (Timestamp, no
// sequence number: where a reader started before it handled a record),
// alone and on an ended shard, and orders it behind every sequence number.
func testStartTimes(t *testing.T, s kinesis.CheckpointStore) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	for shard, cp := range map[string]kinesis.Checkpoint{
		"shardId-start": {Timestamp: t0},
		"shardId-ended": {ShardEnded: true, Timestamp: t0},
	} {
		if err := s.Save(ctx, stream, shard, cp); err != nil {
			t.Fatalf("Save(%v): %v", cp, err)
		}
		if got, ok, err := s.Load(ctx, stream, shard); err != nil || !ok || !got.Timestamp.Equal(cp.Timestamp) || got.ShardEnded != cp.ShardEnded || got.SequenceNumber != "" {
			t.Errorf("Load = %+v, %v, %v; want %+v", got, ok, err, cp)
		}
	}
	steps := []struct {
		cp     kinesis.Checkpoint
		behind bool
	}{
		{kinesis.Checkpoint{Timestamp: t0}, false},
		{kinesis.Checkpoint{Timestamp: t0.Add(-time.Second)}, true},
		{kinesis.Checkpoint{Timestamp: t0.Add(time.Second)}, false},
		{kinesis.Checkpoint{SequenceNumber: seqA}, false},
		{kinesis.Checkpoint{Timestamp: t0.Add(time.Hour)}, true},
	}
	for _, st := range steps {
		err := s.Save(ctx, stream, shard, st.cp)
		if got := errors.Is(err, kinesis.ErrCheckpointBehind); got != st.behind || (err != nil && !st.behind) {
			t.Errorf("Save(%v) = %v, want behind %v", st.cp, err, st.behind)
		}
	}
	if got, _, err := s.Load(ctx, stream, shard); err != nil || got != (kinesis.Checkpoint{SequenceNumber: seqA}) {
		t.Errorf("after a sequence number: Load = %+v, %v; want the sequence number alone", got, err)
	}
	if err := s.Save(ctx, stream, "shardId-both", kinesis.Checkpoint{SequenceNumber: seqA, Timestamp: t0}); err == nil || errors.Is(err, kinesis.ErrCheckpointBehind) {
		t.Errorf("Save of a sequence number with a start time = %v, want it refused as invalid", err)
	}
}

func testLoadOfNewShard(t *testing.T, s kinesis.CheckpointStore) {
	cp, ok, err := s.Load(context.Background(), stream, shard)
	if err != nil || ok || cp != (kinesis.Checkpoint{}) {
		t.Fatalf("Load of a new shard = %+v, %v, %v; want zero, false, nil", cp, ok, err)
	}
}

func testRoundTrip(t *testing.T, s kinesis.CheckpointStore) {
	tests := []struct {
		name   string
		reason string
		cp     kinesis.Checkpoint
	}{
		{"plain", "a plain record has sub-sequence 0", kinesis.Checkpoint{SequenceNumber: seqA}},
		{"sub-sequence", "inside an aggregate", kinesis.Checkpoint{SequenceNumber: seqA, SubSequenceNumber: 17}},
		{"max sub-sequence", "uint64 survives storage", kinesis.Checkpoint{SequenceNumber: seqA, SubSequenceNumber: ^uint64(0)}},
		{"129 digits", "longest sequence number the API allows", kinesis.Checkpoint{SequenceNumber: big129}},
		{"zero", "smallest sequence number", kinesis.Checkpoint{SequenceNumber: "0"}},
		{"ended", "shard read to its end", kinesis.Checkpoint{SequenceNumber: seqB, SubSequenceNumber: 2, ShardEnded: true}},
		{"ended empty", "a shard that ended without records", kinesis.Checkpoint{ShardEnded: true}},
	}
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
}

func testMovesForward(t *testing.T, s kinesis.CheckpointStore) {
	steps := []kinesis.Checkpoint{
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
}

func testStaleWriterRefused(t *testing.T, s kinesis.CheckpointStore) {
	tests := []struct {
		name   string
		reason string
		stored kinesis.Checkpoint
		stale  kinesis.Checkpoint
	}{
		{"backwards sequence", "an older record",
			kinesis.Checkpoint{SequenceNumber: seqB}, kinesis.Checkpoint{SequenceNumber: seqA, SubSequenceNumber: 9}},
		{"shorter sequence", "fewer digits is a smaller number even if lexicographically larger",
			kinesis.Checkpoint{SequenceNumber: "100"}, kinesis.Checkpoint{SequenceNumber: "99"}},
		{"backwards sub-sequence", "an earlier user record of the same aggregate",
			kinesis.Checkpoint{SequenceNumber: seqA, SubSequenceNumber: 5}, kinesis.Checkpoint{SequenceNumber: seqA, SubSequenceNumber: 4}},
		{"after shard end", "an ended shard stays ended",
			kinesis.Checkpoint{SequenceNumber: "5", ShardEnded: true}, kinesis.Checkpoint{SequenceNumber: big129}},
	}
	for _, tt := range tests {
		shardID := "shardId-" + strings.ReplaceAll(tt.name, " ", "-")
		if err := s.Save(context.Background(), stream, shardID, tt.stored); err != nil {
			t.Fatalf("%s: Save(stored): %v", tt.name, err)
		}
		err := s.Save(context.Background(), stream, shardID, tt.stale)
		if !errors.Is(err, kinesis.ErrCheckpointBehind) {
			t.Errorf("%s: Save(stale) = %v, want ErrCheckpointBehind (%s)", tt.name, err, tt.reason)
		} else {
			msg := err.Error()
			for _, want := range []string{shardID, tt.stale.String(), tt.stored.String()} {
				if !strings.Contains(msg, want) {
					t.Errorf("%s: error %q does not mention %q (the shard and both positions)", tt.name, msg, want)
				}
			}
		}
		got, ok, err := s.Load(context.Background(), stream, shardID)
		if err != nil || !ok || got != tt.stored {
			t.Errorf("%s: after refused Save, Load = %+v, %v, %v; want the stored %+v", tt.name, got, ok, err, tt.stored)
		}
	}
}

func testInvalidRefused(t *testing.T, s kinesis.CheckpointStore) {
	for _, cp := range []kinesis.Checkpoint{{}, {SequenceNumber: "012"}, {SequenceNumber: "abc"}, {SubSequenceNumber: 1, ShardEnded: true}} {
		err := s.Save(context.Background(), stream, shard, cp)
		if err == nil || errors.Is(err, kinesis.ErrCheckpointBehind) {
			t.Errorf("Save(%#v) = %v, want the error of Checkpoint.Validate", cp, err)
		}
	}
	if _, ok, err := s.Load(context.Background(), stream, shard); ok || err != nil {
		t.Errorf("after invalid saves, Load = ok %v, err %v; want nothing stored", ok, err)
	}
}

func testIsolation(t *testing.T, s kinesis.CheckpointStore) {
	keys := []struct{ stream, shard string }{
		{"storetest-a", "shardId-000000000000"},
		{"storetest-a", "shardId-000000000001"},
		{"storetest-b", "shardId-000000000000"},
		{"arn:aws:kinesis:us-east-1:123456789012:stream/storetest-a", "shardId-000000000000"},
	}
	for i, k := range keys {
		cp := kinesis.Checkpoint{SequenceNumber: strings.Repeat("7", i+1)}
		if err := s.Save(context.Background(), k.stream, k.shard, cp); err != nil {
			t.Fatalf("Save %v: %v", k, err)
		}
	}
	for i, k := range keys {
		want := kinesis.Checkpoint{SequenceNumber: strings.Repeat("7", i+1)}
		got, ok, err := s.Load(context.Background(), k.stream, k.shard)
		if err != nil || !ok || got != want {
			t.Errorf("Load %v = %+v, %v, %v; want %+v", k, got, ok, err, want)
		}
	}
}

func testCancelledContext(t *testing.T, s kinesis.CheckpointStore) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Save(ctx, stream, shard, kinesis.Checkpoint{SequenceNumber: "1"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Save with a cancelled context = %v, want context.Canceled", err)
	}
	if _, _, err := s.Load(ctx, stream, shard); !errors.Is(err, context.Canceled) {
		t.Errorf("Load with a cancelled context = %v, want context.Canceled", err)
	}
	if _, ok, err := s.Load(context.Background(), stream, shard); ok || err != nil {
		t.Errorf("after a cancelled Save, Load = ok %v, err %v; want nothing stored", ok, err)
	}
}

// testConcurrentWriters runs 16 writers saving random positions to one
// shard while a reader checks that the stored position never moves
// backwards. At the end the store must hold the largest position saved.
func testConcurrentWriters(t *testing.T, s kinesis.CheckpointStore) {
	const writers, saves = 16, 12
	ctx := context.Background()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		max     kinesis.Checkpoint
		haveMax bool
		stop    = make(chan struct{})
		readErr = make(chan error, 1)
	)
	go func() { // the reader
		var last kinesis.Checkpoint
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
				if seen && cp.Compare(last) < 0 {
					readErr <- errors.New("checkpoint moved backwards from " + last.String() + " to " + cp.String())
					return
				}
				last, seen = cp, true
			}
		}
	}()
	for w := range writers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 99))
			for range saves {
				cp := racingCheckpoint(r)
				err := s.Save(ctx, stream, shard, cp)
				switch {
				case err == nil:
					mu.Lock()
					if !haveMax || cp.Compare(max) > 0 {
						max, haveMax = cp, true
					}
					mu.Unlock()
					// What was just written (or something ahead) must be visible.
					got, ok, lerr := s.Load(ctx, stream, shard)
					if lerr != nil || !ok || got.Compare(cp) < 0 {
						t.Errorf("after Save(%s), Load = %+v, %v, %v", cp, got, ok, lerr)
					}
				case errors.Is(err, kinesis.ErrCheckpointBehind):
				default:
					t.Errorf("Save(%+v): %v", cp, err)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	if err := <-readErr; err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Load(ctx, stream, shard)
	if err != nil || !ok || got.Compare(max) != 0 {
		t.Fatalf("final Load = %+v, %v, %v; want the largest saved position %s", got, ok, err, max)
	}
}

// racingCheckpoint returns a valid position from a small space, so that
// racing writers often save equal or adjacent positions, with sequence
// numbers of 1 to 129 digits. One in 200 is a shard end, after which every
// other save is refused.
func racingCheckpoint(r *rand.Rand) kinesis.Checkpoint {
	cp := kinesis.Checkpoint{SubSequenceNumber: uint64(r.IntN(3)), ShardEnded: r.IntN(200) == 0}
	if r.IntN(2) == 0 {
		cp.SequenceNumber = strconv.Itoa(1 + r.IntN(30))
	} else {
		cp.SequenceNumber = strconv.Itoa(1+r.IntN(9)) + strings.Repeat("0", r.IntN(129))
	}
	return cp
}
