package kinesis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rtdskit/rtds/event"
)

// HandlerOption configures a handler set: the handlers (Handle, the
// On<Type> functions, OnEvent, OnUnknown, OnRecord), what happens to
// records they fail on (WithDeadLetter, WithHandlerRetry), deduplication
// (WithDeduplication), and the common options (WithLogger, WithHooks).
// NewDispatcher takes HandlerOptions; every HandlerOption is also a
// ConsumerOption, so the same options configure a Consumer, which
// dispatches through a Dispatcher built from them. Options are sealed:
// only this package creates them.
type HandlerOption interface {
	ConsumerOption
	applyHandler(*handlerConfig)
}

// handlerConfig is a Dispatcher's configuration; consumerConfig embeds it.
type handlerConfig struct {
	common

	handlerRetry   Retry
	dedupeCapacity int
	dedupeTTL      time.Duration

	byType     map[event.Type]eventHandler
	onEvent    eventHandler
	onUnknown  func(context.Context, *event.Unknown) error
	onRecord   func(context.Context, Record) error
	deadLetter func(context.Context, DeadLetter) error
}

// eventHandler is a registered handler, typed handlers wrapped to take any
// event.
type eventHandler func(context.Context, event.Event) error

func defaultHandlerConfig() handlerConfig {
	return handlerConfig{
		handlerRetry: DefaultHandlerRetry,
		byType:       map[event.Type]eventHandler{},
	}
}

// validate checks the handler set; it does not look at the other options'
// error (c.err), which the caller reports first.
func (c *handlerConfig) validate() error {
	if c.onRecord != nil && (len(c.byType) > 0 || c.onEvent != nil || c.onUnknown != nil) {
		return errors.New("kinesis: OnRecord cannot be combined with event handlers")
	}
	if c.onRecord == nil && len(c.byType) == 0 && c.onEvent == nil && c.onUnknown == nil {
		return errors.New("kinesis: no handler: register OnRecord, OnEvent, OnUnknown, Handle or an On<Type> handler")
	}
	return nil
}

type handlerOptionFunc func(*handlerConfig)

func (f handlerOptionFunc) applyHandler(c *handlerConfig)   { f(c) }
func (f handlerOptionFunc) applyConsumer(c *consumerConfig) { f(&c.handlerConfig) }

func (f commonOption) applyHandler(c *handlerConfig) { f(&c.common) }

// Handle registers fn for events of type E, for example *event.Uninstall:
// fn receives every event whose type is E's EventType. The On<Type>
// functions (OnUninstall, OnOpen, ...) are shorthands for Handle. Events of
// a type no handler is registered for are not fully decoded. Registering a
// second handler for the same type replaces the first. See Dispatcher for
// the goroutine, ordering, error and acknowledgement rules.
func Handle[E event.Event](fn func(context.Context, E) error) HandlerOption {
	var zero E
	t := zero.EventType()
	return handlerOptionFunc(func(c *handlerConfig) {
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
// See Dispatcher for the rules handlers share.
func OnEvent(fn func(ctx context.Context, e event.Event) error) HandlerOption {
	return handlerOptionFunc(func(c *handlerConfig) {
		if fn == nil {
			c.setErr(fmt.Errorf("kinesis: nil OnEvent handler"))
			return
		}
		c.onEvent = fn
	})
}

// OnUnknown registers fn for events whose type this version of the event
// package does not know (event.KnownTypes); e.Raw holds the event as
// received. Without it, such events go to OnEvent, if any. See Dispatcher
// for the rules handlers share.
func OnUnknown(fn func(ctx context.Context, e *event.Unknown) error) HandlerOption {
	return handlerOptionFunc(func(c *handlerConfig) {
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
// cannot be combined with the event handlers (NewConsumer and
// NewDispatcher return an error). See Dispatcher for the rules handlers
// share.
func OnRecord(fn func(ctx context.Context, r Record) error) HandlerOption {
	return handlerOptionFunc(func(c *handlerConfig) {
		if fn == nil {
			c.setErr(fmt.Errorf("kinesis: nil OnRecord handler"))
			return
		}
		c.onRecord = fn
	})
}

// DeadLetterReason says why a record was dead-lettered, for metrics by
// reason.
type DeadLetterReason string

// The reasons a record is dead-lettered.
const (
	// ReasonUndecodable: the record is not an RTDS event (not JSON, or
	// its type or body does not decode); Err wraps an *event.DecodeError.
	ReasonUndecodable DeadLetterReason = "undecodable"
	// ReasonCorruptAggregate: a KPL aggregate whose framing or checksum
	// is broken; the DeadLetter holds the whole Kinesis record, and Err
	// wraps a *batch.DeaggregationError.
	ReasonCorruptAggregate DeadLetterReason = "corrupt_aggregate"
	// ReasonMissingID: an event without an id, or with an empty one; Err
	// wraps ErrMissingEventID (and the *event.DecodeError).
	ReasonMissingID DeadLetterReason = "missing_id"
	// ReasonHandlerFailed: the handler still failed after the last attempt
	// of the retry policy (WithHandlerRetry); Err is its last error.
	ReasonHandlerFailed DeadLetterReason = "handler_failed"
	// ReasonPermanent: the handler returned an error wrapped with
	// Permanent; it was not retried.
	ReasonPermanent DeadLetterReason = "permanent"
)

// DeadLetter is a record the dispatcher gave up on: it could not be
// decoded (bad JSON, a corrupt KPL aggregate, a missing id) or its handler
// kept failing. Reason says which; Err says why, and errors.As finds an
// *event.DecodeError, a *batch.DeaggregationError or the handler's error.
type DeadLetter struct {
	Record
	// Reason is why the record was dead-lettered.
	Reason DeadLetterReason
	// Type is the event type, "" when it could not be read.
	Type event.Type
	// Attempts is how many times the handler was called; 0 for records
	// that could not be decoded.
	Attempts int
	Err      error
}

// WithDeadLetter registers fn for poison records: records that cannot be
// decoded and records whose handler failed after the retry policy
// (WithHandlerRetry) or with a Permanent error (DeadLetter.Reason says
// which). Once fn returns nil the record counts as done (a Consumer
// checkpoints it and the shard moves on); if fn returns an error it is
// retried with backoff until it succeeds or the dispatch is stopped,
// because skipping the record silently is never an option. fn is called on
// the dispatching goroutine, like the handlers.
//
// Default, when no dead-letter handler is set: the record is logged at
// Error (shard, sequence and sub-sequence number, type, reason, error;
// never the payload), counted as dead-lettered in the stats, reported to
// HookDeadLettered hooks, and skipped.
func WithDeadLetter(fn func(ctx context.Context, d DeadLetter) error) HandlerOption {
	return handlerOptionFunc(func(c *handlerConfig) {
		if fn == nil {
			c.setErr(fmt.Errorf("kinesis: nil dead-letter handler"))
			return
		}
		c.deadLetter = fn
	})
}

// WithHandlerRetry sets the retry policy for a handler that returns an
// error: it is called up to r.MaxAttempts times for the same record, with
// r's backoff between attempts. After the last attempt the record is
// dead-lettered (WithDeadLetter, ReasonHandlerFailed) and the shard moves
// on. MaxAttempts 0 retries until the handler succeeds (the shard waits).
// An error wrapped with Permanent is dead-lettered without retries
// (ReasonPermanent). Default: DefaultHandlerRetry.
func WithHandlerRetry(r Retry) HandlerOption {
	return handlerOptionFunc(func(c *handlerConfig) {
		if err := r.validate("WithHandlerRetry"); err != nil {
			c.setErr(err)
			return
		}
		c.handlerRetry = r
	})
}

// WithDeduplication skips events whose id was handled recently: the
// dispatcher remembers the ids of the last capacity events handled (and,
// if ttl > 0, only for ttl) across all shards. Airship may deliver an
// event more than once, and a consumer resuming from a checkpoint replays
// the records after it; this window catches both within its bounds.
// Default: off. A skipped duplicate is counted in the stats and
// checkpointed like a handled record. An id is remembered once its handler
// returned nil, so two copies of an event handled at the same moment on
// two shards are both handled; copies on the same shard (the usual case,
// as a producer keys records by channel) are always caught within the
// window.
func WithDeduplication(capacity int, ttl time.Duration) HandlerOption {
	return handlerOptionFunc(func(c *handlerConfig) {
		if capacity < 1 || ttl < 0 {
			c.setErr(fmt.Errorf("kinesis: invalid deduplication window (%d, %v)", capacity, ttl))
			return
		}
		c.dedupeCapacity, c.dedupeTTL = capacity, ttl
	})
}
