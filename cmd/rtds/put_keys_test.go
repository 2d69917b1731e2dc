package main

import (
	"testing"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/event/eventgen"
)

// TestRawPartitionKeyFuncs checks that put's key functions on peeked keys
// give the keys of the library's functions of the same name on decoded
// events, on the eventgen corpus.
func TestRawPartitionKeyFuncs(t *testing.T) {
	t.Parallel()
	g := eventgen.New(13)
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
		for _, name := range []string{"channel", "id", "named_user"} {
			fn, ok := partitionKeyFunc(name)
			raw, rok := rawPartitionKeyFunc(name)
			if !ok || !rok {
				t.Fatalf("%s: no key function", name)
			}
			if got, want := raw(k), fn(e); got != want {
				t.Fatalf("%s: peeked key %q, decoded %q for %s", name, got, want, data)
			}
		}
	}
	if _, ok := rawPartitionKeyFunc("nope"); ok {
		t.Error("unknown key name accepted")
	}
}
