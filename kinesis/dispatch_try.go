package kinesis

import (
	"context"
	"fmt"

	"github.com/rtdskit/rtds/event"
)

// HandlerError is returned by Dispatcher.TryDispatch for a record whose
// handler still failed after the last attempt of the retry policy
// (WithHandlerRetry). The record was not dead-lettered and is not done.
type HandlerError struct {
	// Record is the user record the handler failed on.
	Record Record
	// Type is the event type, "" for an OnRecord handler.
	Type event.Type
	// Attempts is how many times the handler was called.
	Attempts int
	// Err is the handler's last error.
	Err error
}

func (e *HandlerError) Error() string {
	return fmt.Sprintf("kinesis: handler failed on shard %s record %s/%d after %d attempts: %v",
		e.Record.ShardID, e.Record.SequenceNumber, e.Record.SubSequenceNumber, e.Attempts, e.Err)
}

// Unwrap returns the handler's error.
func (e *HandlerError) Unwrap() error { return e.Err }

// TryDispatch is Dispatch for a caller that retries failed records itself,
// such as a Lambda function, whose event source mapping delivers a failed
// record again: a record whose handler still fails after the last attempt
// of the retry policy is not dead-lettered; TryDispatch returns a
// *HandlerError and the record is not done (it is not counted in Stats).
// Everything else is as in Dispatch: an error wrapped with Permanent, and
// a record that cannot be decoded, are dead-lettered, and ctx's error is
// returned when ctx was done first.
func (d *Dispatcher) TryDispatch(ctx context.Context, rec Record) error {
	return d.dispatchSync(ctx, rec, true)
}

// dispatchSync is Dispatch (returnFailed false) and TryDispatch (true):
// handlers cannot defer the record, even when ctx is a handler's.
func (d *Dispatcher) dispatchSync(ctx context.Context, rec Record, returnFailed bool) error {
	if s, _ := ctx.Value(deferKey{}).(*deferSlot); s != nil {
		ctx = context.WithValue(ctx, deferKey{}, (*deferSlot)(nil)) // a handler's ctx
	}
	_, err := d.dispatchRecord(ctx, ctx, nil, rec, returnFailed)
	return err
}
