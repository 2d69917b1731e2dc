package event_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rtdskit/rtds/event"
)

// cells decodes data and returns its CSV cells by column name.
func cells(t *testing.T, data []byte) map[string]string {
	t.Helper()
	e := mustDecode(t, data)
	header, err := event.CSVHeader(e.EventType())
	if err != nil {
		t.Fatal(err)
	}
	row, err := event.CSVRecord(e)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for i, h := range header {
		out[h] = row[i]
	}
	return out
}

func TestCSVCells(t *testing.T) {
	tests := []struct {
		name, reason string
		in           []byte
		want         map[string]string
	}{
		{
			name: "timestamps in UTC with milliseconds", reason: "RFC 3339, exactly three fractional digits",
			in:   []byte(`{"id":"a","type":"FIRST_OPEN","occurred":"2015-11-18T02:21:33.18+01:00","processed":"2015-11-18T01:21:33Z"}`),
			want: map[string]string{"OCCURRED": "2015-11-18T01:21:33.180Z", "PROCESSED": "2015-11-18T01:21:33.000Z"},
		},
		{
			name: "named user from the device", reason: "device.named_user_id first",
			in:   []byte(`{"id":"a","type":"UNINSTALL","device":{"named_user_id":"d"},"user":{"named_user_id":"u"}}`),
			want: map[string]string{"NAMED_USER_ID": "d"},
		},
		{
			name: "named user from the user", reason: "user.named_user_id as the fallback",
			in:   []byte(`{"id":"a","type":"UNINSTALL","device":{"channel":"c"},"user":{"named_user_id":"u"}}`),
			want: map[string]string{"NAMED_USER_ID": "u"},
		},
		{
			name: "current device", reason: "channel in the column of its device type",
			in: []byte(`{"id":"a","type":"UNINSTALL","device":{"channel":"c","device_type":"ANDROID"}}`),
			want: map[string]string{"CHANNEL": "c", "DEVICE_TYPE": "ANDROID", "ANDROID_CHANNEL": "c",
				"IOS_CHANNEL": "", "AMAZON_CHANNEL": ""},
		},
		{
			name: "legacy device", reason: "CHANNEL and DEVICE_TYPE derived from the platform key",
			in: []byte(`{"id":"a","type":"UNINSTALL","device":{"amazon_channel":"z"}}`),
			want: map[string]string{"CHANNEL": "z", "DEVICE_TYPE": "AMAZON", "AMAZON_CHANNEL": "z",
				"IOS_CHANNEL": "", "ANDROID_CHANNEL": ""},
		},
		{
			name: "platform key differs from channel", reason: "the platform-keyed channel fills its column",
			in:   []byte(`{"id":"a","type":"UNINSTALL","device":{"channel":"c","device_type":"IOS","ios_channel":"i"}}`),
			want: map[string]string{"CHANNEL": "c", "IOS_CHANNEL": "i", "DEVICE_TYPE": "IOS"},
		},
		{
			name: "web device", reason: "no platform column for WEB",
			in:   []byte(`{"id":"a","type":"UNINSTALL","device":{"channel":"w","device_type":"WEB"}}`),
			want: map[string]string{"CHANNEL": "w", "DEVICE_TYPE": "WEB", "IOS_CHANNEL": "", "ANDROID_CHANNEL": "", "AMAZON_CHANNEL": ""},
		},
		{
			name: "associated pushes", reason: "LAST_DELIVERED_ and TRIGGERING_ columns",
			in: []byte(`{"id":"a","type":"OPEN","body":{"session_id":"s","last_delivered":{"push_id":"l","group_id":"lg","variant_id":"2","time":"2024-05-01T11:58:00Z"},"triggering_push":{"push_id":"t","variant_id":0}}}`),
			want: map[string]string{"SESSION": "s", "LAST_DELIVERED_PUSH_ID": "l", "LAST_DELIVERED_GROUP_ID": "lg",
				"LAST_DELIVERED_VARIANT_ID": "2", "LAST_DELIVERED_TIME": "2024-05-01T11:58:00.000Z",
				"TRIGGERING_PUSH_ID": "t", "TRIGGERING_GROUP_ID": "", "TRIGGERING_VARIANT_ID": "0", "TRIGGERING_TIME": ""},
		},
		{
			name: "replacing push and resolution type", reason: "REPLACING_PUSH_ columns, RESOLUTION_TYPE from body.type",
			in: []byte(`{"id":"a","type":"IN_APP_MESSAGE_EXPIRATION","body":{"type":"REPLACED","time_expired":"2024-05-01T12:21:00.1Z","replacing_push":{"push_id":"r","time":"2024-05-01T12:20:00Z"}}}`),
			want: map[string]string{"RESOLUTION_TYPE": "REPLACED", "TIME_EXPIRED": "2024-05-01T12:21:00.100Z",
				"REPLACING_PUSH_PUSH_ID": "r", "REPLACING_PUSH_TIME": "2024-05-01T12:20:00.000Z", "TIME_SENT": ""},
		},
		{
			name: "numbers as JSON text", reason: "a latitude sent as a string gives the same cell",
			in:   []byte(`{"id":"a","type":"LOCATION","body":{"latitude":"14.5224123","longitude":14.5224123,"foreground":true}}`),
			want: map[string]string{"LATITUDE": "14.5224123", "LONGITUDE": "14.5224123", "FOREGROUND": "true"},
		},
		{
			name: "false, null and missing", reason: "booleans as text; null and missing are empty",
			in:   []byte(`{"id":"a","type":"LOCATION","body":{"latitude":null,"foreground":false}}`),
			want: map[string]string{"LATITUDE": "", "LONGITUDE": "", "FOREGROUND": "false", "SESSION": ""},
		},
		{
			name: "attribute columns", reason: "device.attributes under the lower-case name; APP_VERSION and DEVICE_MODEL are two columns",
			in: []byte(`{"id":"a","type":"SEND_ABORTED","device":{"channel":"c","attributes":{"app_version":"5.2","device_model":"Pixel","push_opt_in":"true","carrier":"AT&T, Inc."}},"body":{"push_id":"p","reason":"UNKNOWN"}}`),
			want: map[string]string{"APP_VERSION": "5.2", "DEVICE_MODEL": "Pixel", "PUSH_OPT_IN": "true",
				"CARRIER": "AT&T, Inc.", "DEVICE_OS": "", "PUSH_ID": "p", "REASON": "UNKNOWN"},
		},
		{
			name: "button_id fallback", reason: "BUTTON_ID from button_identifier when button_id is absent",
			in:   []byte(`{"id":"a","type":"IN_APP_BUTTON_TAP","body":{"button_identifier":"bi"}}`),
			want: map[string]string{"BUTTON_ID": "bi"},
		},
		{
			name: "button_id first", reason: "button_id wins",
			in:   []byte(`{"id":"a","type":"IN_APP_BUTTON_TAP","body":{"button_identifier":"bi","button_id":"b"}}`),
			want: map[string]string{"BUTTON_ID": "b"},
		},
		{
			name: "region name fallback", reason: "NAME from region_name when name is absent",
			in:   []byte(`{"id":"a","type":"REGION","body":{"region_name":"Downtown","action":"enter","source":"Gimbal","source_id":"g1"}}`),
			want: map[string]string{"NAME": "Downtown", "ACTION": "enter", "SOURCE": "Gimbal", "SOURCE_ID": "g1"},
		},
		{
			name: "objects as compact JSON", reason: "an object or array renders as its compact JSON",
			in:   []byte(`{"id":"a","type":"IN_APP_PAGE_VIEW","body":{"rendered_locale": { "language" : "en" },"completed":false,"page_index":0}}`),
			want: map[string]string{"RENDERED_LOCALE": `{"language":"en"}`, "COMPLETED": "false", "PAGE_INDEX": "0"},
		},
		{
			name: "ill-typed value still rendered", reason: "a kept value renders by the same rules",
			in:   []byte(`{"id":"a","type":"CUSTOM","body":{"name":["a","b"],"value":"12.50","customer_id":42}}`),
			want: map[string]string{"NAME": `["a","b"]`, "VALUE": "12.50", "CUSTOMER_ID": "42"},
		},
		{
			name: "push body", reason: "no device columns",
			in:   []byte(`{"id":"a","type":"PUSH_BODY","offset":12,"body":{"push_id":"p","payload":"e30=","trimmed":true,"resource":"PUSH"}}`),
			want: map[string]string{"OFFSET": "12", "PAYLOAD": "e30=", "TRIMMED": "true", "RESOURCE": "PUSH", "VARIANT_ID": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := cells(t, tt.in)
			for col, want := range tt.want {
				g, ok := got[col]
				if !ok {
					t.Errorf("no column %s", col)
				} else if g != want {
					t.Errorf("%s = %q, want %q", col, g, want)
				}
			}
		})
	}
}

func TestCSVTagChangeHasCommonColumnsOnly(t *testing.T) {
	h, err := event.CSVHeader(event.TypeTagChange)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ID", "TYPE", "OCCURRED", "PROCESSED", "OFFSET", "NAMED_USER_ID", "ANDROID_CHANNEL", "IOS_CHANNEL", "AMAZON_CHANNEL", "CHANNEL", "DEVICE_TYPE"}
	if diff := cmp.Diff(want, h); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCSVHeaderSplitsAppVersionDeviceModel(t *testing.T) {
	h, err := event.CSVHeader(event.TypeInAppButtonTap)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(h, ",")
	if !strings.Contains(joined, "APP_PACKAGE_NAME,APP_VERSION,DEVICE_MODEL,DEVICE_OS") {
		t.Errorf("header %v", h)
	}
}

func TestCSVNoLayout(t *testing.T) {
	for _, typ := range []event.Type{event.TypeCompliance, event.TypeOffsetUpdate, "BRAND_NEW"} {
		_, err := event.CSVHeader(typ)
		if !errors.Is(err, event.ErrNoCSVLayout) || !strings.Contains(err.Error(), string(typ)) {
			t.Errorf("CSVHeader(%s) = %v", typ, err)
		}
		if _, err := event.NewCSVWriter(&bytes.Buffer{}, typ); !errors.Is(err, event.ErrNoCSVLayout) {
			t.Errorf("NewCSVWriter(%s) = %v", typ, err)
		}
	}
	e := mustDecode(t, []byte(`{"id":"a","type":"COMPLIANCE","body":{}}`))
	if _, err := event.CSVRecord(e); !errors.Is(err, event.ErrNoCSVLayout) {
		t.Errorf("CSVRecord(COMPLIANCE) = %v", err)
	}
}

func TestCSVWriter(t *testing.T) {
	var buf bytes.Buffer
	w, err := event.NewCSVWriter(&buf, event.TypeClose)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{
		`{"id":"a","type":"CLOSE","device":{"channel":"c","device_type":"IOS"},"body":{"session_id":"s, \"quoted\"\nline"}}`,
		`{"id":"b","type":"CLOSE","offset":"2"}`,
	} {
		if err := w.Write(mustDecode(t, []byte(in))); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Write(mustDecode(t, []byte(`{"id":"c","type":"OPEN"}`))); err == nil {
		t.Error("writing an OPEN event to a CLOSE writer succeeded")
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "ID,TYPE,OCCURRED,PROCESSED,OFFSET,NAMED_USER_ID,ANDROID_CHANNEL,IOS_CHANNEL,AMAZON_CHANNEL,CHANNEL,DEVICE_TYPE,SESSION\n" +
		"a,CLOSE,,,,,,c,,c,IOS,\"s, \"\"quoted\"\"\nline\"\n" +
		"b,CLOSE,,,2,,,,,,,\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestNDJSONWriter(t *testing.T) {
	var buf bytes.Buffer
	w := event.NewNDJSONWriter(&buf)
	in := []string{
		`{"id":"a","type":"CLOSE","body":{"session_id":"s"},"extra":[1]}`,
		`{"id":"b","type":"NEW_TYPE","body":{"x":{"y":null}}}`,
	}
	for _, s := range in {
		if err := w.Write(mustDecode(t, []byte(s))); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(strings.Join(in, "\n")+"\n", buf.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
