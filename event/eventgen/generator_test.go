package eventgen_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rtdskit/rtds/event/eventgen"
)

// parsed is one generated event decoded with encoding/json, for checks.
type parsed struct {
	raw []byte
	m   map[string]any
}

func (p parsed) typ() string { s, _ := p.m["type"].(string); return s }

func (p parsed) obj(path ...string) map[string]any {
	cur := p.m
	for _, k := range path {
		next, ok := cur[k].(map[string]any)
		if !ok {
			return nil
		}
		cur = next
	}
	return cur
}

func generate(t testing.TB, n int, seed int64, opts ...eventgen.Option) []parsed {
	t.Helper()
	g := eventgen.New(seed, opts...)
	out := make([]parsed, 0, n)
	for i := 0; i < n; i++ {
		raw := g.Next()
		if !json.Valid(raw) {
			t.Fatalf("event %d is not valid JSON: %s", i, raw)
		}
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatalf("event %d: %v: %s", i, err, raw)
		}
		out = append(out, parsed{raw: raw, m: m})
	}
	return out
}

func TestDeterministic(t *testing.T) {
	a, b := eventgen.New(7), eventgen.New(7)
	for i := 0; i < 5000; i++ {
		x, y := a.Next(), b.Next()
		if !bytes.Equal(x, y) {
			t.Fatalf("event %d differs for the same seed:\n%s\n%s", i, x, y)
		}
	}
	c, d := eventgen.New(7), eventgen.New(8)
	same := 0
	for i := 0; i < 100; i++ {
		if bytes.Equal(c.Next(), d.Next()) {
			same++
		}
	}
	if same != 0 {
		t.Errorf("seeds 7 and 8 produced %d identical events of 100", same)
	}
}

func TestNextReturnsCallerOwnedSlice(t *testing.T) {
	g := eventgen.New(1)
	first := g.Next()
	keep := bytes.Clone(first)
	for i := 0; i < 10; i++ {
		g.Next()
	}
	if !bytes.Equal(first, keep) {
		t.Fatal("Next's result changed after later calls")
	}
}

func TestAppendNextMatchesNext(t *testing.T) {
	a, b := eventgen.New(3), eventgen.New(3)
	buf := []byte("prefix\n")
	for i := 0; i < 500; i++ {
		want := a.Next()
		buf = b.AppendNext(buf[:7])
		if string(buf[:7]) != "prefix\n" || !bytes.Equal(buf[7:], want) {
			t.Fatalf("event %d: AppendNext = %s, Next = %s", i, buf, want)
		}
	}
}

func TestEveryTypeProduced(t *testing.T) {
	counts := map[string]int{}
	g := eventgen.New(1)
	for i := 0; i < 3000; i++ {
		var e struct{ Type string }
		if err := json.Unmarshal(g.Next(), &e); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		counts[e.Type]++
	}
	for _, typ := range eventgen.Types() {
		if counts[typ] == 0 {
			t.Errorf("type %s never produced in 3000 events", typ)
		}
	}
	if len(counts) != len(eventgen.Types()) {
		t.Errorf("produced %d distinct types, want %d: %v", len(counts), len(eventgen.Types()), counts)
	}
	// The default mix is realistic: SEND is more common than LABEL_EVENT.
	if counts["SEND"] <= counts["LABEL_EVENT"] {
		t.Errorf("SEND (%d) not more common than LABEL_EVENT (%d)", counts["SEND"], counts["LABEL_EVENT"])
	}
}

func TestTypes(t *testing.T) {
	types := eventgen.Types()
	if len(types) != 44 {
		t.Errorf("Types() has %d entries, want 44 (29 from the CSV appendix, 15 more from the reference)", len(types))
	}
	if !slices.IsSorted(types) {
		t.Error("Types() is not sorted")
	}
	types[0] = "MUTATED"
	if eventgen.Types()[0] == "MUTATED" {
		t.Error("Types() returns shared state")
	}
}

func TestWithTypes(t *testing.T) {
	tests := []struct {
		name   string
		reason string
		types  []string
		want   []string
	}{
		{name: "one", reason: "a single type gives only that type", types: []string{"UNINSTALL"}, want: []string{"UNINSTALL"}},
		{name: "two with duplicate", reason: "duplicates are ignored", types: []string{"OPEN", "CUSTOM", "OPEN"}, want: []string{"CUSTOM", "OPEN"}},
		{name: "unknown", reason: "an unknown type is generated as asked, to exercise Unknown handling", types: []string{"BRAND_NEW_TYPE"}, want: []string{"BRAND_NEW_TYPE"}},
		{name: "none", reason: "no types means every known type", types: nil, want: eventgen.Types()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			seen := map[string]bool{}
			for _, p := range generate(t, 2000, 5, eventgen.WithTypes(tc.types...)) {
				seen[p.typ()] = true
			}
			got := make([]string, 0, len(seen))
			for k := range seen {
				got = append(got, k)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: types = %v, want %v", tc.reason, got, tc.want)
			}
		})
	}
}

func TestValidUniqueAndIncreasing(t *testing.T) {
	g := eventgen.New(11)
	ids := make(map[string]bool, 10_000)
	var last uint64
	for i := 0; i < 10_000; i++ {
		raw := g.Next()
		if !json.Valid(raw) {
			t.Fatalf("event %d is not valid JSON: %s", i, raw)
		}
		if !utf8.Valid(raw) {
			t.Fatalf("event %d is not valid UTF-8", i)
		}
		var e struct {
			ID                  string
			Offset              json.RawMessage
			Occurred, Processed string
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if len(e.ID) != 36 || strings.Count(e.ID, "-") != 4 {
			t.Fatalf("event %d: id %q is not UUID-shaped", i, e.ID)
		}
		if ids[e.ID] {
			t.Fatalf("event %d: duplicate id %q", i, e.ID)
		}
		ids[e.ID] = true
		// A string on the wire, a bare number now and then.
		off, err := strconv.ParseUint(strings.Trim(string(e.Offset), `"`), 10, 64)
		if err != nil {
			t.Fatalf("event %d: offset %s: %v", i, e.Offset, err)
		}
		if off <= last {
			t.Fatalf("event %d: offset %d not greater than the previous %d", i, off, last)
		}
		last = off
		for _, ts := range []string{e.Occurred, e.Processed} {
			if _, err := time.Parse(time.RFC3339Nano, ts); err != nil || !strings.HasSuffix(ts, "Z") {
				t.Fatalf("event %d: timestamp %q: %v", i, ts, err)
			}
		}
	}
}

// TestVariants checks that the wire's known variations all show up, so that
// decoders and CSV writers tested with generated events meet them.
func TestVariants(t *testing.T) {
	events := generate(t, 6000, 2)
	tests := []struct {
		name   string
		reason string
		match  func(p parsed) bool
	}{
		{"current device", "channel, device_type, attributes, identifiers", func(p parsed) bool {
			d := p.obj("device")
			return d["channel"] != nil && d["device_type"] != nil && d["attributes"] != nil && d["identifiers"] != nil
		}},
		{"legacy device", "only a lower-case platform key", func(p parsed) bool {
			d := p.obj("device")
			return len(d) == 1 && (d["ios_channel"] != nil || d["android_channel"] != nil || d["amazon_channel"] != nil)
		}},
		{"mixed-case legacy device", "2015 test-server keys", func(p parsed) bool {
			d := p.obj("device")
			return len(d) == 1 && (d["IOS_channel"] != nil || d["ANDROID_channel"] != nil || d["AMAZON_channel"] != nil)
		}},
		{"push body without device", "PUSH_BODY has no device", func(p parsed) bool {
			return p.typ() == "PUSH_BODY" && p.m["device"] == nil && p.obj("body")["payload"] != nil
		}},
		{"email custom event", "email engagement is CUSTOM on an EMAIL device", func(p parsed) bool {
			return p.typ() == "CUSTOM" && p.obj("device")["device_type"] == "EMAIL" && p.obj("device")["delivery_address"] != nil
		}},
		{"sms compliance", "COMPLIANCE on an SMS device", func(p parsed) bool {
			return p.typ() == "COMPLIANCE" && p.obj("device")["device_type"] == "SMS"
		}},
		{"email named_user key", "email compliance spells it named_user", func(p parsed) bool {
			return p.obj("device")["named_user"] != nil
		}},
		{"string coordinates", "latitude as a JSON string", func(p parsed) bool {
			_, ok := p.obj("body")["latitude"].(string)
			return p.typ() == "LOCATION" && ok
		}},
		{"numeric coordinates", "latitude as a JSON number", func(p parsed) bool {
			_, ok := p.obj("body")["latitude"].(json.Number)
			return p.typ() == "LOCATION" && ok
		}},
		{"variant_id string zero", `variant_id "0"`, func(p parsed) bool { return p.obj("body")["variant_id"] == "0" }},
		{"variant_id number", "variant_id as a number", func(p parsed) bool {
			_, ok := p.obj("body")["variant_id"].(json.Number)
			return ok
		}},
		{"numeric offset", "offset as a bare JSON number", func(p parsed) bool {
			_, ok := p.m["offset"].(json.Number)
			return ok
		}},
		{"region enter lower", "action in lower case", func(p parsed) bool { return p.obj("body")["action"] == "enter" }},
		{"region exit upper", "action in upper case", func(p parsed) bool { return p.obj("body")["action"] == "EXIT" }},
		{"beacon_id key", "LIB-J spelling", func(p parsed) bool { return p.obj("body", "proximity")["beacon_id"] != nil }},
		{"id and lon keys", "Snowplow spelling", func(p parsed) bool {
			pr := p.obj("body", "proximity")
			return pr["id"] != nil && pr["lon"] != nil
		}},
		{"circular region", "geofence", func(p parsed) bool { return p.obj("body", "circular_region") != nil }},
		{"timestamp with millis", "the usual form", func(p parsed) bool { return strings.Contains(p.m["occurred"].(string), ".") }},
		{"timestamp without fraction", "seconds only", func(p parsed) bool { return !strings.Contains(p.m["occurred"].(string), ".") }},
		{"processed before occurred", "device clocks run ahead", func(p parsed) bool {
			return p.m["processed"].(string) < p.m["occurred"].(string) && len(p.m["processed"].(string)) == len(p.m["occurred"].(string))
		}},
		{"display_time string", "the SDK sends seconds as a string", func(p parsed) bool {
			pages, _ := p.obj("body")["viewed_pages"].([]any)
			for _, pg := range pages {
				if _, ok := pg.(map[string]any)["display_time"].(string); ok {
					return true
				}
			}
			return false
		}},
		{"layout message id object", "the SDK's {message_id, campaigns}", func(p parsed) bool {
			return strings.HasPrefix(p.typ(), "IN_APP_PAGE") && p.obj("body", "id")["message_id"] != nil
		}},
		{"layout message id string", "older SDKs send a string", func(p parsed) bool {
			_, ok := p.obj("body")["id"].(string)
			return strings.HasPrefix(p.typ(), "IN_APP_") && ok
		}},
		{"bounce_class number", "a number in COMPLIANCE", func(p parsed) bool {
			_, ok := p.obj("body", "properties")["bounce_class"].(json.Number)
			return p.typ() == "COMPLIANCE" && ok
		}},
		{"bounce_class string", "a string in CUSTOM", func(p parsed) bool {
			_, ok := p.obj("body", "properties")["bounce_class"].(string)
			return p.typ() == "CUSTOM" && ok
		}},
		{"uninstall with named user", "the demo emails these users", func(p parsed) bool {
			return p.typ() == "UNINSTALL" && p.obj("device")["named_user_id"] != nil
		}},
		{"uninstall without named user", "and skips these", func(p parsed) bool {
			return p.typ() == "UNINSTALL" && p.obj("device")["named_user_id"] == nil && p.obj("user")["named_user_id"] == nil
		}},
		{"user object", "user.contact_id", func(p parsed) bool { return p.obj("user")["contact_id"] != nil }},
		{"offset update envelope only", "OFFSET_UPDATE carries no device or body", func(p parsed) bool {
			return p.typ() == "OFFSET_UPDATE" && p.m["device"] == nil && p.m["body"] == nil
		}},
		{"non-ASCII text", "unicode in strings", func(p parsed) bool { return bytes.ContainsFunc(p.raw, func(r rune) bool { return r > 0x7f }) }},
		{"comma and quote in a string", "CSV quoting", func(p parsed) bool {
			return bytes.Contains(p.raw, []byte(`, \"`)) || bytes.Contains(p.raw, []byte(`\", `))
		}},
		{"escaped newline", "a control character in a string", func(p parsed) bool { return bytes.Contains(p.raw, []byte(`\n`)) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, p := range events {
				if tc.match(p) {
					return
				}
			}
			t.Errorf("no event of 6000 has %s (%s)", tc.name, tc.reason)
		})
	}
}

func BenchmarkNext(b *testing.B) {
	g := eventgen.New(1)
	var n int64
	b.ReportAllocs()
	for b.Loop() {
		n += int64(len(g.Next()))
	}
	b.SetBytes(n / int64(b.N))
}

func BenchmarkAppendNext(b *testing.B) {
	g := eventgen.New(1)
	var buf []byte
	var n int64
	b.ReportAllocs()
	for b.Loop() {
		buf = g.AppendNext(buf[:0])
		n += int64(len(buf))
	}
	b.SetBytes(n / int64(b.N))
}

func TestStartTime(t *testing.T) {
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		reason   string
		opts     []eventgen.Option
		from, to time.Time
	}{
		{name: "WithStart", reason: "events begin at the given time", opts: []eventgen.Option{eventgen.WithStart(start)},
			from: start, to: start.Add(time.Minute)},
		{name: "default", reason: "DefaultStart plus a shift of up to 30 days", opts: nil,
			from: eventgen.DefaultStart, to: eventgen.DefaultStart.Add(30*24*time.Hour + time.Minute)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := eventgen.New(4, tc.opts...)
			for i := 0; i < 100; i++ {
				var e struct {
					ID        string
					Processed time.Time
				}
				if err := json.Unmarshal(g.Next(), &e); err != nil {
					t.Fatal(err)
				}
				if e.Processed.Before(tc.from) || e.Processed.After(tc.to) {
					t.Fatalf("%s: processed %v outside [%v, %v]", tc.reason, e.Processed, tc.from, tc.to)
				}
				// The id is time-prefixed: its first 48 bits are the
				// processing time in milliseconds (the timestamp may have
				// been written without its fraction).
				ms, err := strconv.ParseUint(strings.ReplaceAll(e.ID[:13], "-", ""), 16, 64)
				if err != nil || int64(ms)/1000 != e.Processed.Unix() {
					t.Fatalf("id %s does not start with processed %v (%d ms): %v", e.ID, e.Processed, e.Processed.UnixMilli(), err)
				}
			}
		})
	}
}
