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

// Operation names a read-side call in ReadThrottleMetrics.
type Operation string

// The read-side calls of a Consumer. The values are the strings logs show.
const (
	OpListShards       Operation = "ListShards"
	OpGetShardIterator Operation = "GetShardIterator"
	OpGetRecords       Operation = "GetRecords"
	OpCheckpointLoad   Operation = "checkpoint load"
	OpCheckpointSave   Operation = "checkpoint"
	OpListLeases       Operation = "ListLeases"
	OpUpdateLease      Operation = "UpdateLease"
	// Enhanced fan-out (WithEnhancedFanOut): the stream consumer's
	// registration (DescribeStreamSummary, DescribeStreamConsumer,
	// RegisterStreamConsumer) and the subscriptions.
	OpRegisterStreamConsumer Operation = "RegisterStreamConsumer"
	OpSubscribeToShard       Operation = "SubscribeToShard"
)

// ReadThrottleMetrics describes a read-side call that was throttled
// (ProvisionedThroughputExceededException and alike): a Kinesis call or a
// checkpoint or lease store call. It is the consumer's counterpart of
// PutThrottleMetrics.
type ReadThrottleMetrics struct {
	ShardID string // "" for calls of the whole stream (ListShards, ListLeases)
	Op      Operation
	Delay   time.Duration // before the call is retried
	Err     error
}

// ShardStartedMetrics describes a shard reader that started.
type ShardStartedMetrics struct {
	ShardID string
	// Checkpoint is where reading resumes: the last record processed, or
	// the start time (Timestamp) a previous reader stored; nil when the
	// shard had none and reading starts at the start position.
	Checkpoint *Checkpoint
	Parents    []string
}

// ShardEndedMetrics describes a shard read to its end (closed by a split
// or merge) and checkpointed as ended.
type ShardEndedMetrics struct {
	ShardID  string
	Children []string
}

// ResetReason is why a shard iterator was acquired again.
type ResetReason string

const (
	// ResetExpired: ExpiredIteratorException; the reader resumes after the
	// last record it processed.
	ResetExpired ResetReason = "expired"
	// ResetTrimmed: the checkpoint points at data the stream no longer
	// holds; reading restarts at TRIM_HORIZON, so records between the
	// checkpoint and the trim horizon were never handled.
	ResetTrimmed ResetReason = "trimmed"
)

// IteratorResetMetrics describes a shard iterator acquired again.
type IteratorResetMetrics struct {
	ShardID string
	Reason  ResetReason
	// From is the checkpoint or position the reset started from.
	From Checkpoint
}

// LeaseAction is what happened to a lease in LeaseMetrics.
type LeaseAction string

const (
	// LeaseTaken: this worker took a free or expired lease.
	LeaseTaken LeaseAction = "taken"
	// LeaseRequested: this worker asked Peer, which holds more shards, to
	// hand the shard over.
	LeaseRequested LeaseAction = "requested"
	// LeaseHandedOver: this worker stopped reading the shard, saved its
	// checkpoint and made Peer the owner, as Peer asked.
	LeaseHandedOver LeaseAction = "handed-over"
	// LeaseReceived: Peer handed the shard over to this worker.
	LeaseReceived LeaseAction = "received"
	// LeaseLost: another worker (Peer, if known) took the lease, or this
	// worker could not renew it in time; reading the shard stopped.
	LeaseLost LeaseAction = "lost"
	// LeaseReleased: this worker gave the lease up (the shard ended, or
	// Run returned).
	LeaseReleased LeaseAction = "released"
)

// LeaseMetrics describes a change of a shard lease held or wanted by this
// worker (WithLeases).
type LeaseMetrics struct {
	ShardID string
	Action  LeaseAction
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

// HookReadThrottled is called when a read-side call (see Operation) was
// throttled, before it is retried. It is the consumer's counterpart of
// HookPutThrottled.
type HookReadThrottled interface {
	OnReadThrottled(ReadThrottleMetrics)
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

// SchemaDriftMetrics describes an event that differs from what this
// version of the event package models (see event.AppendDrift): an unknown
// type, or members kept in its Extra maps.
type SchemaDriftMetrics struct {
	ShardID string
	Type    event.Type
	// Drift lists the differences, sorted by path; for an unknown type it
	// is the single event.DriftUnknownType entry (the event is not
	// decoded). The slice and its values are only valid during the call.
	Drift []event.Drift
}

// HookSchemaDrift is called for every event with drift: an event of a
// type this version does not know (whether or not a handler takes it), or
// a decoded event with members this version does not model. Events
// without drift cost a few nil checks and no allocation. Only events the
// dispatcher decodes are examined: with OnRecord handlers none are, and
// events of a type no handler takes are not decoded.
type HookSchemaDrift interface {
	OnSchemaDrift(SchemaDriftMetrics)
}

// HookIteratorReset is called when a shard iterator expired or a
// checkpoint pointed at trimmed data.
type HookIteratorReset interface {
	OnIteratorReset(IteratorResetMetrics)
}

func isConsumerHook(h Hook) bool {
	switch h.(type) {
	case HookRecordsFetched, HookHandlerDone, HookCheckpoint, HookReadThrottled,
		HookShardStarted, HookShardEnded, HookDeadLettered, HookIteratorReset, HookLease, HookSchemaDrift:
		return true
	}
	return false
}

// consumerHooks holds the hooks sorted by interface.
type consumerHooks struct {
	fetched    []HookRecordsFetched
	handler    []HookHandlerDone
	checkpoint []HookCheckpoint
	throttled  []HookReadThrottled
	started    []HookShardStarted
	ended      []HookShardEnded
	dead       []HookDeadLettered
	reset      []HookIteratorReset
	lease      []HookLease
	drift      []HookSchemaDrift
}

func newConsumerHooks(hs []Hook) consumerHooks {
	return consumerHooks{
		fetched:    hooksOf[HookRecordsFetched](hs),
		handler:    hooksOf[HookHandlerDone](hs),
		checkpoint: hooksOf[HookCheckpoint](hs),
		throttled:  hooksOf[HookReadThrottled](hs),
		started:    hooksOf[HookShardStarted](hs),
		ended:      hooksOf[HookShardEnded](hs),
		dead:       hooksOf[HookDeadLettered](hs),
		reset:      hooksOf[HookIteratorReset](hs),
		lease:      hooksOf[HookLease](hs),
		drift:      hooksOf[HookSchemaDrift](hs),
	}
}

// readThrottled reports a throttled read-side call to the hooks.
func (h *consumerHooks) readThrottled(m ReadThrottleMetrics) {
	for _, x := range h.throttled {
		x.OnReadThrottled(m)
	}
}
