package s3export

import (
	"errors"
	"fmt"
)

// Sentinel errors, for errors.Is.
var (
	// ErrNotEvent is wrapped by the *BadRecordError that ShardWriter.Write
	// returns for a record that is not an RTDS event (not JSON, not an
	// object, no id or type). errors.As finds the *event.DecodeError.
	ErrNotEvent = errors.New("s3export: record is not an RTDS event")
	// ErrNoProcessedTime is wrapped by the *BadRecordError that
	// ShardWriter.Write returns for an event without a "processed" time:
	// it belongs to no hour, so to no file.
	ErrNoProcessedTime = errors.New("s3export: event has no processed time")
	// ErrClosed is returned by ShardWriter.Write after Close.
	ErrClosed = errors.New("s3export: shard writer closed")
)

// BadRecordError is returned by ShardWriter.Write for a record that cannot
// go into a data file. The record was not written (and, when an error
// prefix is configured, was stored under it first); its acknowledgement is
// left to the caller, which normally dead-letters the record.
type BadRecordError struct {
	ShardID           string
	SequenceNumber    string
	SubSequenceNumber uint64
	// ErrorKey is the key the record was stored under by WithErrorPrefix,
	// "" when no error prefix is set.
	ErrorKey string
	Err      error
}

func (e *BadRecordError) Error() string {
	return fmt.Sprintf("s3export: record %s/%s/%d: %v", e.ShardID, e.SequenceNumber, e.SubSequenceNumber, e.Err)
}

func (e *BadRecordError) Unwrap() error { return e.Err }
