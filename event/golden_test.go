package event_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rtdskit/rtds/event"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// inputs returns the test events under testdata/events, by file stem.
func inputs(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "events", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no test events: %v", err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(p), ".json")] = bytes.TrimSpace(data)
	}
	return out
}

// TestGolden decodes every test event and compares a dump of the typed
// value, and its CSV row, with testdata/golden/<name>.golden.
func TestGolden(t *testing.T) {
	for name, data := range inputs(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ev, err := event.Decode(data)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			var b strings.Builder
			fmt.Fprintf(&b, "Go type: %T\nChannelID(): %q\nNamedUserID(): %q\n\n", ev, ev.Base().ChannelID(), ev.Base().NamedUserID())
			dump(&b, reflect.ValueOf(ev).Elem(), "")
			b.WriteString("\n")
			if header, err := event.CSVHeader(ev.EventType()); err != nil {
				fmt.Fprintf(&b, "CSV: %v\n", err)
			} else {
				row, err := event.CSVRecord(ev)
				if err != nil {
					t.Fatalf("CSVRecord: %v", err)
				}
				if len(row) != len(header) {
					t.Fatalf("CSV row has %d cells, header %d", len(row), len(header))
				}
				b.WriteString("CSV:\n")
				for i := range header {
					fmt.Fprintf(&b, "  %s = %q\n", header[i], row[i])
				}
			}
			checkGolden(t, filepath.Join("testdata", "golden", name+".golden"), b.String())
		})
	}
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./event -run TestGolden -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

var (
	numberType = reflect.TypeFor[event.Number]()
	boolType   = reflect.TypeFor[event.Bool]()
	timeType   = reflect.TypeFor[time.Time]()
	rawType    = reflect.TypeFor[json.RawMessage]()
)

// dump writes the exported fields of v, one per line, skipping zero ones.
func dump(b *strings.Builder, v reflect.Value, indent string) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		fv := v.Field(i)
		if f.Anonymous {
			dump(b, fv, indent)
			continue
		}
		if fv.IsZero() {
			continue
		}
		fmt.Fprintf(b, "%s%s: ", indent, f.Name)
		dumpValue(b, fv, indent)
	}
}

func dumpValue(b *strings.Builder, fv reflect.Value, indent string) {
	switch {
	case fv.Type() == numberType:
		n := fv.Interface().(event.Number)
		if n.Quoted() {
			fmt.Fprintf(b, "Number(%s, sent as a string)\n", n)
		} else {
			fmt.Fprintf(b, "Number(%s)\n", n)
		}
	case fv.Type() == boolType:
		fmt.Fprintf(b, "%s\n", fv.Interface())
	case fv.Type() == timeType:
		fmt.Fprintf(b, "%s\n", fv.Interface().(time.Time).Format(time.RFC3339Nano))
	case fv.Type() == rawType:
		fmt.Fprintf(b, "raw %s\n", fv.Bytes())
	case fv.Kind() == reflect.Pointer:
		b.WriteString("{\n")
		dump(b, fv.Elem(), indent+"  ")
		fmt.Fprintf(b, "%s}\n", indent)
	case fv.Kind() == reflect.Struct:
		b.WriteString("{\n")
		dump(b, fv, indent+"  ")
		fmt.Fprintf(b, "%s}\n", indent)
	case fv.Kind() == reflect.Map:
		keys := fv.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		b.WriteString("{\n")
		for _, k := range keys {
			fmt.Fprintf(b, "%s  %q: ", indent, k.String())
			dumpValue(b, fv.MapIndex(k), indent+"  ")
		}
		fmt.Fprintf(b, "%s}\n", indent)
	case fv.Kind() == reflect.Slice:
		b.WriteString("[\n")
		for i := range fv.Len() {
			fmt.Fprintf(b, "%s  ", indent)
			dumpValue(b, fv.Index(i), indent+"  ")
		}
		fmt.Fprintf(b, "%s]\n", indent)
	default:
		fmt.Fprintf(b, "%q\n", fmt.Sprint(fv.Interface()))
	}
}

// TestEveryTypeHasAGoldenEvent makes sure the test corpus covers every known
// type with its own file, and that each decodes to its typed struct.
func TestEveryTypeHasAGoldenEvent(t *testing.T) {
	in := inputs(t)
	for _, typ := range event.KnownTypes() {
		data, ok := in[strings.ToLower(string(typ))]
		if !ok {
			t.Errorf("no testdata/events/%s.json", strings.ToLower(string(typ)))
			continue
		}
		ev, err := event.Decode(data)
		if err != nil {
			t.Errorf("%s: %v", typ, err)
			continue
		}
		if ev.EventType() != typ {
			t.Errorf("%s decoded as %s", typ, ev.EventType())
		}
		if _, unknown := ev.(*event.Unknown); unknown {
			t.Errorf("%s decoded to *event.Unknown", typ)
		}
		if want := strings.ReplaceAll(strings.ToLower(string(typ)), "_", ""); strings.ToLower(reflect.TypeOf(ev).Elem().Name()) != want {
			t.Errorf("%s decoded to %T", typ, ev)
		}
	}
}

// TestRoundTrip re-encodes every test event: the JSON must equal the input
// (as encoding/json reads both), and decoding it again must give the same
// event.
func TestRoundTrip(t *testing.T) {
	for name, data := range inputs(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			checkRoundTrip(t, data)
		})
	}
}

func checkRoundTrip(t *testing.T, data []byte) {
	t.Helper()
	ev, err := event.Decode(data)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if !json.Valid(out) {
		t.Fatalf("Marshal produced invalid JSON: %s", out)
	}
	if diff := cmp.Diff(semantic(t, data), semantic(t, out)); diff != "" {
		t.Errorf("re-encoded JSON differs from the input (-input +output):\n%s\noutput: %s", diff, out)
	}
	if appended := event.AppendJSON(nil, ev); !bytes.Equal(semanticBytes(t, appended), semanticBytes(t, out)) {
		t.Errorf("AppendJSON and json.Marshal differ:\n%s\n%s", appended, out)
	}
	ev2, err := event.Decode(out)
	if err != nil {
		t.Fatalf("Decode(Marshal(ev)): %v\n%s", err, out)
	}
	if diff := cmp.Diff(stripRaw(ev), stripRaw(ev2), eventCmp...); diff != "" {
		t.Errorf("Decode(Marshal(ev)) != ev (-first +second):\n%s\nre-encoded: %s", diff, out)
	}
}

// eventCmp compares decoded events completely, unexported fields included,
// with raw JSON compared as the values encoding/json reads from it.
var eventCmp = []cmp.Option{
	cmp.Exporter(func(reflect.Type) bool { return true }),
	cmp.Transformer("semantic", func(r json.RawMessage) any {
		if r == nil {
			return nil
		}
		d := json.NewDecoder(bytes.NewReader(r))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			return "invalid: " + string(r)
		}
		return v
	}),
}

// stripRaw clears what legitimately differs between a decode of the input
// and of its re-encoding: the raw bytes (member order and white space).
func stripRaw(ev event.Event) event.Event {
	v := reflect.New(reflect.TypeOf(ev).Elem())
	v.Elem().Set(reflect.ValueOf(ev).Elem())
	c := v.Interface().(event.Event)
	c.Base().Body = nil
	if u, ok := c.(*event.Unknown); ok {
		u.Raw = nil
	}
	return c
}

func semantic(t *testing.T, data []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, data)
	}
	return v
}

func semanticBytes(t *testing.T, data []byte) []byte {
	out, err := json.Marshal(semantic(t, data))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestKnownTypes(t *testing.T) {
	types := event.KnownTypes()
	if len(types) != 44 {
		t.Errorf("KnownTypes() has %d types, want 44", len(types))
	}
	if !slices.IsSorted(types) {
		t.Errorf("KnownTypes() is not sorted: %v", types)
	}
	types[0] = "CHANGED"
	if event.KnownTypes()[0] == "CHANGED" {
		t.Error("KnownTypes returns the package's own slice")
	}
}

func TestCSVGoldenIsValidCSV(t *testing.T) {
	// Every type with a layout: header plus a row from its test event parse
	// back as CSV with the same cells.
	in := inputs(t)
	for _, typ := range event.KnownTypes() {
		if _, err := event.CSVHeader(typ); err != nil {
			if !errors.Is(err, event.ErrNoCSVLayout) {
				t.Errorf("%s: %v", typ, err)
			}
			continue
		}
		ev, err := event.Decode(in[strings.ToLower(string(typ))])
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		w, err := event.NewCSVWriter(&buf, typ)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(ev); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		header, _ := event.CSVHeader(typ)
		row, _ := event.CSVRecord(ev)
		if diff := cmp.Diff([][]string{header, row}, recs); diff != "" {
			t.Errorf("%s: CSV output (-want +got):\n%s", typ, diff)
		}
	}
}
