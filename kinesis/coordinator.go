package kinesis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"golang.org/x/sync/errgroup"
)

// shardInfo is the coordinator's view of one shard.
type shardInfo struct {
	id      string
	parents []string
	state   shardPhase
	cp      *Checkpoint // as loaded; nil when the shard had none
	// closed is set once ListShards shows the shard closed (an ending
	// sequence number); shared with its reader (see fanOutSource.probeEnd).
	closed *atomic.Bool
	// stop stops the shard's reader while the consumer runs on (its lease
	// was lost or is handed over); set while it is reading.
	stop context.CancelCauseFunc
}

// shardPhase is where the coordinator is with a shard.
type shardPhase int

const (
	phaseWaiting shardPhase = iota // not read yet, or its reader stopped early
	phaseReading                   // a reader runs
	phaseEnded                     // read to its end, here or by another worker
)

// shardDone is sent by a shard reader when it stops.
type shardDone struct {
	id       string
	ended    bool
	children []sdktypes.ChildShard
}

// coordinator runs one call of Consumer.Run: it discovers the shards
// (ListShards, and the children a reader found at a shard's end), starts a
// reader for each shard whose parents have ended (with WithLeases: whose
// lease this worker holds), and, once runCtx is done, waits for the
// readers' final checkpoints and releases the leases.
//
// Goroutines: run's goroutine (the coordinator goroutine) alone touches
// shards, lm and readers; it also runs the lease rounds, so the lease
// manager needs no lock. Each reader runs on a goroutine of readers and
// talks to the coordinator only through done (it stopped, and why) and
// fail (an error that stops Run); it shares the Consumer's stats through
// Consumer.updateShard, which locks. fatal and finalErr, set by readers,
// are guarded by errMu.
type coordinator struct {
	c *Consumer
	// runCtx ends reading: when it is done, no new call is started.
	// drainCtx outlives it by the shutdown timeout, for the calls in
	// flight, handlers and final checkpoints. cancel cancels runCtx.
	runCtx, drainCtx context.Context
	cancel           context.CancelCauseFunc

	readers errgroup.Group // one goroutine per shard read, at most WithMaxShards
	done    chan shardDone
	shards  map[string]*shardInfo // every shard seen, by id
	lm      *leaseManager         // nil without WithLeases

	errMu sync.Mutex
	// fatal is the first error that stopped Run; errors after runCtx is
	// done are only kept when they are final checkpoint writes (finalErr).
	fatal, finalErr error
}

func newCoordinator(c *Consumer, runCtx, drainCtx context.Context, cancel context.CancelCauseFunc) *coordinator {
	co := &coordinator{
		c:        c,
		runCtx:   runCtx,
		drainCtx: drainCtx,
		cancel:   cancel,
		done:     make(chan shardDone, 16),
		shards:   map[string]*shardInfo{},
	}
	if c.cfg.maxShards > 0 {
		co.readers.SetLimit(c.cfg.maxShards)
	}
	if c.cfg.leases {
		co.lm = newLeaseManager(c)
	}
	return co
}

// run coordinates until runCtx is done or a shard fails for good, then
// waits for the readers and returns Run's error.
func (co *coordinator) run() error {
	err := co.loop()
	if err != nil {
		co.fail(err)
	}
	_ = co.readers.Wait()
	if co.lm != nil {
		// After the final checkpoints: the other workers may take the
		// shards at once.
		co.lm.releaseAll(co.drainCtx)
	}
	co.errMu.Lock()
	defer co.errMu.Unlock()
	return errors.Join(co.fatal, co.finalErr)
}

// loop is the coordinator's event loop. It returns when runCtx is done
// (nil) or with an error that stops Run.
func (co *coordinator) loop() error {
	if err := co.syncShards(); err != nil {
		return err
	}
	var leaseTick <-chan time.Time
	if co.lm != nil {
		t := time.NewTicker(co.lm.interval())
		defer t.Stop()
		leaseTick = t.C
		co.leaseRound()
	}
	co.schedule()
	ticker := time.NewTicker(co.c.cfg.shardSync)
	defer ticker.Stop()
	for {
		select {
		case <-co.runCtx.Done():
			return nil
		case d := <-co.done:
			if err := co.readerDone(d); err != nil {
				return err
			}
		case <-ticker.C:
			if err := co.syncShards(); err != nil {
				return err
			}
		case <-leaseTick:
			co.leaseRound()
		}
		co.schedule()
	}
}

// fail stops Run with err; the first such error is Run's.
func (co *coordinator) fail(err error) {
	co.errMu.Lock()
	if co.runCtx.Err() == nil && co.fatal == nil {
		co.fatal = err
	}
	co.errMu.Unlock()
	co.cancel(err)
}

// readerDone takes a stopped reader's report: a shard read to its end
// makes its children known; any other stop leaves the shard waiting (its
// lease moved, or a slot freed).
func (co *coordinator) readerDone(d shardDone) error {
	info := co.shards[d.id]
	info.stop = nil
	if co.lm != nil {
		co.lm.readerStopped(co.drainCtx, d.id, d.ended)
	}
	if !d.ended {
		info.state = phaseWaiting
		return nil
	}
	info.state = phaseEnded
	for _, ch := range d.children {
		if err := co.addShard(aws.ToString(ch.ShardId), ch.ParentShards, ch.HashKeyRange); err != nil {
			return err
		}
	}
	if len(d.children) == 0 {
		// kinesalite: no ChildShards at the end of a closed shard; find
		// the children with ListShards.
		return co.syncShards()
	}
	return nil
}

// leaseRound runs a lease round and stops the readers it says to.
func (co *coordinator) leaseRound() {
	for id, cause := range co.lm.round(co.drainCtx, co.shards) {
		info := co.shards[id]
		switch {
		case info != nil && info.state == phaseReading:
			info.stop(cause)
		case cause == errHandoff:
			co.lm.readerStopped(co.drainCtx, id, false) // not reading: hand over at once
		}
	}
}

// syncShards lists the stream's shards, retrying, and adds the new ones.
func (co *coordinator) syncShards() error {
	c := co.c
	return retryCall(co.runCtx, c, "", OpListShards, func() error {
		list, err := listShards(co.drainCtx, c.client, c.streamName, c.streamARN)
		if err != nil {
			return errorf("stream %s: %w", c.stream, err)
		}
		for _, s := range list {
			var parents []string
			if p := aws.ToString(s.ParentShardId); p != "" {
				parents = append(parents, p)
			}
			if p := aws.ToString(s.AdjacentParentShardId); p != "" {
				parents = append(parents, p)
			}
			id := aws.ToString(s.ShardId)
			if err := co.addShard(id, parents, s.HashKeyRange); err != nil {
				return err
			}
			if s.SequenceNumberRange != nil && s.SequenceNumberRange.EndingSequenceNumber != nil {
				co.shards[id].closed.Store(true)
			}
		}
		return nil
	})
}

// addShard registers a shard not seen yet and loads its checkpoint. A
// LineageStore records the shard's lineage first.
func (co *coordinator) addShard(id string, parents []string, hashes *sdktypes.HashKeyRange) error {
	if _, ok := co.shards[id]; ok {
		return nil
	}
	if ls, ok := co.c.cfg.store.(LineageStore); ok {
		sl := ShardLineage{ShardID: id, Parents: parents}
		if hashes != nil {
			sl.StartingHashKey, sl.EndingHashKey = aws.ToString(hashes.StartingHashKey), aws.ToString(hashes.EndingHashKey)
		}
		err := retryCall(co.runCtx, co.c, id, OpCheckpointSave, func() error { return ls.RecordShard(co.drainCtx, co.c.stream, sl) })
		if err != nil {
			return &ShardError{ShardID: id, Err: fmt.Errorf("record shard lineage: %w", err)}
		}
	}
	cp, ok, err := co.c.loadCheckpoint(co.runCtx, co.drainCtx, id)
	if err != nil {
		return err
	}
	info := &shardInfo{id: id, parents: parents, closed: new(atomic.Bool)}
	if ok {
		info.cp = &cp
		if cp.ShardEnded {
			info.state = phaseEnded
		}
	}
	co.shards[id] = info
	co.c.updateShard(id, func(s *ShardStats) {
		s.Parents = parents
		if ok {
			s.Checkpoint, s.Processed = cp, cp
		}
		if info.state == phaseEnded {
			s.State = ShardEnded
		}
	})
	return nil
}

// parentsEnded reports whether every parent of info has ended. A parent
// the stream no longer lists (past retention) and without a checkpoint
// counts as ended.
func parentsEnded(shards map[string]*shardInfo, info *shardInfo) bool {
	for _, p := range info.parents {
		if pi, ok := shards[p]; ok && pi.state != phaseEnded {
			return false
		}
	}
	return true
}

// schedule starts a reader for every waiting shard that may be read, in
// shard id order, until no slot is free.
func (co *coordinator) schedule() {
	for _, id := range sortedKeys(co.shards) {
		info := co.shards[id]
		if info.state != phaseWaiting || !parentsEnded(co.shards, info) {
			continue
		}
		start, ok, err := co.prepare(info)
		if err != nil {
			co.fail(err)
			return
		}
		if !ok {
			continue
		}
		if !co.start(info, start) {
			return // no free slot: try again when a reader stops
		}
	}
}

// prepare checks that a waiting shard may be read now and returns where a
// reader starts if the shard has no checkpoint. With leases, it reloads the
// checkpoint: another worker may have moved the shard since this one
// loaded it.
func (co *coordinator) prepare(info *shardInfo) (StartPosition, bool, error) {
	c, lm := co.c, co.lm
	if lm != nil {
		if !lm.holds(info.id) {
			return StartPosition{}, false, nil
		}
		cp, ok, err := c.loadCheckpoint(co.runCtx, co.drainCtx, info.id)
		if err != nil {
			return StartPosition{}, false, err
		}
		info.cp = nil
		if ok {
			info.cp = &cp
			if cp.ShardEnded {
				info.state = phaseEnded
				c.updateShard(info.id, func(s *ShardStats) { s.State, s.Checkpoint = ShardEnded, cp })
				lm.readerStopped(co.drainCtx, info.id, true)
				return StartPosition{}, false, nil
			}
		}
	}
	start := c.cfg.start
	if info.cp == nil && len(info.parents) > 0 {
		var err error
		if start, err = co.childStart(info); err != nil {
			return StartPosition{}, false, err
		}
	}
	if lm != nil && !lm.holds(info.id) {
		return StartPosition{}, false, nil // the loads outlasted the renewal: next round
	}
	return start, true, nil
}

// childStart returns where a child shard without a checkpoint starts, from
// its parents' checkpoints: at TRIM_HORIZON, whatever the configured
// position, when a parent was read (as the KCL does: every record of the
// child comes after the parents' records); at the earliest time a parent
// was read from when the parents were read from a time without finding a
// record; at the configured position when no parent was ever read (they
// are past retention, or the consumer started after the reshard).
func (co *coordinator) childStart(info *shardInfo) (StartPosition, error) {
	var from time.Time
	for _, p := range info.parents {
		cp, ok, err := co.c.loadCheckpoint(co.runCtx, co.drainCtx, p)
		switch {
		case err != nil:
			return StartPosition{}, err
		case !ok:
		case cp.SequenceNumber == "" && !cp.Timestamp.IsZero():
			if from.IsZero() || cp.Timestamp.Before(from) {
				from = cp.Timestamp
			}
		default:
			return StartTrimHorizon, nil
		}
	}
	if !from.IsZero() {
		return StartAtTimestamp(from), nil
	}
	return co.c.cfg.start, nil
}

// start starts a reader for info at start (used when it has no
// checkpoint). It reports false when no slot was free.
func (co *coordinator) start(info *shardInfo, start StartPosition) bool {
	c := co.c
	r := c.newShardReader(info, start)
	readCtx, stop := context.WithCancelCause(co.runCtx)
	// Mark it reading first: the reader may end before TryGo returns.
	info.state, info.stop = phaseReading, stop
	c.updateShard(info.id, func(s *ShardStats) { s.State = ShardReading })
	if !co.readers.TryGo(func() error {
		defer stop(nil)
		co.read(r, readCtx)
		return nil
	}) {
		stop(nil)
		info.state, info.stop = phaseWaiting, nil
		c.updateShard(info.id, func(s *ShardStats) { s.State = ShardWaiting })
		return false
	}
	if co.lm != nil {
		co.lm.watch(info.id, stop)
	}
	return true
}

// read runs a shard's reader on its own goroutine and reports how it
// stopped.
func (co *coordinator) read(r *shardReader, readCtx context.Context) {
	c := co.c
	res, err := r.run(readCtx, co.drainCtx)
	if !res.ended {
		c.updateShard(r.id, func(s *ShardStats) { s.State = ShardStopped })
	}
	if err != nil && co.runCtx.Err() == nil && (readCtx.Err() != nil || co.lm != nil && errors.Is(err, ErrCheckpointBehind)) {
		// The lease manager stopped the reader, or another worker moved
		// the shard on: not fatal.
		c.log.Warn("kinesis: shard reader stopped with an error", "shard", r.id, "cause", context.Cause(readCtx), "err", err)
		err = nil
	}
	switch {
	case err != nil && co.runCtx.Err() != nil:
		// A final checkpoint write failed during the drain.
		co.errMu.Lock()
		co.finalErr = errors.Join(co.finalErr, err)
		co.errMu.Unlock()
	case err != nil:
		co.fail(err)
	default:
		select {
		case co.done <- res:
		case <-co.runCtx.Done():
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
