package event_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rtdskit/rtds/event"
)

// driftLine is a Drift without memory shared with the event, for cmp.
type driftLine struct {
	Path, Kind, JSONType, Value string
}

func driftOf(t *testing.T, data []byte) []driftLine {
	t.Helper()
	e := mustDecode(t, data)
	var out []driftLine
	for _, d := range event.AppendDrift(nil, e) {
		out = append(out, driftLine{d.Path, string(d.Kind), d.JSONType(), string(d.Value)})
	}
	return out
}

func TestAppendDriftReportsUnknownMembersAndMisfitValues(t *testing.T) {
	tests := []struct {
		name, reason string
		in           []byte
		want         []driftLine
	}{
		{
			name:   "none",
			reason: "an event of the documented shape has no drift",
			in:     ev("SEND", `{"channel":"c1","device_type":"IOS"}`, `{"push_id":"p1","variant_id":3}`),
		},
		{
			name:   "unknown body member",
			reason: "a body member the table does not list is an unknown field at body.<name>",
			in:     ev("SEND", "", `{"push_id":"p1","priority":"high"}`),
			want:   []driftLine{{"body.priority", "unknown_field", "string", `"high"`}},
		},
		{
			name:   "known member, wrong JSON type",
			reason: "push_id is modelled as a string; a number is kept and reported as a type mismatch",
			in:     ev("SEND", "", `{"push_id":17}`),
			want:   []driftLine{{"body.push_id", "type_mismatch", "number", `17`}},
		},
		{
			name:   "envelope, device and user",
			reason: "drift outside the body carries the member's path from the event's root",
			in: []byte(`{"id":"e1","type":"OPEN","source":"sdk","device":{"channel":"c","carrier":"x"},` +
				`"user":{"contact_id":null},"body":{}}`),
			want: []driftLine{
				{"device.carrier", "unknown_field", "string", `"x"`},
				{"source", "unknown_field", "string", `"sdk"`},
				{"user.contact_id", "type_mismatch", "null", `null`},
			},
		},
		{
			name:   "nested objects",
			reason: "members of associated pushes and their campaigns are reported under their own paths",
			in:     ev("OPEN", "", `{"triggering_push":{"push_id":"p","x":1,"campaigns":{"categories":["a"],"y":true}}}`),
			want: []driftLine{
				{"body.triggering_push.campaigns.y", "unknown_field", "boolean", `true`},
				{"body.triggering_push.x", "unknown_field", "number", `1`},
			},
		},
		{
			name:   "array elements",
			reason: "members of array elements share one path with []",
			in:     ev("IN_APP_PAGER_SUMMARY", "", `{"viewed_pages":[{"page_index":0,"z":[]},{"page_index":1}]}`),
			want:   []driftLine{{"body.viewed_pages[].z", "unknown_field", "array", `[]`}},
		},
		{
			name:   "unknown type",
			reason: "an unknown type is reported once; its body is not examined",
			in:     ev("HOLOGRAM_VIEWED", "", `{"a":1}`),
			want:   []driftLine{{"type", "unknown_type", "", ""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, driftOf(t, tt.in)); diff != "" {
				t.Errorf("%s\nAppendDrift (-want +got):\n%s", tt.reason, diff)
			}
		})
	}
}

func TestAppendDriftReportsKeptValuesInTheGoldenEvents(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "events", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden events: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		e, err := event.Decode(data)
		if err != nil {
			continue // the error cases have their own tests
		}
		for _, d := range event.AppendDrift(nil, e) {
			// The corpus documents real drift too; this test only checks
			// that what is reported is really kept.
			if d.Kind != event.DriftUnknownType && len(d.Value) == 0 {
				t.Errorf("%s: %s reported without a value", f, d.Path)
			}
		}
	}
}

func TestAppendDriftAllocatesNothingWithoutDrift(t *testing.T) {
	e := mustDecode(t, ev("SEND", `{"channel":"c1","device_type":"IOS"}`, `{"push_id":"p1","campaigns":{"categories":["a"]}}`))
	buf := make([]event.Drift, 0, 4)
	if n := testing.AllocsPerRun(100, func() { buf = event.AppendDrift(buf[:0], e) }); n != 0 {
		t.Errorf("AppendDrift allocated %v times per event without drift, want 0", n)
	}
	if len(buf) != 0 {
		t.Errorf("drift = %v, want none", buf)
	}
}

func TestDriftReportCountsAndKeepsTheFirstSighting(t *testing.T) {
	var r event.DriftReport
	long := strings.Repeat("é", 60)
	inputs := []struct {
		data  []byte
		where string
	}{
		{ev("SEND", "", `{"push_id":"p1"}`), "a.ndjson:1"},
		{ev("SEND", "", `{"push_id":"p1","priority":"high"}`), "a.ndjson:2"},
		{ev("SEND", "", `{"push_id":"p1","priority":"low"}`), "a.ndjson:3"},
		{ev("SEND", "", `{"push_id":"p1","priority":5}`), "a.ndjson:4"},
		{ev("NEW_THING", "", `{}`), "b.ndjson:1"},
		{ev("NEW_THING", "", `{}`), "b.ndjson:2"},
		{ev("OPEN", "", `{"note":"`+long+`"}`), "b.ndjson:3"},
	}
	for _, in := range inputs {
		e, err := event.Decode(in.data)
		if err != nil {
			t.Fatal(err)
		}
		r.Observe(e, in.where)
	}
	events, drifted := r.Events()
	if events != 7 || drifted != 6 {
		t.Errorf("Events() = %d, %d; want 7, 6", events, drifted)
	}
	cut := `"` + strings.Repeat("é", 38) + "..."
	want := []event.DriftStat{
		{Type: "NEW_THING", Path: "type", Kind: event.DriftUnknownType, Count: 2, FirstSeen: "b.ndjson:1"},
		{Type: event.TypeOpen, Path: "body.note", Kind: event.DriftUnknownField, JSONType: "string", Count: 1, FirstSeen: "b.ndjson:3", Example: cut},
		{Type: event.TypeSend, Path: "body.priority", Kind: event.DriftUnknownField, JSONType: "number", Count: 1, FirstSeen: "a.ndjson:4", Example: "5"},
		{Type: event.TypeSend, Path: "body.priority", Kind: event.DriftUnknownField, JSONType: "string", Count: 2, FirstSeen: "a.ndjson:2", Example: `"high"`},
	}
	if diff := cmp.Diff(want, r.Stats()); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
	if len(cut) > event.DriftExampleMax {
		t.Errorf("example is %d bytes, longer than DriftExampleMax", len(cut))
	}
}
