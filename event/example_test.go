package event_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/rtdskit/rtds/event"
)

func ExampleDecode() {
	record := []byte(`{"id":"e1","type":"UNINSTALL","offset":"1000059326194",
		"occurred":"2024-05-01T12:00:00.123Z","processed":"2024-05-01T12:00:02Z",
		"device":{"channel":"7f1c2a9e-1111-4a2b-8c3d-000000000001","device_type":"IOS","named_user_id":"user-42"}}`)
	e, err := event.Decode(record)
	if err != nil {
		fmt.Println(err)
		return
	}
	switch e := e.(type) {
	case *event.Uninstall:
		fmt.Println("uninstalled:", e.ChannelID(), e.NamedUserID(), e.Occurred.Format("15:04:05.000"))
	case *event.Unknown:
		fmt.Println("unknown type", e.Type)
	}
	// Output: uninstalled: 7f1c2a9e-1111-4a2b-8c3d-000000000001 user-42 12:00:00.123
}

func ExampleDecode_lenient() {
	// A 2015-style LOCATION: no channel or device_type, coordinates as strings.
	record := []byte(`{"id":"l1","type":"LOCATION","offset":137,"occurred":"2015-11-13T16:31:52Z",
		"device":{"android_channel":"cd000000-0000-4000-8000-000000000011"},
		"body":{"latitude":"45.5017","longitude":-73.5673,"foreground":true}}`)
	e, err := event.Decode(record)
	if err != nil {
		fmt.Println(err)
		return
	}
	loc := e.(*event.Location)
	lat, _ := loc.Latitude.Float64()
	fmt.Println(loc.Device.Platform(), loc.ChannelID(), loc.Offset, lat, loc.Longitude, loc.Foreground.True())
	// Output: ANDROID cd000000-0000-4000-8000-000000000011 137 45.5017 -73.5673 true
}

func ExampleDecode_errors() {
	_, err := event.Decode([]byte(`{"id":"e1","type":"OPEN","occurred":"yesterday"}`))
	var de *event.DecodeError
	if errors.As(err, &de) {
		fmt.Println(de.Field, errors.Is(err, event.ErrInvalidTimestamp))
	}
	// Output: occurred true
}

func ExamplePeekType() {
	t, err := event.PeekType([]byte(`{"id":"e1","type":"SEND","body":{"push_id":"p"}}`))
	fmt.Println(t, err)
	// Output: SEND <nil>
}

func ExampleNewCSVWriter() {
	w, err := event.NewCSVWriter(os.Stdout, event.TypeClose)
	if err != nil {
		fmt.Println(err)
		return
	}
	e, _ := event.Decode([]byte(`{"id":"e1","type":"CLOSE","offset":"9","occurred":"2024-05-01T12:00:00Z",
		"processed":"2024-05-01T12:00:01.5Z","device":{"ios_channel":"c1"},"body":{"session_id":"s1"}}`))
	if err := w.Write(e); err != nil {
		fmt.Println(err)
	}
	if err := w.Flush(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// ID,TYPE,OCCURRED,PROCESSED,OFFSET,NAMED_USER_ID,ANDROID_CHANNEL,IOS_CHANNEL,AMAZON_CHANNEL,CHANNEL,DEVICE_TYPE,SESSION
	// e1,CLOSE,2024-05-01T12:00:00.000Z,2024-05-01T12:00:01.500Z,9,,,c1,,c1,IOS,s1
}

func ExampleEnvelope_MarshalJSON_roundTrip() {
	in := `{"id":"e1","type":"CUSTOM","occurred":"2024-05-01T12:00:00.000Z","body":{"name":"purchase","value":"49.95","future_field":[1,2]},"new_top_level":true}`
	e, _ := event.Decode([]byte(in))
	out, _ := json.Marshal(e)
	fmt.Println(string(out))
	// Output: {"id":"e1","type":"CUSTOM","occurred":"2024-05-01T12:00:00.000Z","body":{"name":"purchase","value":"49.95","future_field":[1,2]},"new_top_level":true}
}
