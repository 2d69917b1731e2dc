package kinesis

import "time"

// PutBatchMetrics describes one PutRecords request and its answer.
type PutBatchMetrics struct {
	// Records is the number of user records (Put calls) in the request;
	// with aggregation it exceeds KinesisRecords.
	Records int
	// KinesisRecords is the number of PutRecords entries.
	KinesisRecords int
	// Bytes is the request's data plus partition keys.
	Bytes int
	// Failed is the number of entries that failed (retried or not); when
	// the whole call failed it equals KinesisRecords.
	Failed int
	// Delivered is the number of user records the call delivered.
	Delivered int
	// Latency is the PutRecords call's duration (one SDK attempt).
	Latency time.Duration
	// Err is the call's error, nil when the call returned an answer
	// (possibly with failed entries).
	Err error
	// Shards breaks the request down by predicted shard. The slice is only
	// valid during the hook call.
	Shards []ShardBatchMetrics
}

// ShardBatchMetrics is one shard's share of a PutRecords request.
type ShardBatchMetrics struct {
	ShardID        string // predicted shard; "" when the shard map is unknown
	Records        int
	KinesisRecords int
	Bytes          int
}

// PutRetryMetrics describes records scheduled for another attempt.
type PutRetryMetrics struct {
	ShardID string // predicted shard
	Records int    // user records
	Attempt int    // attempts made so far
	Delay   time.Duration
	Err     error // why the last attempt failed
}

// PutFailureMetrics describes records reported failed.
type PutFailureMetrics struct {
	ShardID string
	Records int
	Err     error
}

// PutThrottleMetrics describes a shard that throttled writes and the rate
// the producer now allows it.
type PutThrottleMetrics struct {
	ShardID string
	// Rate is the new limit in bytes per second (a record costs at least
	// 1 KiB, mirroring the 1,000 records/s and 1 MiB/s shard limits).
	Rate float64
}

// BufferMetrics is the state of the producer's buffer.
type BufferMetrics struct {
	Records  int // records put and not yet delivered or failed
	Bytes    int // their data plus partition keys
	Capacity int // WithBufferBytes
}

// HookPutBatch is called after every PutRecords call.
type HookPutBatch interface {
	OnPutBatch(PutBatchMetrics)
}

// HookPutRetried is called when records are scheduled for a retry.
type HookPutRetried interface {
	OnPutRetried(PutRetryMetrics)
}

// HookPutFailed is called when records are reported failed.
type HookPutFailed interface {
	OnPutFailed(PutFailureMetrics)
}

// HookPutThrottled is called when a shard throttled and its rate was
// lowered.
type HookPutThrottled interface {
	OnPutThrottled(PutThrottleMetrics)
}

// HookPutBuffer is called with the buffer depth each time the producer's
// dispatch loop runs (when records are put into an empty buffer, requests
// complete, a linger or retry wait ends), in order, and once more when
// Close has stopped the producer, with its final state.
type HookPutBuffer interface {
	OnPutBuffer(BufferMetrics)
}

func isProducerHook(h Hook) bool {
	switch h.(type) {
	case HookPutBatch, HookPutRetried, HookPutFailed, HookPutThrottled, HookPutBuffer:
		return true
	}
	return false
}

// producerHooks holds the hooks sorted by interface, so the hot path does
// no type assertions.
type producerHooks struct {
	batch    []HookPutBatch
	retried  []HookPutRetried
	failed   []HookPutFailed
	throttle []HookPutThrottled
	buffer   []HookPutBuffer
}

func newProducerHooks(hs []Hook) producerHooks {
	return producerHooks{
		batch:    hooksOf[HookPutBatch](hs),
		retried:  hooksOf[HookPutRetried](hs),
		failed:   hooksOf[HookPutFailed](hs),
		throttle: hooksOf[HookPutThrottled](hs),
		buffer:   hooksOf[HookPutBuffer](hs),
	}
}
