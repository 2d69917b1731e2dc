package kinesis

import (
	"context"
	"errors"
	"slices"
	"time"
)

// heldLease is a lease this worker holds.
type heldLease struct {
	lease Lease // as last written by this worker
	// renewedAt is when the last successful write of the lease started:
	// no other worker can take it before renewedAt plus the duration.
	renewedAt time.Time
	// handoffTo is set once the shard is being handed over to that worker.
	handoffTo string
	// watch stops the shard's reader once the lease went unrenewed for two
	// thirds of the lease duration. It is a timer, not a check in the
	// rounds: it fires on time even when the rounds are late or the
	// coordinator is busy (a slow store, ListShards retried).
	watch *time.Timer
}

// observedLease is a lease as this worker last saw it.
type observedLease struct {
	lease Lease
	since time.Time // when this worker first saw lease.Counter
}

// leaseManager keeps this worker's leases. It is used only by the
// consumer's coordinator goroutine, so it needs no lock.
type leaseManager struct {
	c     *Consumer
	store LeaseStore
	me    string
	dur   time.Duration
	held  map[string]*heldLease
	seen  map[string]observedLease
	// steal is the shard this worker asked another worker to hand over,
	// stealAt when.
	steal   string
	stealAt time.Time
	// now is the clock of the lease timings: time.Now, or a test's
	// virtual clock.
	now func() time.Time
}

func newLeaseManager(c *Consumer) *leaseManager {
	return &leaseManager{
		c:     c,
		store: c.cfg.store.(LeaseStore), // checked by consumerConfig.validate
		me:    c.cfg.workerID,
		dur:   c.cfg.leaseDuration,
		held:  map[string]*heldLease{},
		seen:  map[string]observedLease{},
		now:   time.Now,
	}
}

// interval is how often round runs.
func (m *leaseManager) interval() time.Duration { return m.dur / 3 }

// holds reports whether this worker holds the shard's lease and may read
// it: it is not being handed over, and was renewed in time.
func (m *leaseManager) holds(id string) bool {
	h := m.held[id]
	return h != nil && h.handoffTo == "" && m.now().Sub(h.renewedAt) < m.readFor()
}

// readFor is how long after a lease's last renewal its shard may be read:
// another worker may take it a third of the duration later.
func (m *leaseManager) readFor() time.Duration { return 2 * m.dur / 3 }

// watch arms the timer that stops the shard's reader, just started with
// stop, when its lease goes unrenewed for too long.
func (m *leaseManager) watch(id string, stop context.CancelCauseFunc) {
	h := m.held[id]
	if h.watch != nil {
		h.watch.Stop()
	}
	h.watch = time.AfterFunc(h.renewedAt.Add(m.readFor()).Sub(m.now()), func() { stop(errLeaseExpired) })
}

// unwatch disarms the timer of a shard whose reader stopped.
func (m *leaseManager) unwatch(id string) {
	if h := m.held[id]; h != nil && h.watch != nil {
		h.watch.Stop()
		h.watch = nil
	}
}

// drop forgets a lease.
func (m *leaseManager) drop(id string) {
	m.unwatch(id)
	delete(m.held, id)
}

func (m *leaseManager) hook(id string, action LeaseAction, peer string, err error) {
	for _, h := range m.c.hooks.lease {
		h.OnLease(LeaseMetrics{ShardID: id, Action: action, Peer: peer, Err: err})
	}
	switch action {
	case LeaseLost:
		m.c.log.Warn("kinesis: lease lost", "stream", m.c.stream, "shard", id, "worker", m.me, "to", peer, "err", err)
	default:
		m.c.log.Info("kinesis: lease "+string(action), "stream", m.c.stream, "shard", id, "worker", m.me, "peer", peer)
	}
}

// storeFailed logs a failed lease store call and reports a throttled one
// to the hooks. The call is not retried as such: the next round is the
// retry, a third of the lease duration later.
func (m *leaseManager) storeFailed(op Operation, id, what string, err error) {
	if _, throttle := classify(err); throttle {
		m.c.hooks.readThrottled(ReadThrottleMetrics{ShardID: id, Op: op, Delay: m.interval(), Err: err})
	}
	m.c.log.Debug("kinesis: "+what+" failed", "shard", id, "worker", m.me, "err", err)
}

// round lists the leases, renews this worker's, notes shards other workers
// ended, takes free and expired leases up to this worker's share, and asks
// for a handoff when the shards are unevenly spread. It returns the shards
// whose readers must stop, with the cause: a lease lost or expiring, or a
// handoff (errHandoff). shards is the coordinator's view of the stream.
func (m *leaseManager) round(ctx context.Context, shards map[string]*shardInfo) map[string]error {
	// A round must not hang on a slow store: the readers of leases it
	// cannot renew are stopped by the next round, in time.
	ctx, cancel := context.WithTimeout(ctx, m.interval())
	defer cancel()
	c := m.c
	stop := map[string]error{}
	listed, err := m.store.ListLeases(ctx, c.stream)
	now := m.now()
	if err != nil {
		if _, throttle := classify(err); throttle {
			c.hooks.readThrottled(ReadThrottleMetrics{Op: OpListLeases, Delay: m.interval(), Err: err})
		}
		c.log.Warn("kinesis: listing leases failed", "stream", c.stream, "worker", m.me, "err", err)
		m.expireUnrenewed(now, stop, err)
		return stop
	}
	byID := make(map[string]Lease, len(listed))
	for _, l := range listed {
		byID[l.ShardID] = l
		if o, ok := m.seen[l.ShardID]; !ok || o.lease.Counter != l.Counter {
			m.seen[l.ShardID] = observedLease{lease: l, since: now}
		}
		info := shards[l.ShardID]
		if info == nil {
			continue
		}
		if l.ShardEnded && info.state == phaseWaiting {
			// Another worker read it to its end: its children may start.
			info.state = phaseEnded
			c.updateShard(l.ShardID, func(s *ShardStats) { s.State = ShardEnded })
		}
		c.updateShard(l.ShardID, func(s *ShardStats) { s.Owner = l.Owner })
	}

	// Leases written to this worker that it does not hold yet: handed over
	// by another worker, or held by a previous run with the same id.
	for _, l := range listed {
		if l.Owner != m.me || m.held[l.ShardID] != nil || l.ShardEnded {
			continue
		}
		m.held[l.ShardID] = &heldLease{lease: l}
		if l.ShardID == m.steal {
			m.steal = ""
			m.hook(l.ShardID, LeaseReceived, "", nil)
		} else {
			m.hook(l.ShardID, LeaseTaken, "", nil)
		}
	}

	// Renew.
	for _, id := range sortedKeys(m.held) {
		h := m.held[id]
		l, ok := byID[id]
		if !ok || l.Owner != m.me {
			m.drop(id)
			stop[id] = errLeaseLost
			m.hook(id, LeaseLost, l.Owner, errLeaseLost)
			continue
		}
		if l.ShardEnded {
			if info := shards[id]; info == nil || info.state != phaseReading {
				m.pass(ctx, id, "", LeaseReleased)
			} // else released when its reader returns
			continue
		}
		if l.HandoffTo != "" && h.handoffTo == "" {
			h.handoffTo = l.HandoffTo
			stop[id] = errHandoff
		}
		next := l
		next.Counter++
		next.ShardEnded = false
		start := m.now()
		if err := m.store.UpdateLease(ctx, c.stream, l, next); err != nil {
			m.storeFailed(OpUpdateLease, id, "lease renewal", err)
			continue
		}
		h.lease, h.renewedAt = next, start
		if h.watch != nil {
			h.watch.Reset(start.Add(m.readFor()).Sub(m.now()))
		}
		m.seen[id] = observedLease{lease: next, since: m.now()}
	}
	m.expireUnrenewed(m.now(), stop, nil)

	m.balance(ctx, shards, byID, now)
	return stop
}

// expireUnrenewed gives up the leases not renewed for two thirds of the
// lease duration: another worker may take them a third later.
func (m *leaseManager) expireUnrenewed(now time.Time, stop map[string]error, cause error) {
	for _, id := range sortedKeys(m.held) {
		h := m.held[id]
		if now.Sub(h.renewedAt) < m.readFor() {
			continue
		}
		m.drop(id)
		stop[id] = errLeaseExpired
		m.hook(id, LeaseLost, "", errors.Join(errLeaseExpired, cause))
	}
}

// balance plans the round's balancing (planBalance) and applies the plan:
// it releases the leases above this worker's cap, takes free and expired
// leases, and asks for a handoff.
func (m *leaseManager) balance(ctx context.Context, shards map[string]*shardInfo, byID map[string]Lease, now time.Time) {
	var ready []string
	for id, info := range shards {
		if info.state != phaseEnded && !byID[id].ShardEnded && parentsEnded(shards, info) {
			ready = append(ready, id)
		}
	}
	if len(ready) == 0 {
		return
	}
	slices.Sort(ready)
	held := make(map[string]heldView, len(m.held))
	for id, h := range m.held {
		held[id] = heldView{handoffTo: h.handoffTo, reading: shards[id] != nil && shards[id].state == phaseReading}
	}
	plan := planBalance(balanceInput{
		me: m.me, now: now, duration: m.dur, maxShards: m.c.cfg.maxShards,
		ready: ready, leases: byID, held: held, seen: m.seen,
		steal: m.steal, stealAt: m.stealAt, rand: leaseRand,
	})
	for _, id := range ready {
		if _, ok := m.seen[id]; !ok {
			m.seen[id] = observedLease{lease: Lease{ShardID: id}, since: now}
		}
	}
	if plan.forgetSteal {
		m.steal = ""
	}
	for _, id := range plan.release {
		m.pass(ctx, id, "", LeaseReleased)
	}
	for _, id := range plan.take {
		old := byID[id]
		if old.ShardID == "" {
			old.ShardID = id
		}
		next := Lease{ShardID: id, Owner: m.me, Counter: old.Counter + 1}
		start := m.now()
		if err := m.store.UpdateLease(ctx, m.c.stream, old, next); err != nil {
			m.storeFailed(OpUpdateLease, id, "taking a lease", err)
			continue
		}
		m.held[id] = &heldLease{lease: next, renewedAt: start}
		m.seen[id] = observedLease{lease: next, since: m.now()}
		m.hook(id, LeaseTaken, old.Owner, nil)
	}
	if plan.request == "" {
		return
	}
	old := byID[plan.request]
	next := old
	next.Counter++
	next.HandoffTo, next.ShardEnded = m.me, false
	if err := m.store.UpdateLease(ctx, m.c.stream, old, next); err != nil {
		m.storeFailed(OpUpdateLease, plan.request, "asking for a handoff", err)
		return
	}
	m.seen[plan.request] = observedLease{lease: next, since: m.now()}
	m.steal, m.stealAt = plan.request, now
	m.hook(plan.request, LeaseRequested, plan.victim, nil)
}

// readerStopped is called when a shard's reader returned. It hands the
// shard over if that was asked, and releases the lease of an ended shard.
func (m *leaseManager) readerStopped(ctx context.Context, id string, ended bool) {
	ctx, cancel := context.WithTimeout(ctx, m.interval())
	defer cancel()
	m.unwatch(id)
	h := m.held[id]
	switch {
	case h == nil:
	case h.handoffTo != "":
		m.pass(ctx, id, h.handoffTo, LeaseHandedOver)
	case ended:
		m.pass(ctx, id, "", LeaseReleased)
	}
}

// pass writes the lease to owner ("" to release it) and forgets it.
func (m *leaseManager) pass(ctx context.Context, id, owner string, action LeaseAction) {
	h := m.held[id]
	m.drop(id)
	next := Lease{ShardID: id, Owner: owner, Counter: h.lease.Counter + 1}
	err := m.store.UpdateLease(ctx, m.c.stream, h.lease, next)
	if err != nil {
		// It expires instead.
		m.c.log.Warn("kinesis: passing a lease on failed; it will expire", "shard", id, "worker", m.me, "to", owner, "err", err)
	}
	m.hook(id, action, owner, err)
}

// releaseAll releases every lease held, after Run's final checkpoints.
func (m *leaseManager) releaseAll(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, m.interval())
	defer cancel()
	// The leases as stored: since the last round, another worker may have
	// asked for one (its counter moved) or handed one over to this worker.
	if listed, err := m.store.ListLeases(ctx, m.c.stream); err == nil {
		for _, l := range listed {
			h := m.held[l.ShardID]
			switch {
			case l.Owner == m.me && h == nil:
				m.held[l.ShardID] = &heldLease{lease: l, handoffTo: l.HandoffTo}
			case l.Owner == m.me:
				h.lease = l
				if l.HandoffTo != "" {
					h.handoffTo = l.HandoffTo
				}
			case h != nil: // lost since the last round
				m.drop(l.ShardID)
				m.hook(l.ShardID, LeaseLost, l.Owner, errLeaseLost)
			}
		}
	}
	for _, id := range sortedKeys(m.held) {
		h := m.held[id]
		if h.handoffTo != "" {
			m.pass(ctx, id, h.handoffTo, LeaseHandedOver)
		} else {
			m.pass(ctx, id, "", LeaseReleased)
		}
	}
}
