package event_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/rtdskit/rtds/event"
)

// FuzzDecode checks the hand-written decoder against encoding/json on
// arbitrary input:
//   - it never panics;
//   - it accepts exactly the JSON encoding/json accepts (a syntax error iff
//     json.Valid is false), and fails only with a *DecodeError;
//   - a decoded event re-encodes to JSON that encoding/json reads as equal
//     to the input, so every value the decoder produced (typed or kept)
//     equals encoding/json's reading of it;
//   - decoding the re-encoding gives the same event;
//   - an event with a CSV layout renders a full row.
func FuzzDecode(f *testing.F) {
	for _, data := range inputs(f) {
		f.Add(data)
	}
	for _, s := range []string{
		`{"id":"a","type":"OPEN","body":{"session_id":"s"},"body":null}`,
		`{"id":"a","type":"REGION","body":{"proximity":{"id":"x","lon":"1","long":null}}}`,
		`{"id":"a","type":"CUSTOM","body":{"name":"\ud800\udc00\ud800 \xff"}}`,
		`{"id":"a","type":"OPEN","device":{"IOS_channel":"a","Ios_Channel":"b","ios_channel":""}}`,
		`{"id":"a","type":"COMPLIANCE","device":{"named_user_id":"","named_user":"n"}}`,
		`{"id":"a","type":"TAG_CHANGE","body":{"add":{"g":["t"],"g":null}}}`,
		`{"id":"a","type":"LOCATION","offset":-0.5e+10,"body":{"latitude":"x","longitude":1E400}}`,
		`{"i\u0064":"a","type":"OPEN","occurred":"2024-05-01T12:00:00.123456789+05:30"}`,
		`[{"id":"a"}]`,
		`{"id":"a","type":"OPEN"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := event.Decode(data)
		valid := json.Valid(data)
		if err != nil {
			var de *event.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v (%T) is not a *DecodeError", err, err)
			}
			if syntax := errors.Is(err, event.ErrSyntax); syntax == valid {
				t.Fatalf("json.Valid = %v but Decode error %v", valid, err)
			}
			return
		}
		if !valid {
			t.Fatalf("Decode accepted invalid JSON %q", data)
		}
		if _, err := event.PeekType(data); err != nil {
			t.Fatalf("PeekType failed where Decode succeeded: %v", err)
		}
		checkRoundTrip(t, data)
		if h, err := event.CSVHeader(e.EventType()); err == nil {
			row, err := event.CSVRecord(e)
			if err != nil || len(row) != len(h) {
				t.Fatalf("CSVRecord: %d cells for %d columns, %v", len(row), len(h), err)
			}
		}
	})
}
