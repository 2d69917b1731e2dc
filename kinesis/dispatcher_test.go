package kinesis

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rtdskit/rtds/event"
)

func TestDispatcherDeadLetterReasons(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		data    []byte
		handler error
		want    DeadLetterReason
	}{
		{"not JSON", []byte("garbage"), nil, ReasonUndecodable},
		{"body does not decode", []byte(`{"id":"x","type":"OPEN",`), nil, ReasonUndecodable},
		{"no id", []byte(`{"type":"OPEN","occurred":"2024-05-01T12:00:00Z","body":{}}`), nil, ReasonMissingID},
		{"handler keeps failing", testEvent("f", event.TypeOpen, ""), errBoom, ReasonHandlerFailed},
		{"permanent error", testEvent("p", event.TypeOpen, ""), Permanent(errBoom), ReasonPermanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []DeadLetter
			d, err := NewDispatcher(
				OnOpen(func(context.Context, *event.Open) error { return tt.handler }),
				WithHandlerRetry(Retry{MaxAttempts: 2, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond, Multiplier: 1}),
				WithDeadLetter(func(_ context.Context, dl DeadLetter) error {
					got = append(got, dl)
					return nil
				}))
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Dispatch(context.Background(), Record{ShardID: "s", SequenceNumber: "1", Data: tt.data}); err != nil {
				t.Fatalf("Dispatch: %v", err)
			}
			if len(got) != 1 || got[0].Reason != tt.want || got[0].Err == nil {
				t.Fatalf("dead letters = %+v, want one with reason %s", got, tt.want)
			}
			if st := d.Stats(); st.DeadLettered != 1 || st.Handled != 0 {
				t.Errorf("Stats = %+v", st)
			}
		})
	}
}

func TestDispatcherStopsWithContextDuringRetries(t *testing.T) {
	calls := 0
	d, err := NewDispatcher(
		OnEvent(func(context.Context, event.Event) error { calls++; return errors.New("down") }),
		WithHandlerRetry(Retry{MaxAttempts: 0, InitialInterval: 10 * time.Millisecond, MaxInterval: 10 * time.Millisecond, Multiplier: 1}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = d.Dispatch(ctx, Record{Data: testEvent("a", event.TypeOpen, "")})
	if !errors.Is(err, context.DeadlineExceeded) || calls < 2 {
		t.Errorf("Dispatch = %v after %d calls; want the ctx error after retries", err, calls)
	}
	if st := d.Stats(); st != (DispatcherStats{}) {
		t.Errorf("Stats = %+v, want nothing counted for an unfinished record", st)
	}
}

func TestDeferOutsideAConsumerIsNotOK(t *testing.T) {
	var oks []bool
	d, err := NewDispatcher(OnRecord(func(ctx context.Context, r Record) error {
		_, ok := Defer(ctx)
		oks = append(oks, ok)
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	// Also with a ctx that carries a consumer handler's slot (a handler
	// dispatching through a second Dispatcher).
	slotCtx := context.WithValue(context.Background(), deferKey{}, &deferSlot{open: true, t: newAckTracker(Checkpoint{}, false, nil)})
	for _, ctx := range []context.Context{context.Background(), slotCtx} {
		if err := d.Dispatch(ctx, Record{Data: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]bool{false, false}, oks); diff != "" {
		t.Errorf("Defer ok (-want +got):\n%s", diff)
	}
}

func TestNewDispatcherRejectsInvalidHandlerSets(t *testing.T) {
	for name, opts := range map[string][]HandlerOption{
		"no handler":           {WithLogger(nil)},
		"OnRecord with events": {OnRecord(func(context.Context, Record) error { return nil }), OnEvent(func(context.Context, event.Event) error { return nil })},
		"nil handler":          {OnEvent(nil)},
		"bad retry":            {OnEvent(func(context.Context, event.Event) error { return nil }), WithHandlerRetry(Retry{Multiplier: -1})},
	} {
		if _, err := NewDispatcher(opts...); err == nil {
			t.Errorf("%s: NewDispatcher accepted it", name)
		}
	}
}
