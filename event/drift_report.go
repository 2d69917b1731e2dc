package event

import (
	"cmp"
	"slices"
	"sync"
	"unicode/utf8"
)

// DriftExampleMax is the longest example value a DriftReport keeps, in
// bytes; longer values are cut and end in "...".
const DriftExampleMax = 80

// DriftReport tallies the drift (see AppendDrift) of many events: which
// unknown types and which members, per event type, were seen how often,
// where first, and one example value. It keeps the drifted member's value,
// never the event. The zero value is ready to use; it is safe for
// concurrent use.
type DriftReport struct {
	mu      sync.Mutex
	events  int64
	drifted int64
	stats   map[driftKey]*DriftStat
	buf     []Drift
}

type driftKey struct {
	typ      Type
	path     string
	kind     DriftKind
	jsonType string
}

// DriftStat is one line of a DriftReport.
type DriftStat struct {
	// Type is the event type the drift was seen in.
	Type Type `json:"type"`
	// Path and Kind are Drift's; Path is "type" for DriftUnknownType.
	Path string    `json:"path"`
	Kind DriftKind `json:"kind"`
	// JSONType is the JSON type of the values counted ("" for
	// DriftUnknownType): one member seen both as a string and as a number
	// gives two lines.
	JSONType string `json:"json_type,omitempty"`
	// Count is how many events had it.
	Count int64 `json:"count"`
	// FirstSeen is where it was first seen, as given to Observe.
	FirstSeen string `json:"first_seen"`
	// Example is the first value seen, at most DriftExampleMax bytes. It
	// is event data (an unknown member may hold an address or a message):
	// show it only where the event itself may be shown.
	Example string `json:"example,omitempty"`
}

// Observe adds e's drift to the report and reports whether it had any.
// where says where e came from ("events.ndjson:12", "shardId-000000000001
// seq 4963..."); it is kept for the first sighting of each line.
func (r *DriftReport) Observe(e Event, where string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events++
	r.buf = AppendDrift(r.buf[:0], e)
	if len(r.buf) == 0 {
		return false
	}
	r.drifted++
	if r.stats == nil {
		r.stats = make(map[driftKey]*DriftStat)
	}
	t := e.EventType()
	for i, d := range r.buf {
		k := driftKey{typ: t, path: d.Path, kind: d.Kind, jsonType: d.JSONType()}
		if s := r.stats[k]; s != nil {
			s.Count++
		} else {
			r.stats[k] = &DriftStat{Type: t, Path: d.Path, Kind: d.Kind, JSONType: k.jsonType,
				Count: 1, FirstSeen: where, Example: example(d.Value)}
		}
		r.buf[i] = Drift{} // keep no event alive
	}
	return true
}

// Events returns how many events Observe saw, and how many of them had
// drift.
func (r *DriftReport) Events() (events, drifted int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.events, r.drifted
}

// Stats returns the report's lines sorted by type, path, kind and JSON
// type.
func (r *DriftReport) Stats() []DriftStat {
	r.mu.Lock()
	out := make([]DriftStat, 0, len(r.stats))
	for _, s := range r.stats {
		out = append(out, *s)
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b DriftStat) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.JSONType, b.JSONType))
	})
	return out
}

// example copies v, cut to DriftExampleMax bytes at a rune boundary.
func example(v []byte) string {
	if len(v) <= DriftExampleMax {
		return string(v)
	}
	n := DriftExampleMax - 3
	for n > 0 && !utf8.RuneStart(v[n]) {
		n--
	}
	return string(v[:n]) + "..."
}
