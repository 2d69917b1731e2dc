package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rtdskit/rtds/batch"
	"github.com/rtdskit/rtds/event"
)

// Mailer sends the email for an uninstall. The function in main.go only logs
// it; a real one would look up the named user's address and call an email
// service.
type Mailer interface {
	SendUninstallEmail(ctx context.Context, namedUserID string, e *event.Uninstall) error
}

// Handler is the Lambda function's logic, separate from the runtime so it
// can be tested with synthetic Kinesis events.
//
// For each Kinesis record of a batch, in order, it deaggregates KPL
// aggregates (plain records pass through), peeks at each event's type and
// fully decodes only UNINSTALL events; for one from a device with a named
// user it calls the Mailer. Events of other types are counted.
//
// # Failures
//
// A record that cannot be processed (a corrupt aggregate, data that is not
// an RTDS event, a malformed UNINSTALL, a Mailer error, or the invocation's
// deadline) is reported in the response's BatchItemFailures with its
// sequence number and logged at Error with shard, sequence number and the
// error (never the payload). Processing stops there: with
// ReportBatchItemFailures, Lambda checkpoints before the lowest failed
// sequence number and delivers that record and every later one again, so
// handling later records now would only duplicate them. Nothing is dropped:
// after the event source mapping's retries (and bisection) a record that
// keeps failing is reported (shard and sequence numbers) to its on-failure
// destination.
//
// # Duplicates
//
// A retried record is delivered again whole, so the UNINSTALLs of an
// aggregate that were mailed before a later one failed would be mailed
// twice, and Airship itself may deliver an event twice. The Handler
// remembers the IDs of the last DefaultDedupeCapacity events it mailed
// (Lambda reuses a warm instance for the following batches of a shard) and
// skips them. That narrows duplicates but cannot rule them out across
// instances: a real Mailer should still be idempotent on the event ID.
//
// A Handler is safe for concurrent use.
type Handler struct {
	mailer Mailer
	log    *slog.Logger
	mailed *seenIDs
}

// DefaultDedupeCapacity is how many mailed event IDs a Handler remembers.
const DefaultDedupeCapacity = 100_000

// NewHandler returns a Handler. A nil logger discards logs.
func NewHandler(m Mailer, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{mailer: m, log: log, mailed: newSeenIDs(DefaultDedupeCapacity)}
}

// Summary counts what one invocation did.
type Summary struct {
	Records     int                // Kinesis records fully processed
	UserRecords int                // events in them (after deaggregation)
	Emails      int                // uninstall emails sent
	NoNamedUser int                // UNINSTALL events without a named user
	Duplicates  int                // UNINSTALL events already mailed, skipped
	ByType      map[event.Type]int // events per type
	Failed      string             // sequence number of the failed record, if any
	Skipped     int                // records after the failed one, left for redelivery
}

// errDeadline reports a record left unprocessed because the invocation ran
// out of time.
var errDeadline = errors.New("invocation deadline: record not processed")

// Handle processes one batch of Kinesis records (all from one shard, in
// order) and returns the partial batch response. It returns a nil error:
// failures are reported per record.
func (h *Handler) Handle(ctx context.Context, in events.KinesisEvent) (events.KinesisEventResponse, error) {
	resp, sum := h.Process(ctx, in)
	attrs := []any{
		"records", sum.Records, "events", sum.UserRecords, "emails", sum.Emails,
		"uninstalls_without_named_user", sum.NoNamedUser, "duplicates", sum.Duplicates,
	}
	for t, n := range sum.ByType {
		attrs = append(attrs, slog.Int("type."+string(t), n))
	}
	if sum.Failed != "" {
		attrs = append(attrs, "failed_sequence_number", sum.Failed, "left_for_retry", sum.Skipped)
	}
	h.log.InfoContext(ctx, "batch processed", attrs...)
	return resp, nil
}

// Process is Handle, also returning the counts.
func (h *Handler) Process(ctx context.Context, in events.KinesisEvent) (events.KinesisEventResponse, Summary) {
	sum := Summary{ByType: make(map[event.Type]int)}
	resp := events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{}}
	for i, rec := range in.Records {
		sub, err := h.processRecord(ctx, rec, &sum)
		if err == nil {
			sum.Records++
			continue
		}
		k := rec.Kinesis
		h.log.ErrorContext(ctx, "record failed; reporting it for redelivery",
			"event_source_arn", rec.EventSourceArn,
			"event_id", rec.EventID, // "shardId-...:sequence number"
			"partition_key", k.PartitionKey,
			"sequence_number", k.SequenceNumber,
			"sub_sequence_number", sub,
			"bytes", len(k.Data),
			"error", err)
		resp.BatchItemFailures = append(resp.BatchItemFailures,
			events.KinesisBatchItemFailure{ItemIdentifier: k.SequenceNumber})
		sum.Failed = k.SequenceNumber
		sum.Skipped = len(in.Records) - i - 1
		break
	}
	return resp, sum
}

// processRecord handles every event of one Kinesis record. On failure it
// returns the sub-sequence number of the failing user record.
func (h *Handler) processRecord(ctx context.Context, rec events.KinesisEventRecord, sum *Summary) (uint64, error) {
	if ctx.Err() != nil {
		return 0, fmt.Errorf("%w: %w", errDeadline, context.Cause(ctx))
	}
	urs, err := batch.Deaggregate(batch.KinesisRecord{
		SequenceNumber: rec.Kinesis.SequenceNumber,
		PartitionKey:   rec.Kinesis.PartitionKey,
		Data:           rec.Kinesis.Data,
	})
	if err != nil {
		return 0, err
	}
	// Count only once the whole record succeeded: a failed record is
	// delivered again, and counting it twice would mislead.
	var local Summary
	local.ByType = make(map[event.Type]int)
	for _, ur := range urs {
		if err := h.processEvent(ctx, ur.Data, &local); err != nil {
			return ur.SubSequenceNumber, err
		}
	}
	sum.UserRecords += len(urs)
	sum.Emails += local.Emails
	sum.NoNamedUser += local.NoNamedUser
	sum.Duplicates += local.Duplicates
	for t, n := range local.ByType {
		sum.ByType[t] += n
	}
	return 0, nil
}

// processEvent is the seed's scenario: email every named user who
// uninstalls the app.
func (h *Handler) processEvent(ctx context.Context, data []byte, sum *Summary) error {
	t, err := event.PeekType(data)
	if err != nil {
		return fmt.Errorf("not an RTDS event: %w", err)
	}
	sum.ByType[t]++
	if t != event.TypeUninstall {
		return nil // not decoded: no one handles it here
	}
	ev, err := event.Decode(data)
	if err != nil {
		return fmt.Errorf("malformed UNINSTALL event: %w", err)
	}
	u, ok := ev.(*event.Uninstall)
	if !ok {
		return fmt.Errorf("UNINSTALL decoded as %T", ev)
	}
	named := u.NamedUserID()
	if named == "" {
		sum.NoNamedUser++
		return nil
	}
	if h.mailed.Contains(u.ID) {
		sum.Duplicates++
		return nil
	}
	if err := h.mailer.SendUninstallEmail(ctx, named, u); err != nil {
		return fmt.Errorf("uninstall email for event %s: %w", u.ID, err)
	}
	h.mailed.Add(u.ID) // only once sent: a failed send is retried
	sum.Emails++
	return nil
}
