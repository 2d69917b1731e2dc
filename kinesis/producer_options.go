package kinesis

import (
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"

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
	// DefaultMaxBatchRecords is the most entries in one PutRecords request
	// (the service limit, WithBatchLimits).
	DefaultMaxBatchRecords = 500
	// DefaultMaxBatchBytes is the most bytes (data plus partition keys) in
	// one PutRecords request (the service limit, WithBatchLimits).
	DefaultMaxBatchBytes = 5 << 20
	// DefaultMaxRecordBytes is the largest record, data plus partition key
	// (the service limit; WithBatchLimits raises it for streams with large
	// records enabled).
	DefaultMaxRecordBytes = 1 << 20
	// DefaultAggregation is whether records are packed in the KPL
	// aggregated format (WithAggregation). Off by default, so any consumer
	// can read the stream; rtds's Consumer deaggregates either way.
	DefaultAggregation = false
	// DefaultMaxAggregateBytes is the largest aggregated Kinesis record
	// (WithAggregation); the KPL's AggregationMaxSize.
	DefaultMaxAggregateBytes = 51200
	// DefaultMaxAggregateRecords is the most user records in one aggregated
	// Kinesis record (WithAggregation).
	DefaultMaxAggregateRecords = 4096
	// DefaultMaxInFlight is the most PutRecords requests in flight at once
	// (WithMaxInFlight).
	DefaultMaxInFlight = 8
	// DefaultRecordTTL is how long a record may stay undelivered, counting
	// retries, before it is reported failed with ErrRecordExpired
	// (WithRecordTTL); the KPL's RecordTtl.
	DefaultRecordTTL = 30 * time.Second
	// DefaultMaxAttempts is the most PutRecords attempts per record
	// (WithMaxAttempts); 0 means no limit other than the record TTL.
	DefaultMaxAttempts = 0
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

	// DefaultRetryInitialInterval, DefaultRetryMaxInterval,
	// DefaultRetryMultiplier and DefaultRetryJitter describe the default
	// retry policy: exponential backoff with jitter (WithBackoff).
	DefaultRetryInitialInterval = 100 * time.Millisecond
	DefaultRetryMaxInterval     = 5 * time.Second
	DefaultRetryMultiplier      = 2.0
	DefaultRetryJitter          = 0.5
)

// producerConfig is the Producer's configuration.
type producerConfig struct {
	common
	limits          batch.Limits // from maxBatchRecords, maxBatchBytes, maxRecordBytes
	linger          time.Duration
	maxBatchRecords int
	maxBatchBytes   int
	maxRecordBytes  int
	aggregate       bool
	maxAggBytes     int
	maxAggRecords   int
	maxInFlight     int
	ttl             time.Duration
	maxAttempts     int
	bufferBytes     int
	ordering        bool
	refresh         time.Duration
	newBackoff      func() backoff.BackOff
	onResult        func(Result)
	eventKey        func(event.Event) string
}

func defaultProducerConfig() producerConfig {
	return producerConfig{
		linger:          DefaultLinger,
		maxBatchRecords: DefaultMaxBatchRecords,
		maxBatchBytes:   DefaultMaxBatchBytes,
		maxRecordBytes:  DefaultMaxRecordBytes,
		aggregate:       DefaultAggregation,
		maxAggBytes:     DefaultMaxAggregateBytes,
		maxAggRecords:   DefaultMaxAggregateRecords,
		maxInFlight:     DefaultMaxInFlight,
		ttl:             DefaultRecordTTL,
		maxAttempts:     DefaultMaxAttempts,
		bufferBytes:     DefaultBufferBytes,
		ordering:        DefaultOrdering,
		refresh:         DefaultShardRefreshInterval,
		newBackoff:      defaultBackoff,
		eventKey:        PartitionKeyChannel,
	}
}

// defaultBackoff is the default retry policy: exponential, doubling from
// DefaultRetryInitialInterval up to DefaultRetryMaxInterval, each wait
// randomized by ±DefaultRetryJitter, and no elapsed-time limit (the record
// TTL bounds it).
func defaultBackoff() backoff.BackOff {
	return backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(DefaultRetryInitialInterval),
		backoff.WithMaxInterval(DefaultRetryMaxInterval),
		backoff.WithMultiplier(DefaultRetryMultiplier),
		backoff.WithRandomizationFactor(DefaultRetryJitter),
		backoff.WithMaxElapsedTime(0),
	)
}

func (c *producerConfig) validate() error {
	if c.err != nil {
		return c.err
	}
	c.maxAggBytes = min(c.maxAggBytes, c.maxRecordBytes)
	c.limits = batch.Limits{MaxRecordsPerRequest: c.maxBatchRecords, MaxRequestBytes: c.maxBatchBytes, MaxRecordBytes: c.maxRecordBytes}
	if err := c.limits.Check(); err != nil {
		return fmt.Errorf("kinesis: %w", err)
	}
	switch {
	case c.maxBatchRecords < 1:
		return fmt.Errorf("kinesis: batch record limit %d: must be at least 1", c.maxBatchRecords)
	case c.maxRecordBytes < 1:
		return fmt.Errorf("kinesis: record byte limit %d: must be at least 1", c.maxRecordBytes)
	case c.maxBatchBytes < c.maxRecordBytes:
		return fmt.Errorf("kinesis: batch byte limit %d is below the record byte limit %d", c.maxBatchBytes, c.maxRecordBytes)
	case c.aggregate && c.maxAggBytes < 256:
		return fmt.Errorf("kinesis: aggregate byte limit %d: must be at least 256", c.maxAggBytes)
	case c.maxAggRecords < 1:
		return fmt.Errorf("kinesis: aggregate record limit %d: must be at least 1", c.maxAggRecords)
	case c.maxInFlight < 1:
		return fmt.Errorf("kinesis: max in flight %d: must be at least 1", c.maxInFlight)
	case c.ttl <= 0:
		return fmt.Errorf("kinesis: record TTL %v: must be positive", c.ttl)
	case c.maxAttempts < 0:
		return fmt.Errorf("kinesis: max attempts %d: must not be negative", c.maxAttempts)
	case c.bufferBytes < c.maxRecordBytes:
		return fmt.Errorf("kinesis: buffer of %d bytes cannot hold a record of the %d-byte limit", c.bufferBytes, c.maxRecordBytes)
	case c.linger < 0:
		return fmt.Errorf("kinesis: linger %v: must not be negative", c.linger)
	case c.refresh <= 0:
		return fmt.Errorf("kinesis: shard refresh interval %v: must be positive", c.refresh)
	case c.newBackoff == nil:
		return fmt.Errorf("kinesis: nil backoff policy")
	case c.eventKey == nil:
		return fmt.Errorf("kinesis: nil event partition key function")
	}
	if c.aggregate {
		if _, err := c.newAggregator(); err != nil {
			return fmt.Errorf("kinesis: aggregation: %w", err)
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
// and bytes per record (data plus partition key), as in batch.Limits.
// Raise the byte limits only for streams with large records enabled
// (batch.LargeRecordLimits: records and requests up to 10 MiB). A zero
// argument keeps its default: DefaultMaxBatchRecords, DefaultMaxBatchBytes,
// DefaultMaxRecordBytes.
func WithBatchLimits(maxRecords, maxBytes, maxRecordBytes int) ProducerOption {
	return producerOptionFunc(func(c *producerConfig) {
		if maxRecords != 0 {
			c.maxBatchRecords = maxRecords
		}
		if maxBytes != 0 {
			c.maxBatchBytes = maxBytes
		}
		if maxRecordBytes != 0 {
			c.maxRecordBytes = maxRecordBytes
		}
	})
}

// WithAggregation turns KPL aggregation on or off. When on, records bound
// for the same shard (predicted from the shard map) are packed into
// aggregated Kinesis records of up to DefaultMaxAggregateBytes, each routed
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

// WithAggregateLimits sets the largest aggregated record in bytes (at
// least 256; capped at the record byte limit) and the most user records it
// holds. A zero argument keeps its default:
// DefaultMaxAggregateBytes, DefaultMaxAggregateRecords.
func WithAggregateLimits(maxBytes, maxRecords int) ProducerOption {
	return producerOptionFunc(func(c *producerConfig) {
		if maxBytes != 0 {
			c.maxAggBytes = maxBytes
		}
		if maxRecords != 0 {
			c.maxAggRecords = maxRecords
		}
	})
}

// WithMaxInFlight sets the most PutRecords requests in flight at once.
// Default: DefaultMaxInFlight.
func WithMaxInFlight(n int) ProducerOption {
	return producerOptionFunc(func(c *producerConfig) { c.maxInFlight = n })
}

// WithRecordTTL sets how long after Put a record may still be (re)sent.
// A record not delivered by then is reported failed with an error that
// wraps ErrRecordExpired and the last attempt's error. Default:
// DefaultRecordTTL.
func WithRecordTTL(d time.Duration) ProducerOption {
	return producerOptionFunc(func(c *producerConfig) { c.ttl = d })
}

// WithMaxAttempts caps the PutRecords attempts per record; a record that
// still fails is reported failed with the last error. 0 means no cap other
// than the record TTL. Default: DefaultMaxAttempts.
func WithMaxAttempts(n int) ProducerOption {
	return producerOptionFunc(func(c *producerConfig) { c.maxAttempts = n })
}

// WithBackoff sets the retry policy: newBackOff is called once for each
// record (or aggregate) that needs a retry, and its NextBackOff gives the
// wait before each new attempt; backoff.Stop fails the record. Default:
// exponential with jitter, see DefaultRetryInitialInterval.
func WithBackoff(newBackOff func() backoff.BackOff) ProducerOption {
	return producerOptionFunc(func(c *producerConfig) { c.newBackoff = newBackOff })
}

// WithBufferBytes bounds the bytes (data plus partition keys) of records
// put but not yet delivered or failed; Put blocks while the buffer is full.
// It must hold at least one record of the record byte limit. Sending never
// waits for a slow shard, but a shard that cannot keep up with its share of
// Put calls for long eventually fills the buffer, and Put then blocks for
// every key: size the buffer for the bursts you expect. Default:
// DefaultBufferBytes.
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

// WithEventPartitionKey sets how PutEvent chooses an event's partition key.
// Default: PartitionKeyChannel.
func WithEventPartitionKey(fn func(event.Event) string) ProducerOption {
	return producerOptionFunc(func(c *producerConfig) { c.eventKey = fn })
}
