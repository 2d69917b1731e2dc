package kinesis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rtdskit/rtds/event"
)

// handleRecord decodes and dispatches one user record, retrying a failing
// handler and dead-lettering poison records. It returns false when it
// stopped without finishing the record because runCtx is done; the record
// must then not be checkpointed.
func (c *Consumer) handleRecord(runCtx, drainCtx context.Context, rec Record) bool {
	if c.cfg.onRecord != nil {
		return c.callWithRetry(runCtx, drainCtx, rec, "", func(ctx context.Context) error {
			return c.cfg.onRecord(ctx, rec)
		})
	}
	t, err := event.PeekType(rec.Data)
	if err != nil {
		return c.deadLetterRecord(runCtx, drainCtx, DeadLetter{Record: rec, Err: fmt.Errorf("kinesis: decode event: %w", err)})
	}
	h := c.handlerFor(t)
	if h == nil {
		c.skipped.Add(1)
		return true
	}
	ev, err := event.Decode(rec.Data)
	if err != nil {
		return c.deadLetterRecord(runCtx, drainCtx, DeadLetter{Record: rec, Type: t, Err: fmt.Errorf("kinesis: decode event: %w", err)})
	}
	id := ev.Base().ID
	if id == "" {
		return c.deadLetterRecord(runCtx, drainCtx, DeadLetter{Record: rec, Type: t, Err: ErrMissingEventID})
	}
	if c.dedupe != nil && c.dedupe.Contains(id) {
		c.duplicates.Add(1)
		return true
	}
	ok := c.callWithRetry(runCtx, drainCtx, rec, t, func(ctx context.Context) error { return h(ctx, ev) })
	if ok && c.dedupe != nil {
		c.dedupe.Add(id)
	}
	return ok
}

// handlerFor returns the handler for events of type t: the typed handler,
// else OnUnknown for a type this version does not know, else OnEvent; nil
// when none applies.
func (c *Consumer) handlerFor(t event.Type) eventHandler {
	if h, ok := c.cfg.byType[t]; ok {
		return h
	}
	if !c.known[t] && c.cfg.onUnknown != nil {
		fn := c.cfg.onUnknown
		return func(ctx context.Context, ev event.Event) error {
			u, ok := ev.(*event.Unknown)
			if !ok {
				return Permanent(fmt.Errorf("kinesis: %s event decoded as %T, not *event.Unknown", t, ev))
			}
			return fn(ctx, u)
		}
	}
	if c.cfg.onEvent != nil {
		return c.cfg.onEvent
	}
	return nil
}

// callWithRetry calls fn under the retry policy; a record whose attempts
// are exhausted, or that failed permanently, is dead-lettered.
func (c *Consumer) callWithRetry(runCtx, drainCtx context.Context, rec Record, t event.Type, fn func(context.Context) error) bool {
	retry := c.cfg.handlerRetry.start()
	for attempt := 1; ; attempt++ {
		start := time.Now()
		err := fn(drainCtx)
		for _, h := range c.hooks.handler {
			h.OnHandlerDone(HandlerDoneMetrics{ShardID: rec.ShardID, Type: t, Attempt: attempt, Latency: time.Since(start), Err: err})
		}
		if err == nil {
			c.handled.Add(1)
			return true
		}
		if drainCtx.Err() != nil {
			return false // the shutdown timeout cancelled the handler
		}
		d, again := retry.next()
		if isPermanent(err) || !again {
			return c.deadLetterRecord(runCtx, drainCtx, DeadLetter{Record: rec, Type: t, Attempts: attempt, Err: err})
		}
		c.log.Warn("kinesis: handler failed, retrying", "shard", rec.ShardID, "seq", rec.SequenceNumber,
			"subseq", rec.SubSequenceNumber, "type", t, "attempt", attempt, "delay", d, "err", err)
		if !sleepCtx(runCtx, d) {
			return false // stopping: the record is handled again after a restart
		}
	}
}

// deadLetterRecord routes a poison record to the hooks and the dead-letter
// handler. It returns false only when Run stopped before the dead-letter
// handler accepted the record.
func (c *Consumer) deadLetterRecord(runCtx, drainCtx context.Context, d DeadLetter) bool {
	for _, h := range c.hooks.dead {
		h.OnDeadLettered(d)
	}
	if c.cfg.deadLetter == nil {
		c.deadLettered.Add(1)
		c.log.Error("kinesis: poison record skipped (no dead-letter handler)", "stream", c.stream,
			"shard", d.ShardID, "seq", d.SequenceNumber, "subseq", d.SubSequenceNumber, "type", d.Type,
			"attempts", d.Attempts, "err", d.Err)
		return true
	}
	retry := DefaultCallRetry.start()
	for {
		err := c.cfg.deadLetter(drainCtx, d)
		if err == nil {
			c.deadLettered.Add(1)
			return true
		}
		if errors.Is(err, context.Canceled) && drainCtx.Err() != nil {
			return false
		}
		delay, _ := retry.next()
		c.log.Error("kinesis: dead-letter handler failed, retrying", "shard", d.ShardID, "seq", d.SequenceNumber,
			"subseq", d.SubSequenceNumber, "delay", delay, "err", err)
		if !sleepCtx(runCtx, delay) {
			return false
		}
	}
}
