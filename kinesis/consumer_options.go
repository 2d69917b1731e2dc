package kinesis

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Consumer defaults. Each is the value used when its option is not given.
const (
	// DefaultCheckpointInterval is how often a shard's progress is saved
	// at most (WithCheckpointInterval). Checkpoints are also written when a
	// shard ends and when Run returns.
	DefaultCheckpointInterval = 5 * time.Second
	// DefaultGetRecordsLimit is the largest Limit of a GetRecords call
	// (WithGetRecordsLimit); 10,000 is the Kinesis maximum.
	DefaultGetRecordsLimit = 10000
	// DefaultGetRecordsPerSecond is the per-shard GetRecords rate
	// (WithGetRecordsRate); 5 is the Kinesis per-shard limit.
	DefaultGetRecordsPerSecond = 5.0
	// DefaultIdleWait is the pause before polling a shard again once it is
	// caught up (WithIdleWait).
	DefaultIdleWait = time.Second
	// DefaultShardSyncInterval is how often ListShards looks for new shards
	// (WithShardSyncInterval).
	DefaultShardSyncInterval = 10 * time.Second
	// DefaultMaxShards is the number of shards read at once
	// (WithMaxShards); 0 means no limit.
	DefaultMaxShards = 0
	// DefaultShutdownTimeout bounds how long Run, once its context is done,
	// spends writing final checkpoints.
	DefaultShutdownTimeout = 10 * time.Second
	// DefaultLeaseDuration is how long a lease that is not renewed stays
	// with its worker before another worker may take it (Leases.Duration
	// 0). Workers renew their leases every third of it.
	DefaultLeaseDuration = 10 * time.Second
	// DefaultMaxPendingAcks is how many records of one shard may wait for
	// their acknowledgement (Defer) before reading the shard pauses
	// (WithMaxPendingAcks).
	DefaultMaxPendingAcks = 100000
)

// StartPosition is where a consumer starts reading a shard that has no
// checkpoint yet.
type StartPosition struct {
	typ sdktypes.ShardIteratorType
	at  time.Time
}

var (
	// StartTrimHorizon starts at the oldest record still in the stream. It
	// is the default.
	StartTrimHorizon = StartPosition{typ: sdktypes.ShardIteratorTypeTrimHorizon}
	// StartLatest starts after the newest record: only records put after
	// the consumer started are read.
	StartLatest = StartPosition{typ: sdktypes.ShardIteratorTypeLatest}
)

// StartAtTimestamp starts at the first record that arrived at or after t.
func StartAtTimestamp(t time.Time) StartPosition {
	return StartPosition{typ: sdktypes.ShardIteratorTypeAtTimestamp, at: t}
}

// String returns the iterator type, e.g. "TRIM_HORIZON".
func (p StartPosition) String() string {
	if p.typ == sdktypes.ShardIteratorTypeAtTimestamp {
		return "AT_TIMESTAMP " + p.at.UTC().Format(time.RFC3339Nano)
	}
	return string(p.typ)
}

// consumerConfig is the Consumer's configuration.
type consumerConfig struct {
	handlerConfig // the handler options (handlers.go)

	store              CheckpointStore
	start              StartPosition
	checkpointInterval time.Duration
	getRecordsLimit    int32
	getRecordsRate     float64
	idleWait           time.Duration
	shardSync          time.Duration
	maxShards          int
	shutdownTimeout    time.Duration
	leases             bool   // WithLeases was given
	workerID           string // Leases.WorkerID, defaulted by validate
	leaseDuration      time.Duration
	maxPendingAcks     int
	fanOutName         string        // WithEnhancedFanOut
	fanOutDeregister   bool          // WithFanOutDeregister
	fanOutRenew        time.Duration // when a subscription is renewed; tests shorten it
}

func defaultConsumerConfig() consumerConfig {
	return consumerConfig{
		start:              StartTrimHorizon,
		checkpointInterval: DefaultCheckpointInterval,
		getRecordsLimit:    DefaultGetRecordsLimit,
		getRecordsRate:     DefaultGetRecordsPerSecond,
		idleWait:           DefaultIdleWait,
		shardSync:          DefaultShardSyncInterval,
		maxShards:          DefaultMaxShards,
		shutdownTimeout:    DefaultShutdownTimeout,
		maxPendingAcks:     DefaultMaxPendingAcks,
		fanOutRenew:        fanOutRenewal,
		handlerConfig:      defaultHandlerConfig(),
	}
}

func (c *consumerConfig) validate() error {
	if c.err != nil {
		return c.err
	}
	if err := c.handlerConfig.validate(); err != nil {
		return err
	}
	if c.store == nil {
		c.store = NewMemoryStore()
	}
	if c.leases {
		if _, ok := c.store.(LeaseStore); !ok {
			return fmt.Errorf("kinesis: WithLeases needs a checkpoint store that keeps leases (a LeaseStore such as dynamodbstore.Store); %T does not", c.store)
		}
		if c.workerID == "" {
			c.workerID = defaultWorkerID()
		}
		if c.leaseDuration == 0 {
			c.leaseDuration = DefaultLeaseDuration
		}
	}
	if c.fanOutDeregister && c.fanOutName == "" {
		return errors.New("kinesis: WithFanOutDeregister needs WithEnhancedFanOut")
	}
	return nil
}

// WithCheckpointStore sets where checkpoints are kept. Default: a new
// in-memory store (NewMemoryStore), which does not survive the
// process: use a durable store such as dynamodbstore.New in production.
func WithCheckpointStore(s CheckpointStore) ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) {
		if s == nil {
			c.setErr(errors.New("kinesis: nil checkpoint store"))
			return
		}
		c.store = s
	})
}

// WithStartPosition sets where shards without a checkpoint are read from.
// Default: StartTrimHorizon. Shards that have a checkpoint always resume
// from it.
//
// A reader that starts at StartLatest or StartAtTimestamp stores that
// position (a time) as the shard's checkpoint before it reads, so a restart
// or another worker resumes there before the first record was handled:
// no record put after the first reader started is skipped. (StartLatest
// takes the consumer's clock as that time; the stream's arrival timestamps
// are compared to it.) A child shard of a split or merge whose parents
// were read starts at TRIM_HORIZON whatever the position (as the KCL
// does), or, if its parents were read without finding a record, at the
// time they were started from.
func WithStartPosition(p StartPosition) ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) {
		switch p.typ {
		case sdktypes.ShardIteratorTypeTrimHorizon, sdktypes.ShardIteratorTypeLatest:
		case sdktypes.ShardIteratorTypeAtTimestamp:
			if p.at.IsZero() {
				c.setErr(errors.New("kinesis: StartAtTimestamp needs a time"))
				return
			}
		default:
			c.setErr(fmt.Errorf("kinesis: invalid start position %q", p.typ))
			return
		}
		c.start = p
	})
}

// WithCheckpointInterval sets how old each shard's unsaved progress may
// get: the checkpoint is written when the oldest record handled since the
// last one was handled an interval ago, also in the middle of a
// GetRecords batch, and before the reader waits for its next batch if the
// interval would pass during the wait. It is written at the last record,
// or KPL sub-record, that is fully handled: its handler returned nil, it
// was dead-lettered, skipped or a duplicate, or its deferred
// acknowledgement arrived. While records flow this is about one write per
// interval per shard. Default: DefaultCheckpointInterval. 0 saves after
// every GetRecords batch. Checkpoints are also written when a shard ends
// and when Run returns.
//
// The bound this gives: after a crash, the records handled since the last
// checkpoint are handled again, so the duplicates per shard are at most
// what the handlers did in one checkpoint interval (and during the
// checkpoint write) plus one record (the record in flight when the
// interval passed). To keep this true when handlers are slow, each GetRecords
// call asks for about as many records as the handlers took one interval
// for in the last batches (never fewer than 1, never more than
// WithGetRecordsLimit), so a batch takes about one interval.
//
// With deferred acknowledgements (Defer), the checkpoint stops before the
// first record not yet acknowledged, so the bound becomes: the records
// handled in one interval plus those waiting for their acknowledgement
// (at most WithMaxPendingAcks per shard).
func WithCheckpointInterval(d time.Duration) ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) {
		if d < 0 {
			c.setErr(fmt.Errorf("kinesis: negative checkpoint interval %v", d))
			return
		}
		c.checkpointInterval = d
	})
}

// WithGetRecordsLimit sets the largest Limit of a GetRecords call (1 to
// 10,000); with slow handlers the consumer asks for fewer, so that a batch
// takes about one checkpoint interval (WithCheckpointInterval). Default:
// DefaultGetRecordsLimit.
func WithGetRecordsLimit(n int) ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) {
		if n < 1 || n > 10000 {
			c.setErr(fmt.Errorf("kinesis: GetRecords limit %d not in [1, 10000]", n))
			return
		}
		c.getRecordsLimit = int32(n)
	})
}

// WithGetRecordsRate sets how many GetRecords calls per second each shard
// may make. Default: DefaultGetRecordsPerSecond, the Kinesis limit shared
// by all consumers of a shard; lower it when several applications read the
// same stream.
func WithGetRecordsRate(perSecond float64) ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) {
		if !(perSecond > 0) {
			c.setErr(fmt.Errorf("kinesis: GetRecords rate %v must be positive", perSecond))
			return
		}
		c.getRecordsRate = perSecond
	})
}

// WithIdleWait sets the pause before polling a shard again once it is
// caught up (GetRecords returned no records and MillisBehindLatest 0).
// Default: DefaultIdleWait.
func WithIdleWait(d time.Duration) ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) {
		if d < 0 {
			c.setErr(fmt.Errorf("kinesis: negative idle wait %v", d))
			return
		}
		c.idleWait = d
	})
}

// WithShardSyncInterval sets how often ListShards is called to discover
// shards created by a split or merge. Default: DefaultShardSyncInterval.
// Children announced by GetRecords (ChildShards) are found at once.
func WithShardSyncInterval(d time.Duration) ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) {
		if d <= 0 {
			c.setErr(fmt.Errorf("kinesis: shard sync interval %v must be positive", d))
			return
		}
		c.shardSync = d
	})
}

// WithMaxShards limits how many shards are read at once. Default:
// DefaultMaxShards (no limit). Shards beyond the limit wait until a running
// one ends, so with fewer slots than open shards some shards are not read:
// use it to bound a consumer of a stream that resharded, not to share
// open shards between workers. With WithLeases, the worker holds at most n
// leases, and the other workers read the shards beyond them.
func WithMaxShards(n int) ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) {
		if n < 0 {
			c.setErr(fmt.Errorf("kinesis: negative max shards %d", n))
			return
		}
		c.maxShards = n
	})
}

// WithMaxPendingAcks sets how many records of one shard may wait for their
// acknowledgement (Defer) at once: once n are pending, reading the shard
// pauses until one is acknowledged. Default: DefaultMaxPendingAcks. Each
// pending record costs about 120 bytes (its position with its sequence
// number, and the 16-byte Ack value the handler keeps), so the default
// bounds this at about 12 MB per shard, besides whatever the
// handler itself keeps (a copy of Record.Data, the event). A handler that
// waits for more records of the same shard before acknowledging earlier
// ones (a sink filling a file) must flush at n pending records, or on a
// timer: the shard does not read further until it does.
func WithMaxPendingAcks(n int) ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) {
		if n < 1 {
			c.setErr(fmt.Errorf("kinesis: max pending acks %d must be at least 1", n))
			return
		}
		c.maxPendingAcks = n
	})
}

// WithShutdownTimeout bounds how long Run, after its context is done,
// waits for in-flight handlers, pending acknowledgements (Defer: they get
// three quarters of it) and final checkpoint writes. Default:
// DefaultShutdownTimeout.
func WithShutdownTimeout(d time.Duration) ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) {
		if d <= 0 {
			c.setErr(fmt.Errorf("kinesis: shutdown timeout %v must be positive", d))
			return
		}
		c.shutdownTimeout = d
	})
}

// MinLeaseDuration is the shortest Leases.Duration accepted.
const MinLeaseDuration = 30 * time.Millisecond

// Leases configures a worker that shares a stream with others
// (WithLeases).
type Leases struct {
	// WorkerID names this worker in the leases; it must be unique among
	// the running workers (two live workers with one id would both read
	// the shards leased to it). A worker restarted with the id it had
	// resumes the leases still written to it at once, without waiting for
	// them to expire: give a stable id (a pod or host name) only to a
	// worker whose previous incarnation is surely gone. Empty: the host
	// name, the process id and a random suffix.
	WorkerID string
	// Duration is how long an unrenewed lease stays with its worker.
	// Shorter moves a dead worker's shards sooner and costs more lease
	// writes (three per held shard per duration, plus one query per worker
	// every third of it). All workers of a stream should use the same
	// duration. 0 means DefaultLeaseDuration; otherwise at least
	// MinLeaseDuration.
	Duration time.Duration
}

// WithLeases makes the consumer one worker of several sharing the stream:
// each shard is read by one worker at a time, and the workers balance the
// shards among themselves through leases kept in the checkpoint store,
// which must be a LeaseStore (dynamodbstore.Store for workers in
// different processes; MemoryStore for workers in one process).
// Workers share a stream when they use the same store, table and
// application name (dynamodbstore.WithApplication). Without WithLeases a
// consumer reads every shard. See Leases for the settings.
//
// How it works: every third of the lease duration, a worker lists the
// leases with one query, renews its own, and takes free leases, and leases
// whose counter has not moved for the lease duration (their worker died),
// until it holds its share: the ready shards (not ended, parents ended)
// divided by the live workers, rounded up (at most WithMaxShards). Beyond
// its share, it takes only leases that no worker took for two lease
// durations (the others are at their WithMaxShards cap). A worker below its
// share asks the worker with the most shards to hand one over; that worker
// stops reading the shard, lets the handler in flight finish, saves the
// checkpoint and passes the lease on, so a handoff neither overlaps nor
// replays records. A worker that cannot renew a lease for two thirds of
// the lease duration stops reading that shard (on a timer of its own,
// however busy the worker) before another worker may take it. When Run
// returns, the worker releases its leases after its final checkpoints, so
// the others take them at once.
//
// A worker that dies (SIGKILL, a lost machine) leaves its shards unread
// for up to the lease duration; another worker then resumes them from
// their last checkpoint, handling the records after it again (at least
// once). One worker's handler may still be running when its lease expires
// only if it runs longer than a third of the lease duration past a missed
// renewal; keep handlers shorter than that, or the lease duration longer.
//
// A reader stores its start position as the shard's checkpoint before it
// reads (see WithStartPosition), so a shard that changes hands before its
// first record was processed resumes where its first reader started, with
// StartLatest too.
func WithLeases(l Leases) ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) {
		if l.Duration != 0 && l.Duration < MinLeaseDuration {
			c.setErr(fmt.Errorf("kinesis: lease duration %v is too short (0 for the default, or at least %v)", l.Duration, MinLeaseDuration))
			return
		}
		c.leases, c.workerID, c.leaseDuration = true, l.WorkerID, l.Duration
	})
}

// defaultWorkerID is the host name, the process id and a random suffix.
func defaultWorkerID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "worker"
	}
	return fmt.Sprintf("%s-%d-%08x", host, os.Getpid(), rand.Uint32())
}
