package kinesis

import (
	"context"
	"fmt"
	"time"

	"github.com/rtdskit/rtds/event"
)

// Handle registers fn for events of type E, for example *event.Uninstall:
// fn receives every event whose type is E's EventType. The On<Type>
// functions (OnUninstall, OnOpen, ...) are shorthands for Handle. Events of
// a type no handler is registered for are not fully decoded. Registering a
// second handler for the same type replaces the first. See Consumer for
// the goroutine, ordering and error rules.
func Handle[E event.Event](fn func(context.Context, E) error) ConsumerOption {
	var zero E
	t := zero.EventType()
	return consumerOptionFunc(func(c *consumerConfig) {
		if fn == nil {
			c.setErr(fmt.Errorf("kinesis: nil handler for %s", t))
			return
		}
		if t == "" {
			c.setErr(fmt.Errorf("kinesis: Handle[%T]: not a typed event (use OnUnknown or OnEvent)", zero))
			return
		}
		c.byType[t] = func(ctx context.Context, ev event.Event) error {
			e, ok := ev.(E)
			if !ok {
				return Permanent(fmt.Errorf("kinesis: %s event decoded as %T, not %T", t, ev, zero))
			}
			return fn(ctx, e)
		}
	})
}

// OnEvent registers fn for every event that has no handler of its own:
// neither a Handle/On<Type> handler for its type nor, for types this
// version does not know, OnUnknown. Each event goes to exactly one handler.
// See Consumer for the goroutine, ordering and error rules.
func OnEvent(fn func(ctx context.Context, e event.Event) error) ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) {
		if fn == nil {
			c.setErr(fmt.Errorf("kinesis: nil OnEvent handler"))
			return
		}
		c.onEvent = fn
	})
}

// OnUnknown registers fn for events whose type this version of the event
// package does not know (event.KnownTypes); e.Raw holds the event as
// received. Without it, such events go to OnEvent, if any. See Consumer for
// the goroutine, ordering and error rules.
func OnUnknown(fn func(ctx context.Context, e *event.Unknown) error) ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) {
		if fn == nil {
			c.setErr(fmt.Errorf("kinesis: nil OnUnknown handler"))
			return
		}
		c.onUnknown = fn
	})
}

// Record is one user record: a plain Kinesis record, or one record of a
// KPL aggregate.
type Record struct {
	ShardID        string
	SequenceNumber string
	// SubSequenceNumber is the record's index inside a KPL aggregate; 0
	// for a plain record.
	SubSequenceNumber uint64
	// Aggregated is true for a record that came out of a KPL aggregate.
	Aggregated   bool
	PartitionKey string
	// ExplicitHashKey is the user record's explicit hash key inside an
	// aggregate, if it had one; "" otherwise.
	ExplicitHashKey string
	// ApproximateArrivalTimestamp is when Kinesis received the (aggregate)
	// record.
	ApproximateArrivalTimestamp time.Time
	// Data is the record's payload. It shares memory with the fetched
	// batch: do not modify it, and copy it to keep it.
	Data []byte
}

// OnRecord registers fn for every user record, without decoding it as an
// RTDS event: use it for streams that carry other data, or to get the
// exact bytes. KPL aggregates are still split into their user records. It
// cannot be combined with the event handlers (NewConsumer returns an
// error). See Consumer for the goroutine, ordering and error rules.
func OnRecord(fn func(ctx context.Context, r Record) error) ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) {
		if fn == nil {
			c.setErr(fmt.Errorf("kinesis: nil OnRecord handler"))
			return
		}
		c.onRecord = fn
	})
}

// DeadLetter is a record the consumer gave up on: it could not be decoded
// (bad JSON, a corrupt KPL aggregate, a missing id) or its handler kept
// failing. Err says why; errors.As finds an *event.DecodeError, a
// *batch.DeaggregationError or the handler's error.
type DeadLetter struct {
	Record
	// Type is the event type, "" when it could not be read.
	Type event.Type
	// Attempts is how many times the handler was called; 0 for records
	// that could not be decoded.
	Attempts int
	Err      error
}

// WithDeadLetter registers fn for poison records: records that cannot be
// decoded and records whose handler failed after the retry policy
// (WithHandlerRetry) or with a Permanent error. Once fn returns nil the
// record is checkpointed and the shard moves on; if fn returns an error it
// is retried with backoff until it succeeds or Run stops, because skipping
// the record silently is never an option. fn is called on the shard's
// goroutine, like the handlers.
//
// Default, when no dead-letter handler is set: the record is logged at
// Error (shard, sequence and sub-sequence number, type, error; never the
// payload), counted in Stats().DeadLettered, reported to HookDeadLettered
// hooks, and skipped.
func WithDeadLetter(fn func(ctx context.Context, d DeadLetter) error) ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) {
		if fn == nil {
			c.setErr(fmt.Errorf("kinesis: nil dead-letter handler"))
			return
		}
		c.deadLetter = fn
	})
}
