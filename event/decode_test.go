package event_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rtdskit/rtds/event"
)

// ev wraps members into an event with the given type and body.
func ev(typ, device, body string) []byte {
	s := `{"id":"e1","type":"` + typ + `","offset":"7","occurred":"2024-05-01T12:00:00.123Z","processed":"2024-05-01T12:00:01Z"`
	if device != "" {
		s += `,"device":` + device
	}
	if body != "" {
		s += `,"body":` + body
	}
	return []byte(s + "}")
}

func mustDecode(t *testing.T, data []byte) event.Event {
	t.Helper()
	e, err := event.Decode(data)
	if err != nil {
		t.Fatalf("Decode(%s): %v", data, err)
	}
	checkRoundTrip(t, data)
	return e
}

func TestLenientDecoding(t *testing.T) {
	tests := []struct {
		name, reason string
		in           []byte
		check        func(t *testing.T, e event.Event)
	}{
		{
			name: "offset as number", reason: "offsets are strings, but a bare number is accepted defensively",
			in: []byte(`{"id":"a","type":"OPEN","offset":1000123456789}`),
			check: func(t *testing.T, e event.Event) {
				if got := e.Base().Offset; got != "1000123456789" {
					t.Errorf("Offset = %q", got)
				}
			},
		},
		{
			name: "latitude and longitude as strings", reason: "2015 test data and the Snowplow schema send strings",
			in: ev("LOCATION", "", `{"latitude":"14.5224123","longitude":-0.5}`),
			check: func(t *testing.T, e event.Event) {
				l := e.(*event.Location)
				if f, err := l.Latitude.Float64(); err != nil || f != 14.5224123 || !l.Latitude.Quoted() {
					t.Errorf("Latitude = %v, %v (quoted %v)", f, err, l.Latitude.Quoted())
				}
				if f, _ := l.Longitude.Float64(); f != -0.5 || l.Longitude.Quoted() {
					t.Errorf("Longitude = %v", l.Longitude)
				}
			},
		},
		{
			name: "variant_id as string", reason: "the Java library's tests send \"0\"",
			in: ev("SEND", "", `{"push_id":"p","variant_id":"0"}`),
			check: func(t *testing.T, e event.Event) {
				if n, err := e.(*event.Send).VariantID.Int64(); err != nil || n != 0 {
					t.Errorf("VariantID = %v, %v", n, err)
				}
			},
		},
		{
			name: "display_time as string", reason: "the SDK sends seconds as a string",
			in: ev("IN_APP_PAGER_SUMMARY", "", `{"viewed_pages":[{"page_index":0,"display_time":"10.40"}]}`),
			check: func(t *testing.T, e event.Event) {
				p := e.(*event.InAppPagerSummary).ViewedPages
				if len(p) != 1 || p[0].DisplayTime.String() != "10.40" {
					t.Errorf("ViewedPages = %+v", p)
				}
			},
		},
		{
			name: "legacy device with only a platform key", reason: "the 2015-2016 stream had no channel or device_type",
			in: ev("CLOSE", `{"amazon_channel":"amz-1"}`, `{"session_id":"s"}`),
			check: func(t *testing.T, e event.Event) {
				b := e.Base()
				if b.ChannelID() != "amz-1" || b.Device.Platform() != "AMAZON" {
					t.Errorf("ChannelID %q Platform %q", b.ChannelID(), b.Device.Platform())
				}
			},
		},
		{
			name: "mixed-case platform key", reason: "the 2015 test server sent IOS_channel",
			in: ev("OPEN", `{"IOS_channel":"ios-1"}`, ""),
			check: func(t *testing.T, e event.Event) {
				d := e.Base().Device
				if d.IOSChannel != "ios-1" || d.Platform() != "IOS" || d.Extra != nil {
					t.Errorf("Device = %+v", d)
				}
			},
		},
		{
			name: "REGION action upper case", reason: "case is uncertain on the wire",
			in: ev("REGION", "", `{"action":"ENTER","region_id":"r"}`),
			check: func(t *testing.T, e event.Event) {
				r := e.(*event.Region)
				if !r.Entered() || r.Exited() {
					t.Errorf("Entered %v Exited %v", r.Entered(), r.Exited())
				}
			},
		},
		{
			name: "beacon keys, Snowplow spelling", reason: "id and lon instead of beacon_id and long",
			in: ev("REGION", "", `{"action":"exit","proximity":{"id":"b-1","lat":1.5,"lon":"2.5"}}`),
			check: func(t *testing.T, e event.Event) {
				p := e.(*event.Region).Proximity
				if p.BeaconID != "b-1" || p.Longitude.String() != "2.5" || p.Extra != nil {
					t.Errorf("Proximity = %+v", p)
				}
			},
		},
		{
			name: "beacon keys, both spellings", reason: "the canonical key wins; the other is kept",
			in: ev("REGION", "", `{"proximity":{"id":"alt","beacon_id":"canon","lon":1,"long":2}}`),
			check: func(t *testing.T, e event.Event) {
				p := e.(*event.Region).Proximity
				if p.BeaconID != "canon" || p.Longitude.String() != "2" || len(p.Extra) != 2 {
					t.Errorf("Proximity = %+v", p)
				}
			},
		},
		{
			name: "named_user spelling", reason: "email compliance events document named_user",
			in: ev("COMPLIANCE", `{"channel":"c","device_type":"EMAIL","named_user":"nu"}`, `{"event_type":"bounce"}`),
			check: func(t *testing.T, e event.Event) {
				if got := e.Base().NamedUserID(); got != "nu" {
					t.Errorf("NamedUserID() = %q", got)
				}
			},
		},
		{
			name: "named user from user object", reason: "NamedUserID falls back to user.named_user_id",
			in: []byte(`{"id":"a","type":"OPEN","device":{"channel":"c"},"user":{"named_user_id":"u","contact_id":"k"}}`),
			check: func(t *testing.T, e event.Event) {
				if got := e.Base().NamedUserID(); got != "u" {
					t.Errorf("NamedUserID() = %q", got)
				}
			},
		},
		{
			name: "timestamps with and without fractions or offsets", reason: "RFC 3339, fractional seconds optional",
			in: []byte(`{"id":"a","type":"OPEN","occurred":"2015-11-13T16:31:52Z","processed":"2015-11-13T17:31:52.5+01:00"}`),
			check: func(t *testing.T, e event.Event) {
				b := e.Base()
				if !b.Occurred.Equal(time.Date(2015, 11, 13, 16, 31, 52, 0, time.UTC)) ||
					!b.Processed.Equal(time.Date(2015, 11, 13, 16, 31, 52, 5e8, time.UTC)) {
					t.Errorf("Occurred %v Processed %v", b.Occurred, b.Processed)
				}
			},
		},
		{
			name: "no body", reason: "FIRST_OPEN and UNINSTALL have none",
			in: ev("UNINSTALL", `{"channel":"c","device_type":"IOS"}`, ""),
			check: func(t *testing.T, e event.Event) {
				if e.Base().Body != nil {
					t.Errorf("Body = %s", e.Base().Body)
				}
			},
		},
		{
			name: "no device", reason: "PUSH_BODY has none",
			in: ev("PUSH_BODY", "", `{"push_id":"p","trimmed":false,"payload":"e30="}`),
			check: func(t *testing.T, e event.Event) {
				p := e.(*event.PushBody)
				if p.Device != nil || p.ChannelID() != "" || p.Trimmed != event.BoolFalse {
					t.Errorf("Device %v Trimmed %v", p.Device, p.Trimmed)
				}
			},
		},
		{
			name: "ill-typed members are kept, not lost", reason: "a value that does not fit its Go type goes to Extra",
			in: ev("CLOSE", `{"channel":7,"attributes":{"a":1}}`, `{"session_id":{"nested":true}}`),
			check: func(t *testing.T, e event.Event) {
				c := e.(*event.Close)
				if c.SessionID != "" || string(c.BodyExtra["session_id"]) != `{"nested":true}` {
					t.Errorf("SessionID %q BodyExtra %s", c.SessionID, c.BodyExtra)
				}
				if c.Device.Attributes != nil || string(c.Device.Extra["attributes"]) != `{"a":1}` || string(c.Device.Extra["channel"]) != "7" {
					t.Errorf("Device = %+v", c.Device)
				}
			},
		},
		{
			name: "nulls and empty strings are kept", reason: "re-encoding reproduces them",
			in: ev("SEND", `{"channel":"","named_user_id":null}`, `{"push_id":"","variant_id":null,"group_id":"g"}`),
			check: func(t *testing.T, e event.Event) {
				s := e.(*event.Send)
				if s.PushID != "" || s.GroupID != "g" || len(s.BodyExtra) != 2 || len(s.Device.Extra) != 2 {
					t.Errorf("%+v %+v", s, s.Device)
				}
			},
		},
		{
			name: "type before id, body before type", reason: "member order does not matter",
			in: []byte(`{"body":{"session_id":"s"},"type":"CLOSE","id":"a"}`),
			check: func(t *testing.T, e event.Event) {
				if e.(*event.Close).SessionID != "s" {
					t.Errorf("SessionID not decoded")
				}
			},
		},
		{
			name: "duplicate body", reason: "the last one wins, as in encoding/json",
			in: []byte(`{"id":"a","type":"CLOSE","body":{"session_id":"first","x":1},"body":{"session_id":"second"}}`),
			check: func(t *testing.T, e event.Event) {
				c := e.(*event.Close)
				if c.SessionID != "second" || c.BodyExtra != nil {
					t.Errorf("%+v", c)
				}
			},
		},
		{
			name: "duplicate type", reason: "the last one wins",
			in: []byte(`{"id":"a","type":"OPEN","body":{"session_id":"s"},"type":"CLOSE"}`),
			check: func(t *testing.T, e event.Event) {
				if c, ok := e.(*event.Close); !ok || c.SessionID != "s" {
					t.Errorf("got %T %+v", e, e)
				}
			},
		},
		{
			name: "escapes and unicode", reason: "strings are unescaped as encoding/json does",
			in: ev("CUSTOM", "", `{"name":"caf\u00e9 \"q\" \ud83d\ude00","properties":{"a":"b"}}`),
			check: func(t *testing.T, e event.Event) {
				if got := e.(*event.Custom).Name; got != "café \"q\" 😀" {
					t.Errorf("Name = %q", got)
				}
			},
		},
		{
			name: "OFFSET_UPDATE", reason: "synthetic offset-only events decode to *OffsetUpdate",
			in: []byte(`{"id":"o","type":"OFFSET_UPDATE","offset":"99"}`),
			check: func(t *testing.T, e event.Event) {
				if o, ok := e.(*event.OffsetUpdate); !ok || o.Offset != "99" {
					t.Errorf("got %T", e)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.check(t, mustDecode(t, tt.in))
		})
	}
}

func TestStrictDecoding(t *testing.T) {
	tests := []struct {
		name, reason string
		in           string
		field        string
		is           error
	}{
		{name: "not JSON", reason: "garbage", in: `{"id":`, is: event.ErrSyntax},
		{name: "array", reason: "an event is an object", in: `[1]`, is: event.ErrNotObject},
		{name: "string", reason: "an event is an object", in: `"x"`, is: event.ErrNotObject},
		{name: "empty", reason: "no input", in: ``, is: event.ErrSyntax},
		{name: "trailing data", reason: "one object per record", in: `{"id":"a","type":"OPEN"} x`, is: event.ErrSyntax},
		{name: "missing id", reason: "id is required", in: `{"type":"OPEN"}`, field: "id", is: event.ErrMissingField},
		{name: "empty id", reason: "an empty id cannot deduplicate", in: `{"id":"","type":"OPEN"}`, field: "id", is: event.ErrMissingField},
		{name: "numeric id", reason: "id is a string", in: `{"id":1,"type":"OPEN"}`, field: "id", is: event.ErrInvalidField},
		{name: "missing type", reason: "type is required", in: `{"id":"a"}`, field: "type", is: event.ErrMissingField},
		{name: "null type", reason: "type is a string", in: `{"id":"a","type":null}`, field: "type", is: event.ErrInvalidField},
		{name: "bad occurred", reason: "timestamps are RFC 3339", in: `{"id":"a","type":"OPEN","occurred":"yesterday"}`, field: "occurred", is: event.ErrInvalidTimestamp},
		{name: "numeric processed", reason: "timestamps are strings", in: `{"id":"a","type":"OPEN","processed":1700000000}`, field: "processed", is: event.ErrInvalidField},
		{name: "bad body timestamp", reason: "body timestamps are strict too", in: `{"id":"a","type":"OPEN","body":{"triggering_push":{"time":"2024-13-01T00:00:00Z"}}}`, field: "body.triggering_push.time", is: event.ErrInvalidTimestamp},
		{name: "bad time_sent", reason: "body timestamps are strict too", in: `{"id":"a","type":"IN_APP_MESSAGE_RESOLUTION","body":{"time_sent":"2024-05-01"}}`, field: "body.time_sent", is: event.ErrInvalidTimestamp},
		{name: "syntax error in body", reason: "the path says where", in: `{"id":"a","type":"OPEN","body":{"session_id":"s",}}`, field: "body", is: event.ErrSyntax},
		{name: "syntax error in attributes", reason: "the path says where", in: `{"id":"a","type":"OPEN","device":{"attributes":{"a":tru}}}`, field: "device.attributes", is: event.ErrSyntax},
		{name: "control character in string", reason: "invalid JSON", in: "{\"id\":\"a\x01\",\"type\":\"OPEN\"}", is: event.ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := event.Decode([]byte(tt.in))
			var de *event.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Decode(%s) = %v, want a *DecodeError", tt.in, err)
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %v", err, tt.is)
			}
			if tt.field != "" && !strings.HasPrefix(de.Field, tt.field) {
				t.Errorf("Field = %q, want %q (%v)", de.Field, tt.field, err)
			}
			if !strings.HasPrefix(err.Error(), "event: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if json.Valid([]byte(tt.in)) != !errors.Is(err, event.ErrSyntax) {
				t.Errorf("syntax verdict disagrees with json.Valid for %s", tt.in)
			}
		})
	}
}

func TestDecodeErrorWrapsTimeParseError(t *testing.T) {
	_, err := event.Decode([]byte(`{"id":"a","type":"OPEN","occurred":"nope"}`))
	var pe *time.ParseError
	if !errors.As(err, &pe) {
		t.Errorf("%v does not wrap *time.ParseError", err)
	}
}

func TestDecodeDoesNotRetainInput(t *testing.T) {
	data := ev("CUSTOM", `{"channel":"chan","attributes":{"k":"v"}}`, `{"name":"n","properties":{"a":1}}`)
	e := mustDecode(t, data)
	before := string(event.AppendJSON(nil, e))
	for i := range data {
		data[i] = 'x'
	}
	if after := string(event.AppendJSON(nil, e)); after != before {
		t.Errorf("event changed with its input:\n%s\n%s", before, after)
	}
}

func TestPeekType(t *testing.T) {
	tests := []struct {
		name, reason, in string
		want             event.Type
		is               error
	}{
		{name: "known", reason: "returns the constant", in: `{"id":"a","type":"OPEN"}`, want: event.TypeOpen},
		{name: "after body", reason: "skips other members", in: `{"body":{"type":"X"},"type":"CLOSE"}`, want: event.TypeClose},
		{name: "unknown", reason: "any type string", in: `{"type":"NEW_THING"}`, want: "NEW_THING"},
		{name: "missing", reason: "type is required", in: `{"id":"a"}`, is: event.ErrMissingField},
		{name: "not object", reason: "records are objects", in: `[]`, is: event.ErrNotObject},
		{name: "bad JSON", reason: "syntax", in: `{"id" "a"}`, is: event.ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.in)
			got, err := event.PeekType(data)
			if tt.is != nil {
				if !errors.Is(err, tt.is) {
					t.Errorf("PeekType = %q, %v; want %v", got, err, tt.is)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("PeekType = %q, %v; want %q", got, err, tt.want)
			}
			for i := range data {
				data[i] = 'x'
			}
			if got != tt.want {
				t.Errorf("PeekType result shares memory with its input")
			}
		})
	}
}

func TestUnmarshalJSON(t *testing.T) {
	var o event.Open
	if err := json.Unmarshal(ev("OPEN", `{"channel":"c"}`, `{"session_id":"s"}`), &o); err != nil {
		t.Fatal(err)
	}
	if o.SessionID != "s" || o.ChannelID() != "c" {
		t.Errorf("%+v", o)
	}
	err := json.Unmarshal(ev("CLOSE", "", ""), &o)
	if !errors.Is(err, event.ErrTypeMismatch) {
		t.Errorf("decoding CLOSE into *Open: %v, want ErrTypeMismatch", err)
	}
	var u event.Unknown
	if err := json.Unmarshal(ev("CLOSE", "", `{"session_id":"s"}`), &u); err != nil || u.Type != event.TypeClose || string(u.Body) != `{"session_id":"s"}` {
		t.Errorf("Unknown: %v %+v", err, u)
	}
}

func TestEventTypeOnNilPointer(t *testing.T) {
	var o *event.Open
	var u *event.Unknown
	if o.EventType() != event.TypeOpen || u.EventType() != "" {
		t.Error("EventType on nil pointers")
	}
}

func TestMarshalConstructedEvent(t *testing.T) {
	tests := []struct {
		name, reason string
		ev           event.Event
		want         string
	}{
		{
			name: "typed fields", reason: "a caller-built event encodes its fields",
			ev: &event.Location{
				Envelope: event.Envelope{ID: "a", Type: event.TypeLocation, Offset: "1",
					Occurred: time.Date(2024, 5, 1, 12, 0, 0, 5e8, time.UTC),
					Device:   &event.Device{Channel: "c", DeviceType: "IOS", Attributes: map[string]string{"b": "2", "a": "1"}}},
				Latitude: event.Float(45.5), Longitude: event.NumberString("-73.5"), Foreground: event.BoolOf(false),
			},
			want: `{"id":"a","type":"LOCATION","offset":"1","occurred":"2024-05-01T12:00:00.5Z","device":{"channel":"c","device_type":"IOS","attributes":{"a":"1","b":"2"}},"body":{"latitude":45.5,"longitude":"-73.5","foreground":false}}`,
		},
		{
			name: "type from the Go type", reason: "a caller-built event need not set Envelope.Type",
			ev:   &event.Uninstall{Envelope: event.Envelope{ID: "a", Device: &event.Device{Channel: "c"}}},
			want: `{"id":"a","type":"UNINSTALL","device":{"channel":"c"}}`,
		},
		{
			name: "raw body only", reason: "without typed fields, Body is written",
			ev:   &event.Custom{Envelope: event.Envelope{ID: "a", Type: event.TypeCustom, Body: json.RawMessage(`{"name":"x"}`)}},
			want: `{"id":"a","type":"CUSTOM","body":{"name":"x"}}`,
		},
		{
			name: "no body", reason: "nothing to write",
			ev:   &event.Uninstall{Envelope: event.Envelope{ID: "a", Type: event.TypeUninstall}},
			want: `{"id":"a","type":"UNINSTALL"}`,
		},
		{
			name: "typed field set over a kept extra", reason: "the typed value wins; no duplicate key",
			ev: func() event.Event {
				e, _ := event.Decode([]byte(`{"id":"a","type":"CLOSE","body":{"session_id":null}}`))
				e.(*event.Close).SessionID = "now"
				return e
			}(),
			want: `{"id":"a","type":"CLOSE","body":{"session_id":"now"}}`,
		},
		{
			name: "changed timestamp", reason: "a changed time is re-formatted, an unchanged one kept as sent",
			ev: func() event.Event {
				e, _ := event.Decode([]byte(`{"id":"a","type":"OPEN","occurred":"2024-05-01T12:00:00.000Z","processed":"2024-05-01T12:00:00.000Z"}`))
				e.Base().Processed = e.Base().Processed.Add(time.Second)
				return e
			}(),
			want: `{"id":"a","type":"OPEN","occurred":"2024-05-01T12:00:00.000Z","processed":"2024-05-01T12:00:01Z"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.ev)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeepNesting(t *testing.T) {
	// encoding/json rejects nesting deeper than 10000; so does Decode, without
	// exhausting the stack.
	deep := `{"id":"a","type":"CUSTOM","body":{"properties":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}}`
	if _, err := event.Decode([]byte(deep)); !errors.Is(err, event.ErrSyntax) || json.Valid([]byte(deep)) {
		t.Errorf("Decode = %v, json.Valid = %v", err, json.Valid([]byte(deep)))
	}
	ok := `{"id":"a","type":"CUSTOM","body":{"properties":` + strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000) + `}}`
	mustDecode(t, []byte(ok))
}

func TestNestedValuesMarshalAsJSON(t *testing.T) {
	e := mustDecode(t, []byte(`{"id":"a","type":"REGION","body":{"proximity":{"id":"b","lon":1},"circular_region":{"radius":5},
		"x":1}}`)).(*event.Region)
	for _, tt := range []struct {
		name string
		v    any
		want string
	}{
		{"proximity", e.Proximity, `{"id":"b","lon":1}`},
		{"circular", e.CircularRegion, `{"radius":5}`},
		{"campaigns", event.Campaigns{Categories: []string{"c"}}, `{"categories":["c"]}`},
		{"page", event.ViewedPage{PageIndex: event.Int(0), DisplayTime: event.NumberString("1.5")}, `{"page_index":0,"display_time":"1.5"}`},
		{"item", event.AttributeItem{Key: "k", Value: json.RawMessage(`1`)}, `{"key":"k","value":1}`},
		{"push", event.AssociatedPush{PushID: "p", VariantID: event.Int(2)}, `{"push_id":"p","variant_id":2}`},
		{"device", e.Device, `null`},
		{"user", event.User{ContactID: "c"}, `{"contact_id":"c"}`},
		{"number", event.Float(1.25), `1.25`},
		{"bool", event.BoolTrue, `true`},
	} {
		got, err := json.Marshal(tt.v)
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: %s, %v; want %s", tt.name, got, err, tt.want)
		}
	}
}
