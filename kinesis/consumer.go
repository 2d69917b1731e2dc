package kinesis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"golang.org/x/sync/errgroup"
)

// Consumer reads every shard of a stream and calls the registered handlers
// for its records, checkpointing progress in a CheckpointStore.
//
// Each readable shard has its own goroutine, which fetches records with
// GetRecords (at most WithGetRecordsRate calls per second), splits KPL
// aggregates, and handles the records one at a time in sequence order.
// Shards run concurrently. A child shard of a split or merge is read only
// after all its parents were read to their end and checkpointed as ended,
// so the records of a partition key are always handled in order.
//
// Delivery is at least once: a record is checkpointed only after its
// handler returned nil or it was dead-lettered, and after a restart the
// consumer resumes from the last checkpoint, inside an aggregate if need
// be. Records handled after the last checkpoint (WithCheckpointInterval) are
// handled again after a crash.
//
// Handlers (Handle and the On<Type> functions, OnEvent, OnUnknown,
// OnRecord, WithDeadLetter) are options, fixed before Run starts any
// goroutine. The Consumer builds a Dispatcher from them and dispatches
// every user record through it: see Dispatcher for the goroutine,
// ordering, error, context and memory rules handlers share, and Defer for
// acknowledging records later.
//
// A Consumer is safe for concurrent use: Stats may be called at any time;
// Run may be called once at a time.
type Consumer struct {
	client     ConsumerAPI
	streamName *string // set when the stream was given by name
	streamARN  *string // set when it was given by ARN
	stream     string  // the checkpoint key: the stream's name
	cfg        consumerConfig
	hooks      consumerHooks
	log        *slog.Logger
	disp       *Dispatcher // the handlers; it keeps the record counters

	running atomic.Bool

	mu     sync.Mutex
	shards map[string]*ShardStats
}

// NewConsumer returns a Consumer of stream, given by name or ARN. At least
// one handler option is required (Handle, an On<Type> handler, OnEvent,
// OnUnknown or OnRecord). It returns an error for an invalid option; it
// does not call Kinesis.
func NewConsumer(client ConsumerAPI, stream string, opts ...ConsumerOption) (*Consumer, error) {
	if client == nil {
		return nil, errors.New("kinesis: nil client")
	}
	if stream == "" {
		return nil, errors.New("kinesis: empty stream name")
	}
	cfg := defaultConsumerConfig()
	for _, o := range opts {
		if o == nil {
			continue
		}
		o.applyConsumer(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Consumer{
		client: client,
		cfg:    cfg,
		hooks:  newConsumerHooks(cfg.hooks),
		log:    cfg.log(),
		shards: map[string]*ShardStats{},
	}
	if strings.HasPrefix(stream, "arn:") {
		c.streamARN = aws.String(stream)
		name, ok := strings.CutPrefix(stream[strings.LastIndex(stream, ":")+1:], "stream/")
		if !ok || name == "" {
			return nil, fmt.Errorf("kinesis: %q is not a Kinesis stream ARN", stream)
		}
		c.stream = name
	} else {
		c.streamName = aws.String(stream)
		c.stream = stream
	}
	disp, err := newDispatcher(cfg.handlerConfig)
	if err != nil {
		return nil, err
	}
	disp.log = c.log.With("stream", c.stream)
	c.disp = disp
	return c, nil
}

// ShardStats is one shard's state in a Stats snapshot.
type ShardStats struct {
	ShardID string
	Parents []string
	// State is "waiting" (for its parents to end, for a free slot, or,
	// with WithLeases, for this worker to hold its lease: see Owner),
	// "reading", "ended" (read to its end after a split or merge), or
	// "stopped" (Run returned while it was being read).
	State string
	// MillisBehindLatest is the lag reported by the last GetRecords call.
	MillisBehindLatest int64
	// Records is the number of user records processed (handled,
	// dead-lettered, skipped or duplicate) since Run started.
	Records int64
	// Owner is the worker holding the shard's lease, as this worker last
	// saw it (WithLeases); empty without leases or when the lease is free.
	Owner string
	// Processed is the position of the last processed record, Checkpoint
	// the last one saved.
	Processed  Checkpoint
	Checkpoint Checkpoint
}

// Stats is a snapshot of a Consumer's progress.
type Stats struct {
	// Worker is this consumer's worker id with WithLeases, else empty.
	Worker string
	Shards []ShardStats // sorted by shard id
	// Handled counts records whose handler returned nil.
	Handled int64
	// DeadLettered counts poison records.
	DeadLettered int64
	// Duplicates counts events skipped by WithDeduplication.
	Duplicates int64
	// Skipped counts events of a type no handler is registered for.
	Skipped int64
}

// Stats returns a snapshot of the consumer's progress, including each
// shard's lag (MillisBehindLatest). It is cheap and safe to call at any
// time, also from hooks and handlers.
func (c *Consumer) Stats() Stats {
	ds := c.disp.Stats()
	s := Stats{
		Worker:       c.cfg.workerID,
		Handled:      ds.Handled,
		DeadLettered: ds.DeadLettered,
		Duplicates:   ds.Duplicates,
		Skipped:      ds.Skipped,
	}
	c.mu.Lock()
	for _, sh := range c.shards {
		cp := *sh
		cp.Parents = slices.Clone(sh.Parents)
		s.Shards = append(s.Shards, cp)
	}
	c.mu.Unlock()
	slices.SortFunc(s.Shards, func(a, b ShardStats) int { return strings.Compare(a.ShardID, b.ShardID) })
	return s
}

func (c *Consumer) updateShard(id string, f func(*ShardStats)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sh := c.shards[id]
	if sh == nil {
		sh = &ShardStats{ShardID: id, State: "waiting"}
		c.shards[id] = sh
	}
	f(sh)
}

// shardInfo is the coordinator's view of one shard.
type shardInfo struct {
	id      string
	parents []string
	state   int // waiting, reading, ended
	cp      *Checkpoint
	// stop stops the shard's reader while the consumer runs on (its lease
	// was lost or is handed over); set while it is reading.
	stop context.CancelCauseFunc
}

const (
	stateWaiting = iota
	stateReading
	stateEnded
)

// shardDone is sent by a shard reader when it stops.
type shardDone struct {
	id       string
	ended    bool
	children []sdktypes.ChildShard
}

// Run reads the stream until ctx is done or a shard fails for good, then
// drains: it stops fetching, lets in-flight handlers finish (their context
// is cancelled only after WithShutdownTimeout), writes every shard's final
// checkpoint and returns. It returns nil after ctx was cancelled and the
// drain succeeded; otherwise the first error, for example a *ShardError or
// the error of a final checkpoint write. Run must not be called again
// before it returned.
func (c *Consumer) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("kinesis: consumer is already running")
	}
	defer c.running.Store(false)

	// runCtx ends reading: when it is done, no new call is started.
	// drainCtx is for handlers, checkpoint writes and the calls already in
	// flight: it outlives runCtx by the shutdown timeout, so stopping never
	// aborts a request half-way (which some emulators do not survive) nor
	// a handler.
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	drainCtx, drainCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer drainCancel()
	var timerMu sync.Mutex
	var timer *time.Timer
	stopAfter := context.AfterFunc(runCtx, func() {
		timerMu.Lock()
		timer = time.AfterFunc(c.cfg.shutdownTimeout, drainCancel)
		timerMu.Unlock()
	})
	defer func() {
		stopAfter()
		timerMu.Lock()
		if timer != nil {
			timer.Stop()
		}
		timerMu.Unlock()
	}()

	c.log.Info("kinesis: consumer starting", "stream", c.stream, "start", c.cfg.start.String())
	err := c.coordinate(runCtx, drainCtx, cancel)
	c.log.Info("kinesis: consumer stopped", "stream", c.stream, "err", err)
	return err
}

// coordinate discovers shards, starts a reader for each shard whose
// parents have ended, and waits for all readers once runCtx is done.
func (c *Consumer) coordinate(runCtx, drainCtx context.Context, cancel context.CancelCauseFunc) error {
	var g errgroup.Group
	if c.cfg.maxShards > 0 {
		g.SetLimit(c.cfg.maxShards)
	}
	// fatal is the first error that stopped Run; errors after runCtx is
	// done are only kept when they are final checkpoint writes.
	var errMu sync.Mutex
	var fatal, finalErr error
	fail := func(err error) {
		errMu.Lock()
		if runCtx.Err() == nil && fatal == nil {
			fatal = err
		}
		errMu.Unlock()
		cancel(err)
	}
	done := make(chan shardDone, 16)
	shards := map[string]*shardInfo{}
	var lm *leaseManager
	var leaseTick <-chan time.Time
	if c.cfg.leases {
		lm = newLeaseManager(c)
		t := time.NewTicker(lm.interval())
		defer t.Stop()
		leaseTick = t.C
	}
	// leaseRound runs a lease round and stops the readers it says to.
	leaseRound := func() {
		for id, cause := range lm.round(drainCtx, shards) {
			info := shards[id]
			switch {
			case info != nil && info.state == stateReading:
				info.stop(cause)
			case cause == errHandoff:
				lm.readerStopped(drainCtx, id, false) // not reading: hand over at once
			}
		}
	}

	// addShard registers a shard and loads its checkpoint.
	addShard := func(id string, parents []string) error {
		if _, ok := shards[id]; ok {
			return nil
		}
		cp, ok, err := c.loadCheckpoint(runCtx, drainCtx, id)
		if err != nil {
			return err
		}
		info := &shardInfo{id: id, parents: parents}
		if ok {
			info.cp = &cp
			if cp.ShardEnded {
				info.state = stateEnded
			}
		}
		shards[id] = info
		c.updateShard(id, func(s *ShardStats) {
			s.Parents = parents
			if ok {
				s.Checkpoint, s.Processed = cp, cp
			}
			if info.state == stateEnded {
				s.State = "ended"
			}
		})
		return nil
	}
	sync := func() error {
		list, err := c.listShards(drainCtx)
		if err != nil {
			return err
		}
		for _, s := range list {
			var parents []string
			if p := aws.ToString(s.ParentShardId); p != "" {
				parents = append(parents, p)
			}
			if p := aws.ToString(s.AdjacentParentShardId); p != "" {
				parents = append(parents, p)
			}
			if err := addShard(aws.ToString(s.ShardId), parents); err != nil {
				return err
			}
		}
		return nil
	}
	schedule := func() {
		ids := make([]string, 0, len(shards))
		for id := range shards {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			info := shards[id]
			if info.state != stateWaiting || !c.parentsEnded(shards, info) {
				continue
			}
			if lm != nil {
				if !lm.holds(id) {
					continue
				}
				// Another worker may have moved the shard since this one
				// loaded its checkpoint.
				cp, ok, err := c.loadCheckpoint(runCtx, drainCtx, id)
				if err != nil {
					fail(err)
					return
				}
				info.cp = nil
				if ok {
					info.cp = &cp
					if cp.ShardEnded {
						info.state = stateEnded
						c.updateShard(id, func(s *ShardStats) { s.State, s.Checkpoint = "ended", cp })
						lm.readerStopped(drainCtx, id, true)
						continue
					}
				}
				if !lm.holds(id) {
					continue // the load outlasted the renewal: next round
				}
			}
			r := c.newShardReader(info)
			readCtx, stop := context.WithCancelCause(runCtx)
			// Mark it reading first: the reader may end before TryGo returns.
			info.state, info.stop = stateReading, stop
			c.updateShard(id, func(s *ShardStats) { s.State = "reading" })
			if !g.TryGo(func() error {
				defer stop(nil)
				res, err := r.run(readCtx, drainCtx)
				if !res.ended {
					c.updateShard(r.id, func(s *ShardStats) { s.State = "stopped" })
				}
				if err != nil && runCtx.Err() == nil && (readCtx.Err() != nil || lm != nil && errors.Is(err, ErrCheckpointBehind)) {
					// The lease manager stopped the reader, or another
					// worker moved the shard on: not fatal.
					c.log.Warn("kinesis: shard reader stopped with an error", "shard", r.id, "cause", context.Cause(readCtx), "err", err)
					err = nil
				}
				if err != nil {
					if runCtx.Err() != nil {
						// A final checkpoint write failed during the drain.
						errMu.Lock()
						finalErr = errors.Join(finalErr, err)
						errMu.Unlock()
						return nil
					}
					fail(err)
					return nil
				}
				select {
				case done <- res:
				case <-runCtx.Done():
				}
				return nil
			}) {
				// No free slot: try again when a reader stops.
				stop(nil)
				info.state, info.stop = stateWaiting, nil
				c.updateShard(id, func(s *ShardStats) { s.State = "waiting" })
				return
			}
			if lm != nil {
				lm.watch(id, stop)
			}
		}
	}

	err := retryCall(runCtx, c, "", "ListShards", sync)
	if err == nil {
		if lm != nil {
			leaseRound()
		}
		schedule()
		ticker := time.NewTicker(c.cfg.shardSync)
	loop:
		for {
			select {
			case <-runCtx.Done():
				break loop
			case d := <-done:
				info := shards[d.id]
				info.stop = nil
				if lm != nil {
					lm.readerStopped(drainCtx, d.id, d.ended)
				}
				if !d.ended {
					info.state = stateWaiting
					schedule() // a reader stopped by a lease, or a free slot
					break
				}
				info.state = stateEnded
				for _, ch := range d.children {
					if err = addShard(aws.ToString(ch.ShardId), ch.ParentShards); err != nil {
						break loop
					}
				}
				if len(d.children) == 0 {
					// kinesalite: no ChildShards at the end of a closed
					// shard; find the children with ListShards.
					if err = retryCall(runCtx, c, "", "ListShards", sync); err != nil {
						break loop
					}
				}
				schedule()
			case <-ticker.C:
				if err = retryCall(runCtx, c, "", "ListShards", sync); err != nil {
					break loop
				}
				schedule()
			case <-leaseTick:
				leaseRound()
				schedule()
			}
		}
		ticker.Stop()
	}
	if err != nil {
		fail(err)
	}
	_ = g.Wait()
	if lm != nil {
		// After the final checkpoints: the other workers may take the
		// shards at once.
		lm.releaseAll(drainCtx)
	}
	errMu.Lock()
	defer errMu.Unlock()
	return errors.Join(fatal, finalErr)
}

// parentsEnded reports whether every parent of info has ended. A parent
// the stream no longer lists (past retention) and without a checkpoint
// counts as ended.
func (c *Consumer) parentsEnded(shards map[string]*shardInfo, info *shardInfo) bool {
	for _, p := range info.parents {
		if pi, ok := shards[p]; ok && pi.state != stateEnded {
			return false
		}
	}
	return true
}

// loadCheckpoint loads a shard's checkpoint, retrying until runCtx is
// done. The calls themselves use callCtx (see Run).
func (c *Consumer) loadCheckpoint(runCtx, callCtx context.Context, id string) (Checkpoint, bool, error) {
	var cp Checkpoint
	var ok bool
	err := retryCall(runCtx, c, id, "checkpoint load", func() error {
		var err error
		cp, ok, err = c.cfg.store.Load(callCtx, c.stream, id)
		return err
	})
	if err != nil {
		return Checkpoint{}, false, &ShardError{ShardID: id, Err: fmt.Errorf("load checkpoint: %w", err)}
	}
	return cp, ok, nil
}

// listShards returns all shards of the stream, following NextToken.
func (c *Consumer) listShards(ctx context.Context) ([]sdktypes.Shard, error) {
	var all []sdktypes.Shard
	in := &sdkkinesis.ListShardsInput{StreamName: c.streamName, StreamARN: c.streamARN}
	for {
		out, err := c.client.ListShards(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("kinesis: list shards of %s: %w", c.stream, err)
		}
		all = append(all, out.Shards...)
		if aws.ToString(out.NextToken) == "" {
			return all, nil
		}
		// With NextToken, the stream must not be named again.
		in = &sdkkinesis.ListShardsInput{NextToken: out.NextToken}
	}
}

// retryCall runs f until it succeeds, ctx is done, or it fails with an
// error retrying cannot fix. Throttling is reported to the hooks.
func retryCall(ctx context.Context, c *Consumer, shardID, op string, f func() error) error {
	policy := DefaultCallRetry.start()
	for {
		err := f()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		retry, throttle := classify(err)
		if errors.Is(err, ErrCheckpointBehind) {
			retry = false
		}
		if !retry {
			return err
		}
		d, _ := policy.next()
		if throttle {
			for _, h := range c.hooks.throttled {
				h.OnThrottled(ThrottledMetrics{ShardID: shardID, Op: op, Delay: d, Err: err})
			}
		}
		c.log.Warn("kinesis: call failed, retrying", "op", op, "shard", shardID, "delay", d, "err", err)
		if !sleepCtx(ctx, d) {
			return err
		}
	}
}
