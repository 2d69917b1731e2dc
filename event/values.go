package event

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Number is a JSON number that the wire sometimes sends as a string
// (latitude "14.5224123", variant_id "0", bounce_class "10"). It keeps the
// text as sent, and whether it was quoted, so re-encoding reproduces the
// input. The zero Number is absent.
type Number struct {
	text   string
	quoted bool
}

// Int returns a Number holding n.
func Int(n int64) Number { return Number{text: strconv.FormatInt(n, 10)} }

// Float returns a Number holding f in its shortest exact form.
func Float(f float64) Number { return Number{text: strconv.FormatFloat(f, 'g', -1, 64)} }

// NumberString returns a Number sent as the string s, as some producers do.
func NumberString(s string) Number { return Number{text: s, quoted: s != ""} }

// IsZero reports whether n is absent.
func (n Number) IsZero() bool { return n.text == "" }

// String returns the number's text ("14.5224123"), without quotes even when
// it was sent as a string; "" when absent.
func (n Number) String() string { return n.text }

// Quoted reports whether the number was sent as a JSON string.
func (n Number) Quoted() bool { return n.quoted }

// Int64 returns the number as an int64. It fails when absent, fractional or
// not a number.
func (n Number) Int64() (int64, error) {
	return strconv.ParseInt(strings.TrimSpace(n.text), 10, 64)
}

// Float64 returns the number as a float64. It fails when absent or not a
// number.
func (n Number) Float64() (float64, error) {
	return strconv.ParseFloat(strings.TrimSpace(n.text), 64)
}

// MarshalJSON writes the number as sent: a JSON number, or a string when it
// was sent quoted (or is not a valid JSON number).
func (n Number) MarshalJSON() ([]byte, error) {
	if n.text == "" {
		return []byte("null"), nil
	}
	return appendNumber(nil, n), nil
}

// Bool is an optional JSON boolean: BoolAbsent, BoolFalse or BoolTrue.
type Bool uint8

// Bool values.
const (
	BoolAbsent Bool = iota
	BoolFalse
	BoolTrue
)

// BoolOf returns BoolTrue or BoolFalse.
func BoolOf(v bool) Bool {
	if v {
		return BoolTrue
	}
	return BoolFalse
}

// Value returns the boolean and whether it is present.
func (b Bool) Value() (v, ok bool) { return b == BoolTrue, b != BoolAbsent }

// True reports whether b is present and true.
func (b Bool) True() bool { return b == BoolTrue }

// String returns "true", "false" or "" (absent).
func (b Bool) String() string {
	switch b {
	case BoolTrue:
		return "true"
	case BoolFalse:
		return "false"
	}
	return ""
}

// MarshalJSON writes true, false or null (absent).
func (b Bool) MarshalJSON() ([]byte, error) {
	if b == BoolAbsent {
		return []byte("null"), nil
	}
	return []byte(b.String()), nil
}

// AssociatedPush identifies a push an event is attributed to:
// body.last_delivered, body.triggering_push, body.replacing_push.
type AssociatedPush struct {
	// PushID is the push operation.
	PushID string
	// GroupID is set for pushes spread over time (automation,
	// push-to-local-time, best time).
	GroupID string
	// VariantID is the A/B-test variant, if any.
	VariantID Number
	// Time is the send time, for a push sent at one time; zero if absent.
	Time time.Time
	// Campaigns are the push's campaign categories, if any.
	Campaigns *Campaigns
	// Extra holds members this version does not model. Nil when none.
	Extra map[string]json.RawMessage

	timeRaw string
}

// Campaigns are a push's campaign categories.
type Campaigns struct {
	// Categories has 1-10 category names.
	Categories []string
	// Extra holds members this version does not model. Nil when none.
	Extra map[string]json.RawMessage
}

// Proximity is the beacon of a REGION event. The wire spells two of its keys
// two ways (beacon_id or id, long or lon); both decode here and re-encode
// under the spelling received.
type Proximity struct {
	BeaconID          string
	Major, Minor      Number
	RSSI              Number
	Latitude          Number // "lat"
	Longitude         Number // "long" or "lon"
	Extra             map[string]json.RawMessage
	beaconKey, lonKey string
}

// CircularRegion is the geofence of a REGION event.
type CircularRegion struct {
	Radius    Number
	Latitude  Number // "lat"
	Longitude Number // "long"
	Extra     map[string]json.RawMessage
}

// TagGroups maps a tag group ("device" holds plain device tags) to tags.
type TagGroups map[string][]string

// ViewedPage is one entry of IN_APP_PAGER_SUMMARY's viewed_pages.
type ViewedPage struct {
	PageIdentifier string
	PageIndex      Number
	// DisplayTime is seconds on screen; the SDK sends it as a string
	// ("10.40").
	DisplayTime Number
	Extra       map[string]json.RawMessage
}

// AttributeItem is one entry of ATTRIBUTE_OPERATION's set or remove.
type AttributeItem struct {
	// Key is the attribute.
	Key string
	// Value is the attribute's value as sent: a string, number or JSON.
	Value json.RawMessage
	// Type is the attribute type (text, number, date, json), if sent.
	Type string
	// Extra holds members this version does not model. Nil when none.
	Extra map[string]json.RawMessage
}

// Entered reports whether the device entered the region (action "enter",
// in any case).
func (e *Region) Entered() bool { return strings.EqualFold(e.Action, "enter") }

// Exited reports whether the device left the region (action "exit", in any
// case).
func (e *Region) Exited() bool { return strings.EqualFold(e.Action, "exit") }
