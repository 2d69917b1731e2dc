package eventgen_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/event/eventgen"
)

// TestDecodesToTypedEvents checks every generated event against package
// event: it decodes to its typed struct, its type peeks cheaply, it has a
// channel where it has a device, it re-encodes to the same JSON value, and
// it converts to CSV where its type has a layout.
func TestDecodesToTypedEvents(t *testing.T) {
	known := map[event.Type]bool{}
	for _, k := range event.KnownTypes() {
		known[k] = true
	}
	for _, typ := range eventgen.Types() {
		if !known[event.Type(typ)] {
			t.Errorf("eventgen type %s is not one of event.KnownTypes", typ)
		}
	}
	if len(known) != len(eventgen.Types()) {
		t.Errorf("event knows %d types, eventgen %d", len(known), len(eventgen.Types()))
	}

	writers := map[event.Type]*event.CSVWriter{}
	g := eventgen.New(99)
	for i := 0; i < 4000; i++ {
		raw := g.Next()
		ev, err := event.Decode(raw)
		if err != nil {
			t.Fatalf("event %d: Decode: %v\n%s", i, err, raw)
		}
		if _, unknown := ev.(*event.Unknown); unknown {
			t.Fatalf("event %d decoded to *event.Unknown: %s", i, raw)
		}
		typ := ev.EventType()
		if peek, err := event.PeekType(raw); err != nil || peek != typ {
			t.Fatalf("event %d: PeekType = %q, %v; Decode says %q", i, peek, err, typ)
		}
		env := ev.Base()
		if env.ID == "" || env.Offset == "" || env.Occurred.IsZero() || env.Processed.IsZero() {
			t.Fatalf("event %d: incomplete envelope %+v", i, env)
		}
		switch typ {
		case event.TypePushBody, event.TypeOffsetUpdate:
			if env.Device != nil {
				t.Fatalf("event %d (%s) has a device", i, typ)
			}
		default:
			if env.ChannelID() == "" {
				t.Fatalf("event %d (%s): no channel: %s", i, typ, raw)
			}
		}

		again, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("event %d: Marshal: %v", i, err)
		}
		if !sameJSON(t, raw, again) {
			t.Fatalf("event %d: re-encoding changed it:\n got %s\nwant %s", i, again, raw)
		}

		w, ok := writers[typ]
		if !ok {
			w, err = event.NewCSVWriter(io.Discard, typ)
			if err != nil {
				if _, herr := event.CSVHeader(typ); herr == nil {
					t.Fatalf("NewCSVWriter(%s): %v", typ, err)
				}
				w = nil // no layout for this type
			}
			writers[typ] = w
		}
		if w != nil {
			if err := w.Write(ev); err != nil {
				t.Fatalf("event %d: CSV: %v", i, err)
			}
		}
	}
	for typ, w := range writers {
		if w != nil {
			if err := w.Flush(); err != nil {
				t.Errorf("%s: Flush: %v", typ, err)
			}
		}
	}
}

func TestUnknownTypeDecodesToUnknown(t *testing.T) {
	raw := eventgen.New(1, eventgen.WithTypes("BRAND_NEW_TYPE")).Next()
	ev, err := event.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	u, ok := ev.(*event.Unknown)
	if !ok {
		t.Fatalf("Decode = %T, want *event.Unknown", ev)
	}
	if !bytes.Equal(u.Raw, raw) {
		t.Errorf("Raw = %s, want %s", u.Raw, raw)
	}
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	dec := func(data []byte, v *any) {
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		if err := d.Decode(v); err != nil && !errors.Is(err, io.EOF) {
			t.Fatalf("decode %s: %v", data, err)
		}
	}
	dec(a, &x)
	dec(b, &y)
	return reflect.DeepEqual(x, y)
}
