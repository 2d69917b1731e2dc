package kinesis

import (
	"context"
	"errors"
	"testing"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/event/eventgen"
	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

var builtinEventKeys = map[string]func(event.Event) string{
	"channel":    PartitionKeyChannel,
	"named_user": PartitionKeyNamedUser,
	"id":         PartitionKeyEventID,
}

// TestRawEventKeys checks that the peeked equivalent of each built-in key
// function gives the key the function gives on the decoded event, on the
// eventgen corpus, and that other functions have none.
func TestRawEventKeys(t *testing.T) {
	t.Parallel()
	g := eventgen.New(11)
	for range 3000 {
		data := g.Next()
		e, err := event.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		k, err := event.PeekKeys(data)
		if err != nil {
			t.Fatal(err)
		}
		for name, fn := range builtinEventKeys {
			raw := rawEventKey(fn)
			if raw == nil {
				t.Fatalf("%s: no peeked equivalent", name)
			}
			if got, want := raw(k), fn(e); got != want {
				t.Fatalf("%s: peeked key %q, decoded %q for %s", name, got, want, data)
			}
		}
	}
	custom := func(e event.Event) string { return PartitionKeyChannel(e) }
	if rawEventKey(custom) != nil || rawEventKey(nil) != nil {
		t.Error("a custom key function has a peeked equivalent")
	}
}

// TestPutEventJSON puts eventgen events with PutEventJSON under each
// built-in key function and a custom one: each record holds the line
// unchanged, under the key PutEvent would use.
func TestPutEventJSON(t *testing.T) {
	t.Parallel()
	fns := map[string]func(event.Event) string{
		"custom": func(e event.Event) string { return string(e.EventType()) + "/" + e.Base().ID },
	}
	for name, fn := range builtinEventKeys {
		fns[name] = fn
	}
	for name, fn := range fns {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := kinesistest.New(kinesistest.WithStream("s", 2))
			p, err := NewProducer(f, "s", WithEventPartitionKey(fn), WithAggregation(name == "channel"))
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{} // data -> key
			g := eventgen.New(5)
			for range 300 {
				data := g.Next()
				e, err := event.Decode(data)
				if err != nil {
					t.Fatal(err)
				}
				want[string(data)] = fn(e)
				if err := p.PutEventJSON(context.Background(), data); err != nil {
					t.Fatal(err)
				}
			}
			if err := p.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := 0
			for _, r := range fakeRecords(t, f, "s") {
				k, ok := want[r.Data]
				if !ok {
					t.Fatalf("record data %q was not put", r.Data)
				}
				if r.PartitionKey != k {
					t.Errorf("record key %q, want %q", r.PartitionKey, k)
				}
				got++
			}
			if got != len(want) {
				t.Errorf("%d records, want %d", got, len(want))
			}
		})
	}
}

func TestPutEventJSONErrors(t *testing.T) {
	t.Parallel()
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	p, err := NewProducer(f, "s")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, in := range []string{`not json`, `{"id":"a"}`, `[]`, `{"id":"a","type":"OPEN"} x`} {
		err := p.PutEventJSON(ctx, []byte(in))
		var de *event.DecodeError
		if !errors.As(err, &de) {
			t.Errorf("PutEventJSON(%s): %v, want a *event.DecodeError", in, err)
		}
	}
	empty, err := NewProducer(f, "s", WithEventPartitionKey(func(event.Event) string { return "" }))
	if err != nil {
		t.Fatal(err)
	}
	if err := empty.PutEventJSON(ctx, []byte(`{"id":"a","type":"OPEN"}`)); !errors.Is(err, ErrNoPartitionKey) {
		t.Errorf("empty key: %v, want ErrNoPartitionKey", err)
	}
	// A custom function decodes the event: what Decode rejects is an error.
	custom, err := NewProducer(f, "s", WithEventPartitionKey(func(e event.Event) string { return e.Base().ID }))
	if err != nil {
		t.Fatal(err)
	}
	if err := custom.PutEventJSON(ctx, []byte(`{"id":"a","type":"OPEN","occurred":"yesterday"}`)); !errors.Is(err, event.ErrInvalidTimestamp) {
		t.Errorf("bad timestamp with a custom key: %v", err)
	}
	for _, q := range []*Producer{p, empty, custom} {
		if err := q.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.PutEventJSON(ctx, []byte(`{"id":"a","type":"OPEN"}`)); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
	if n := len(f.Records("s")); n != 0 {
		t.Errorf("%d records stored, want 0", n)
	}
}
