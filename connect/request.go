package connect

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rtdskit/rtds/event"
)

// Filter selects events (WithFilters). Every non-empty field must match
// (AND); an event matches one of the listed values of a field. Empty
// fields are not sent (the API refuses empty arrays), and a Filter with no
// field set is an error.
type Filter struct {
	// Types are event types, e.g. event.TypeUninstall.
	Types []event.Type
	// DeviceTypes are lower-case platforms: ios, android, amazon, web,
	// email, sms, open.
	DeviceTypes []string
	// Devices are channels or named users.
	Devices []Device
	// Notifications are pushes or push groups.
	Notifications []Notification
	// Latency drops events whose processed − occurred lag exceeds it
	// (whole milliseconds). 0: not sent.
	Latency time.Duration
}

// Device names one device in a Filter: exactly one field is set.
type Device struct {
	Channel, IOSChannel, AndroidChannel, AmazonChannel, NamedUserID string
}

// Notification names a push or a push group in a Filter: exactly one field
// is set.
type Notification struct {
	PushID, GroupID string
}

var deviceTypes = map[string]bool{"ios": true, "android": true, "amazon": true, "web": true, "email": true, "sms": true, "open": true}

func (f Filter) validate() error {
	if len(f.Types) == 0 && len(f.DeviceTypes) == 0 && len(f.Devices) == 0 && len(f.Notifications) == 0 && f.Latency == 0 {
		return errors.New("no field set")
	}
	for _, t := range f.Types {
		if t == "" || strings.ToUpper(string(t)) != string(t) {
			return fmt.Errorf("event type %q is not an upper-case type name", t)
		}
	}
	for _, d := range f.DeviceTypes {
		if !deviceTypes[d] {
			return fmt.Errorf("device type %q: want one of ios, android, amazon, web, email, sms, open", d)
		}
	}
	for i, d := range f.Devices {
		if _, _, err := d.pair(); err != nil {
			return fmt.Errorf("device %d: %v", i, err)
		}
	}
	for i, n := range f.Notifications {
		if (n.PushID == "") == (n.GroupID == "") {
			return fmt.Errorf("notification %d: set exactly one of PushID and GroupID", i)
		}
	}
	if f.Latency < 0 || f.Latency > 0 && f.Latency < time.Millisecond {
		return fmt.Errorf("latency %v: want 0 or at least 1ms", f.Latency)
	}
	return nil
}

func (d Device) pair() (key, value string, err error) {
	n := 0
	for _, kv := range [...][2]string{{"channel", d.Channel}, {"ios_channel", d.IOSChannel},
		{"android_channel", d.AndroidChannel}, {"amazon_channel", d.AmazonChannel}, {"named_user_id", d.NamedUserID}} {
		if kv[1] != "" {
			key, value = kv[0], kv[1]
			n++
		}
	}
	if n != 1 {
		return "", "", errors.New("set exactly one field")
	}
	return key, value, nil
}

// filterJSON is a Filter as the API reads it.
type filterJSON struct {
	Types         []event.Type        `json:"types,omitempty"`
	DeviceTypes   []string            `json:"device_types,omitempty"`
	Devices       []map[string]string `json:"devices,omitempty"`
	Notifications []map[string]string `json:"notifications,omitempty"`
	Latency       int64               `json:"latency,omitempty"`
}

func (f Filter) toJSON() filterJSON {
	j := filterJSON{Types: f.Types, DeviceTypes: f.DeviceTypes, Latency: f.Latency.Milliseconds()}
	for _, d := range f.Devices {
		k, v, _ := d.pair()
		j.Devices = append(j.Devices, map[string]string{k: v})
	}
	for _, n := range f.Notifications {
		if n.PushID != "" {
			j.Notifications = append(j.Notifications, map[string]string{"push_id": n.PushID})
		} else {
			j.Notifications = append(j.Notifications, map[string]string{"group_id": n.GroupID})
		}
	}
	return j
}

type subset struct {
	Type       string  `json:"type"`
	Proportion float64 `json:"proportion,omitempty"`
	Count      int     `json:"count,omitempty"`
	Selection  *int    `json:"selection,omitempty"`
}

// requestBody is the JSON body of POST /api/events: exactly one of Start
// and ResumeOffset.
type requestBody struct {
	Start               Start        `json:"start,omitempty"`
	ResumeOffset        string       `json:"resume_offset,omitempty"`
	Filters             []filterJSON `json:"filters,omitempty"`
	Subset              *subset      `json:"subset,omitempty"`
	EnableOffsetUpdates bool         `json:"enable_offset_updates,omitempty"`
}

// body is the request body for a connection resuming after offset ("":
// from the configured start).
func (c *config) body(offset string) ([]byte, error) {
	b := requestBody{Subset: c.subset, EnableOffsetUpdates: c.offsetUpdates}
	if offset != "" {
		b.ResumeOffset = offset
	} else {
		b.Start = c.start
	}
	for _, f := range c.filters {
		b.Filters = append(b.Filters, f.toJSON())
	}
	return json.Marshal(b)
}
