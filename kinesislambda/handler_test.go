package kinesislambda

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis"
)

var errMail = errors.New("mail service unavailable")

// newTestHandler returns a Handler whose OnUninstall handler records the
// event ids it handled and fails for the ids in fail; dead letters are
// recorded too.
func newTestHandler(t *testing.T, fail map[string]bool, opts ...kinesis.HandlerOption) (*Handler, *[]string, *[]kinesis.DeadLetter) {
	t.Helper()
	var handled []string
	var dead []kinesis.DeadLetter
	all := append([]kinesis.HandlerOption{
		kinesis.OnUninstall(func(_ context.Context, e *event.Uninstall) error {
			if fail[e.ID] {
				return errMail
			}
			handled = append(handled, e.ID)
			return nil
		}),
		kinesis.WithDeadLetter(func(_ context.Context, d kinesis.DeadLetter) error {
			dead = append(dead, d)
			return nil
		}),
	}, opts...)
	h, err := New(all...)
	if err != nil {
		t.Fatal(err)
	}
	h.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return h, &handled, &dead
}

func ids(prefix string, from, to int) []string {
	var s []string
	for i := from; i < to; i++ {
		s = append(s, fmt.Sprintf("%s%d", prefix, i))
	}
	return s
}

func TestThirdOfTenFailingReportsExactlyItsSequenceNumber(t *testing.T) {
	h, handled, _ := newTestHandler(t, map[string]bool{"e2": true})
	_, datas := uninstalls("e", 10)
	resp, err := h.Handle(context.Background(), kinesisEvent("shardId-000000000000", datas...))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := failures(resp), []string{seqNum(2)}; !slices.Equal(got, want) {
		t.Errorf("BatchItemFailures = %v, want %v", got, want)
	}
	if want := ids("e", 0, 2); !slices.Equal(*handled, want) {
		t.Errorf("handled %v, want %v and nothing after the failed record", *handled, want)
	}

	// The retry from the failed record (as Lambda sends it) succeeds.
	retry := kinesisEvent("shardId-000000000000", datas...)
	retry.Records = retry.Records[2:]
	h2, handled2, _ := newTestHandler(t, nil)
	resp, _ = h2.Handle(context.Background(), retry)
	if len(resp.BatchItemFailures) != 0 || !slices.Equal(*handled2, ids("e", 2, 10)) {
		t.Errorf("retry: failures %v, handled %v", failures(resp), *handled2)
	}
}

func TestUserRecordFiveOfTwentyInAnAggregateReportsTheAggregate(t *testing.T) {
	h, handled, _ := newTestHandler(t, map[string]bool{"a4": true}, kinesis.WithDeduplication(1000, 0))
	_, users := uninstalls("a", 20)
	ev := kinesisEvent("shardId-000000000001",
		testEvent("p0", event.TypeUninstall, "u"), aggregate(t, users...), testEvent("p2", event.TypeUninstall, "u"))
	resp, _ := h.Handle(context.Background(), ev)
	if got, want := failures(resp), []string{seqNum(1)}; !slices.Equal(got, want) {
		t.Fatalf("BatchItemFailures = %v, want the aggregate's %v", got, want)
	}
	if want := append([]string{"p0"}, ids("a", 0, 4)...); !slices.Equal(*handled, want) {
		t.Errorf("handled %v, want %v", *handled, want)
	}

	// Lambda delivers the aggregate again; in the same warm instance the
	// deduplication window skips the four already handled.
	*handled = nil
	resp, _ = h.Handle(context.Background(), kinesisEvent("shardId-000000000001", aggregate(t, users...)))
	if len(resp.BatchItemFailures) != 1 {
		t.Fatalf("still failing: %v", failures(resp))
	}
	if s := h.Stats(); s.Duplicates != 4 || len(*handled) != 0 {
		t.Errorf("Stats = %+v, want 4 duplicates skipped on the retry", s)
	}
}

func TestPoisonRecordsAreDeadLetteredAndDoNotBlockTheShard(t *testing.T) {
	h, handled, dead := newTestHandler(t, nil,
		kinesis.OnOpen(func(context.Context, *event.Open) error { return kinesis.Permanent(errors.New("never works")) }))
	corrupt := aggregate(t, testEvent("x", event.TypeUninstall, "u"))
	corrupt[len(corrupt)-1] ^= 0xff // the MD5 no longer matches
	ev := kinesisEvent("shardId-000000000000",
		[]byte("not json"),
		corrupt,
		[]byte(`{"type":"UNINSTALL","occurred":"2024-05-01T12:00:00Z","device":{"named_user_id":"u"}}`),
		testEvent("o1", event.TypeOpen, ""),
		testEvent("ok", event.TypeUninstall, "u"))
	resp, _ := h.Handle(context.Background(), ev)
	if len(resp.BatchItemFailures) != 0 {
		t.Errorf("BatchItemFailures = %v, want none", failures(resp))
	}
	var reasons []kinesis.DeadLetterReason
	for _, d := range *dead {
		reasons = append(reasons, d.Reason)
	}
	want := []kinesis.DeadLetterReason{kinesis.ReasonUndecodable, kinesis.ReasonCorruptAggregate, kinesis.ReasonMissingID, kinesis.ReasonPermanent}
	if !slices.Equal(reasons, want) {
		t.Errorf("dead letters %v, want %v", reasons, want)
	}
	if !slices.Equal(*handled, []string{"ok"}) {
		t.Errorf("handled %v, want [ok]", *handled)
	}
	if d := (*dead)[1]; d.ShardID != "shardId-000000000000" || d.SequenceNumber != seqNum(1) {
		t.Errorf("corrupt aggregate dead letter at %s/%s", d.ShardID, d.SequenceNumber)
	}
}

func TestDeadlineMidBatchReportsTheRestAsFailed(t *testing.T) {
	var handled []string
	h, err := New(kinesis.OnUninstall(func(ctx context.Context, e *event.Uninstall) error {
		handled = append(handled, e.ID)
		if e.ID == "e3" {
			<-ctx.Done() // a slow handler: ctx is done at the deadline minus the margin
			return ctx.Err()
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	h.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	h.DeadlineMargin = 50 * time.Millisecond
	_, datas := uninstalls("e", 6)
	deadline := time.Now().Add(200 * time.Millisecond)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	resp, _ := h.Handle(ctx, kinesisEvent("shardId-000000000000", datas...))
	if time.Now().After(deadline) {
		t.Errorf("Handle returned after the invocation's deadline")
	}
	if got, want := failures(resp), []string{seqNum(3)}; !slices.Equal(got, want) {
		t.Errorf("BatchItemFailures = %v, want %v", got, want)
	}
	if !slices.Equal(handled, ids("e", 0, 4)) {
		t.Errorf("handled %v, want e0..e3 and nothing after", handled)
	}
	if s := h.Stats(); s.Handled != 3 {
		t.Errorf("Stats = %+v, want 3 handled", s)
	}

	// Already past the margin: nothing is handled, the first record is reported.
	handled = nil
	ctx2, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(10*time.Millisecond))
	defer cancel2()
	resp, _ = h.Handle(ctx2, kinesisEvent("shardId-000000000000", datas...))
	if got := failures(resp); !slices.Equal(got, []string{seqNum(0)}) || len(handled) != 0 {
		t.Errorf("BatchItemFailures = %v, handled %v; want the first record and nothing handled", got, handled)
	}
}

func TestEachShardStopsAtItsOwnFailure(t *testing.T) {
	h, handled, _ := newTestHandler(t, map[string]bool{"a1": true})
	a := kinesisEvent("shardId-a", testEvent("a0", event.TypeUninstall, "u"), testEvent("a1", event.TypeUninstall, "u"), testEvent("a2", event.TypeUninstall, "u"))
	b := kinesisEvent("shardId-b", testEvent("b0", event.TypeUninstall, "u"), testEvent("b1", event.TypeUninstall, "u"))
	ev := events.KinesisEvent{Records: []events.KinesisEventRecord{a.Records[0], b.Records[0], a.Records[1], b.Records[1], a.Records[2]}}
	resp, _ := h.Handle(context.Background(), ev)
	if got := failures(resp); !slices.Equal(got, []string{seqNum(1)}) {
		t.Errorf("BatchItemFailures = %v", got)
	}
	if want := []string{"a0", "b0", "b1"}; !slices.Equal(*handled, want) {
		t.Errorf("handled %v, want %v", *handled, want)
	}
}

func TestHandlerRetryOptionRetriesInsideTheInvocation(t *testing.T) {
	calls := 0
	h, err := New(kinesis.OnUninstall(func(context.Context, *event.Uninstall) error {
		calls++
		if calls < 3 {
			return errMail
		}
		return nil
	}), kinesis.WithHandlerRetry(kinesis.Retry{MaxAttempts: 3, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond, Multiplier: 1}))
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := h.Handle(context.Background(), kinesisEvent("shardId-0", testEvent("e", event.TypeUninstall, "u")))
	if len(resp.BatchItemFailures) != 0 || calls != 3 {
		t.Errorf("failures %v after %d calls, want none after 3", failures(resp), calls)
	}
}

func TestNewRejectsAnInvalidHandlerSet(t *testing.T) {
	if _, err := New(); err == nil {
		t.Error("New() without a handler: want an error")
	}
}
