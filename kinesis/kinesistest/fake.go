package kinesistest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
)

// Region and AccountID appear in every stream ARN the fake builds:
// arn:aws:kinesis:us-east-1:000000000000:stream/NAME.
const (
	Region    = "us-east-1"
	AccountID = "000000000000"
)

// Defaults.
const (
	// DefaultIteratorTTL is how long a shard iterator stays valid, as on AWS.
	DefaultIteratorTTL = 5 * time.Minute
	// DefaultOnDemandShards is the shard count of an ON_DEMAND stream.
	DefaultOnDemandShards = 4
	// DefaultRetentionHours is reported by DescribeStreamSummary. The fake
	// never trims records.
	DefaultRetentionHours = 24
)

// Operation names passed to a FaultFunc and accepted by Calls.
const (
	OpPutRecords            = "PutRecords"
	OpPutRecord             = "PutRecord"
	OpListShards            = "ListShards"
	OpGetShardIterator      = "GetShardIterator"
	OpGetRecords            = "GetRecords"
	OpDescribeStreamSummary = "DescribeStreamSummary"
	OpCreateStream          = "CreateStream"
	OpDeleteStream          = "DeleteStream"
	OpSplitShard            = "SplitShard"
	OpMergeShards           = "MergeShards"
)

// CallEntry is the entry argument of a FaultFunc consulted for a whole call
// rather than for one PutRecords entry.
const CallEntry = -1

// FaultFunc decides whether a call, or one PutRecords entry, fails.
//
// The fake calls it once per operation with entry == CallEntry before doing
// anything else: a non-nil error fails the whole call, which then has no
// effect (no record is stored). For PutRecords that pass this first check,
// it is then called once per request entry with entry = 0, 1, ...: a non-nil
// error fails that entry alone. The entry's ErrorCode is the error's
// smithy.APIError code (for example "ProvisionedThroughputExceededException"
// for a *sdktypes.ProvisionedThroughputExceededException) or
// "InternalFailure" for other errors, and ErrorMessage is its message.
//
// The fake calls it without holding its lock, possibly from several
// goroutines at once, so it must be safe for concurrent use. It may block,
// for example on a channel, to simulate a slow endpoint; the call then
// fails with the context's error if its context ended meanwhile.
type FaultFunc func(op string, entry int) error

// Record is a record stored by the fake, as returned by Fake.Records.
type Record struct {
	ShardID         string
	SequenceNumber  string
	PartitionKey    string
	ExplicitHashKey string // as given by the producer, "" if none
	Data            []byte
	ArrivalTime     time.Time
}

// Option configures a Fake.
type Option func(*Fake)

// WithStream creates an ACTIVE provisioned stream with the given number of
// shards when the Fake is built. Shard hash ranges split the 128-bit key
// space evenly, as CreateStream does.
func WithStream(name string, shards int) Option {
	return func(f *Fake) {
		if err := f.createStream(name, shards, sdktypes.StreamModeProvisioned); err != nil {
			f.initErr = errors.Join(f.initErr, err)
		}
	}
}

// WithClock sets the clock used for arrival timestamps, iterator expiry and
// MillisBehindLatest. Default: time.Now. Use it with a fake clock, or run
// tests under testing/synctest.
func WithClock(now func() time.Time) Option {
	return func(f *Fake) { f.now = now }
}

// WithIteratorTTL sets how long shard iterators stay valid. Default:
// DefaultIteratorTTL.
func WithIteratorTTL(d time.Duration) Option {
	return func(f *Fake) { f.iteratorTTL = d }
}

// Kinesis's write limits per shard, for WithShardWriteLimit.
const (
	ShardRecordsPerSecond = 1000
	ShardBytesPerSecond   = 1 << 20
)

// WithShardWriteLimit makes each shard accept at most records records and
// bytes bytes (data plus partition key) per second of the fake's clock, as
// Kinesis does (ShardRecordsPerSecond, ShardBytesPerSecond). Entries over
// the limit fail with ErrorCode ProvisionedThroughputExceededException
// (PutRecord fails whole with *sdktypes.ProvisionedThroughputExceededException),
// so a hot partition key throttles its shard and only that shard. Windows
// are aligned to whole seconds. Default: no limit. Zero or less leaves that
// dimension unlimited.
func WithShardWriteLimit(records, bytes int) Option {
	return func(f *Fake) { f.limitRecords, f.limitBytes = records, bytes }
}

// Fake is an in-memory Kinesis data streams service. Its methods have the
// exact signatures of *sdkkinesis.Client's, so it can stand in for the
// client wherever code accepts a narrow interface of SDK calls.
//
// Streams exist only in memory; every state change (CreateStream,
// SplitShard, MergeShards, DeleteStream) completes immediately, so a stream
// is ACTIVE as soon as CreateStream returns. The per-call optFns are
// ignored. Errors are the SDK's typed errors wrapped in a
// *smithy.OperationError, as the real client returns them, so errors.As
// finds, for example, a *sdktypes.ResourceNotFoundException.
//
// A Fake is safe for concurrent use.
type Fake struct {
	mu           sync.Mutex
	now          func() time.Time
	iteratorTTL  time.Duration
	streams      map[string]*stream // by name
	nextSeq      uint64
	nextStream   uint64
	fault        FaultFunc
	calls        map[string]int
	nextIter     uint64 // serial number of the next iterator issued
	expireBefore uint64 // iterators with a lower serial are expired
	initErr      error
	limitRecords int
	limitBytes   int
}

// New returns a Fake configured by opts. It panics if an option is invalid
// (for example WithStream with an invalid name): options are test fixtures.
func New(opts ...Option) *Fake {
	f := &Fake{
		now:         time.Now,
		iteratorTTL: DefaultIteratorTTL,
		streams:     make(map[string]*stream),
		calls:       make(map[string]int),
	}
	for _, o := range opts {
		o(f)
	}
	if f.initErr != nil {
		panic("kinesistest: " + f.initErr.Error())
	}
	return f
}

// SetFault installs fn as the fault hook, replacing any previous one; nil
// removes it. See FaultFunc.
func (f *Fake) SetFault(fn FaultFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fault = fn
}

// ExpireIterators makes every shard iterator issued so far expired: later
// GetRecords calls with them fail with *sdktypes.ExpiredIteratorException.
func (f *Fake) ExpireIterators() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.expireBefore = f.nextIter
}

// Calls returns how many times op (for example OpPutRecords) was called,
// including calls that failed.
func (f *Fake) Calls(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// Records returns a copy of every record in stream (a name or an ARN), in
// the order they were stored (ascending sequence number), across all shards.
// It returns nil if the stream does not exist.
func (f *Fake) Records(streamNameOrARN string) []Record {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.streams[nameFromARN(streamNameOrARN)]
	if s == nil {
		return nil
	}
	var out []Record
	for _, sh := range s.shards {
		for _, r := range sh.records {
			r.Data = append([]byte(nil), r.Data...)
			out = append(out, r.Record)
		}
	}
	sort.Slice(out, func(i, j int) bool { return seqLess(out[i].SequenceNumber, out[j].SequenceNumber) })
	return out
}

// begin records a call of op and consults the fault hook, without holding
// f.mu so the hook may block.
func (f *Fake) begin(ctx context.Context, op string) error {
	if err := ctxErr(ctx, op); err != nil {
		return err
	}
	f.mu.Lock()
	f.calls[op]++
	fault := f.fault
	f.mu.Unlock()
	if fault != nil {
		if err := fault(op, CallEntry); err != nil {
			return opError(op, err)
		}
	}
	return ctxErr(ctx, op)
}

// opError wraps err like the SDK does, so errors.As finds the typed error.
func opError(op string, err error) error {
	if err == nil {
		return nil
	}
	return &smithy.OperationError{ServiceID: "Kinesis", OperationName: op, Err: err}
}

func ctxErr(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return opError(op, fmt.Errorf("kinesistest: %w", err))
	}
	return nil
}

func invalidArg(format string, args ...any) error {
	return &sdktypes.InvalidArgumentException{Message: aws.String(fmt.Sprintf(format, args...))}
}

func validation(format string, args ...any) error {
	return &smithy.GenericAPIError{Code: "ValidationException", Message: fmt.Sprintf(format, args...), Fault: smithy.FaultClient}
}

func notFound(name string) error {
	return &sdktypes.ResourceNotFoundException{Message: aws.String(fmt.Sprintf("Stream %s under account %s not found.", name, AccountID))}
}

// seqLess compares decimal sequence numbers numerically.
func seqLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}
