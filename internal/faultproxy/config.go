package faultproxy

import (
	"fmt"
	"slices"
	"time"
)

// Kinesis error codes the proxy answers with.
const (
	CodeThrottled       = "ProvisionedThroughputExceededException"
	CodeInternalFailure = "InternalFailure"
	CodeExpiredIterator = "ExpiredIteratorException"
)

// DefaultSeed seeds the fault decisions when WithSeed is not given.
const DefaultSeed = 1

// Config says which faults the proxy injects. The zero Config forwards
// every call unchanged. Fractions are in [0, 1].
//
// A call gets at most one fault; they are tried in this order: Unreachable,
// DropBefore, Throttle, InternalError, ExpireIterator, then the call is
// forwarded (with FailEntries applied to PutRecords) and DropAfter may
// discard the emulator's answer. Call faults are spread, not drawn
// independently: of N calls a fault applies to (those left alone by the
// faults before it), a fraction f fires floor(N*f) or ceil(N*f) times, once
// in each window of 1/f calls at a point drawn from the proxy's seeded
// generator, so a run of at least 1/f calls always sees the fault.
// FailEntries is drawn independently for each entry.
type Config struct {
	// Ops limits every fault, including Latency and Unreachable, to these
	// operations (the X-Amz-Target suffix: "PutRecords", "GetRecords",
	// ...). Empty means every operation.
	Ops []string

	// Unreachable hangs up every (targeted) call without forwarding it, as
	// if the endpoint were down.
	Unreachable bool

	// Latency delays every (targeted) call before it is forwarded.
	Latency time.Duration

	// DropBefore is the fraction of calls whose connection is closed
	// without forwarding them: the emulator never sees the request.
	DropBefore float64

	// Throttle is the fraction of calls answered HTTP 400
	// ProvisionedThroughputExceededException without forwarding them.
	Throttle float64

	// InternalError is the fraction of calls answered HTTP 500
	// InternalFailure without forwarding them.
	InternalError float64

	// ExpireIterator is the fraction of GetRecords calls answered HTTP 400
	// ExpiredIteratorException without forwarding them.
	ExpireIterator float64

	// FailEntries is the fraction of PutRecords entries failed one by one:
	// only the others are forwarded, and the failed ones are spliced back
	// into the answer at their original indexes with ErrorCode
	// EntryErrorCode and a corrected FailedRecordCount.
	FailEntries float64

	// EntryFilter, if set, limits FailEntries to the entries for which it
	// returns true, for example those whose hash key falls in one shard's
	// range, to throttle one shard only. It must be safe for concurrent use.
	EntryFilter func(partitionKey, explicitHashKey string) bool

	// EntryErrorCode is the ErrorCode of entries failed by FailEntries.
	// Default: CodeThrottled. AWS also uses CodeInternalFailure.
	EntryErrorCode string

	// DropAfter is the fraction of calls forwarded to the emulator whose
	// answer is then discarded and the connection closed: the emulator has
	// acted (stored the records of a PutRecords), but the client sees a
	// network error, so a retry creates real duplicates.
	DropAfter float64
}

func (c Config) validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"DropBefore", c.DropBefore}, {"Throttle", c.Throttle}, {"InternalError", c.InternalError},
		{"ExpireIterator", c.ExpireIterator}, {"FailEntries", c.FailEntries}, {"DropAfter", c.DropAfter},
	} {
		if !(f.v >= 0 && f.v <= 1) {
			return fmt.Errorf("faultproxy: %s = %v, want a fraction in [0, 1]", f.name, f.v)
		}
	}
	if c.Latency < 0 {
		return fmt.Errorf("faultproxy: negative Latency %v", c.Latency)
	}
	switch c.EntryErrorCode {
	case "", CodeThrottled, CodeInternalFailure:
	default:
		return fmt.Errorf("faultproxy: EntryErrorCode %q, want %q or %q", c.EntryErrorCode, CodeThrottled, CodeInternalFailure)
	}
	return nil
}

func (c Config) targets(op string) bool {
	return len(c.Ops) == 0 || slices.Contains(c.Ops, op)
}

func (c Config) clone() Config {
	c.Ops = slices.Clone(c.Ops)
	return c
}

// Stats counts what the proxy did since it started. Faults are counted
// when they happen, so a test can assert that its faults were real.
type Stats struct {
	Calls          map[string]int64 // requests received, by operation
	Forwarded      int64            // requests forwarded to the emulator
	Unreachable    int64            // calls hung up by Config.Unreachable
	Delayed        int64            // calls delayed by Config.Latency
	DroppedBefore  int64            // connections closed before forwarding
	Throttled      int64            // calls answered ProvisionedThroughputExceededException
	InternalErrors int64            // calls answered HTTP 500
	Expired        int64            // GetRecords calls answered ExpiredIteratorException
	FailedEntries  int64            // PutRecords entries failed and spliced back
	DroppedAfter   int64            // connections closed after the emulator answered

	// StoredThenDropped counts PutRecords entries the emulator stored in
	// calls dropped after forwarding: each becomes a duplicate if the
	// client sends it again.
	StoredThenDropped int64
}

// TotalCalls returns the number of requests received, all operations
// together.
func (s Stats) TotalCalls() int64 {
	var n int64
	for _, c := range s.Calls {
		n += c
	}
	return n
}
