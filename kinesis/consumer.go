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
//
// Run's goroutine coordinates the shards (see coordinator); each shard
// being read has a goroutine of its own (see shardReader).
type Consumer struct {
	client     ConsumerAPI
	streamName *string // set when the stream was given by name
	streamARN  *string // set when it was given by ARN
	stream     string  // the checkpoint key: the stream's name
	cfg        consumerConfig
	hooks      consumerHooks
	log        *slog.Logger
	disp       *Dispatcher // the handlers; it keeps the record counters
	// fanOutARN is the stream consumer's ARN (WithEnhancedFanOut), set by
	// Run before any reader starts.
	fanOutARN string

	running atomic.Bool

	mu     sync.Mutex
	shards map[string]*ShardStats
	// trims is the last trimmed checkpoint reported per shard, so that a
	// loss is reported once, however many readers of the shard meet it.
	trims map[string]Checkpoint
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
	if _, ok := client.(FanOutAPI); cfg.fanOutName != "" && !ok {
		return nil, fmt.Errorf("kinesis: WithEnhancedFanOut needs a client that implements FanOutAPI (SubscribeToShard and the stream consumer calls); %T does not", client)
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

// ShardState is a shard's state in ShardStats.
type ShardState string

const (
	// ShardWaiting: waiting for its parents to end, for a free slot
	// (WithMaxShards), or, with WithLeases, for this worker to hold its
	// lease (see ShardStats.Owner).
	ShardWaiting ShardState = "waiting"
	// ShardReading: a reader of this consumer reads it.
	ShardReading ShardState = "reading"
	// ShardEnded: read to its end after a split or merge.
	ShardEnded ShardState = "ended"
	// ShardStopped: Run returned, or its lease moved, while it was read.
	ShardStopped ShardState = "stopped"
)

// ShardStats is one shard's state in a ConsumerStats snapshot.
type ShardStats struct {
	ShardID string
	Parents []string
	State   ShardState
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
	// PendingAcks is the number of records whose handler deferred them
	// (Defer) and that are not acknowledged yet.
	PendingAcks int
}

// ConsumerStats is a snapshot of a Consumer's progress. ProducerStats is
// the producer's.
type ConsumerStats struct {
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
func (c *Consumer) Stats() ConsumerStats {
	ds := c.disp.Stats()
	s := ConsumerStats{
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
		sh = &ShardStats{ShardID: id, State: ShardWaiting}
		c.shards[id] = sh
	}
	f(sh)
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
	if c.cfg.fanOutName != "" {
		arn, err := c.registerFanOut(runCtx, drainCtx)
		if err != nil {
			if ctx.Err() != nil {
				return nil // stopped while waiting for the consumer
			}
			return err
		}
		c.fanOutARN = arn
	}
	err := newCoordinator(c, runCtx, drainCtx, cancel).run()
	if c.cfg.fanOutName != "" && c.cfg.fanOutDeregister {
		err = errors.Join(err, c.deregisterFanOut(drainCtx, c.fanOutARN))
	}
	c.log.Info("kinesis: consumer stopped", "stream", c.stream, "err", err)
	return err
}

// loadCheckpoint loads a shard's checkpoint, retrying until runCtx is
// done. The calls themselves use callCtx (see Run).
func (c *Consumer) loadCheckpoint(runCtx, callCtx context.Context, id string) (Checkpoint, bool, error) {
	var cp Checkpoint
	var ok bool
	err := retryCall(runCtx, c, id, OpCheckpointLoad, func() error {
		var err error
		cp, ok, err = c.cfg.store.Load(callCtx, c.stream, id)
		return err
	})
	if err != nil {
		return Checkpoint{}, false, &ShardError{ShardID: id, Err: fmt.Errorf("load checkpoint: %w", err)}
	}
	return cp, ok, nil
}

// retryCall runs f until it succeeds, ctx is done, or it fails with an
// error retrying cannot fix. Throttling is reported to the hooks.
func retryCall(ctx context.Context, c *Consumer, shardID string, op Operation, f func() error) error {
	policy := DefaultCallRetry.Start()
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
		d, _ := policy.Next()
		if throttle {
			c.hooks.readThrottled(ReadThrottleMetrics{ShardID: shardID, Op: op, Delay: d, Err: err})
		}
		c.log.Warn("kinesis: call failed, retrying", "op", op, "shard", shardID, "delay", d, "err", err)
		if !sleepCtx(ctx, d) {
			return err
		}
	}
}
