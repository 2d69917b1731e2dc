package event

import (
	"encoding/json"
	"slices"
	"strings"
)

// DriftKind says how an event differs from what this version of the
// package models.
type DriftKind string

const (
	// DriftUnknownType: the event's type is not one this version knows; the
	// event decoded to *Unknown and its body was not examined.
	DriftUnknownType DriftKind = "unknown_type"
	// DriftUnknownField: a member this version does not model.
	DriftUnknownField DriftKind = "unknown_field"
	// DriftTypeMismatch: a member this version models whose value did not
	// fit its Go type (a number where a string is expected, a null, an
	// empty string for a number, ...).
	DriftTypeMismatch DriftKind = "type_mismatch"
)

// Drift is one difference between a decoded event and the schema this
// version knows: a member kept in an Extra map, or an unknown type.
type Drift struct {
	// Path is the member's path: "source" at the top level,
	// "device.carrier", "body.new_member", "body.triggering_push.x",
	// "body.viewed_pages[].x" (any element of an array). It is "type" for
	// DriftUnknownType.
	Path string
	Kind DriftKind
	// Value is the member's value as sent; nil for DriftUnknownType. It
	// shares memory with the event: treat it as read-only.
	Value json.RawMessage
}

// JSONType is the JSON type of Value: "string", "number", "object",
// "array", "boolean" or "null"; "" when Value is empty.
func (d Drift) JSONType() string {
	for _, c := range d.Value {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return kindOf(c)
	}
	return ""
}

// AppendDrift appends e's drift to dst, sorted by Path, and returns the
// extended slice. What it reports is what Decode kept: every member of the
// envelope, device, user and (for known types) body, including nested
// objects (associated pushes, campaigns, proximity, circular regions,
// viewed pages, attribute items), that this version does not model or
// whose value did not fit. Members of free-form values (json.RawMessage
// fields such as Custom.Properties, device attributes, tag groups) are not
// schema and never drift. For *Unknown it reports DriftUnknownType plus the
// envelope's drift; the body of an unknown type is not examined.
//
// An event without drift costs a few nil checks and allocates nothing; a
// decoded event has no drift unless one of its Extra maps is non-nil.
func AppendDrift(dst []Drift, e Event) []Drift {
	if e == nil {
		return dst
	}
	start := len(dst)
	env := e.Base()
	if _, ok := e.(*Unknown); ok {
		dst = append(dst, Drift{Path: "type", Kind: DriftUnknownType})
	}
	if env.Extra != nil {
		dst = driftExtra(dst, "", env.Extra, envelopeKnown)
	}
	if env.Device != nil && env.Device.Extra != nil {
		dst = driftExtra(dst, "device", env.Device.Extra, deviceKnown)
	}
	if env.User != nil && env.User.Extra != nil {
		dst = driftExtra(dst, "user", env.User.Extra, userKnown)
	}
	if b, ok := e.(bodyDrifter); ok {
		dst = b.bodyDrift(dst)
	}
	if len(dst)-start > 1 {
		slices.SortFunc(dst[start:], func(a, b Drift) int { return strings.Compare(a.Path, b.Path) })
	}
	return dst
}

// bodyDrifter is implemented by every generated event type (drift_gen.go).
type bodyDrifter interface {
	bodyDrift(dst []Drift) []Drift
}

func driftExtra(dst []Drift, prefix string, m map[string]json.RawMessage, known func(string) bool) []Drift {
	for k, v := range m {
		kind := DriftUnknownField
		if known(k) {
			kind = DriftTypeMismatch
		}
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		dst = append(dst, Drift{Path: path, Kind: kind, Value: v})
	}
	return dst
}

func driftPush(dst []Drift, path string, p *AssociatedPush) []Drift {
	if p == nil {
		return dst
	}
	if p.Extra != nil {
		dst = driftExtra(dst, path, p.Extra, pushKnown)
	}
	if p.Campaigns != nil && p.Campaigns.Extra != nil {
		dst = driftCampaigns(dst, path+".campaigns", p.Campaigns)
	}
	return dst
}

func driftCampaigns(dst []Drift, path string, c *Campaigns) []Drift {
	if c != nil && c.Extra != nil {
		dst = driftExtra(dst, path, c.Extra, campaignsKnown)
	}
	return dst
}

func driftProximity(dst []Drift, path string, p *Proximity) []Drift {
	if p != nil && p.Extra != nil {
		dst = driftExtra(dst, path, p.Extra, proximityKnown)
	}
	return dst
}

func driftCircular(dst []Drift, path string, c *CircularRegion) []Drift {
	if c != nil && c.Extra != nil {
		dst = driftExtra(dst, path, c.Extra, circularKnown)
	}
	return dst
}

func driftPages(dst []Drift, path string, ps []ViewedPage) []Drift {
	for i := range ps {
		if ps[i].Extra != nil {
			dst = driftExtra(dst, path, ps[i].Extra, pageKnown)
		}
	}
	return dst
}

func driftAttrItems(dst []Drift, path string, items []AttributeItem) []Drift {
	for i := range items {
		if items[i].Extra != nil {
			dst = driftExtra(dst, path, items[i].Extra, attrItemKnown)
		}
	}
	return dst
}

// The members the hand-written decoders model (decode.go,
// decode_nested.go).

func envelopeKnown(k string) bool {
	switch k {
	case "id", "type", "offset", "occurred", "processed", "device", "user", "body":
		return true
	}
	return false
}

func deviceKnown(k string) bool {
	switch k {
	case "channel", "device_type", "ios_channel", "android_channel", "amazon_channel",
		"named_user_id", "named_user", "delivery_address", "attributes", "identifiers":
		return true
	}
	return legacyPlatform(k) >= 0 // mixed-case spellings (IOS_channel)
}

func userKnown(k string) bool { return k == "contact_id" || k == "named_user_id" }

func pushKnown(k string) bool {
	switch k {
	case "push_id", "group_id", "variant_id", "time", "campaigns":
		return true
	}
	return false
}

func campaignsKnown(k string) bool { return k == "categories" }

func proximityKnown(k string) bool {
	switch k {
	case "beacon_id", "id", "major", "minor", "rssi", "lat", "long", "lon":
		return true
	}
	return false
}

func circularKnown(k string) bool { return k == "radius" || k == "lat" || k == "long" }

func pageKnown(k string) bool {
	return k == "page_identifier" || k == "page_index" || k == "display_time"
}

func attrItemKnown(k string) bool { return k == "key" || k == "value" || k == "type" }
