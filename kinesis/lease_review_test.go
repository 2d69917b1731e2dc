package kinesis

// Tests of the lease edge cases found in a review of WithLeases: readers
// outliving their lease, shards nobody reads (WithMaxShards, handoffs to
// stopped workers, restarts with the same id), and balancing that must
// settle and stay put.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

// feed puts uniquely numbered records and remembers them; it may be used
// from any goroutine.
type feed struct {
	t      *testing.T
	f      PutRecordsAPI
	stream string
	mu     sync.Mutex
	want   []string
}

func newFeed(t *testing.T, f PutRecordsAPI, stream string) *feed {
	return &feed{t: t, f: f, stream: stream}
}

// put puts n records (at most 500).
func (p *feed) put(n int) {
	in := &sdkkinesis.PutRecordsInput{StreamName: aws.String(p.stream)}
	p.mu.Lock()
	for range n {
		d := fmt.Sprint("rec-", len(p.want))
		p.want = append(p.want, d)
		in.Records = append(in.Records, sdktypes.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint("pk-", len(p.want)%64)), Data: []byte(d)})
	}
	p.mu.Unlock()
	out, err := p.f.PutRecords(context.Background(), in)
	switch {
	case err != nil:
		p.t.Errorf("PutRecords: %v", err)
	case aws.ToInt32(out.FailedRecordCount) != 0:
		p.t.Errorf("PutRecords: %d failed", aws.ToInt32(out.FailedRecordCount))
	}
}

// keep puts n records every interval until stop is called.
func (p *feed) keep(n int, every time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			p.put(n)
			select {
			case <-done:
				return
			case <-time.After(every):
			}
		}
	})
	var once sync.Once
	stop = func() { once.Do(func() { close(done); wg.Wait() }) }
	p.t.Cleanup(stop)
	return stop
}

func (p *feed) all() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.want)
}

// noOverlaps fails the test if two workers handled a shard at once.
func (g *shardGuard) noOverlaps(t *testing.T) {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.overlaps) > 0 {
		t.Errorf("%d records handled while another worker handled the same shard, e.g. %s", len(g.overlaps), g.overlaps[0])
	}
}

func newLeaseLog() *leaseLog { return &leaseLog{n: map[string]int{}} }

// moves counts the lease actions that move a shard, of every worker.
func (l *leaseLog) moves() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for k, v := range l.n {
		for _, a := range []string{" taken", " received", " handed-over", " requested", " lost", " released"} {
			if strings.HasSuffix(k, a) {
				n += v
			}
		}
	}
	return n
}

// leaseOwners returns the owner of every lease of a shard not ended.
func leaseOwners(t *testing.T, s LeaseStore, stream string) map[string]string {
	t.Helper()
	ls, err := s.ListLeases(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, l := range ls {
		if !l.ShardEnded {
			m[l.ShardID] = l.Owner
		}
	}
	return m
}

// settled counts per owner the leases of shards not ended that no worker
// asked for.
func settled(t *testing.T, s LeaseStore, stream string) map[string]int {
	t.Helper()
	ls, err := s.ListLeases(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int{}
	for _, l := range ls {
		if !l.ShardEnded && l.HandoffTo == "" {
			m[l.Owner]++
		}
	}
	return m
}

// stallingClient fails every ListShards call while stall is set (as when
// ListShards is throttled for long); GetRecords keeps working.
type stallingClient struct {
	ConsumerAPI
	stall atomic.Bool
}

func (c *stallingClient) ListShards(ctx context.Context, in *sdkkinesis.ListShardsInput, opts ...func(*sdkkinesis.Options)) (*sdkkinesis.ListShardsOutput, error) {
	if c.stall.Load() {
		return nil, errors.New("test: ListShards unavailable") // retried
	}
	return c.ConsumerAPI.ListShards(ctx, in, opts...)
}

// TestLeaseReadersStopWhileCoordinatorStalls: a worker whose coordinator is stuck
// retrying ListShards cannot renew its leases; its readers must stop before
// another worker may take the leases, although GetRecords still works.
func TestLeaseReadersStopWhileCoordinatorStalls(t *testing.T) {
	t.Parallel()
	const stream = "s"
	const dur = 600 * time.Millisecond
	f := kinesistest.New(kinesistest.WithStream(stream, 2))
	store := NewMemoryStore()
	g := newShardGuard(2 * time.Millisecond)
	ll := newLeaseLog()
	p := newFeed(t, f, stream)
	ca := &stallingClient{ConsumerAPI: f}
	stopA := runWorker(t, ca, stream, store, Leases{WorkerID: "a", Duration: dur}, g, ll)
	waitUntil(t, 10*time.Second, "a to hold both shards", func() bool { return owners(t, store, stream)["a"] == 2 })
	stopFeed := p.keep(5, 10*time.Millisecond)

	ca.stall.Store(true)
	stopB := runWorker(t, f, stream, store, Leases{WorkerID: "b", Duration: dur}, g, ll)
	waitUntil(t, 10*time.Second, "b to take both shards", func() bool { return owners(t, store, stream)["b"] == 2 })
	time.Sleep(dur) // b reads while a's coordinator is stuck
	ca.stall.Store(false)
	stopFeed()
	waitUntil(t, 20*time.Second, "every record handled", func() bool { return g.missing(p.all()) == 0 })
	for name, stop := range map[string]func() error{"a": stopA, "b": stopB} {
		if err := stop(); err != nil {
			t.Errorf("worker %s: %v", name, err)
		}
	}
	g.noOverlaps(t)
}

// slowListStore lists leases slowly, as a DynamoDB query takes a while,
// and fails every call at once while cut, as a refused connection does. It
// notes when its worker's last successful lease write started.
type slowListStore struct {
	*MemoryStore
	cut       atomic.Bool
	mu        sync.Mutex
	lastWrite time.Time
}

func (s *slowListStore) Load(ctx context.Context, stream, shardID string) (Checkpoint, bool, error) {
	if s.cut.Load() {
		return Checkpoint{}, false, errPartitioned
	}
	return s.MemoryStore.Load(ctx, stream, shardID)
}

func (s *slowListStore) Save(ctx context.Context, stream, shardID string, cp Checkpoint) error {
	if s.cut.Load() {
		return errPartitioned
	}
	return s.MemoryStore.Save(ctx, stream, shardID, cp)
}

func (s *slowListStore) ListLeases(ctx context.Context, stream string) ([]Lease, error) {
	if s.cut.Load() {
		return nil, errPartitioned
	}
	time.Sleep(40 * time.Millisecond)
	return s.MemoryStore.ListLeases(ctx, stream)
}

func (s *slowListStore) UpdateLease(ctx context.Context, stream string, old, next Lease) error {
	if s.cut.Load() {
		return errPartitioned
	}
	start := time.Now()
	err := s.MemoryStore.UpdateLease(ctx, stream, old, next)
	if err == nil {
		s.mu.Lock()
		s.lastWrite = start
		s.mu.Unlock()
	}
	return err
}

// TestLeaseNoHandlerStartsAfterTwoThirdsUnrenewed: a worker that cannot reach the
// store starts no handler later than two thirds of the lease duration
// after its last successful renewal, whatever the phase of its rounds, so
// another worker (which may take the lease a third later) never meets a
// handler shorter than that third.
func TestLeaseNoHandlerStartsAfterTwoThirdsUnrenewed(t *testing.T) {
	t.Parallel()
	const stream = "s"
	const dur = 1200 * time.Millisecond
	f := kinesistest.New(kinesistest.WithStream(stream, 1))
	store := &slowListStore{MemoryStore: NewMemoryStore()}
	p := newFeed(t, f, stream)
	var mu sync.Mutex
	var starts []time.Time
	c, err := NewConsumer(f, stream, append(fastConsumer(),
		OnRecord(func(context.Context, Record) error {
			mu.Lock()
			starts = append(starts, time.Now())
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
			return nil
		}),
		WithCheckpointStore(store), WithLeases(Leases{WorkerID: "a", Duration: dur}))...)
	if err != nil {
		t.Fatal(err)
	}
	stop := startConsumer(t, c)
	defer func() { _ = stop() }()
	p.keep(2, 5*time.Millisecond)
	waitUntil(t, 10*time.Second, "a to handle records", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(starts) > 20
	})
	// Cut right after a renewal, so the rounds' phase is the same in
	// every run: the last write started about when the round's slow query
	// returned.
	store.mu.Lock()
	before := store.lastWrite
	store.mu.Unlock()
	waitUntil(t, 5*time.Second, "a renewal", func() bool {
		store.mu.Lock()
		defer store.mu.Unlock()
		return store.lastWrite.After(before)
	})
	store.cut.Store(true)
	time.Sleep(dur + dur/2)
	store.mu.Lock()
	renewed := store.lastWrite
	store.mu.Unlock()
	mu.Lock()
	last := starts[len(starts)-1]
	mu.Unlock()
	t.Logf("last handler started %v after the last renewal", last.Sub(renewed))
	if d, limit := last.Sub(renewed), 2*dur/3+dur/6; d > limit {
		t.Errorf("a handler started %v after the last renewal, want at most 2/3 of the lease duration (%v, with %v of slack)", d, 2*dur/3, dur/6)
	}
}

// TestLeasesSettleWhileRecordsFlow: workers joining one after the other
// settle their leases, every shard owned, the shares differing by at most
// one (a capped worker holds at most its cap); then nothing moves for
// several lease durations, and every record is handled by one worker at a
// time. End to end on the wall clock; TestLeaseRoundsSettle checks the
// balancing of many more shapes on a virtual clock.
func TestLeasesSettleWhileRecordsFlow(t *testing.T) {
	t.Parallel()
	const dur = 300 * time.Millisecond
	for _, tt := range settleCases {
		if !tt.wallClock {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const stream = "s"
			f := kinesistest.New(kinesistest.WithStream(stream, tt.shards))
			store := NewMemoryStore()
			g := newShardGuard(0)
			ll := newLeaseLog()
			p := newFeed(t, f, stream)
			p.put(200)
			for i, w := range tt.workers() {
				runWorker(t, f, stream, store, Leases{WorkerID: w, Duration: dur}, g, ll, WithMaxShards(tt.caps[i]))
				if tt.stagger {
					time.Sleep(dur / 2)
				}
			}
			// Settled: every shard owned by a worker, and no lease moved
			// for three lease durations.
			last, since := -1, time.Now()
			waitUntil(t, 15*time.Second, "the leases to settle", func() bool {
				if n := ll.moves(); n != last {
					last, since = n, time.Now()
				}
				o := leaseOwners(t, store, stream)
				if len(o) != tt.shards {
					return false
				}
				for _, w := range o {
					if w == "" {
						return false
					}
				}
				return time.Since(since) > 3*dur
			})
			settled := leaseOwners(t, store, stream)
			tt.checkShares(t, settled)
			p.put(200)
			time.Sleep(4 * dur)
			if now := leaseOwners(t, store, stream); fmt.Sprint(now) != fmt.Sprint(settled) {
				t.Errorf("leases moved after settling: %v, then %v", settled, now)
			}
			waitUntil(t, 10*time.Second, "every record handled", func() bool { return g.missing(p.all()) == 0 })
			g.noOverlaps(t)
		})
	}
}

// TestLeasesBeyondMaxShardsReadByOthers: a worker capped by WithMaxShards holds no more
// leases than it reads, and the shards beyond its cap are read by the
// other workers.
func TestLeasesBeyondMaxShardsReadByOthers(t *testing.T) {
	t.Parallel()
	const stream = "s"
	const dur = 300 * time.Millisecond
	t.Run("the rest read by others", func(t *testing.T) {
		t.Parallel()
		f := kinesistest.New(kinesistest.WithStream(stream, 4))
		store := NewMemoryStore()
		g := newShardGuard(0)
		ll := newLeaseLog()
		p := newFeed(t, f, stream)
		p.put(400)
		runWorker(t, f, stream, store, Leases{WorkerID: "a", Duration: dur}, g, ll, WithMaxShards(1))
		waitUntil(t, 10*time.Second, "a to hold 1 shard", func() bool { return owners(t, store, stream)["a"] == 1 })
		// b's share is 2; it takes the fourth shard once nobody else has
		// for a while.
		runWorker(t, f, stream, store, Leases{WorkerID: "b", Duration: dur}, g, ll)
		waitUntil(t, 10*time.Second, "a to hold 1 shard and b 3", func() bool {
			o := owners(t, store, stream)
			return o["a"] == 1 && o["b"] == 3
		})
		waitUntil(t, 10*time.Second, "every record handled", func() bool { return g.missing(p.all()) == 0 })
		g.noOverlaps(t)
	})
	t.Run("restarted with a lower cap", func(t *testing.T) {
		t.Parallel()
		// A previous run of a, without a cap, held all three shards.
		f := kinesistest.New(kinesistest.WithStream(stream, 3))
		store := NewMemoryStore()
		out, err := f.ListShards(context.Background(), &sdkkinesis.ListShardsInput{StreamName: aws.String(stream)})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range out.Shards {
			id := aws.ToString(s.ShardId)
			if err := store.UpdateLease(context.Background(), stream, Lease{ShardID: id}, Lease{ShardID: id, Owner: "a", Counter: 1}); err != nil {
				t.Fatal(err)
			}
		}
		g := newShardGuard(0)
		ll := newLeaseLog()
		p := newFeed(t, f, stream)
		p.put(300)
		runWorker(t, f, stream, store, Leases{WorkerID: "a", Duration: dur}, g, ll, WithMaxShards(1))
		runWorker(t, f, stream, store, Leases{WorkerID: "b", Duration: dur}, g, ll)
		waitUntil(t, 10*time.Second, "every record handled", func() bool { return g.missing(p.all()) == 0 })
		if o := owners(t, store, stream); o["a"] > 1 {
			t.Errorf("leases %v: a holds more than its cap of 1", o)
		}
		g.noOverlaps(t)
	})
}

// TestLeaseCappedWorkerNeverHoldsMoreThanItReads: a capped worker that asked for a handoff
// and sees a free lease before the handoff arrives must not end up holding
// more leases than it may read (the extra one would be renewed and never
// read). Driven round by round; the other worker, p, is played by the
// test.
func TestLeaseCappedWorkerNeverHoldsMoreThanItReads(t *testing.T) {
	t.Parallel()
	const stream = "s"
	ctx := context.Background()
	store := NewMemoryStore()
	f := kinesistest.New(kinesistest.WithStream(stream, 3))
	c, err := NewConsumer(f, stream, OnRecord(func(context.Context, Record) error { return nil }),
		WithCheckpointStore(store), WithLeases(Leases{WorkerID: "a", Duration: time.Minute}), WithMaxShards(1))
	if err != nil {
		t.Fatal(err)
	}
	lm := newLeaseManager(c)
	ids := []string{"shardId-000000000000", "shardId-000000000001", "shardId-000000000002"}
	shards := map[string]*shardInfo{}
	for _, id := range ids {
		shards[id] = &shardInfo{id: id}
		if err := store.UpdateLease(ctx, stream, Lease{ShardID: id}, Lease{ShardID: id, Owner: "p", Counter: 1}); err != nil {
			t.Fatal(err)
		}
	}
	lease := func(id string) Lease {
		ls, err := store.ListLeases(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			if l.ShardID == id {
				return l
			}
		}
		t.Fatalf("no lease for %s", id)
		return Lease{}
	}
	lm.round(ctx, shards) // a asks p for one shard
	if lm.steal == "" {
		t.Fatal("a asked for no handoff")
	}
	asked := lm.steal
	// p releases another shard, then hands the asked one over.
	other := ids[0]
	if other == asked {
		other = ids[1]
	}
	l := lease(other)
	if err := store.UpdateLease(ctx, stream, l, Lease{ShardID: other, Counter: l.Counter + 1}); err != nil {
		t.Fatal(err)
	}
	lm.round(ctx, shards)
	l = lease(asked)
	if err := store.UpdateLease(ctx, stream, l, Lease{ShardID: asked, Owner: "a", Counter: l.Counter + 1}); err != nil {
		t.Fatal(err)
	}
	lm.round(ctx, shards)
	lm.round(ctx, shards)
	if o := owners(t, store, stream); o["a"] > 1 {
		t.Errorf("leases %v: a holds more than its cap of 1", o)
	}
	for _, id := range sortedKeys(lm.held) {
		lm.pass(ctx, id, "", "released")
	}
}

// TestLeaseHandoffInterruptedLeavesNoShardUnread: a worker stopped while a handoff it
// takes part in is under way leaves no shard unread for long.
func TestLeaseHandoffInterruptedLeavesNoShardUnread(t *testing.T) {
	t.Parallel()
	const stream = "s"
	const dur = 900 * time.Millisecond
	t.Run("owner stops", func(t *testing.T) {
		t.Parallel()
		f := kinesistest.New(kinesistest.WithStream(stream, 2))
		store := NewMemoryStore()
		g := newShardGuard(time.Millisecond)
		ll := newLeaseLog()
		p := newFeed(t, f, stream)
		stopA := runWorker(t, f, stream, store, Leases{WorkerID: "a", Duration: dur}, g, ll)
		waitUntil(t, 10*time.Second, "a to hold both shards", func() bool { return owners(t, store, stream)["a"] == 2 })
		stopFeed := p.keep(5, 10*time.Millisecond)
		stopB := runWorker(t, f, stream, store, Leases{WorkerID: "b", Duration: dur}, g, ll)
		waitUntil(t, 10*time.Second, "b to ask for a shard", func() bool { return ll.count("b", "requested") > 0 })
		if err := stopA(); err != nil {
			t.Errorf("worker a: %v", err)
		}
		stopped := time.Now()
		waitUntil(t, 10*time.Second, "b to hold both shards", func() bool { return owners(t, store, stream)["b"] == 2 })
		took := time.Since(stopped)
		t.Logf("b held both shards %v after a stopped", took)
		if took > 3*dur/5 { // a round of b (dur/3), not an expiry (2/3 dur or more)
			t.Errorf("b took a's shards %v after a stopped, want at once (a released them)", took)
		}
		stopFeed()
		waitUntil(t, 10*time.Second, "every record handled", func() bool { return g.missing(p.all()) == 0 })
		if err := stopB(); err != nil {
			t.Errorf("worker b: %v", err)
		}
		g.noOverlaps(t)
	})
	t.Run("asker stops", func(t *testing.T) {
		t.Parallel()
		f := kinesistest.New(kinesistest.WithStream(stream, 2))
		store := NewMemoryStore()
		g := newShardGuard(time.Millisecond)
		ll := newLeaseLog()
		p := newFeed(t, f, stream)
		stopA := runWorker(t, f, stream, store, Leases{WorkerID: "a", Duration: dur}, g, ll)
		waitUntil(t, 10*time.Second, "a to hold both shards", func() bool { return owners(t, store, stream)["a"] == 2 })
		stopFeed := p.keep(5, 10*time.Millisecond)
		stopB := runWorker(t, f, stream, store, Leases{WorkerID: "b", Duration: dur}, g, ll)
		waitUntil(t, 10*time.Second, "b to ask for a shard", func() bool { return ll.count("b", "requested") > 0 })
		if err := stopB(); err != nil {
			t.Errorf("worker b: %v", err)
		}
		// a hands the shard over to b, which is gone: the lease expires
		// and a takes it back.
		waitUntil(t, 10*time.Second, "a to hold both shards again", func() bool { return settled(t, store, stream)["a"] == 2 })
		stopFeed()
		waitUntil(t, 10*time.Second, "every record handled", func() bool { return g.missing(p.all()) == 0 })
		if err := stopA(); err != nil {
			t.Errorf("worker a: %v", err)
		}
		if o := owners(t, store, stream); o[""] != 2 {
			t.Errorf("after both stopped the leases are %v, want 2 free", o)
		}
		g.noOverlaps(t)
	})
}

// TestLeasesResumedAtOnceBySameWorkerID: a worker that died holding leases and is
// restarted with its id resumes them at once; the other worker does not
// take them, and nothing is lost.
func TestLeasesResumedAtOnceBySameWorkerID(t *testing.T) {
	t.Parallel()
	const stream = "s"
	const dur = 600 * time.Millisecond
	f := kinesistest.New(kinesistest.WithStream(stream, 2))
	mem := NewMemoryStore()
	cut := &partitionedStore{MemoryStore: mem}
	g := newShardGuard(time.Millisecond)
	ll := newLeaseLog()
	p := newFeed(t, f, stream)
	stopA := runWorker(t, f, stream, cut, Leases{WorkerID: "a", Duration: dur}, g, ll)
	waitUntil(t, 10*time.Second, "a to hold both shards", func() bool { return owners(t, mem, stream)["a"] == 2 })
	stopB := runWorker(t, f, stream, mem, Leases{WorkerID: "b", Duration: dur}, g, ll)
	waitUntil(t, 10*time.Second, "a 1/1 split", func() bool {
		o := owners(t, mem, stream)
		return o["a"] == 1 && o["b"] == 1
	})
	stopFeed := p.keep(5, 10*time.Millisecond)
	// a dies: it can neither save nor release.
	cut.cut.Store(true)
	_ = stopA()
	if o := owners(t, mem, stream); o["a"] != 1 {
		t.Fatalf("leases %v after a died, want one still a's", o)
	}
	bTook := ll.count("b", "taken")
	stopA2 := runWorker(t, f, stream, mem, Leases{WorkerID: "a", Duration: dur}, g, ll)
	time.Sleep(3 * dur)
	if o := owners(t, mem, stream); o["a"] != 1 || o["b"] != 1 {
		t.Errorf("leases %v after a restarted, want 1/1", o)
	}
	if n := ll.count("b", "taken"); n != bTook {
		t.Errorf("b took %d leases while a restarted, want none", n-bTook)
	}
	stopFeed()
	waitUntil(t, 10*time.Second, "every record handled", func() bool { return g.missing(p.all()) == 0 })
	for name, stop := range map[string]func() error{"a": stopA2, "b": stopB} {
		if err := stop(); err != nil {
			t.Errorf("worker %s: %v", name, err)
		}
	}
	g.noOverlaps(t)
}

// TestLeaseHandedToDeadWorkerExpires: a lease handed over to a worker that
// is gone (it asked, then died) expires and is read again.
func TestLeaseHandedToDeadWorkerExpires(t *testing.T) {
	t.Parallel()
	const stream = "s"
	const dur = 300 * time.Millisecond
	ctx := context.Background()
	f := kinesistest.New(kinesistest.WithStream(stream, 2))
	store := NewMemoryStore()
	g := newShardGuard(time.Millisecond)
	ll := newLeaseLog()
	p := newFeed(t, f, stream)
	runWorker(t, f, stream, store, Leases{WorkerID: "a", Duration: dur}, g, ll)
	waitUntil(t, 10*time.Second, "a to hold both shards", func() bool { return owners(t, store, stream)["a"] == 2 })
	// "ghost" asks for a shard and is never seen again.
	waitUntil(t, 5*time.Second, "the handoff request written", func() bool {
		ls, err := store.ListLeases(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		next := ls[0]
		next.Counter++
		next.HandoffTo = "ghost"
		return store.UpdateLease(ctx, stream, ls[0], next) == nil
	})
	waitUntil(t, 5*time.Second, "a to hand the shard over", func() bool { return owners(t, store, stream)["ghost"] == 1 })
	p.put(300)
	waitUntil(t, 10*time.Second, "a to take the shard back", func() bool { return owners(t, store, stream)["a"] == 2 })
	waitUntil(t, 10*time.Second, "every record handled", func() bool { return g.missing(p.all()) == 0 })
	g.noOverlaps(t)
}
