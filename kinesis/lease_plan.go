package kinesis

import (
	"math/rand/v2"
	"time"
)

// heldView is what the balancing needs to know of a lease this worker
// holds.
type heldView struct {
	handoffTo string // set once the shard is being handed over
	reading   bool   // a reader of this worker reads the shard
}

// balanceInput is everything planBalance decides from: the leases as
// listed, this worker's leases and observations, and the shards ready to
// be read.
type balanceInput struct {
	me        string
	now       time.Time
	duration  time.Duration // the lease duration
	maxShards int           // WithMaxShards; 0: no cap
	// ready are the shards that may be read (not ended, parents ended),
	// sorted.
	ready []string
	// leases are the leases listed this round, by shard; a shard missing
	// has a free lease with Counter 0.
	leases map[string]Lease
	held   map[string]heldView
	// seen is when this worker first saw each lease's current counter (by
	// its own clock): a lease with an owner that has not changed for the
	// duration has expired.
	seen map[string]observedLease
	// steal is the shard this worker asked another to hand over, stealAt
	// when; "" when none.
	steal   string
	stealAt time.Time
	// rand returns a number in [0, n); it spreads the workers over the
	// free leases and the shards they ask for. nil: shard id order, for
	// tests.
	rand func(n int) int
}

// balancePlan is what a worker does with the leases in one round, in
// order: forget a handoff request that arrived or timed out, release the
// leases above its cap, try to take free or expired leases, and ask
// another worker for one.
type balancePlan struct {
	forgetSteal bool
	release     []string // leases of shards this worker holds and does not read
	take        []string // free or expired leases, in the order to try
	request     string   // a shard to ask victim to hand over; "" for none
	victim      string
}

// leaseRand is the randomness of the balancing outside tests.
var leaseRand = rand.IntN

// planBalance decides how this worker moves towards its share of the
// ready shards: the ready shards divided by the live workers (those
// holding an unexpired lease of a ready shard, and this one), rounded up,
// at most WithMaxShards. It is a pure function of its input: it calls no
// store and reads no clock, and the caller applies the plan (some writes of
// which may fail, leaving the rest for the next round).
//
//   - Above its cap (a handoff asked for arrived late, or a previous run
//     with this id held more), the worker releases the leases of shards it
//     does not read.
//   - Below its cap, it takes free and expired leases, in random order,
//     until it holds its share; beyond its share, only leases no worker
//     took for two lease durations (the others are at their cap). A handoff
//     asked for counts as held, so that it does not arrive on top of a free
//     lease taken meanwhile.
//   - Still below its share, it asks the worker with the most shards for
//     one of them (one request at a time), if that worker is above the
//     share or holds at least two more than this one.
func planBalance(in balanceInput) balancePlan {
	var plan balancePlan
	if len(in.ready) == 0 {
		return plan
	}
	expired := func(id string) bool {
		o, ok := in.seen[id]
		return ok && o.lease.Owner != "" && in.now.Sub(o.since) >= in.duration
	}
	released := map[string]bool{}
	holds := func(id string) bool {
		_, ok := in.held[id]
		return ok && !released[id]
	}

	count := map[string]int{in.me: 0} // unexpired leases of ready shards, by worker
	owned := map[string][]string{}    // the shards other workers could hand over
	for _, id := range in.ready {
		if h, ok := in.held[id]; ok {
			if h.handoffTo == "" {
				count[in.me]++
			}
			continue
		}
		l := in.leases[id]
		if l.Owner != "" && l.Owner != in.me && !expired(id) {
			count[l.Owner]++
			if l.HandoffTo == "" {
				owned[l.Owner] = append(owned[l.Owner], id)
			}
		}
	}
	target := (len(in.ready) + len(count) - 1) / len(count)
	limit := len(in.ready) // the most this worker may hold
	if in.maxShards > 0 {
		target = min(target, in.maxShards)
		limit = in.maxShards
	}

	for _, id := range in.ready {
		if count[in.me] <= limit {
			break
		}
		if h, ok := in.held[id]; ok && h.handoffTo == "" && !h.reading {
			plan.release = append(plan.release, id)
			released[id] = true
			count[in.me]--
		}
	}

	steal := in.steal
	if steal != "" && (holds(steal) || in.now.Sub(in.stealAt) > 2*in.duration) {
		plan.forgetSteal, steal = true, ""
	}
	have := count[in.me]
	if steal != "" {
		have++
	}
	var free []string
	for _, id := range in.ready {
		if l := in.leases[id]; !holds(id) && (l.Owner == "" || expired(id)) {
			free = append(free, id)
		}
	}
	if in.rand != nil {
		for i := len(free) - 1; i > 0; i-- {
			j := in.rand(i + 1)
			free[i], free[j] = free[j], free[i]
		}
	}
	for _, id := range free {
		if have >= limit {
			break
		}
		since := in.now // a shard not seen before: seen from now
		if o, ok := in.seen[id]; ok {
			since = o.since
		}
		if have >= target && in.now.Sub(since) < 2*in.duration {
			continue
		}
		plan.take = append(plan.take, id)
		count[in.me]++
		have++
	}

	if count[in.me] >= target || steal != "" {
		return plan
	}
	victim := ""
	for _, w := range sortedKeys(owned) {
		if victim == "" || len(owned[w]) > len(owned[victim]) {
			victim = w
		}
	}
	if victim == "" || !(count[victim] > target || count[victim] > count[in.me]+1) {
		return plan
	}
	ids := owned[victim]
	i := 0
	if in.rand != nil {
		i = in.rand(len(ids))
	}
	plan.request, plan.victim = ids[i], victim
	return plan
}
