package event

import (
	"bytes"
	"encoding/json"
	"slices"
	"time"
)

//go:generate go run ../internal/genevents -root ..

// Type is an RTDS event type, as in the event's "type" field ("OPEN",
// "UNINSTALL", ...). Types this version does not know are valid values too:
// they decode to *Unknown.
type Type string

// Event is implemented by every decoded event: the typed structs (*Open,
// *Uninstall, ...) and *Unknown.
type Event interface {
	// Base returns the common envelope.
	Base() *Envelope
	// EventType returns the event's type. On the typed structs it does not
	// read the receiver, so it is safe on a nil pointer.
	EventType() Type
}

// Envelope holds the members every RTDS event has. Every typed event embeds
// it.
type Envelope struct {
	// ID identifies the event. Duplicates can be delivered with the same ID
	// (and a different Offset and Processed): deduplicate on ID.
	ID string
	// Type is the event type.
	Type Type
	// Offset is the event's position in the stream, kept as a string:
	// offsets are not necessarily numeric. An offset sent as a JSON number is
	// accepted and re-encoded as a number.
	Offset string
	// Occurred is when the event happened; Processed is when Airship
	// ingested it (it can be earlier than Occurred). Zero when absent.
	Occurred, Processed time.Time
	// Device is the channel the event is about; nil when the event has none
	// (PUSH_BODY).
	Device *Device
	// User is the state of the user when the event was emitted; nil when
	// absent.
	User *User
	// Body is the event's "body" exactly as received (nil when absent). The
	// typed events also decode it into their fields; those fields, not Body,
	// are what MarshalJSON writes for them. Body shares memory with the
	// rest of the decoded event: treat it as read-only.
	Body json.RawMessage
	// Extra holds top-level members this version does not model, and
	// members whose value did not fit their Go type, so that re-encoding
	// loses nothing. Nil when there are none.
	Extra map[string]json.RawMessage

	occurredRaw, processedRaw string // timestamps as sent, re-encoded while unchanged
	offsetNumber              bool   // Offset arrived as a JSON number
	bodyKind                  uint8  // bodyAbsent, bodyObject or bodyOther
}

const (
	bodyAbsent = iota // not decoded: constructed by the caller, or no body
	bodyObject        // decoded from an object into the typed fields
	bodyOther         // a non-object body (null, ...): kept in Body only
)

// Base returns e.
func (e *Envelope) Base() *Envelope { return e }

// ChannelID returns the device's channel ID: device.channel, else the
// platform-keyed channel (ios_channel, android_channel or amazon_channel),
// else "".
func (e *Envelope) ChannelID() string {
	return e.Device.ChannelID()
}

// NamedUserID returns device.named_user_id (or its email spelling
// device.named_user), else user.named_user_id, else "".
func (e *Envelope) NamedUserID() string {
	if e.Device != nil && e.Device.NamedUserID != "" {
		return e.Device.NamedUserID
	}
	if e.User != nil {
		return e.User.NamedUserID
	}
	return ""
}

// Device is the channel an event is about. The current form carries Channel
// and DeviceType; the 2015-2016 form carried only one platform-keyed channel
// (IOSChannel, AndroidChannel or AmazonChannel), whose key may also be
// spelled in mixed case (IOS_channel). ChannelID and Platform hide the
// difference.
type Device struct {
	// Channel is the platform-agnostic channel ID.
	Channel string
	// DeviceType is the upper-case platform as sent: IOS, ANDROID, AMAZON,
	// WEB, EMAIL, SMS, OPEN. Use Platform to also cover legacy devices.
	DeviceType string
	// IOSChannel, AndroidChannel and AmazonChannel are the platform-keyed
	// channel IDs; usually only the device's own platform key is present.
	IOSChannel, AndroidChannel, AmazonChannel string
	// NamedUserID is the channel's named user, if any. Email devices may
	// send it as "named_user"; both spellings decode here.
	NamedUserID string
	// DeliveryAddress is the email address or MSISDN of EMAIL and SMS
	// channels.
	DeliveryAddress string
	// Attributes is device metadata reported by the SDK (app_version,
	// push_opt_in, ...). All values are strings, booleans included
	// ("true"). Nil when absent.
	Attributes map[string]string
	// Identifiers are the channel's associated identifiers
	// (com.urbanairship.vendor, sender, ...). Nil when absent.
	Identifiers map[string]string
	// Extra holds members this version does not model. Nil when none.
	Extra map[string]json.RawMessage

	namedUserKey string    // "named_user" when NamedUserID arrived under that key
	platformKeys [3]string // mixed-case spellings of the platform keys, as sent
}

// Platform keys, in the order of Device.platformKeys.
const (
	platIOS = iota
	platAndroid
	platAmazon
)

var platformNames = [3]string{"IOS", "ANDROID", "AMAZON"}
var platformKeyNames = [3]string{"ios_channel", "android_channel", "amazon_channel"}

func (d *Device) platformChannel(p int) string {
	switch p {
	case platIOS:
		return d.IOSChannel
	case platAndroid:
		return d.AndroidChannel
	default:
		return d.AmazonChannel
	}
}

// ChannelID returns Channel, else the first platform-keyed channel present,
// else "". It is safe on a nil *Device.
func (d *Device) ChannelID() string {
	if d == nil {
		return ""
	}
	if d.Channel != "" {
		return d.Channel
	}
	for p := range platformNames {
		if c := d.platformChannel(p); c != "" {
			return c
		}
	}
	return ""
}

// Platform returns DeviceType, else the platform implied by the
// platform-keyed channel present ("IOS", "ANDROID" or "AMAZON"), else "". It
// is safe on a nil *Device.
func (d *Device) Platform() string {
	if d == nil {
		return ""
	}
	if d.DeviceType != "" {
		return d.DeviceType
	}
	for p, name := range platformNames {
		if d.platformChannel(p) != "" {
			return name
		}
	}
	return ""
}

// User is the state of the user when the event was emitted.
type User struct {
	// ContactID is the user's contact.
	ContactID string
	// NamedUserID is the user's named user, if any.
	NamedUserID string
	// Extra holds members this version does not model. Nil when none.
	Extra map[string]json.RawMessage
}

// Unknown is an event whose type this version does not know. Its envelope
// is decoded; Raw keeps the whole event as received and Body its body.
// MarshalJSON writes the envelope fields, Body and Extra, so an unmodified
// Unknown re-encodes to the same JSON.
type Unknown struct {
	Envelope
	// Raw is the whole event as received. It shares memory with Body:
	// treat it as read-only.
	Raw json.RawMessage

	store storage
}

// EventType returns the event's Type; "" on a nil *Unknown.
func (e *Unknown) EventType() Type {
	if e == nil {
		return ""
	}
	return e.Type
}

// storage co-allocates a typed event's device and user with the event
// itself, so decoding allocates once for all three.
type storage struct {
	dev  Device
	user User
}

func (e *Unknown) storage() *storage { return &e.store }

func (e *Unknown) decodeBody(d *decoder) error { return d.skipValue() }

func (e *Unknown) appendBody(b []byte) []byte { return b }

// UnmarshalJSON decodes any event into e, keeping its body raw.
func (e *Unknown) UnmarshalJSON(data []byte) error {
	*e = Unknown{}
	_, err := decode(bytes.Clone(data), e, false)
	return err
}

// KnownTypes returns every event type this version decodes into a typed
// struct, sorted by name.
func KnownTypes() []Type {
	return slices.Clone(knownTypes)
}
