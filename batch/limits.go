package batch

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Kinesis service limits (see the PutRecords and PutRecord API references).
const (
	// MaxRecordsPerRequest is the most entries one PutRecords request takes.
	MaxRecordsPerRequest = 500
	// DefaultMaxRequestBytes is the most bytes (data plus partition keys)
	// one PutRecords request takes: 5 MiB.
	DefaultMaxRequestBytes = 5 << 20
	// DefaultMaxRecordBytes is the most bytes (data plus partition key) one
	// record takes: 1 MiB.
	DefaultMaxRecordBytes = 1 << 20
	// LargeMaxRecordBytes and LargeMaxRequestBytes are the limits of a
	// stream with large records enabled: 10 MiB each.
	LargeMaxRecordBytes  = 10 << 20
	LargeMaxRequestBytes = 10 << 20
	// MaxPartitionKeyLength is the most characters in a partition key,
	// counted as Kinesis (Java) and its emulators (JavaScript) count them:
	// in UTF-16 code units, so a character outside the Basic Multilingual
	// Plane (an emoji) counts twice. A partition key has at least one.
	MaxPartitionKeyLength = 256
)

// Errors returned by [Limits.Validate] and [Limits.Size], matched with
// [errors.Is].
var (
	// ErrRecordTooLarge: the record's data plus partition key exceed the
	// record limit, so it can never be sent.
	ErrRecordTooLarge = errors.New("batch: record too large")
	// ErrInvalidPartitionKey: the partition key is empty, longer than
	// [MaxPartitionKeyLength] characters, or not valid UTF-8.
	ErrInvalidPartitionKey = errors.New("batch: invalid partition key")
	// ErrInvalidExplicitHashKey: the explicit hash key is not a decimal
	// integer in [0, 2^128).
	ErrInvalidExplicitHashKey = errors.New("batch: invalid explicit hash key")
)

// Record is one record to put: a partition key, an optional explicit hash
// key (decimal, overrides the partition key's hash for routing) and data.
// It is both a user record given to an [Aggregator] and a Kinesis record
// (a PutRecords entry) produced by one.
type Record struct {
	PartitionKey    string
	ExplicitHashKey string
	Data            []byte
}

// Size is the number of bytes r counts against Kinesis limits: its data
// plus its partition key (UTF-8). The explicit hash key does not count.
func (r Record) Size() int { return len(r.Data) + len(r.PartitionKey) }

// Limits are the Kinesis limits a request and its records must respect.
// Use [DefaultLimits] or [LargeRecordLimits]; the zero value is invalid.
type Limits struct {
	// MaxRecordsPerRequest is the most entries per PutRecords request.
	MaxRecordsPerRequest int
	// MaxRequestBytes is the most bytes (data plus partition keys) per
	// request.
	MaxRequestBytes int
	// MaxRecordBytes is the most bytes (data plus partition key) per record.
	MaxRecordBytes int
}

// DefaultLimits are the limits of a standard stream: 500 records and 5 MiB
// per request, 1 MiB per record.
func DefaultLimits() Limits {
	return Limits{
		MaxRecordsPerRequest: MaxRecordsPerRequest,
		MaxRequestBytes:      DefaultMaxRequestBytes,
		MaxRecordBytes:       DefaultMaxRecordBytes,
	}
}

// LargeRecordLimits are the limits of a stream with large records enabled:
// 500 records and 10 MiB per request, 10 MiB per record.
func LargeRecordLimits() Limits {
	return Limits{
		MaxRecordsPerRequest: MaxRecordsPerRequest,
		MaxRequestBytes:      LargeMaxRequestBytes,
		MaxRecordBytes:       LargeMaxRecordBytes,
	}
}

// Check reports whether l itself is usable: every limit positive, and a
// record no larger than a request.
func (l Limits) Check() error {
	switch {
	case l.MaxRecordsPerRequest <= 0 || l.MaxRecordsPerRequest > MaxRecordsPerRequest:
		return fmt.Errorf("batch: limits: MaxRecordsPerRequest %d not in [1, %d]", l.MaxRecordsPerRequest, MaxRecordsPerRequest)
	case l.MaxRecordBytes <= 0:
		return fmt.Errorf("batch: limits: MaxRecordBytes %d not positive", l.MaxRecordBytes)
	case l.MaxRequestBytes < l.MaxRecordBytes:
		return fmt.Errorf("batch: limits: MaxRequestBytes %d below MaxRecordBytes %d", l.MaxRequestBytes, l.MaxRecordBytes)
	}
	return nil
}

// LimitError reports a record that violates a limit. It matches one of
// [ErrRecordTooLarge], [ErrInvalidPartitionKey] or
// [ErrInvalidExplicitHashKey] with [errors.Is].
type LimitError struct {
	// Limit names the limit: "record bytes", "partition key length",
	// "partition key encoding" or "explicit hash key".
	Limit string
	// Size is the record's measure against the limit: bytes for "record
	// bytes", UTF-16 code units for "partition key length".
	Size int
	// Max is the limit's value (0 where it has none).
	Max int
	// Err is the sentinel.
	Err error
}

func (e *LimitError) Error() string {
	switch e.Limit {
	case "record bytes":
		return fmt.Sprintf("batch: record too large: %d bytes of data and partition key, over the %d-byte record limit", e.Size, e.Max)
	case "partition key length":
		return fmt.Sprintf("batch: invalid partition key: %d characters, want 1 to %d", e.Size, e.Max)
	case "partition key encoding":
		return "batch: invalid partition key: not valid UTF-8"
	default:
		return fmt.Sprintf("batch: invalid explicit hash key: not a decimal integer in [0, 2^128) (%d bytes)", e.Size)
	}
}

func (e *LimitError) Unwrap() error { return e.Err }

// partitionKeyLength returns the length of a valid UTF-8 key in UTF-16 code
// units, or its length in bytes (an upper bound) when that is within the
// limit.
func partitionKeyLength(k string) int {
	if len(k) <= MaxPartitionKeyLength {
		return len(k)
	}
	n := 0
	for _, c := range k {
		n++
		if c >= 0x10000 {
			n++
		}
	}
	return n
}

// Validate reports whether r can be sent under l: a partition key of 1 to
// 256 characters (UTF-16 code units, see [MaxPartitionKeyLength]), an
// explicit hash key (if any) that is a decimal
// integer in [0, 2^128), and data plus partition key within
// l.MaxRecordBytes. The error is a [*LimitError].
func (l Limits) Validate(r Record) error {
	_, err := l.Size(r)
	return err
}

// Size validates r like [Limits.Validate] and returns its size in bytes
// (data plus partition key). Its signature fits [NewBatcher].
func (l Limits) Size(r Record) (int, error) {
	if !utf8.ValidString(r.PartitionKey) {
		return 0, &LimitError{Limit: "partition key encoding", Size: len(r.PartitionKey), Err: ErrInvalidPartitionKey}
	}
	n := partitionKeyLength(r.PartitionKey)
	if n < 1 || n > MaxPartitionKeyLength {
		return 0, &LimitError{Limit: "partition key length", Size: n, Max: MaxPartitionKeyLength, Err: ErrInvalidPartitionKey}
	}
	if r.ExplicitHashKey != "" {
		if _, err := ParseHashKey(r.ExplicitHashKey); err != nil {
			return 0, &LimitError{Limit: "explicit hash key", Size: len(r.ExplicitHashKey), Err: ErrInvalidExplicitHashKey}
		}
	}
	size := r.Size()
	if size > l.MaxRecordBytes {
		return 0, &LimitError{Limit: "record bytes", Size: size, Max: l.MaxRecordBytes, Err: ErrRecordTooLarge}
	}
	return size, nil
}
