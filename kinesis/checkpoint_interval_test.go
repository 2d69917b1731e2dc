package kinesis

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

// crashStore is a checkpoint store that dies with its process: once dead,
// saves are lost.
type crashStore struct {
	CheckpointStore
	dead  atomic.Bool
	saves atomic.Int32
}

func (s *crashStore) Save(ctx context.Context, stream, shard string, cp Checkpoint) error {
	if s.dead.Load() {
		return errors.New("crashed")
	}
	s.saves.Add(1)
	return s.CheckpointStore.Save(ctx, stream, shard, cp)
}

// timedPositions records the positions a handler saw, with the time.
type timedPositions struct {
	mu  sync.Mutex
	pos []Checkpoint
	at  []time.Time
}

func (p *timedPositions) add(r Record) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pos = append(p.pos, Checkpoint{SequenceNumber: r.SequenceNumber, SubSequenceNumber: r.SubSequenceNumber})
	p.at = append(p.at, time.Now())
	return len(p.pos)
}

// testCheckpointsInsideABatch puts 5,000 events on one shard (plain, or
// in 50 KPL aggregates) that one GetRecords call returns at once, handles
// them with a slow handler and a short checkpoint interval, and crashes
// the consumer half-way (its checkpoint store dies with it). A restarted
// consumer must resume from a checkpoint written inside the batch, so that
// the records handled twice are at most what the handler did in one
// interval plus one record.
func testCheckpointsInsideABatch(t *testing.T, aggregated bool) {
	const (
		n        = 5000
		crashAt  = 2500
		interval = 20 * time.Millisecond
		// slack covers the checkpoint write and the record in flight
		// when the interval passed.
		slack = 10 * time.Millisecond
	)
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	es, _ := eventEntries("b", n, 1)
	if aggregated {
		var aggs []entry
		for i := 0; i < n; i += 100 {
			var datas [][]byte
			for _, e := range es[i : i+100] {
				datas = append(datas, e.data)
			}
			aggs = append(aggs, entry{pk: "k", data: kplAggregate([]string{"k"}, datas)})
		}
		es = aggs
	}
	putEntries(t, f, "s", es)
	mem := NewMemoryCheckpointStore()
	store := &crashStore{CheckpointStore: mem}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var first timedPositions
	c1, err := NewConsumer(f, "s", append(fastConsumer(), WithCheckpointStore(store), WithCheckpointInterval(interval),
		OnRecord(func(_ context.Context, r Record) error {
			k := first.add(r)
			if k%10 == 0 {
				time.Sleep(time.Millisecond) // about 0.1 ms per record
			}
			if k == crashAt {
				store.dead.Store(true) // the crash: nothing is saved from now on
				cancel()
			}
			return nil
		}))...)
	if err != nil {
		t.Fatal(err)
	}
	_ = c1.Run(ctx) // the final checkpoint fails: the process is dead
	if f.Calls(kinesistest.OpGetRecords) < 1 || len(first.pos) != crashAt {
		t.Fatalf("first run handled %d records, want %d", len(first.pos), crashAt)
	}
	crashTime := first.at[crashAt-1]
	inInterval := 0
	for _, at := range first.at {
		if at.After(crashTime.Add(-interval - slack)) {
			inInterval++
		}
	}

	var second timedPositions
	c2, err := NewConsumer(f, "s", append(fastConsumer(), WithCheckpointStore(mem),
		OnRecord(func(_ context.Context, r Record) error { second.add(r); return nil }))...)
	if err != nil {
		t.Fatal(err)
	}
	stop := startConsumer(t, c2)
	waitFor(t, 10*time.Second, "the restarted consumer reaching the end", func() bool {
		second.mu.Lock()
		defer second.mu.Unlock()
		return len(second.pos) > 0 && len(first.pos)+len(second.pos) >= n && second.pos[len(second.pos)-1] == positionOf(f, n-1, aggregated)
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	handledFirst := map[Checkpoint]bool{}
	for _, p := range first.pos {
		handledFirst[p] = true
	}
	dups := 0
	for _, p := range second.pos {
		if handledFirst[p] {
			dups++
		}
	}
	if missing := n - len(first.pos) - len(second.pos) + dups; missing != 0 {
		t.Fatalf("%d events not handled by either run", missing)
	}
	t.Logf("checkpoints before the crash: %d; handled again after it: %d; handled in the last interval: %d", store.saves.Load(), dups, inInterval)
	if dups > inInterval+1 {
		t.Errorf("after the crash %d records were handled again; the bound is what the handler did in one checkpoint interval plus one: %d", dups, inInterval+1)
	}
}

// positionOf returns the position of the i-th event put by
// testCheckpointsInsideABatch.
func positionOf(f *kinesistest.Fake, i int, aggregated bool) Checkpoint {
	recs := f.Records("s")
	if aggregated {
		return Checkpoint{SequenceNumber: recs[i/100].SequenceNumber, SubSequenceNumber: uint64(i % 100)}
	}
	return Checkpoint{SequenceNumber: recs[i].SequenceNumber}
}

func TestCheckpointsInsideABatchBoundDuplicatesAfterACrash(t *testing.T) {
	for _, aggregated := range []bool{false, true} {
		t.Run(fmt.Sprintf("aggregated %v", aggregated), func(t *testing.T) { testCheckpointsInsideABatch(t, aggregated) })
	}
}

func TestGetRecordsLimitFollowsTheHandlingRate(t *testing.T) {
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	es, _ := eventEntries("l", 300, 1)
	putEntries(t, f, "s", es)
	var limits []int32
	var mu sync.Mutex
	client := limitSpy{ConsumerAPI: f, seen: func(n int32) { mu.Lock(); limits = append(limits, n); mu.Unlock() }}
	rec := newRecorder(len(es))
	c, err := NewConsumer(client, "s", append(fastConsumer(), WithCheckpointInterval(20*time.Millisecond), WithGetRecordsLimit(50),
		OnEvent(func(ctx context.Context, e event.Event) error {
			time.Sleep(time.Millisecond)
			return rec.onEvent(ctx, e)
		}))...)
	if err != nil {
		t.Fatal(err)
	}
	stop := startConsumer(t, c)
	rec.wait(t, 10*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	// About 1 ms per record and a 20 ms interval: after the first batch,
	// about 20 records per call (a wide margin for slow machines), never 0.
	if len(limits) < 5 || limits[0] != 50 {
		t.Fatalf("GetRecords limits = %v; want 50, then about 20", limits)
	}
	for _, n := range limits[1:] {
		if n < 1 || n > 30 {
			t.Fatalf("GetRecords limits = %v; want 50, then about 20", limits)
		}
	}
}

// limitSpy reports the Limit of every GetRecords call.
type limitSpy struct {
	ConsumerAPI
	seen func(int32)
}

func (s limitSpy) GetRecords(ctx context.Context, in *sdkkinesis.GetRecordsInput, optFns ...func(*sdkkinesis.Options)) (*sdkkinesis.GetRecordsOutput, error) {
	s.seen(aws.ToInt32(in.Limit))
	return s.ConsumerAPI.GetRecords(ctx, in, optFns...)
}
