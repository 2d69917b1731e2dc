package event

import (
	"encoding/json"
	"time"
)

// Type is an RTDS event type, as in the event's "type" field ("OPEN",
// "UNINSTALL", ...). Types this version does not know are valid values too.
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

// Envelope holds the fields every RTDS event has.
type Envelope struct {
	ID        string
	Type      Type
	Offset    string
	Occurred  time.Time
	Processed time.Time
	Device    *Device
	User      *User
	Body      json.RawMessage
}

// Base returns e.
func (e *Envelope) Base() *Envelope { return e }

// Device is the event's device (channel) information. (Skeleton: the event
// issue fills it in.)
type Device struct {
	Channel     string
	DeviceType  string
	NamedUserID string
}

// User is the state of the user when the event was emitted.
type User struct {
	ContactID   string
	NamedUserID string
}
