package kinesislambda

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rtdskit/rtds/batch"
	"github.com/rtdskit/rtds/kinesis"
)

// DefaultDeadlineMargin is how long before the invocation's deadline a
// Handler stops handling records (Handler.DeadlineMargin), leaving the
// runtime time to send the response.
const DefaultDeadlineMargin = 500 * time.Millisecond

// DefaultHandlerRetry is the handler retry policy inside one invocation:
// one attempt, no retry. A record whose handler fails is reported as a
// batch item failure, and the event source mapping retries it (its
// MaximumRetryAttempts). kinesis.WithHandlerRetry replaces it.
var DefaultHandlerRetry = kinesis.Retry{MaxAttempts: 1, InitialInterval: 100 * time.Millisecond, MaxInterval: 5 * time.Second, Multiplier: 2, Jitter: 0.5}

// errDeadline reports records left unhandled because the invocation's
// deadline was near.
var errDeadline = errors.New("kinesislambda: invocation deadline reached, record not handled")

// Handler runs a handler set of package kinesis (the same options a
// kinesis.Consumer takes) on the events.KinesisEvent batches of a Lambda
// event source mapping, and returns the partial batch response. Give
// Handle to lambda.Start. A Handler is safe for concurrent use.
type Handler struct {
	d *kinesis.Dispatcher

	// DeadlineMargin is how long before the invocation's deadline Handle
	// stops; New sets DefaultDeadlineMargin. Handlers get a ctx that is
	// done at the deadline minus the margin. Set it before the first
	// invocation.
	DeadlineMargin time.Duration
	// Logger receives one Error line per batch item failure (shard,
	// sequence and sub-sequence number, error; never the payload). New
	// sets slog.Default().
	Logger *slog.Logger
}

// New returns a Handler for the handlers and policies in opts, exactly as
// kinesis.NewDispatcher takes them (kinesis.OnUninstall, kinesis.Handle,
// kinesis.OnUnknown, kinesis.WithDeadLetter, kinesis.WithHandlerRetry,
// kinesis.WithDeduplication, kinesis.WithHooks, kinesis.WithLogger, ...).
// The handler retry policy defaults to DefaultHandlerRetry (no retry inside
// an invocation) instead of kinesis.DefaultHandlerRetry.
func New(opts ...kinesis.HandlerOption) (*Handler, error) {
	all := append([]kinesis.HandlerOption{kinesis.WithHandlerRetry(DefaultHandlerRetry)}, opts...)
	d, err := kinesis.NewDispatcher(all...)
	if err != nil {
		return nil, err
	}
	return &Handler{d: d, DeadlineMargin: DefaultDeadlineMargin, Logger: slog.Default()}, nil
}

// Stats returns the counters of the Handler's dispatcher: what happened to
// the user records it was given, over every invocation of this instance.
// Records reported as batch item failures are not counted.
func (h *Handler) Stats() kinesis.DispatcherStats { return h.d.Stats() }

// Handle handles one batch of Kinesis records: per shard, in order, it
// splits KPL aggregates into their user records and dispatches each one
// (kinesis.Dispatcher.TryDispatch). It returns nil error: failures are
// reported per record in the response, for an event source mapping with
// ReportBatchItemFailures.
//
// A batch item failure names the first Kinesis record of its shard that
// is not done, and nothing after it in that shard is handled in this
// invocation; Lambda checkpoints before it and delivers it again with
// every later record. A record is not done when:
//   - its handler (or one of an aggregate's user records' handlers)
//     returned an error after the retry policy (default: one attempt);
//   - the deadline minus DeadlineMargin came first (that record and the
//     rest of the batch), or the dead-letter handler had not accepted a
//     record by then.
//
// Everything else is done: a handled event, a skipped one (no handler for
// its type), a duplicate, and a poison record sent to the dead-letter
// handler: an error wrapped with kinesis.Permanent, data that is not an
// RTDS event, an event without an id, a corrupt KPL aggregate. So a
// poison record never blocks its shard.
//
// When a user record of an aggregate fails, the whole aggregate is
// delivered again, including the user records already handled. They are
// handled again unless kinesis.WithDeduplication remembers them: best
// effort, as the window lives in this instance and a retry may reach
// another one (cold start, scaling). Make side effects idempotent on the
// event id.
func (h *Handler) Handle(ctx context.Context, in events.KinesisEvent) (events.KinesisEventResponse, error) {
	resp := events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{}}
	hctx := ctx
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		hctx, cancel = context.WithDeadline(ctx, dl.Add(-h.DeadlineMargin))
		defer cancel()
	}
	failed := map[string]bool{} // shards with a failure: the rest is left for the retry
	var users []batch.UserRecord
	for _, kr := range in.Records {
		shard := ShardID(kr)
		if failed[shard] {
			continue
		}
		var err error
		users, err = h.record(hctx, users[:0], shard, kr)
		if err == nil {
			continue
		}
		failed[shard] = true
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: kr.Kinesis.SequenceNumber})
		attrs := []any{"shard", shard, "seq", kr.Kinesis.SequenceNumber, "err", err}
		var he *kinesis.HandlerError
		if errors.As(err, &he) {
			attrs = append(attrs, "subseq", he.Record.SubSequenceNumber, "type", he.Type, "attempts", he.Attempts)
		}
		h.Logger.ErrorContext(ctx, "kinesislambda: record failed; reported for redelivery", attrs...)
	}
	return resp, nil
}

// record handles every user record of one Kinesis record; users is a
// buffer for them.
func (h *Handler) record(ctx context.Context, users []batch.UserRecord, shard string, kr events.KinesisEventRecord) ([]batch.UserRecord, error) {
	if ctx.Err() != nil {
		return users, errDeadline
	}
	k := kr.Kinesis
	rec := kinesis.Record{
		ShardID:                     shard,
		SequenceNumber:              k.SequenceNumber,
		PartitionKey:                k.PartitionKey,
		ApproximateArrivalTimestamp: k.ApproximateArrivalTimestamp.Time,
		Data:                        k.Data,
	}
	users, err := batch.AppendDeaggregated(users, batch.KinesisRecord{SequenceNumber: k.SequenceNumber, PartitionKey: k.PartitionKey, Data: k.Data})
	if err != nil {
		return users, deadline(h.d.DeadLetterCorruptAggregate(ctx, rec, err))
	}
	for i, u := range users {
		if i > 0 && ctx.Err() != nil {
			return users, errDeadline
		}
		rec.SubSequenceNumber, rec.Aggregated = u.SubSequenceNumber, u.Aggregated
		rec.PartitionKey, rec.ExplicitHashKey, rec.Data = u.PartitionKey, u.ExplicitHashKey, u.Data
		if err := h.d.TryDispatch(ctx, rec); err != nil {
			return users, deadline(err)
		}
	}
	return users, nil
}

// deadline replaces the context's error with errDeadline.
func deadline(err error) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return errors.Join(errDeadline, err)
	}
	return err
}

// ShardID returns the shard of a record of a Kinesis event: the part of
// its EventID ("shardId-000000000000:4959...") before the colon.
func ShardID(r events.KinesisEventRecord) string {
	shard, _, _ := strings.Cut(r.EventID, ":")
	return shard
}
