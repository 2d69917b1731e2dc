package kinesis

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rtdskit/rtds/event"
)

func TestTryDispatchReturnsTheHandlerErrorInsteadOfDeadLettering(t *testing.T) {
	errBoom := errors.New("boom")
	var calls int
	var dead []DeadLetterReason
	d, err := NewDispatcher(
		OnOpen(func(_ context.Context, e *event.Open) error {
			calls++
			if e.ID == "p" {
				return Permanent(errBoom)
			}
			if e.ID == "f" {
				return errBoom
			}
			return nil
		}),
		WithHandlerRetry(Retry{MaxAttempts: 2, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond, Multiplier: 1}),
		WithDeadLetter(func(_ context.Context, dl DeadLetter) error {
			dead = append(dead, dl.Reason)
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rec := Record{ShardID: "shardId-1", SequenceNumber: "7", SubSequenceNumber: 3, Data: testEvent("f", event.TypeOpen, "")}
	err = d.TryDispatch(ctx, rec)
	var he *HandlerError
	if !errors.As(err, &he) || !errors.Is(err, errBoom) {
		t.Fatalf("TryDispatch = %v, want a *HandlerError wrapping the handler's error", err)
	}
	if he.Attempts != 2 || calls != 2 || he.Type != event.TypeOpen || he.Record.SequenceNumber != "7" || he.Record.SubSequenceNumber != 3 {
		t.Errorf("HandlerError = %+v after %d calls, want 2 attempts on OPEN 7/3", he, calls)
	}
	if len(dead) != 0 {
		t.Errorf("dead-lettered %v, want nothing", dead)
	}

	// Permanent errors and undecodable records are still dead-lettered.
	for _, data := range [][]byte{testEvent("p", event.TypeOpen, ""), []byte("garbage")} {
		if err := d.TryDispatch(ctx, Record{ShardID: "shardId-1", SequenceNumber: "8", Data: data}); err != nil {
			t.Errorf("TryDispatch(%.20s) = %v, want nil (dead-lettered)", data, err)
		}
	}
	if len(dead) != 2 || dead[0] != ReasonPermanent || dead[1] != ReasonUndecodable {
		t.Errorf("dead-lettered %v, want [permanent undecodable]", dead)
	}
	if err := d.TryDispatch(ctx, Record{ShardID: "shardId-1", SequenceNumber: "9", Data: testEvent("ok", event.TypeOpen, "")}); err != nil {
		t.Fatal(err)
	}
	if s := d.Stats(); s != (DispatcherStats{Handled: 1, DeadLettered: 2}) {
		t.Errorf("Stats = %+v, want the failed record not counted", s)
	}
}
