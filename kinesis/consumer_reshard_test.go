package kinesis

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/google/go-cmp/cmp"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

// reshardClient is what the resharding scenario needs.
type reshardClient interface {
	ConsumerAPI
	PutRecordsAPI
	SplitShard(ctx context.Context, params *sdkkinesis.SplitShardInput, optFns ...func(*sdkkinesis.Options)) (*sdkkinesis.SplitShardOutput, error)
	MergeShards(ctx context.Context, params *sdkkinesis.MergeShardsInput, optFns ...func(*sdkkinesis.Options)) (*sdkkinesis.MergeShardsOutput, error)
}

// lifecycle records shard start and end order.
type lifecycle struct {
	mu     sync.Mutex
	n      int
	start  map[string]int
	end    map[string]int
	parent map[string][]string
}

func (l *lifecycle) hook() hookFunc {
	return hookFunc{
		started: func(m ShardStartedMetrics) {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.n++
			l.start[m.ShardID] = l.n
			l.parent[m.ShardID] = m.Parents
		},
		ended: func(m ShardEndedMetrics) {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.n++
			l.end[m.ShardID] = l.n
		},
	}
}

// workerLeaseDuration, among testReshardWhileConsuming's extra options,
// sets the workers' lease duration (default 300 ms).
type workerLeaseDuration time.Duration

func (workerLeaseDuration) applyConsumer(*consumerConfig) {}

// testReshardWhileConsuming splits a shard, then merges its two children,
// while a consumer reads, and checks that nothing is lost or repeated, that
// every partition key's records are handled in put order, and that no
// shard starts before its parents ended. With a lease store, two workers
// share the stream through leases in it, so parents and children may be
// read by different workers; records may then repeat, but only if a lease
// expired (a starved worker on a loaded machine), and the per-key order
// is checked on each record's first handling.
// extra are more consumer options (enhanced fan-out), and may hold a
// workerLeaseDuration.
func testReshardWhileConsuming(t *testing.T, client reshardClient, stream string, waitActive func() error, leases LeaseStore, extra ...ConsumerOption) {
	ctx := context.Background()
	const keys = 40
	put := func(prefix string, n int) []string {
		var es []entry
		var want []string
		for i := range n {
			id := fmt.Sprintf("%s-%04d", prefix, i)
			es = append(es, entry{pk: fmt.Sprintf("pk-%02d", i%keys), data: testEvent(id, event.TypeOpen, "")})
			want = append(want, id)
		}
		putEntries(t, client, stream, es)
		return want
	}
	var want []string
	want = append(want, put("a", 200)...)

	type got struct {
		key, id, shard string
	}
	var mu sync.Mutex
	var order []got // first handling of each id
	seen := map[string]bool{}
	replays := 0
	total := 600
	done := make(chan struct{})
	life := &lifecycle{start: map[string]int{}, end: map[string]int{}, parent: map[string][]string{}}
	opts := append(append(fastConsumer(), extra...), WithHooks(life.hook()),
		OnRecord(func(ctx context.Context, r Record) error {
			ev, err := event.Decode(r.Data)
			if err != nil {
				return err
			}
			if leases != nil {
				// Slow enough for the second worker to get its share
				// before the stream is read.
				time.Sleep(2 * time.Millisecond)
			}
			mu.Lock()
			defer mu.Unlock()
			if seen[ev.Base().ID] {
				// Only with leases, when one expired under load: another
				// worker resumed from the checkpoint (at least once).
				replays++
				return nil
			}
			seen[ev.Base().ID] = true
			order = append(order, got{r.PartitionKey, ev.Base().ID, r.ShardID})
			if len(order) == total {
				close(done)
			}
			return nil
		}))
	leaseDur := 300 * time.Millisecond
	for _, o := range extra {
		if d, ok := o.(workerLeaseDuration); ok {
			leaseDur = time.Duration(d)
		}
	}
	workers := [][]ConsumerOption{opts}
	var lost atomic.Int32 // leases lost (expired) with WithLeases
	if leases != nil {
		workers = nil
		for _, w := range []string{"w1", "w2"} {
			workers = append(workers, append(slices.Clip(opts), WithCheckpointStore(leases), WithLeases(Leases{WorkerID: w, Duration: leaseDur}),
				WithHooks(hookFunc{lease: func(m LeaseMetrics) {
					if m.Action == LeaseLost {
						lost.Add(1)
					}
				}})))
		}
	}
	var all []*Consumer
	var stops []func() error
	for _, wopts := range workers {
		wc, err := NewConsumer(client, stream, wopts...)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, wc)
		stops = append(stops, startConsumer(t, wc))
	}
	c := all[0]
	stop := func() error {
		var errs []error
		for _, s := range stops {
			errs = append(errs, s())
		}
		return errors.Join(errs...)
	}

	shards, err := listShards(ctx, c.client, c.streamName, c.streamARN)
	if err != nil {
		t.Fatal(err)
	}
	first := shards[0]
	lo, _ := new(big.Int).SetString(aws.ToString(first.HashKeyRange.StartingHashKey), 10)
	hi, _ := new(big.Int).SetString(aws.ToString(first.HashKeyRange.EndingHashKey), 10)
	mid := new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1)
	if _, err := client.SplitShard(ctx, &sdkkinesis.SplitShardInput{
		StreamName: aws.String(stream), ShardToSplit: first.ShardId, NewStartingHashKey: aws.String(mid.String()),
	}); err != nil {
		t.Fatalf("SplitShard: %v", err)
	}
	if err := waitActive(); err != nil {
		t.Fatal(err)
	}
	want = append(want, put("b", 200)...)

	shards, err = listShards(ctx, c.client, c.streamName, c.streamARN)
	if err != nil {
		t.Fatal(err)
	}
	var children []string
	for _, s := range shards {
		if aws.ToString(s.ParentShardId) == aws.ToString(first.ShardId) {
			children = append(children, aws.ToString(s.ShardId))
		}
	}
	if len(children) != 2 {
		t.Fatalf("children of %s: %v", aws.ToString(first.ShardId), children)
	}
	slices.Sort(children)
	// The lower child's range comes first; MergeShards wants adjacent
	// shards, which the two children are.
	if _, err := client.MergeShards(ctx, &sdkkinesis.MergeShardsInput{
		StreamName: aws.String(stream), ShardToMerge: aws.String(children[0]), AdjacentShardToMerge: aws.String(children[1]),
	}); err != nil {
		t.Fatalf("MergeShards: %v", err)
	}
	if err := waitActive(); err != nil {
		t.Fatal(err)
	}
	want = append(want, put("c", 200)...)

	select {
	case <-done:
	case <-time.After(60 * time.Second):
		mu.Lock()
		n := len(order)
		mu.Unlock() // the handlers still running take mu
		t.Fatalf("handled %d of %d", n, total)
	}
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(all) > 1 {
		for _, wc := range all {
			var n int64
			for _, sh := range wc.Stats().Shards {
				n += sh.Records
			}
			if n == 0 {
				t.Errorf("worker %s handled no record: the shards were not shared", wc.Stats().Worker)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if replays > 0 {
		t.Logf("%d records handled again after a lease expired", replays)
		if leases == nil {
			t.Errorf("%d records handled twice by a single consumer", replays)
		} else if lost.Load() == 0 {
			t.Errorf("%d records handled twice though no lease was lost", replays)
		}
	}
	var gotIDs []string
	lastByKey := map[string]string{}
	for _, g := range order {
		gotIDs = append(gotIDs, g.id)
		if prev := lastByKey[g.key]; prev >= g.id {
			t.Errorf("key %s: %s handled after %s", g.key, g.id, prev)
		}
		lastByKey[g.key] = g.id
	}
	slices.Sort(gotIDs)
	slices.Sort(want)
	if diff := cmp.Diff(want, gotIDs); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	life.mu.Lock()
	defer life.mu.Unlock()
	if len(life.end) != 3 {
		t.Errorf("ended shards = %v, want the split parent and both children", life.end)
	}
	for id, s := range life.start {
		for _, p := range life.parent[id] {
			if e, ok := life.end[p]; !ok || e > s {
				t.Errorf("shard %s started (%d) before its parent %s ended (%d, %v)", id, s, p, e, ok)
			}
		}
	}
	var merged bool
	for id, ps := range life.parent {
		if len(ps) == 2 {
			merged = true
			if !strings.Contains(strings.Join(ps, ","), children[0]) {
				t.Errorf("merged shard %s parents %v", id, ps)
			}
		}
	}
	if !merged {
		t.Errorf("no merged shard started: %v", life.parent)
	}
}

func TestConsumerReshardWhileConsuming(t *testing.T) {
	f := kinesistest.New(kinesistest.WithStream("s", 2))
	testReshardWhileConsuming(t, f, "s", func() error { return nil }, nil)
}

// Two workers share the stream through leases while it is split and
// merged: a child starts only after its parents ended, whichever worker
// read them.
func TestConsumerReshardWhileConsumingWithLeases(t *testing.T) {
	f := kinesistest.New(kinesistest.WithStream("s", 2))
	testReshardWhileConsuming(t, f, "s", func() error { return nil }, NewMemoryStore())
}

func TestConsumerChildWaitsForUnreadParent(t *testing.T) {
	// A child that exists before the consumer starts must wait until its
	// parent was read to the end.
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	putEntries(t, f, "s", []entry{{"k", testEvent("p1", event.TypeOpen, "")}, {"k", testEvent("p2", event.TypeOpen, "")}})
	out, err := f.ListShards(context.Background(), &sdkkinesis.ListShardsInput{StreamName: aws.String("s")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.SplitShard(context.Background(), &sdkkinesis.SplitShardInput{
		StreamName: aws.String("s"), ShardToSplit: out.Shards[0].ShardId,
		NewStartingHashKey: aws.String(new(big.Int).Lsh(big.NewInt(1), 127).String()),
	}); err != nil {
		t.Fatal(err)
	}
	putEntries(t, f, "s", []entry{{"k", testEvent("c1", event.TypeOpen, "")}, {"k", testEvent("c2", event.TypeOpen, "")}})
	rec := newRecorder(4)
	c, err := NewConsumer(f, "s", append(fastConsumer(), OnEvent(rec.onEvent))...)
	if err != nil {
		t.Fatal(err)
	}
	stop := startConsumer(t, c)
	rec.wait(t, 5*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"p1", "p2", "c1", "c2"}, idsInOrder(rec.snapshot())); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	var ended int
	for _, s := range c.Stats().Shards {
		if s.State == ShardEnded {
			ended++
		}
	}
	if ended != 1 {
		t.Errorf("Stats shards = %+v, want the parent ended", c.Stats().Shards)
	}
}
