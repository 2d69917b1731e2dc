package kinesis

import (
	"fmt"
	"time"

	"github.com/rtdskit/rtds/batch"
	"github.com/rtdskit/rtds/event"
)

// Producer defaults. Each is the value used when the matching option is not
// given.
const (
	// DefaultLinger is how long a record may wait in the buffer for more
	// records to share its PutRecords request (WithLinger). It matches the
	// KPL's RecordMaxBufferedTime.
	DefaultLinger = 100 * time.Millisecond
	// DefaultAggregation is whether records are packed in the KPL
	// aggregated format (WithAggregation). Off by default, so any consumer
	// can read the stream; rtds's Consumer deaggregates either way.
	DefaultAggregation = false
	// DefaultMaxInFlight is the most PutRecords requests in flight at once
	// (WithMaxInFlight).
	DefaultMaxInFlight = 8
	// DefaultRecordTTL is how long a record may stay undelivered, counting
	// retries, before it is reported failed with ErrRecordExpired
	// (WithRecordTTL); the KPL's RecordTtl.
	DefaultRecordTTL = 30 * time.Second
	// DefaultBufferBytes bounds the memory held by records that were Put but
	// are not yet delivered or failed (WithBufferBytes). Put blocks while the
	// buffer is full.
	DefaultBufferBytes = 64 << 20
	// DefaultOrdering is whether same-key records are kept in Put order
	// across retries (WithOrdering).
	DefaultOrdering = false
	// DefaultShardRefreshInterval is how often the shard map is re-read
	// with ListShards even when nothing suggests a reshard
	// (WithShardRefreshInterval).
	DefaultShardRefreshInterval = time.Minute
)

// AggregateLimits bound the KPL aggregated records the producer builds with
// WithAggregation (WithAggregateLimits). Start from DefaultAggregateLimits.
type AggregateLimits struct {
	// MaxBytes is the largest aggregated Kinesis record, its partition key
	// included: at least 256. An aggregate is also never larger than the
	// record limit (WithBatchLimits' MaxRecordBytes), whichever is lower.
	MaxBytes int
	// MaxRecords is the most user records in one aggregated record: at
	// least 1.
	MaxRecords int
}

// DefaultAggregateLimits are the aggregate limits used when
// WithAggregateLimits is not given: 51,200 bytes (the KPL's
// AggregationMaxSize) and 4,096 records.
var DefaultAggregateLimits = AggregateLimits{MaxBytes: batch.DefaultMaxAggregateBytes, MaxRecords: 4096}

// minAggregateBytes is the smallest AggregateLimits.MaxBytes: room for the
// aggregate's header, trailer and a small record.
const minAggregateBytes = 256

func (l AggregateLimits) validate() error {
	switch {
	case l.MaxBytes < minAggregateBytes:
		return fmt.Errorf("kinesis: WithAggregateLimits: MaxBytes %d is below %d", l.MaxBytes, minAggregateBytes)
	case l.MaxRecords < 1:
		return fmt.Errorf("kinesis: WithAggregateLimits: MaxRecords %d is below 1", l.MaxRecords)
	}
	return nil
}

// producerConfig is the Producer's configuration. The int fields below
// limits and agg copy them for the dispatcher's hot path.
type producerConfig struct {
	common
	limits          batch.Limits
	agg             AggregateLimits
	linger          time.Duration
	maxBatchRecords int // limits.MaxRecordsPerRequest
	maxBatchBytes   int // limits.MaxRequestBytes
	maxRecordBytes  int // limits.MaxRecordBytes
	aggregate       bool
	maxAggBytes     int // min(agg.MaxBytes, limits.MaxRecordBytes)
	maxAggRecords   int // agg.MaxRecords
	maxInFlight     int
	ttl             time.Duration
	retry           Retry
	bufferBytes     int
	ordering        bool
	refresh         time.Duration
	onResult        func(Result)
	eventKey        func(event.Event) string
	rawEventKey     func(event.Keys) string // eventKey on event.PeekKeys's result; nil for a custom eventKey
}

func defaultProducerConfig() producerConfig {
	return producerConfig{
		limits:      batch.DefaultLimits(),
		agg:         DefaultAggregateLimits,
		linger:      DefaultLinger,
		aggregate:   DefaultAggregation,
		maxInFlight: DefaultMaxInFlight,
		ttl:         DefaultRecordTTL,
		retry:       DefaultPutRetry,
		bufferBytes: DefaultBufferBytes,
		ordering:    DefaultOrdering,
		refresh:     DefaultShardRefreshInterval,
		eventKey:    PartitionKeyChannel,
	}
}

func (c *producerConfig) validate() error {
	if c.err != nil {
		return c.err
	}
	if err := c.limits.Check(); err != nil {
		return errorf("WithBatchLimits: %w", err)
	}
	if err := c.agg.validate(); err != nil {
		return err
	}
	if err := c.retry.validate("WithPutRetry"); err != nil {
		return err
	}
	c.maxBatchRecords = c.limits.MaxRecordsPerRequest
	c.maxBatchBytes = c.limits.MaxRequestBytes
	c.maxRecordBytes = c.limits.MaxRecordBytes
	c.maxAggBytes = min(c.agg.MaxBytes, c.maxRecordBytes)
	c.maxAggRecords = c.agg.MaxRecords
	switch {
	case c.aggregate && c.maxAggBytes < minAggregateBytes:
		return fmt.Errorf("kinesis: aggregates of at most %d bytes (the record limit) are below %d", c.maxAggBytes, minAggregateBytes)
	case c.maxInFlight < 1:
		return fmt.Errorf("kinesis: max in flight %d: must be at least 1", c.maxInFlight)
	case c.ttl <= 0:
		return fmt.Errorf("kinesis: record TTL %v: must be positive", c.ttl)
	case c.bufferBytes < c.maxRecordBytes:
		return fmt.Errorf("kinesis: buffer of %d bytes cannot hold a record of the %d-byte limit", c.bufferBytes, c.maxRecordBytes)
	case c.linger < 0:
		return fmt.Errorf("kinesis: linger %v: must not be negative", c.linger)
	case c.refresh <= 0:
		return fmt.Errorf("kinesis: shard refresh interval %v: must be positive", c.refresh)
	case c.eventKey == nil:
		return fmt.Errorf("kinesis: nil event partition key function")
	}
	c.rawEventKey = rawEventKey(c.eventKey)
	if c.aggregate {
		if _, err := c.newAggregator(); err != nil {
			return errorf("aggregation: %w", err)
		}
	}
	return nil
}

// newAggregator returns the batch.Aggregator that encodes aggregates. Its
// size limit is the record limit: the dispatcher sizes each aggregate
// (within maxAggBytes) before encoding it.
func (c *producerConfig) newAggregator() (*batch.Aggregator, error) {
	return batch.NewAggregator(batch.WithRecordLimits(c.limits), batch.WithMaxAggregateBytes(c.maxRecordBytes))
}

// WithLinger sets how long a record may wait for more records to share its
// PutRecords request. Longer lingers make fewer, fuller requests; 0 sends
// as soon as a request slot is free. Flush and Close send at once
// regardless. Default: DefaultLinger.
func WithLinger(d time.Duration) ProducerOption {
	return producerOptionFunc(func(c *producerConfig) { c.linger = d })
}

// WithBatchLimits sets the service limits the producer packs requests
// within: entries per PutRecords request (at most 500), bytes per request
// and bytes per record (data plus partition key). Start from
// batch.DefaultLimits() and change fields, or use batch.LargeRecordLimits()
// for a stream with large records enabled (records and requests up to
// 10 MiB). NewProducer reports invalid limits (batch.Limits.Check).
// Default: batch.DefaultLimits().
func WithBatchLimits(l batch.Limits) ProducerOption {
	return producerOptionFunc(func(c *producerConfig) { c.limits = l })
}

// WithAggregation turns KPL aggregation on or off. When on, records bound
// for the same shard (predicted from the shard map) are packed into
// aggregated Kinesis records within WithAggregateLimits, each routed
// to its shard by an explicit hash key; every user record keeps its own
// partition key. Consumers must deaggregate (rtds's Consumer, the KCL and
// Lambda with the KPL deaggregation library do). A record too large to
// share an aggregate is sent on its own. An aggregate built just before a
// reshard can land on a child shard that does not own all its records'
// keys; rtds's Consumer delivers them anyway (the KCL drops such records).
// Default: DefaultAggregation.
func WithAggregation(on bool) ProducerOption {
	return producerOptionFunc(func(c *producerConfig) { c.aggregate = on })
}

// WithAggregateLimits sets the size of the aggregated records built with
// WithAggregation: start from DefaultAggregateLimits and change fields.
// NewProducer reports invalid limits. Default: DefaultAggregateLimits.
//
// Larger aggregates, up to the 1 MiB record limit, do not cost less CPU:
// an aggregate's MD5 trailer covers every byte whatever its size, and the
// producer computes the MD5s of a request's aggregates side by side (up
// to eight at once on amd64 with AVX2), which needs several aggregates per
// request. BenchmarkProducerPut measured 1 KiB records with MaxBytes of
// 256 KiB or 1 MiB at the default's CPU per record or more, in one run
// (before aggregates were hashed side by side, they saved about 10%).
// What larger aggregates cost: an aggregate is one Kinesis record, so a
// throttled or failed entry retries all its user records at once, and a
// 1 MiB aggregate takes a whole second of its shard's 1 MiB/s, so it is
// throttled whenever anything else wrote to the shard in that second (the
// producer caps an aggregate at what a throttled shard's rate allows, so
// it shrinks back while its shard throttles). A consumer receives the
// records in larger units (the KCL and Lambda batch sizes count Kinesis
// records, and a Lambda invocation's payload is bounded in bytes).
// Delivery stays at least once either way: a PutRecords answer that is
// lost rewrites the whole request, whatever the aggregate size.
func WithAggregateLimits(l AggregateLimits) ProducerOption {
	return producerOptionFunc(func(c *producerConfig) { c.agg = l })
}

// WithMaxInFlight sets the most PutRecords requests in flight at once.
// Default: DefaultMaxInFlight.
func WithMaxInFlight(n int) ProducerOption {
	return producerOptionFunc(func(c *producerConfig) { c.maxInFlight = n })
}

// WithRecordTTL sets how long after Put a record may still be (re)sent.
// A record not delivered by then is reported failed with an error that
// wraps ErrRecordExpired and the last attempt's error. A TTL of
// math.MaxInt64 means none: records are retried until delivered (or the
// retry policy's MaxAttempts, or Close, gives up), and Put waits only for
// WithBufferBytes. Default: DefaultRecordTTL.
//
// The TTL bounds delivery, not buffering: Put admits a record only when
// its shard's backlog (its records put and not yet delivered or failed,
// this one included) can be sent within half the TTL at the rate the shard
// currently accepts, the most it delivered in one second of the last ten
// (at least 64 records of 1 KiB a second), within its limit once it
// throttled; otherwise Put waits (or returns ctx's error). The other half
// is left for retries. So a record expires only when its shard's rate
// drops by more than half within a TTL, or the stream stops accepting for
// about half the TTL (an outage), not because the buffer is deeper than a
// throttled rate can send: the reliability suite puts 20,000 events into a
// 2-shard stream whose calls are 10% throttled and whose other entries are
// 10% throttled, at random, and every event is delivered with the default
// TTL.
func WithRecordTTL(d time.Duration) ProducerOption {
	return producerOptionFunc(func(c *producerConfig) { c.ttl = d })
}

// WithPutRetry sets the retry policy of failed PutRecords entries and
// calls: each record (or aggregate) that fails with a retryable error
// waits r's backoff before its next attempt, and fails once r.MaxAttempts
// attempts were made or its TTL (WithRecordTTL) would pass before the next
// one. A throttled record waits at most 500 ms, whatever the backoff: its
// shard's rate limit paces it. This is the only retry layer: the SDK makes
// one attempt per PutRecords call (see Producer). Start from
// DefaultPutRetry and change fields; NewProducer reports an invalid
// policy. Default: DefaultPutRetry (no attempt limit other than the TTL).
func WithPutRetry(r Retry) ProducerOption {
	return producerOptionFunc(func(c *producerConfig) { c.retry = r })
}

// WithBufferBytes bounds the bytes (data plus partition keys) of records
// put but not yet delivered or failed; Put blocks while the buffer is full.
// It must hold at least one record of the record byte limit. Each shard's
// share is also bounded by what it sends within half the TTL (see
// WithRecordTTL), so a slow shard makes Put wait for its own keys before
// it fills the buffer for every key. Default: DefaultBufferBytes.
func WithBufferBytes(n int) ProducerOption {
	return producerOptionFunc(func(c *producerConfig) { c.bufferBytes = n })
}

// WithOrdering guarantees, when on, that records with the same partition
// key are written in Put order even when some attempts fail and are
// retried.
//
// The cost: at most one PutRecords request per shard is in flight at a
// time, and one request carries at most one entry per partition key
// (without aggregation) or one aggregate per shard (with aggregation). A
// shard's throughput is then bounded by one request per round trip, and
// one throttled record holds back its whole shard until it is retried.
// Other shards are not held back. Default: DefaultOrdering.
//
// The guarantee holds through splits and merges. When the producer
// learns of a new shard map, a new shard sends nothing until every shard
// of the earlier map whose hash keys it takes over (its parents) has no
// record in flight or awaiting a retry. Those older records are still
// written to the shard that now owns their key, since Kinesis routes by
// hash key, so each key's records reach the stream in Put order.
//
// With aggregation, an aggregate of a closed shard that is retried is
// first split into one aggregate per shard now owning its records' keys.
// An aggregate sent before the producer learns of a split (it re-reads the
// map when an answer names an unexpected shard, at most once a second)
// still goes whole to one child, with records of keys that now belong to
// its sibling; those keys stay in Put order in the stream, but a consumer
// reading both children at once may handle some newer records of such a
// key first. Without aggregation every record goes to its own key's shard.
func WithOrdering(on bool) ProducerOption {
	return producerOptionFunc(func(c *producerConfig) { c.ordering = on })
}

// WithShardRefreshInterval sets how often the shard map is re-read with
// ListShards. The map is also re-read as soon as a record lands on a shard
// other than the predicted one. Default: DefaultShardRefreshInterval.
func WithShardRefreshInterval(d time.Duration) ProducerOption {
	return producerOptionFunc(func(c *producerConfig) { c.refresh = d })
}

// WithResultHandler sets fn to receive the outcome of every record: once
// per record, delivered (with shard id and sequence number) or failed (with
// the cause). It is called from the producer's goroutines, possibly
// concurrently, after the PutRecords answer is processed and before Flush
// or Close returns for that record. It must be fast, and must not call
// Put, PutEvent, Flush or Close: they may wait for the very outcomes being
// reported, which deadlocks. Default: nil, which only counts
// outcomes (Stats) and logs failures at Warn.
func WithResultHandler(fn func(Result)) ProducerOption {
	return producerOptionFunc(func(c *producerConfig) { c.onResult = fn })
}

// WithEventPartitionKey sets how PutEvent and PutEventJSON choose an
// event's partition key. PutEventJSON finds the keys of the built-in
// functions (PartitionKeyChannel, PartitionKeyNamedUser,
// PartitionKeyEventID) without decoding the event, and decodes it for any
// other function. Default: PartitionKeyChannel.
func WithEventPartitionKey(fn func(event.Event) string) ProducerOption {
	return producerOptionFunc(func(c *producerConfig) { c.eventKey = fn })
}
