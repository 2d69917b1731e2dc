package kinesis

import (
	"errors"
	"fmt"
)

// PermanentError marks a handler error that retrying cannot fix. Create it
// with Permanent.
type PermanentError struct {
	Err error
}

func (e *PermanentError) Error() string {
	if e.Err == nil {
		return "kinesis: permanent error"
	}
	return e.Err.Error()
}

// Unwrap returns the wrapped error.
func (e *PermanentError) Unwrap() error { return e.Err }

// Is reports whether target is a *PermanentError, so that
// errors.Is(err, &PermanentError{}) finds a permanent error anywhere in a
// chain.
func (e *PermanentError) Is(target error) bool {
	_, ok := target.(*PermanentError)
	return ok
}

// Permanent wraps err so that a consumer does not retry the handler: the
// record goes to the dead-letter handler at once. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// isPermanent reports whether err is marked permanent.
func isPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// ErrMissingEventID is wrapped by the dead-letter error of an event without
// an id.
var ErrMissingEventID = errors.New("kinesis: event has no id")

// ShardError is returned by Consumer.Run when reading a shard failed for
// good (for example the stream was deleted, access was denied, or another
// consumer moved the shard's checkpoint ahead: ErrCheckpointBehind). It
// unwraps to the cause, so errors.As finds the SDK's typed errors.
type ShardError struct {
	ShardID string
	Err     error
}

func (e *ShardError) Error() string {
	return fmt.Sprintf("kinesis: shard %s: %v", e.ShardID, e.Err)
}

func (e *ShardError) Unwrap() error { return e.Err }
