package kinesis

import (
	"time"

	"github.com/rtdskit/rtds/event"
)

// RecordsFetchedMetrics describes one GetRecords answer.
type RecordsFetchedMetrics struct {
	ShardID string
	// Records is the number of Kinesis records (an aggregate counts once).
	Records int
	// Bytes is the records' data size.
	Bytes int
	// MillisBehindLatest is how far the shard's reader is behind the tip.
	MillisBehindLatest int64
	Latency            time.Duration
}

// HandlerDoneMetrics describes one handler call.
type HandlerDoneMetrics struct {
	ShardID string
	// Type is the event type; "" for OnRecord handlers.
	Type    event.Type
	Attempt int // 1 for the first call
	Latency time.Duration
	Err     error
}

// CheckpointMetrics describes one checkpoint write.
type CheckpointMetrics struct {
	ShardID    string
	Checkpoint Checkpoint
	Latency    time.Duration
	Err        error
}

// ThrottledMetrics describes a call Kinesis throttled
// (ProvisionedThroughputExceededException and alike).
type ThrottledMetrics struct {
	ShardID string
	Op      string // "GetRecords", "GetShardIterator" or "ListShards"
	Delay   time.Duration
	Err     error
}

// ShardStartedMetrics describes a shard reader that started.
type ShardStartedMetrics struct {
	ShardID string
	// Checkpoint is where reading resumes; nil when the shard had none and
	// reading starts at the start position.
	Checkpoint *Checkpoint
	Parents    []string
}

// ShardEndedMetrics describes a shard read to its end (closed by a split
// or merge) and checkpointed as ended.
type ShardEndedMetrics struct {
	ShardID  string
	Children []string
}

// IteratorResetMetrics describes a shard iterator acquired again.
type IteratorResetMetrics struct {
	ShardID string
	// Reason is "expired" (ExpiredIteratorException: the reader resumes
	// after the last record it processed) or "trimmed" (the checkpoint
	// points at data the stream no longer holds: reading restarts at
	// TRIM_HORIZON, so records between the checkpoint and the trim
	// horizon were never handled).
	Reason string
	// From is the checkpoint or position the reset started from.
	From Checkpoint
}

// LeaseMetrics describes a change of a shard lease held or wanted by this
// worker (WithLeases).
type LeaseMetrics struct {
	ShardID string
	// Action is one of:
	//   - "taken": this worker took a free or expired lease;
	//   - "requested": this worker asked Peer, which holds more shards, to
	//     hand the shard over;
	//   - "handed-over": this worker stopped reading the shard, saved its
	//     checkpoint and made Peer the owner, as Peer asked;
	//   - "received": Peer handed the shard over to this worker;
	//   - "lost": another worker (Peer, if known) took the lease, or this
	//     worker could not renew it in time; reading the shard stopped;
	//   - "released": this worker gave the lease up (the shard ended, or
	//     Run returned).
	Action string
	// Peer is the other worker involved, if any.
	Peer string
	Err  error
}

// HookLease is called when this worker's leases change (WithLeases).
type HookLease interface {
	OnLease(LeaseMetrics)
}

// HookRecordsFetched is called after every GetRecords answer.
type HookRecordsFetched interface {
	OnRecordsFetched(RecordsFetchedMetrics)
}

// HookHandlerDone is called after every handler call.
type HookHandlerDone interface {
	OnHandlerDone(HandlerDoneMetrics)
}

// HookCheckpoint is called after every checkpoint write.
type HookCheckpoint interface {
	OnCheckpoint(CheckpointMetrics)
}

// HookThrottled is called when Kinesis throttled a consumer call.
type HookThrottled interface {
	OnThrottled(ThrottledMetrics)
}

// HookShardStarted is called when a shard's reader starts.
type HookShardStarted interface {
	OnShardStarted(ShardStartedMetrics)
}

// HookShardEnded is called when a shard was read to its end.
type HookShardEnded interface {
	OnShardEnded(ShardEndedMetrics)
}

// HookDeadLettered is called for every poison record, before the
// dead-letter handler (if any). The DeadLetter's Data is only valid during
// the call.
type HookDeadLettered interface {
	OnDeadLettered(DeadLetter)
}

// HookIteratorReset is called when a shard iterator expired or a
// checkpoint pointed at trimmed data.
type HookIteratorReset interface {
	OnIteratorReset(IteratorResetMetrics)
}

func isConsumerHook(h Hook) bool {
	switch h.(type) {
	case HookRecordsFetched, HookHandlerDone, HookCheckpoint, HookThrottled,
		HookShardStarted, HookShardEnded, HookDeadLettered, HookIteratorReset, HookLease:
		return true
	}
	return false
}

// consumerHooks holds the hooks sorted by interface.
type consumerHooks struct {
	fetched    []HookRecordsFetched
	handler    []HookHandlerDone
	checkpoint []HookCheckpoint
	throttled  []HookThrottled
	started    []HookShardStarted
	ended      []HookShardEnded
	dead       []HookDeadLettered
	reset      []HookIteratorReset
	lease      []HookLease
}

func newConsumerHooks(hs []Hook) consumerHooks {
	var c consumerHooks
	for _, h := range hs {
		if x, ok := h.(HookRecordsFetched); ok {
			c.fetched = append(c.fetched, x)
		}
		if x, ok := h.(HookHandlerDone); ok {
			c.handler = append(c.handler, x)
		}
		if x, ok := h.(HookCheckpoint); ok {
			c.checkpoint = append(c.checkpoint, x)
		}
		if x, ok := h.(HookThrottled); ok {
			c.throttled = append(c.throttled, x)
		}
		if x, ok := h.(HookShardStarted); ok {
			c.started = append(c.started, x)
		}
		if x, ok := h.(HookShardEnded); ok {
			c.ended = append(c.ended, x)
		}
		if x, ok := h.(HookDeadLettered); ok {
			c.dead = append(c.dead, x)
		}
		if x, ok := h.(HookIteratorReset); ok {
			c.reset = append(c.reset, x)
		}
		if x, ok := h.(HookLease); ok {
			c.lease = append(c.lease, x)
		}
	}
	return c
}
