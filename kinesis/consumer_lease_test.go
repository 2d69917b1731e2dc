package kinesis

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

// shardGuard is a handler that records which worker handles which shard
// and catches two workers handling the same shard at the same moment.
type shardGuard struct {
	mu       sync.Mutex
	active   map[string]string // shard id -> worker inside its handler
	handled  map[string]int    // record data -> times handled
	overlaps []string
	hold     time.Duration // time spent in the handler
}

func newShardGuard(hold time.Duration) *shardGuard {
	return &shardGuard{active: map[string]string{}, handled: map[string]int{}, hold: hold}
}

func (g *shardGuard) handler(worker string) ConsumerOption {
	return OnRecord(func(_ context.Context, r Record) error {
		g.mu.Lock()
		if w, ok := g.active[r.ShardID]; ok && w != worker {
			g.overlaps = append(g.overlaps, fmt.Sprintf("%s: %s and %s at once (record %s)", r.ShardID, w, worker, r.SequenceNumber))
		}
		g.active[r.ShardID] = worker
		g.mu.Unlock()
		time.Sleep(g.hold)
		g.mu.Lock()
		if g.active[r.ShardID] == worker {
			delete(g.active, r.ShardID)
		}
		g.handled[string(r.Data)]++
		g.mu.Unlock()
		return nil
	})
}

// missing returns how many of want were never handled.
func (g *shardGuard) missing(want []string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, w := range want {
		if g.handled[w] == 0 {
			n++
		}
	}
	return n
}

// leaseLog counts lease hook actions per worker.
type leaseLog struct {
	mu sync.Mutex
	n  map[string]int // worker + " " + action
}

func (l *leaseLog) hook(worker string) hookFunc {
	return hookFunc{lease: func(m LeaseMetrics) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.n[worker+" "+string(m.Action)]++
	}}
}

func (l *leaseLog) count(worker, action string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n[worker+" "+action]
}

// owners counts the live leases per owner.
func owners(t *testing.T, s LeaseStore, stream string) map[string]int {
	t.Helper()
	ls, err := s.ListLeases(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int{}
	for _, l := range ls {
		if !l.ShardEnded {
			m[l.Owner]++
		}
	}
	return m
}

func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runWorker starts a consumer worker with leases l (Duration 0: 600ms);
// stop cancels it and returns Run's error.
func runWorker(t *testing.T, client ConsumerAPI, stream string, store CheckpointStore, l Leases, g *shardGuard, ll *leaseLog, opts ...ConsumerOption) (stop func() error) {
	t.Helper()
	if l.Duration == 0 {
		l.Duration = 600 * time.Millisecond
	}
	all := append(fastConsumer(), g.handler(l.WorkerID), WithCheckpointStore(store),
		WithLeases(l), WithHooks(ll.hook(l.WorkerID)))
	c, err := NewConsumer(client, stream, append(all, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- c.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			runErr = <-errc
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// TestLeasesShareShards: a worker alone takes every shard; a second worker
// gets half of them by handoffs while records keep arriving; when the
// second stops, the first takes its shards back at once. No record is
// lost, and no shard is ever handled by two workers at the same time.
func TestLeasesShareShards(t *testing.T) {
	t.Parallel()
	const stream = "s"
	f := kinesistest.New(kinesistest.WithStream(stream, 4))
	store := NewMemoryStore()
	g := newShardGuard(200 * time.Microsecond)
	ll := &leaseLog{n: map[string]int{}}

	var want []string
	var wantMu sync.Mutex
	put := func(n int) {
		var es []entry
		for i := range n {
			wantMu.Lock()
			d := fmt.Sprint("rec-", len(want))
			want = append(want, d)
			wantMu.Unlock()
			es = append(es, entry{pk: fmt.Sprint("pk-", i%64), data: []byte(d)})
		}
		putEntries(t, f, stream, es)
	}
	put(400)
	stopA := runWorker(t, f, stream, store, Leases{WorkerID: "a"}, g, ll)
	waitUntil(t, 10*time.Second, "worker a to hold all 4 shards", func() bool { return owners(t, store, stream)["a"] == 4 })

	stopB := runWorker(t, f, stream, store, Leases{WorkerID: "b"}, g, ll)
	var producing atomic.Bool
	producing.Store(true)
	doneProducing := make(chan struct{})
	go func() {
		defer close(doneProducing)
		for producing.Load() {
			put(50)
			time.Sleep(20 * time.Millisecond)
		}
	}()
	waitUntil(t, 15*time.Second, "a 2/2 split", func() bool {
		o := owners(t, store, stream)
		return o["a"] == 2 && o["b"] == 2
	})
	producing.Store(false)
	<-doneProducing
	waitUntil(t, 15*time.Second, "every record handled", func() bool { return g.missing(want) == 0 })
	if n := ll.count("a", "handed-over"); n < 2 {
		t.Errorf("a handed over %d shards, want 2 or more", n)
	}
	if n := ll.count("b", "received"); n < 2 {
		t.Errorf("b received %d shards, want 2 or more", n)
	}

	if err := stopB(); err != nil {
		t.Fatalf("worker b: %v", err)
	}
	if n := ll.count("b", "released"); n < 2 {
		t.Errorf("b released %d leases when it stopped, want 2 or more", n)
	}
	// Released leases are free: a takes them in its next round, without
	// waiting for them to expire.
	start := time.Now()
	waitUntil(t, 5*time.Second, "worker a to take b's shards", func() bool { return owners(t, store, stream)["a"] == 4 })
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("a took the released shards after %v, want within a lease round or two", d)
	}
	put(200)
	waitUntil(t, 10*time.Second, "the last records handled", func() bool { return g.missing(want) == 0 })
	if err := stopA(); err != nil {
		t.Fatalf("worker a: %v", err)
	}
	g.noOverlaps(t)
	if o := owners(t, store, stream); o[""] != 4 {
		t.Errorf("after both stopped the leases are %v, want 4 free", o)
	}
}

// partitionedStore fails every call while cut is set, as if the worker
// had lost its network: at once, or, with hang, when the call's context
// ends or the network is back.
type partitionedStore struct {
	*MemoryStore
	cut  atomic.Bool
	hang bool
}

var errPartitioned = errors.New("test: store unreachable")

func (s *partitionedStore) down(ctx context.Context) error {
	if !s.cut.Load() {
		return nil
	}
	if s.hang {
		// Until the call gives up or the network is back.
		for s.cut.Load() {
			select {
			case <-ctx.Done():
				return fmt.Errorf("%w: %w", errPartitioned, ctx.Err())
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	return errPartitioned
}

func (s *partitionedStore) Load(ctx context.Context, stream, shardID string) (Checkpoint, bool, error) {
	if err := s.down(ctx); err != nil {
		return Checkpoint{}, false, err
	}
	return s.MemoryStore.Load(ctx, stream, shardID)
}

func (s *partitionedStore) Save(ctx context.Context, stream, shardID string, cp Checkpoint) error {
	if err := s.down(ctx); err != nil {
		return err
	}
	return s.MemoryStore.Save(ctx, stream, shardID, cp)
}

func (s *partitionedStore) ListLeases(ctx context.Context, stream string) ([]Lease, error) {
	if err := s.down(ctx); err != nil {
		return nil, err
	}
	return s.MemoryStore.ListLeases(ctx, stream)
}

func (s *partitionedStore) UpdateLease(ctx context.Context, stream string, old, next Lease) error {
	if err := s.down(ctx); err != nil {
		return err
	}
	return s.MemoryStore.UpdateLease(ctx, stream, old, next)
}

// TestLeasesOfUnreachableWorkerExpire: a worker that cannot reach the lease store stops
// reading its shards before their leases expire; another worker takes them
// once they have, and resumes from the checkpoints. When the first worker
// is back, the shards are shared again.
func TestLeasesOfUnreachableWorkerExpire(t *testing.T) {
	t.Parallel()
	t.Run("store fails", func(t *testing.T) { t.Parallel(); testLeasesOfUnreachableWorkerExpire(t, false) })
	t.Run("store hangs", func(t *testing.T) { t.Parallel(); testLeasesOfUnreachableWorkerExpire(t, true) })
}

func testLeasesOfUnreachableWorkerExpire(t *testing.T, hang bool) {
	const stream = "s"
	f := kinesistest.New(kinesistest.WithStream(stream, 2))
	mem := NewMemoryStore()
	aStore := &partitionedStore{MemoryStore: mem, hang: hang}
	g := newShardGuard(time.Millisecond)
	ll := &leaseLog{n: map[string]int{}}
	var want []string
	put := func(from, n int) {
		var es []entry
		for i := from; i < from+n; i++ {
			d := fmt.Sprint("rec-", i)
			want = append(want, d)
			es = append(es, entry{pk: fmt.Sprint("pk-", i%16), data: []byte(d)})
		}
		putEntries(t, f, stream, es)
	}
	put(0, 200)
	stopA := runWorker(t, f, stream, aStore, Leases{WorkerID: "a"}, g, ll)
	waitUntil(t, 10*time.Second, "a to handle every record", func() bool { return g.missing(want) == 0 })

	aStore.cut.Store(true)
	cutAt := time.Now()
	stopB := runWorker(t, f, stream, mem, Leases{WorkerID: "b"}, g, ll)
	put(200, 400)
	waitUntil(t, 10*time.Second, "b to take both shards", func() bool { return owners(t, mem, stream)["b"] == 2 })
	if d := time.Since(cutAt); d < 600*time.Millisecond {
		t.Errorf("b took a's leases %v after a was cut off, before they expired (600ms)", d)
	}
	if n := ll.count("a", "lost"); n < 2 {
		t.Errorf("a reported %d leases lost, want 2", n)
	}
	waitUntil(t, 10*time.Second, "b to handle the new records", func() bool { return g.missing(want) == 0 })

	aStore.cut.Store(false)
	waitUntil(t, 10*time.Second, "the shards shared again", func() bool {
		o := owners(t, mem, stream)
		return o["a"] == 1 && o["b"] == 1
	})
	put(600, 200)
	waitUntil(t, 10*time.Second, "the last records handled", func() bool { return g.missing(want) == 0 })
	// a's final checkpoint writes failed while it was cut off, which is
	// not an error of a's Run: the shard had moved on.
	for name, stop := range map[string]func() error{"a": stopA, "b": stopB} {
		if err := stop(); err != nil {
			t.Errorf("worker %s: %v", name, err)
		}
	}
	g.noOverlaps(t)
}

// TestWithLeasesValidatesSettings: WithLeases needs a LeaseStore and a
// lease duration that is 0 (the default) or at least MinLeaseDuration;
// an empty worker id gets a generated one.
func TestWithLeasesValidatesSettings(t *testing.T) {
	t.Parallel()
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	noop := OnRecord(func(context.Context, Record) error { return nil })
	for _, tt := range []struct {
		name string
		opts []ConsumerOption
		ok   bool
	}{
		{"store without leases", []ConsumerOption{WithCheckpointStore(checkpointOnly{NewMemoryStore()}), WithLeases(Leases{WorkerID: "w"})}, false},
		{"1ms duration", []ConsumerOption{WithLeases(Leases{WorkerID: "w", Duration: time.Millisecond})}, false},
		{"negative duration", []ConsumerOption{WithLeases(Leases{Duration: -time.Second})}, false},
		{"minimum duration", []ConsumerOption{WithLeases(Leases{WorkerID: "w", Duration: MinLeaseDuration})}, true},
		{"defaults", []ConsumerOption{WithLeases(Leases{})}, true},
	} {
		c, err := NewConsumer(f, "s", append(tt.opts, noop)...)
		if (err == nil) != tt.ok {
			t.Errorf("%s: NewConsumer error %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil {
			continue
		}
		if c.Stats().Worker == "" {
			t.Errorf("%s: the worker id is empty", tt.name)
		}
		if c.cfg.leaseDuration < MinLeaseDuration {
			t.Errorf("%s: lease duration %v", tt.name, c.cfg.leaseDuration)
		}
	}
}

// checkpointOnly hides the lease methods of a store.
type checkpointOnly struct{ s *MemoryStore }

func (c checkpointOnly) Load(ctx context.Context, stream, shardID string) (Checkpoint, bool, error) {
	return c.s.Load(ctx, stream, shardID)
}

func (c checkpointOnly) Save(ctx context.Context, stream, shardID string, cp Checkpoint) error {
	return c.s.Save(ctx, stream, shardID, cp)
}
