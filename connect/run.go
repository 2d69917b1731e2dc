package connect

import (
	"context"
	"errors"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis"
)

// Run reads the stream and calls the typed handlers the kinesis package's
// Consumer uses (kinesis.OnUninstall, kinesis.Handle, kinesis.OnEvent,
// kinesis.WithDeadLetter, kinesis.WithHandlerRetry,
// kinesis.WithDeduplication, ...), through a kinesis.Dispatcher: the rules
// of kinesis.Dispatcher apply (retries, dead letters). Each event is
// acknowledged when its handler returned nil, was skipped (no handler for
// its type) or was dead-lettered.
//
// OFFSET_UPDATE events carry no activity: they reach a handler registered
// with kinesis.OnOffsetUpdate, never OnEvent. kinesis.OnRecord cannot be
// used here (NewDispatcher refuses it beside the typed handlers): read
// Event.Data from Events instead.
//
// Handlers are called on the goroutine calling Run, one event at a time,
// in stream order; kinesis.Defer returns ok false in them. The
// kinesis.Record passed to OnRecord and dead-letter handlers has the
// event's offset as SequenceNumber and the time it was read as
// ApproximateArrivalTimestamp.
//
// Run returns what ends Events: ctx's cause when ctx is done, or a
// permanent error; it returns an error at once for invalid handler
// options.
func (c *Client) Run(ctx context.Context, handlers ...kinesis.HandlerOption) error {
	if len(handlers) == 0 {
		return errors.New("connect: Run: no handler")
	}
	// A typed handler for OFFSET_UPDATE keeps them from OnEvent; a handler
	// of the application's own replaces it.
	opts := append([]kinesis.HandlerOption{kinesis.OnOffsetUpdate(func(context.Context, *event.OffsetUpdate) error { return nil })}, handlers...)
	d, err := kinesis.NewDispatcher(opts...)
	if err != nil {
		return err
	}
	for e, err := range c.Events(ctx) {
		if err != nil {
			return err
		}
		rec := kinesis.Record{SequenceNumber: e.Offset, ApproximateArrivalTimestamp: e.Received, Data: e.Data}
		if err := d.Dispatch(ctx, rec); err != nil {
			return err
		}
		e.Ack()
	}
	return nil // not reached: Events ends with an error
}
