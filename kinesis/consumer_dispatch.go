package kinesis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/internal/dedupe"
)

// Dispatcher is a handler set as a value: it decodes user records, calls
// the registered handlers, retries failing ones and dead-letters poison
// records, exactly as a Consumer does, without a Kinesis client. A
// Consumer dispatches through a Dispatcher built from its options; other
// record sources (a Lambda function, a replay) use one directly.
//
// The rules handlers share (Handle and the On<Type> functions, OnEvent,
// OnUnknown, OnRecord, WithDeadLetter):
//
//   - Goroutine and ordering: a handler is called on the goroutine that
//     called Dispatch; a Consumer calls it on the goroutine that reads the
//     record's shard. Within a shard, records are handled one at a time,
//     in sequence order (inside a KPL aggregate, in sub-sequence order):
//     the next record is not handled before the previous one's handler
//     returned. Shards are read concurrently, so the same handler runs at
//     the same time for different shards and must be safe for concurrent
//     use.
//   - Errors: returning nil marks the record done (a Consumer checkpoints
//     it later). Returning an error retries the record (WithHandlerRetry);
//     after the last attempt, or at once for an error wrapped with
//     Permanent, the record is dead-lettered (WithDeadLetter, with a
//     DeadLetterReason) and the shard moves on.
//   - Acknowledgement: a handler may take responsibility for the record and
//     acknowledge it later (Defer); a Consumer then checkpoints it only
//     after the acknowledgement.
//   - Context: a Consumer does not cancel the handler's ctx when Run's
//     context is done: it lets an in-flight handler finish, and cancels ctx
//     when the shutdown timeout (WithShutdownTimeout) expires.
//   - Deadlocks: a handler must not wait for Run to return (for example by
//     cancelling Run's context and then waiting on the goroutine running
//     Run): Run waits for the handler. Cancelling Run's context from a
//     handler is fine, and so is calling Stats.
//   - Memory: a handler must not modify the event or Record.Data; an event
//     may be kept after the handler returns, Record.Data only as a copy (it
//     shares memory with the fetched batch).
//
// A Dispatcher is safe for concurrent use.
type Dispatcher struct {
	cfg    handlerConfig
	hooks  consumerHooks
	log    *slog.Logger
	known  map[event.Type]bool
	dedupe *dedupe.Window

	handled      atomic.Int64
	deadLettered atomic.Int64
	duplicates   atomic.Int64
	skipped      atomic.Int64
}

// DispatcherStats counts what a Dispatcher did with the records it was
// given. Every record is counted once, in one of the four, except one
// that TryDispatch returned as a *HandlerError (it is not done).
type DispatcherStats struct {
	// Handled counts records whose handler returned nil (deferred ones
	// included, when they were deferred).
	Handled int64
	// DeadLettered counts poison records.
	DeadLettered int64
	// Duplicates counts events skipped by WithDeduplication.
	Duplicates int64
	// Skipped counts events of a type no handler is registered for.
	Skipped int64
}

// NewDispatcher returns a Dispatcher for the handlers and policies in
// opts. At least one handler option is required (Handle, an On<Type>
// handler, OnEvent, OnUnknown or OnRecord). It returns an error for an
// invalid option.
func NewDispatcher(opts ...HandlerOption) (*Dispatcher, error) {
	cfg := defaultHandlerConfig()
	for _, o := range opts {
		if o != nil {
			o.applyHandler(&cfg)
		}
	}
	if cfg.err != nil {
		return nil, cfg.err
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return newDispatcher(cfg)
}

// newDispatcher builds a Dispatcher from a validated configuration.
func newDispatcher(cfg handlerConfig) (*Dispatcher, error) {
	d := &Dispatcher{
		cfg:   cfg,
		hooks: newConsumerHooks(cfg.hooks),
		log:   cfg.log(),
		known: map[event.Type]bool{},
	}
	for _, t := range event.KnownTypes() {
		d.known[t] = true
	}
	if cfg.dedupeCapacity > 0 {
		var dopts []dedupe.Option
		if cfg.dedupeTTL > 0 {
			dopts = append(dopts, dedupe.WithTTL(cfg.dedupeTTL))
		}
		w, err := dedupe.New(cfg.dedupeCapacity, dopts...)
		if err != nil {
			return nil, errorf("deduplication window: %w", err)
		}
		d.dedupe = w
	}
	return d, nil
}

// Stats returns the dispatcher's counters.
func (d *Dispatcher) Stats() DispatcherStats {
	return DispatcherStats{
		Handled:      d.handled.Load(),
		DeadLettered: d.deadLettered.Load(),
		Duplicates:   d.duplicates.Load(),
		Skipped:      d.skipped.Load(),
	}
}

// Dispatch decodes rec, a user record (split KPL aggregates first, for
// example with batch.AppendDeaggregated, and dead-letter a corrupt one
// with DeadLetterCorruptAggregate), and calls its handler under the retry
// policy. It returns nil once the record was handled, skipped (no handler
// for its type), a duplicate (WithDeduplication) or dead-lettered; it
// returns ctx's error when ctx was done first (during a retry's backoff,
// or because the handler or the dead-letter handler returned after ctx was
// done without succeeding); the record is then not done and should be
// dispatched again.
//
// Handlers get ctx. Defer returns ok false in handlers called by Dispatch:
// the record is done when its handler returns (see Defer).
func (d *Dispatcher) Dispatch(ctx context.Context, rec Record) error {
	return d.dispatchSync(ctx, rec, false)
}

// DeadLetterCorruptAggregate sends a Kinesis record that is not a valid
// KPL aggregate (batch.AppendDeaggregated failed with err) to the
// dead-letter handler, with ReasonCorruptAggregate. Its return value is
// Dispatch's.
func (d *Dispatcher) DeadLetterCorruptAggregate(ctx context.Context, rec Record, err error) error {
	return d.deadLetter(ctx, ctx, DeadLetter{Record: rec, Reason: ReasonCorruptAggregate, Err: err})
}

// dispatch is Dispatch for a Consumer: handlers get callCtx, while backoff
// stops when stopCtx is done; slot, if not nil, lets the handlers defer
// the record (the caller has opened it). It reports whether the record was
// deferred, and returns a non-nil error only when it stopped without
// finishing the record.
func (d *Dispatcher) dispatch(stopCtx, callCtx context.Context, slot *deferSlot, rec Record) (deferred bool, err error) {
	return d.dispatchRecord(stopCtx, callCtx, slot, rec, false)
}

// dispatchRecord is dispatch; with returnFailed, a handler that still fails
// after the retry policy's last attempt is not dead-lettered: the
// *HandlerError is returned (TryDispatch).
func (d *Dispatcher) dispatchRecord(stopCtx, callCtx context.Context, slot *deferSlot, rec Record, returnFailed bool) (deferred bool, err error) {
	if d.cfg.onRecord != nil {
		return d.callWithRetry(stopCtx, callCtx, slot, rec, "", returnFailed, func(ctx context.Context) error {
			return d.cfg.onRecord(ctx, rec)
		})
	}
	var (
		ev event.Event
		t  event.Type
		h  eventHandler
	)
	if d.cfg.onEvent != nil {
		// Every event has a handler (OnEvent takes those no other one
		// does), so every event is decoded: decode it at once, without
		// peeking at its type first. One that fails takes the path below,
		// which finds the error to report.
		if e, err := event.Decode(rec.Data); err == nil {
			ev, t = e, e.EventType()
			if len(d.hooks.drift) > 0 && !d.known[t] {
				d.unknownType(rec.ShardID, t)
			}
			h = d.handlerFor(t)
		}
	}
	if ev == nil {
		var err error
		t, err = event.PeekType(rec.Data)
		if err != nil {
			return false, d.deadLetter(stopCtx, callCtx, DeadLetter{Record: rec, Reason: ReasonUndecodable, Err: errorf("decode event: %w", err)})
		}
		if len(d.hooks.drift) > 0 && !d.known[t] {
			d.unknownType(rec.ShardID, t)
		}
		h = d.handlerFor(t)
		if h == nil {
			d.skipped.Add(1)
			return false, nil
		}
		ev, err = event.Decode(rec.Data)
		if err != nil {
			var de *event.DecodeError
			if errors.As(err, &de) && de.Field == "id" && errors.Is(err, event.ErrMissingField) {
				return false, d.deadLetter(stopCtx, callCtx, DeadLetter{Record: rec, Reason: ReasonMissingID, Type: t, Err: fmt.Errorf("%w: %w", ErrMissingEventID, err)})
			}
			return false, d.deadLetter(stopCtx, callCtx, DeadLetter{Record: rec, Reason: ReasonUndecodable, Type: t, Err: errorf("decode event: %w", err)})
		}
	}
	if len(d.hooks.drift) > 0 && d.known[t] {
		if drift := event.AppendDrift(nil, ev); len(drift) > 0 {
			for _, x := range d.hooks.drift {
				x.OnSchemaDrift(SchemaDriftMetrics{ShardID: rec.ShardID, Type: t, Drift: drift})
			}
		}
	}
	id := ev.Base().ID
	if id == "" {
		return false, d.deadLetter(stopCtx, callCtx, DeadLetter{Record: rec, Reason: ReasonMissingID, Type: t, Err: ErrMissingEventID})
	}
	if d.dedupe != nil && d.dedupe.Contains(id) {
		d.duplicates.Add(1)
		return false, nil
	}
	deferred, err = d.callWithRetry(stopCtx, callCtx, slot, rec, t, returnFailed, func(ctx context.Context) error { return h(ctx, ev) })
	if err == nil && d.dedupe != nil {
		d.dedupe.Add(id)
	}
	return deferred, err
}

// unknownType reports an event of a type this version does not know to
// the drift hooks.
func (d *Dispatcher) unknownType(shardID string, t event.Type) {
	drift := []event.Drift{{Path: "type", Kind: event.DriftUnknownType}}
	for _, x := range d.hooks.drift {
		x.OnSchemaDrift(SchemaDriftMetrics{ShardID: shardID, Type: t, Drift: drift})
	}
}

// handlerFor returns the handler for events of type t: the typed handler,
// else OnUnknown for a type this version does not know, else OnEvent; nil
// when none applies.
func (d *Dispatcher) handlerFor(t event.Type) eventHandler {
	if h, ok := d.cfg.byType[t]; ok {
		return h
	}
	if !d.known[t] && d.cfg.onUnknown != nil {
		fn := d.cfg.onUnknown
		return func(ctx context.Context, ev event.Event) error {
			u, ok := ev.(*event.Unknown)
			if !ok {
				return Permanent(fmt.Errorf("kinesis: %s event decoded as %T, not *event.Unknown", t, ev))
			}
			return fn(ctx, u)
		}
	}
	if d.cfg.onEvent != nil {
		return d.cfg.onEvent
	}
	return nil
}

// callWithRetry calls fn under the retry policy; a record that failed
// permanently is dead-lettered, and so is one whose attempts are exhausted,
// unless returnFailed: then its *HandlerError is returned.
func (d *Dispatcher) callWithRetry(stopCtx, callCtx context.Context, slot *deferSlot, rec Record, t event.Type, returnFailed bool, fn func(context.Context) error) (bool, error) {
	retry := d.cfg.handlerRetry.Start()
	pos := Checkpoint{SequenceNumber: rec.SequenceNumber, SubSequenceNumber: rec.SubSequenceNumber}
	timed := len(d.hooks.handler) > 0 // the clock is read only for the hooks
	for attempt := 1; ; attempt++ {
		var start time.Time
		if timed {
			start = time.Now()
		}
		if slot != nil {
			slot.begin(pos)
		}
		err := fn(callCtx)
		deferred := slot != nil && slot.end(err)
		if timed {
			latency := time.Since(start)
			for _, h := range d.hooks.handler {
				h.OnHandlerDone(HandlerDoneMetrics{ShardID: rec.ShardID, Type: t, Attempt: attempt, Latency: latency, Err: err})
			}
		}
		if err == nil {
			d.handled.Add(1)
			return deferred, nil
		}
		if callCtx.Err() != nil {
			return false, callCtx.Err() // the shutdown timeout cancelled the handler
		}
		delay, again := retry.Next()
		if isPermanent(err) {
			return false, d.deadLetter(stopCtx, callCtx, DeadLetter{Record: rec, Reason: ReasonPermanent, Type: t, Attempts: attempt, Err: err})
		}
		if !again && returnFailed {
			return false, &HandlerError{Record: rec, Type: t, Attempts: attempt, Err: err}
		}
		if !again {
			return false, d.deadLetter(stopCtx, callCtx, DeadLetter{Record: rec, Reason: ReasonHandlerFailed, Type: t, Attempts: attempt, Err: err})
		}
		d.log.Warn("kinesis: handler failed, retrying", "shard", rec.ShardID, "seq", rec.SequenceNumber,
			"subseq", rec.SubSequenceNumber, "type", t, "attempt", attempt, "delay", delay, "err", err)
		if !sleepCtx(stopCtx, delay) {
			return false, stopCtx.Err() // stopping: the record is handled again after a restart
		}
	}
}

// deadLetter routes a poison record to the hooks and the dead-letter
// handler. It returns an error only when it stopped before the dead-letter
// handler accepted the record.
func (d *Dispatcher) deadLetter(stopCtx, callCtx context.Context, dl DeadLetter) error {
	// A Consumer's keys of aggregated records share memory with the
	// fetched batch, which a dead-letter handler may keep.
	dl.PartitionKey, dl.ExplicitHashKey = strings.Clone(dl.PartitionKey), strings.Clone(dl.ExplicitHashKey)
	for _, h := range d.hooks.dead {
		h.OnDeadLettered(dl)
	}
	if d.cfg.deadLetter == nil {
		d.deadLettered.Add(1)
		d.log.Error("kinesis: poison record skipped (no dead-letter handler)",
			"shard", dl.ShardID, "seq", dl.SequenceNumber, "subseq", dl.SubSequenceNumber, "type", dl.Type,
			"reason", dl.Reason, "attempts", dl.Attempts, "err", dl.Err)
		return nil
	}
	retry := DefaultCallRetry.Start()
	for {
		err := d.cfg.deadLetter(callCtx, dl)
		if err == nil {
			d.deadLettered.Add(1)
			return nil
		}
		if errors.Is(err, context.Canceled) && callCtx.Err() != nil {
			return callCtx.Err()
		}
		delay, _ := retry.Next()
		d.log.Error("kinesis: dead-letter handler failed, retrying", "shard", dl.ShardID, "seq", dl.SequenceNumber,
			"subseq", dl.SubSequenceNumber, "reason", dl.Reason, "delay", delay, "err", err)
		if !sleepCtx(stopCtx, delay) {
			return stopCtx.Err()
		}
	}
}
