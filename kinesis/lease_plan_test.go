package kinesis

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

// TestPlanBalance checks the balancing decisions of one lease round, with
// no store and no clock: which leases a worker releases, takes and asks for.
func TestPlanBalance(t *testing.T) {
	const dur = 10 * time.Second
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	four := []string{"s0", "s1", "s2", "s3"}
	// lease builds the listed leases: owner per shard ("" = free).
	lease := func(owners map[string]string) map[string]Lease {
		m := map[string]Lease{}
		for id, o := range owners {
			m[id] = Lease{ShardID: id, Owner: o, Counter: 3}
		}
		return m
	}
	// seenAt notes every listed lease as seen at t.
	seenAt := func(ls map[string]Lease, t time.Time) map[string]observedLease {
		m := map[string]observedLease{}
		for id, l := range ls {
			m[id] = observedLease{lease: l, since: t}
		}
		return m
	}
	held := func(ids ...string) map[string]heldView {
		m := map[string]heldView{}
		for _, id := range ids {
			m[id] = heldView{reading: true}
		}
		return m
	}
	bFour := lease(map[string]string{"s0": "b", "s1": "b", "s2": "b", "s3": "b"})
	bTwo := lease(map[string]string{"s0": "b", "s1": "b"})
	aTwo := lease(map[string]string{"s0": "a", "s1": "a"})
	// a holds two, b one, s3 is free: a is at its share of two.
	abOne := lease(map[string]string{"s0": "a", "s1": "a", "s2": "b", "s3": ""})
	freeSince := func(t time.Time) map[string]observedLease { // abOne, s3 free since t
		m := seenAt(abOne, now)
		m["s3"] = observedLease{lease: abOne["s3"], since: t}
		return m
	}

	tests := []struct {
		name string
		in   balanceInput
		want balancePlan
	}{
		{
			name: "nothing ready: nothing to do",
			in:   balanceInput{},
			want: balancePlan{},
		},
		{
			name: "alone with free leases: takes them all",
			in:   balanceInput{ready: four, leases: map[string]Lease{}},
			want: balancePlan{take: four},
		},
		{
			name: "alone with a cap: takes up to WithMaxShards",
			in:   balanceInput{ready: four, maxShards: 3},
			want: balancePlan{take: []string{"s0", "s1", "s2"}},
		},
		{
			name: "another worker holds half: takes the free half",
			in:   balanceInput{ready: four, leases: bTwo, seen: seenAt(bTwo, now)},
			want: balancePlan{take: []string{"s2", "s3"}},
		},
		{
			name: "another worker holds all: asks it for one",
			in:   balanceInput{ready: four, leases: bFour, seen: seenAt(bFour, now)},
			want: balancePlan{request: "s0", victim: "b"},
		},
		{
			name: "another worker's leases unchanged for the duration: takes them as expired",
			in:   balanceInput{ready: four, leases: bFour, seen: seenAt(bFour, now.Add(-dur))},
			want: balancePlan{take: four},
		},
		{
			name: "below its share: takes a free lease at once",
			in: balanceInput{ready: []string{"s0", "s1", "s2"}, held: held("s0"),
				leases: lease(map[string]string{"s0": "a", "s1": "b"}),
				seen:   seenAt(lease(map[string]string{"s0": "a", "s1": "b", "s2": ""}), now)},
			want: balancePlan{take: []string{"s2"}},
		},
		{
			name: "at its share: takes a free lease only after two durations",
			in: balanceInput{ready: four, held: held("s0", "s1"), leases: abOne,
				seen: freeSince(now.Add(-2*dur + time.Millisecond))},
			want: balancePlan{},
		},
		{
			name: "at its share, a lease free for two durations: takes it",
			in: balanceInput{ready: four, held: held("s0", "s1"), leases: abOne,
				seen: freeSince(now.Add(-2 * dur))},
			want: balancePlan{take: []string{"s3"}},
		},
		{
			name: "above its cap: releases the leases of shards it does not read",
			in: balanceInput{ready: four, maxShards: 1, leases: aTwo, seen: seenAt(aTwo, now),
				held: map[string]heldView{"s0": {reading: true}, "s1": {}}},
			want: balancePlan{release: []string{"s1"}},
		},
		{
			name: "a handoff asked for counts as held: no free lease on top of it",
			in: balanceInput{ready: four, steal: "s1", stealAt: now, held: held("s0"),
				leases: lease(map[string]string{"s0": "a", "s1": "b", "s2": "b", "s3": ""}),
				seen:   seenAt(lease(map[string]string{"s0": "a", "s1": "b", "s2": "b", "s3": ""}), now)},
			want: balancePlan{},
		},
		{
			name: "the handoff arrived: forgets the request",
			in: balanceInput{ready: []string{"s0", "s1"}, steal: "s1", stealAt: now, held: held("s0", "s1"),
				leases: aTwo, seen: seenAt(aTwo, now)},
			want: balancePlan{forgetSteal: true},
		},
		{
			name: "the handoff never came: forgets it after two durations and asks again",
			in: balanceInput{ready: four, steal: "s3", stealAt: now.Add(-2*dur - time.Millisecond),
				leases: bFour, seen: seenAt(bFour, now)},
			want: balancePlan{forgetSteal: true, request: "s0", victim: "b"},
		},
		{
			name: "the busiest worker has one more: no handoff",
			in: balanceInput{ready: []string{"s0", "s1", "s2"}, held: held("s0"),
				leases: lease(map[string]string{"s0": "a", "s1": "b", "s2": "b"}),
				seen:   seenAt(lease(map[string]string{"s0": "a", "s1": "b", "s2": "b"}), now)},
			want: balancePlan{},
		},
		{
			name: "asks the busiest worker, not one being handed a shard",
			in: balanceInput{ready: []string{"s0", "s1", "s2", "s3", "s4", "s5"},
				leases: map[string]Lease{
					"s0": {ShardID: "s0", Owner: "b"}, "s1": {ShardID: "s1", Owner: "b", HandoffTo: "c"},
					"s2": {ShardID: "s2", Owner: "c"}, "s3": {ShardID: "s3", Owner: "c"}, "s4": {ShardID: "s4", Owner: "c"},
					"s5": {ShardID: "s5", Owner: "b"},
				}},
			want: balancePlan{request: "s2", victim: "c"},
		},
		{
			name: "a shard it is handing over does not count towards its share",
			in: balanceInput{ready: []string{"s0", "s1"}, held: map[string]heldView{"s0": {handoffTo: "b", reading: true}},
				leases: lease(map[string]string{"s0": "a", "s1": ""}), seen: seenAt(lease(map[string]string{"s1": ""}), now)},
			want: balancePlan{take: []string{"s1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			in.me, in.now, in.duration = "a", now, dur
			got := planBalance(in)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(balancePlan{})); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPlanBalanceSpreadsFreeLeases: with randomness, two workers starting
// together try the free leases in different orders.
func TestPlanBalanceSpreadsFreeLeases(t *testing.T) {
	in := balanceInput{me: "a", now: time.Now(), duration: time.Second, ready: []string{"s0", "s1", "s2", "s3"}}
	in.rand = func(n int) int { return n - 1 } // no swap: shard order
	first := planBalance(in).take
	in.rand = func(int) int { return 0 }
	second := planBalance(in).take
	if len(first) != 4 || len(second) != 4 || cmp.Equal(first, second) {
		t.Errorf("takes %v and %v, want all four in two orders", first, second)
	}
}

// leaseSim runs the lease rounds of several workers, each a real
// leaseManager on one MemoryStore, on a virtual clock: readers
// are simulated (a held lease's shard is "read" up to the worker's cap),
// so a test runs hundreds of rounds in milliseconds.
type leaseSim struct {
	t       *testing.T
	store   *MemoryStore
	f       *kinesistest.Fake
	shards  int
	dur     time.Duration
	now     time.Time
	ll      *leaseLog
	workers []*simWorker
}

type simWorker struct {
	id     string
	cap    int
	m      *leaseManager
	shards map[string]*shardInfo // the worker's coordinator view
}

func newLeaseSim(t *testing.T, shards int, dur time.Duration) *leaseSim {
	return &leaseSim{t: t, store: NewMemoryStore(), f: kinesistest.New(kinesistest.WithStream("s", shards)),
		shards: shards, dur: dur, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), ll: newLeaseLog()}
}

// join starts a worker with WithMaxShards(cap).
func (s *leaseSim) join(id string, cap int) {
	c, err := NewConsumer(s.f, "s", OnRecord(func(context.Context, Record) error { return nil }), WithCheckpointStore(s.store),
		WithLeases(Leases{WorkerID: id, Duration: s.dur}), WithMaxShards(cap), WithHooks(s.ll.hook(id)))
	if err != nil {
		s.t.Fatal(err)
	}
	w := &simWorker{id: id, cap: cap, m: newLeaseManager(c), shards: map[string]*shardInfo{}}
	w.m.now = func() time.Time { return s.now }
	for i := range s.shards {
		id := fmt.Sprintf("shardId-%012d", i)
		w.shards[id] = &shardInfo{id: id}
	}
	s.workers = append(s.workers, w)
}

// cycle advances the clock by a third of the lease duration, running each
// worker's round at its own moment within it, as the coordinator does:
// readers the round stops stop, and held shards start being read.
func (s *leaseSim) cycle() {
	ctx := context.Background()
	for _, w := range s.workers {
		s.now = s.now.Add(s.dur / 3 / time.Duration(len(s.workers)))
		for id := range w.m.round(ctx, w.shards) {
			if info := w.shards[id]; info.state == phaseReading {
				info.state = phaseWaiting
			}
			w.m.readerStopped(ctx, id, false)
		}
		reading := 0
		for _, info := range w.shards {
			if info.state == phaseReading {
				reading++
			}
		}
		for _, id := range sortedKeys(w.shards) {
			info := w.shards[id]
			if info.state == phaseWaiting && w.m.holds(id) && (w.cap == 0 || reading < w.cap) {
				info.state = phaseReading
				reading++
			}
		}
	}
}

// settleCase is a set of workers sharing a stream's shards, for the tests
// that check their leases settle.
type settleCase struct {
	name      string
	shards    int
	caps      []int // per worker; 0: no WithMaxShards
	stagger   bool  // a worker joins every half lease duration
	wallClock bool  // also run end to end (TestLeasesSettleWhileRecordsFlow)
}

var settleCases = []settleCase{
	{"2 workers 4 shards", 4, []int{0, 0}, false, false},
	{"3 workers 4 shards", 4, []int{0, 0, 0}, false, false},
	{"3 workers 5 shards staggered", 5, []int{0, 0, 0}, true, true},
	{"4 workers 6 shards staggered", 6, []int{0, 0, 0, 0}, true, false},
	{"5 workers 2 shards", 2, []int{0, 0, 0, 0, 0}, false, false},
	{"8 workers 24 shards staggered", 24, []int{0, 0, 0, 0, 0, 0, 0, 0}, true, false},
	{"capped worker 3 workers 6 shards", 6, []int{1, 0, 0}, false, false},
	{"capped workers 3 workers 5 shards staggered", 5, []int{2, 0, 1}, true, true},
	{"caps leave shards to the uncapped", 7, []int{1, 1, 0}, true, false},
}

// workers names the case's workers w0, w1, ...
func (sc settleCase) workers() []string {
	names := make([]string, len(sc.caps))
	for i := range names {
		names[i] = fmt.Sprint("w", i)
	}
	return names
}

// checkShares fails the test unless every shard has an owner, no capped
// worker holds more than its cap, and the uncapped workers' shares differ
// by at most one.
func (sc settleCase) checkShares(t *testing.T, owners map[string]string) {
	t.Helper()
	count := map[string]int{}
	for _, w := range owners {
		count[w]++
	}
	if len(owners) != sc.shards || count[""] > 0 {
		t.Errorf("owners %v, want all %d shards owned", owners, sc.shards)
	}
	lo, hi := sc.shards, 0
	for i, w := range sc.workers() {
		if sc.caps[i] > 0 {
			if count[w] > sc.caps[i] {
				t.Errorf("%s holds %d shards, more than its cap %d", w, count[w], sc.caps[i])
			}
			continue
		}
		lo, hi = min(lo, count[w]), max(hi, count[w])
	}
	if hi-lo > 1 {
		t.Errorf("settled shares %v differ by more than one", count)
	}
}

// TestLeaseRoundsSettle: whatever the number of workers and shards, the
// leases settle within a bounded number of rounds, every shard is owned,
// the shares differ by at most one (a capped worker holds at most its
// cap), and then nothing moves. The rounds run on a virtual clock.
func TestLeaseRoundsSettle(t *testing.T) {
	t.Parallel()
	const dur = 300 * time.Millisecond
	for _, tt := range settleCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newLeaseSim(t, tt.shards, dur)
			for i, w := range tt.workers() {
				s.join(w, tt.caps[i])
				if tt.stagger {
					s.cycle()
					s.cycle() // half a lease duration and more
				}
			}
			last, quiet := -1, 0
			for cycles := 0; quiet < 9; cycles++ { // 9 cycles: three lease durations
				if cycles == 300 {
					t.Fatalf("not settled after 100 lease durations: %v", leaseOwners(t, s.store, "s"))
				}
				s.cycle()
				owners := leaseOwners(t, s.store, "s")
				all := len(owners) == tt.shards
				for _, w := range owners {
					all = all && w != ""
				}
				if n := s.ll.moves(); n != last || !all {
					last, quiet = n, 0
					continue
				}
				quiet++
			}
			settled := leaseOwners(t, s.store, "s")
			tt.checkShares(t, settled)
			for range 30 {
				s.cycle()
			}
			if now := leaseOwners(t, s.store, "s"); !cmp.Equal(now, settled) {
				t.Errorf("leases moved after settling: %v, then %v", settled, now)
			}
		})
	}
}
