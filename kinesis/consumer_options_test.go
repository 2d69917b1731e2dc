package kinesis

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

func TestNewConsumerValidation(t *testing.T) {
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	h := OnEvent(func(context.Context, event.Event) error { return nil })
	tests := []struct {
		name    string
		reason  string
		client  ConsumerAPI
		stream  string
		opts    []ConsumerOption
		wantErr string
	}{
		{"ok", "a handler is all it needs", f, "s", []ConsumerOption{h}, ""},
		{"arn", "a stream ARN is accepted", f, kinesistest.ARN("s"), []ConsumerOption{h}, ""},
		{"bad arn", "an ARN must name a stream", f, "arn:aws:kinesis:us-east-1:1:table/x", []ConsumerOption{h}, "not a Kinesis stream ARN"},
		{"nil client", "there is nothing to read from", nil, "s", []ConsumerOption{h}, "nil client"},
		{"no stream", "the stream is required", f, "", []ConsumerOption{h}, "empty stream"},
		{"no handler", "records would be read for nothing", f, "s", nil, "no handler"},
		{"raw and typed", "OnRecord excludes event handlers", f, "s", []ConsumerOption{h, OnRecord(func(context.Context, Record) error { return nil })}, "cannot be combined"},
		{"nil handler", "a nil func is a bug", f, "s", []ConsumerOption{OnOpen(nil)}, "nil handler"},
		{"unknown via Handle", "Handle needs a typed event", f, "s", []ConsumerOption{Handle(func(context.Context, *event.Unknown) error { return nil })}, "not a typed event"},
		{"limit", "GetRecords takes 1 to 10000", f, "s", []ConsumerOption{h, WithGetRecordsLimit(10001)}, "limit"},
		{"rate", "the rate must be positive", f, "s", []ConsumerOption{h, WithGetRecordsRate(0)}, "rate"},
		{"start", "AT_TIMESTAMP needs a time", f, "s", []ConsumerOption{h, WithStartPosition(StartAtTimestamp(time.Time{}))}, "needs a time"},
		{"retry", "the backoff cap is at least the backoff", f, "s", []ConsumerOption{h, WithHandlerRetry(Retry{MaxAttempts: 3, InitialInterval: time.Second, MaxInterval: time.Millisecond, Multiplier: 2})}, "MaxInterval 1ms is below InitialInterval"},
		{"dedupe", "the window holds at least one id", f, "s", []ConsumerOption{h, WithDeduplication(0, 0)}, "deduplication"},
		{"store", "a nil store is a bug", f, "s", []ConsumerOption{h, WithCheckpointStore(nil)}, "nil checkpoint store"},
		{"hook", "a hook must implement a Hook interface", f, "s", []ConsumerOption{h, WithHooks(struct{}{})}, "implements no Hook"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewConsumer(tt.client, tt.stream, tt.opts...)
			if tt.wantErr == "" {
				if err != nil || c == nil {
					t.Fatalf("%s: %v", tt.reason, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "kinesis: ") {
				t.Fatalf("%s: err = %v, want %q", tt.reason, err, tt.wantErr)
			}
		})
	}
}

func TestConsumerRunFatalErrors(t *testing.T) {
	t.Run("missing stream", func(t *testing.T) {
		f := kinesistest.New()
		c, err := NewConsumer(f, "missing", OnEvent(func(context.Context, event.Event) error { return nil }))
		if err != nil {
			t.Fatal(err)
		}
		err = c.Run(context.Background())
		var nf *sdktypes.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("Run = %v, want a ResourceNotFoundException", err)
		}
	})
	t.Run("checkpoint moved ahead by another worker", func(t *testing.T) {
		f := kinesistest.New(kinesistest.WithStream("s", 1))
		seqs := putEntries(t, f, "s", []entry{{"k", testEvent("a", event.TypeOpen, "")}, {"k", testEvent("b", event.TypeOpen, "")}})
		store := NewMemoryStore()
		shard := f.Records("s")[0].ShardID
		c, err := NewConsumer(f, "s", append(fastConsumer(), WithCheckpointStore(store),
			OnEvent(func(ctx context.Context, e event.Event) error {
				if e.Base().ID == "a" {
					// Another worker has already finished the shard.
					return store.Save(ctx, "s", shard, Checkpoint{SequenceNumber: seqs[1], SubSequenceNumber: 5})
				}
				return nil
			}))...)
		if err != nil {
			t.Fatal(err)
		}
		err = c.Run(context.Background())
		var se *ShardError
		if !errors.Is(err, ErrCheckpointBehind) || !errors.As(err, &se) || se.ShardID != shard {
			t.Fatalf("Run = %v, want a ShardError wrapping ErrCheckpointBehind", err)
		}
	})
}

func TestPermanent(t *testing.T) {
	base := errors.New("boom")
	err := Permanent(base)
	wrapped := errors.Join(errors.New("context"), err)
	if !errors.Is(wrapped, &PermanentError{}) || !errors.Is(wrapped, base) || !isPermanent(wrapped) {
		t.Errorf("Permanent(%v) not found through a wrapper", base)
	}
	if isPermanent(base) || errors.Is(base, &PermanentError{}) {
		t.Error("a plain error is permanent")
	}
	if Permanent(nil) != nil {
		t.Error("Permanent(nil) != nil")
	}
	if err.Error() != "boom" {
		t.Errorf("Error() = %q", err.Error())
	}
}
