package kinesis

import "errors"

// ErrClosed is returned by Producer.Put, PutEvent and Flush after Close
// has been called.
var ErrClosed = errors.New("kinesis: producer closed")
