package event

import (
	"encoding/json"
	"maps"
	"slices"
	"time"
	"unicode/utf8"
)

// AppendJSON appends e's JSON encoding to dst, the same bytes MarshalJSON
// returns (without HTML escaping). For a decoded event it is the input
// re-encoded: every member is kept, unknown ones included; members that
// were absent stay absent.
func AppendJSON(dst []byte, e Event) []byte {
	tv, _ := e.(typed)
	if tv != nil && isUnknown(tv) {
		tv = nil
	}
	return appendEvent(dst, e.Base(), tv)
}

// MarshalJSON encodes the envelope, with Body as the body. The typed events
// have their own MarshalJSON that encodes their typed body fields; *Unknown
// uses this one.
func (e Envelope) MarshalJSON() ([]byte, error) {
	return appendEvent(nil, &e, nil), nil
}

var envelopeKeys = map[string]bool{
	"id": true, "type": true, "offset": true, "occurred": true, "processed": true,
	"device": true, "user": true, "body": true,
}

func appendEvent(b []byte, env *Envelope, tv typed) []byte {
	mark := len(b)
	b = mStr(b, "id", env.ID)
	typ := env.Type
	if typ == "" && tv != nil {
		typ = tv.EventType() // a caller-built event need not repeat its type
	}
	b = mStr(b, "type", string(typ))
	if env.Offset != "" {
		b = appendKey(b, "offset")
		if env.offsetNumber && isValidNumber(env.Offset) {
			b = append(b, env.Offset...)
		} else {
			b = appendString(b, env.Offset)
		}
	}
	b = mTime(b, "occurred", env.Occurred, env.occurredRaw)
	b = mTime(b, "processed", env.Processed, env.processedRaw)
	if env.Device != nil {
		b = appendKey(b, "device")
		b = appendDevice(b, env.Device)
	}
	if env.User != nil {
		b = appendKey(b, "user")
		b = appendUser(b, env.User)
	}
	switch {
	case tv == nil || env.bodyKind == bodyOther:
		if env.Body != nil {
			b = appendKey(b, "body")
			b = appendRaw(b, env.Body)
		}
	case env.bodyKind == bodyObject:
		b = appendKey(b, "body")
		m := len(b)
		b = tv.appendBody(b)
		b = closeObject(b, m)
	default: // constructed: typed fields if any, else Body
		keyAt := len(b)
		b = appendKey(b, "body")
		m := len(b)
		b = tv.appendBody(b)
		switch {
		case len(b) > m:
			b = closeObject(b, m)
		case env.Body != nil:
			b = appendRaw(b, env.Body)
		default:
			b = b[:keyAt]
		}
	}
	b = appendExtra(b, env.Extra, func(k string) bool { return envelopeKeys[k] && envelopeHas(env, tv, k) })
	return closeObject(b, mark)
}

func envelopeHas(env *Envelope, tv typed, k string) bool {
	switch k {
	case "id":
		return env.ID != ""
	case "type":
		return env.Type != "" || tv != nil
	case "offset":
		return env.Offset != ""
	case "occurred":
		return timePresent(env.Occurred, env.occurredRaw)
	case "processed":
		return timePresent(env.Processed, env.processedRaw)
	case "device":
		return env.Device != nil
	case "user":
		return env.User != nil
	}
	return env.Body != nil || tv != nil && env.bodyKind == bodyObject
}

// closeObject finishes an object whose members, each written with a leading
// comma, start at mark.
func closeObject(b []byte, mark int) []byte {
	if len(b) == mark {
		b = append(b, '{')
	} else {
		b[mark] = '{'
	}
	return append(b, '}')
}

func appendKey(b []byte, key string) []byte {
	b = append(b, ',')
	b = appendString(b, key)
	return append(b, ':')
}

func appendRaw(b []byte, raw json.RawMessage) []byte {
	if !json.Valid(raw) {
		// Only a caller-built value can be invalid; keep the output JSON.
		return appendString(b, string(raw))
	}
	return append(b, raw...)
}

func appendExtra(b []byte, extra map[string]json.RawMessage, has func(string) bool) []byte {
	if len(extra) == 0 {
		return b
	}
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		if has != nil && has(k) {
			continue
		}
		b = appendKey(b, k)
		b = appendRaw(b, extra[k])
	}
	return b
}

func appendDevice(b []byte, d *Device) []byte {
	mark := len(b)
	b = mStr(b, "channel", d.Channel)
	b = mStr(b, "device_type", d.DeviceType)
	for p, name := range platformKeyNames {
		if d.platformKeys[p] != "" {
			name = d.platformKeys[p]
		}
		b = mStr(b, name, d.platformChannel(p))
	}
	nu := "named_user_id"
	if d.namedUserKey != "" {
		nu = d.namedUserKey
	}
	b = mStr(b, nu, d.NamedUserID)
	b = mStr(b, "delivery_address", d.DeliveryAddress)
	b = mStrMap(b, "attributes", d.Attributes)
	b = mStrMap(b, "identifiers", d.Identifiers)
	b = appendExtra(b, d.Extra, func(k string) bool {
		switch k {
		case "channel":
			return d.Channel != ""
		case "device_type":
			return d.DeviceType != ""
		case "named_user_id", "named_user":
			return k == nu && d.NamedUserID != ""
		case "delivery_address":
			return d.DeliveryAddress != ""
		case "attributes":
			return d.Attributes != nil
		case "identifiers":
			return d.Identifiers != nil
		}
		if p := legacyPlatform(k); p >= 0 {
			name := platformKeyNames[p]
			if d.platformKeys[p] != "" {
				name = d.platformKeys[p]
			}
			return k == name && d.platformChannel(p) != ""
		}
		return false
	})
	return closeObject(b, mark)
}

func appendUser(b []byte, u *User) []byte {
	mark := len(b)
	b = mStr(b, "contact_id", u.ContactID)
	b = mStr(b, "named_user_id", u.NamedUserID)
	b = appendExtra(b, u.Extra, func(k string) bool {
		return k == "contact_id" && u.ContactID != "" || k == "named_user_id" && u.NamedUserID != ""
	})
	return closeObject(b, mark)
}

func appendPush(b []byte, p *AssociatedPush) []byte {
	mark := len(b)
	b = mStr(b, "push_id", p.PushID)
	b = mStr(b, "group_id", p.GroupID)
	b = mNum(b, "variant_id", p.VariantID)
	b = mTime(b, "time", p.Time, p.timeRaw)
	b = mCampaigns(b, "campaigns", p.Campaigns)
	b = appendExtra(b, p.Extra, func(k string) bool {
		switch k {
		case "push_id":
			return p.PushID != ""
		case "group_id":
			return p.GroupID != ""
		case "variant_id":
			return !p.VariantID.IsZero()
		case "time":
			return timePresent(p.Time, p.timeRaw)
		case "campaigns":
			return p.Campaigns != nil
		}
		return false
	})
	return closeObject(b, mark)
}

// MarshalJSON encodes the push as received, or as built.
func (p AssociatedPush) MarshalJSON() ([]byte, error) { return appendPush(nil, &p), nil }

// MarshalJSON encodes the device as received, or as built.
func (d Device) MarshalJSON() ([]byte, error) { return appendDevice(nil, &d), nil }

// MarshalJSON encodes the user as received, or as built.
func (u User) MarshalJSON() ([]byte, error) { return appendUser(nil, &u), nil }

// Member appenders: each writes `,"key":value`, or nothing when the value
// is absent.

func mStr(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	b = appendKey(b, key)
	return appendString(b, v)
}

func mNum(b []byte, key string, n Number) []byte {
	if n.IsZero() {
		return b
	}
	b = appendKey(b, key)
	return appendNumber(b, n)
}

func mBool(b []byte, key string, v Bool) []byte {
	if v == BoolAbsent {
		return b
	}
	b = appendKey(b, key)
	return append(b, v.String()...)
}

func mTime(b []byte, key string, t time.Time, raw string) []byte {
	if !timePresent(t, raw) {
		return b
	}
	b = appendKey(b, key)
	if raw != "" {
		if rt, err := parseTime(raw); err == nil && sameInstantAndZone(rt, t) {
			return appendString(b, raw)
		}
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

func sameInstantAndZone(a, b time.Time) bool {
	_, ao := a.Zone()
	_, bo := b.Zone()
	return a.Equal(b) && ao == bo
}

// timePresent reports whether a timestamp field is set: non-zero, or the
// zero instant as it was received.
func timePresent(t time.Time, raw string) bool {
	if !t.IsZero() {
		return true
	}
	if raw == "" {
		return false
	}
	rt, err := parseTime(raw)
	return err == nil && rt.IsZero()
}

func mRaw(b []byte, key string, v json.RawMessage) []byte {
	if v == nil {
		return b
	}
	b = appendKey(b, key)
	return appendRaw(b, v)
}

func mStrs(b []byte, key string, v []string) []byte {
	if v == nil {
		return b
	}
	b = appendKey(b, key)
	return appendStrings(b, v)
}

func appendStrings(b []byte, v []string) []byte {
	b = append(b, '[')
	for i, s := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

func mStrMap(b []byte, key string, m map[string]string) []byte {
	if m == nil {
		return b
	}
	b = appendKey(b, key)
	mark := len(b)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		b = appendKey(b, k)
		b = appendString(b, m[k])
	}
	return closeObject(b, mark)
}

func mTagGroups(b []byte, key string, m TagGroups) []byte {
	if m == nil {
		return b
	}
	b = appendKey(b, key)
	mark := len(b)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		b = appendKey(b, k)
		if m[k] == nil {
			b = append(b, "[]"...)
			continue
		}
		b = appendStrings(b, m[k])
	}
	return closeObject(b, mark)
}

func mPush(b []byte, key string, p *AssociatedPush) []byte {
	if p == nil {
		return b
	}
	b = appendKey(b, key)
	return appendPush(b, p)
}

func mCampaigns(b []byte, key string, c *Campaigns) []byte {
	if c == nil {
		return b
	}
	b = appendKey(b, key)
	mark := len(b)
	b = mStrs(b, "categories", c.Categories)
	b = appendExtra(b, c.Extra, func(k string) bool { return k == "categories" && c.Categories != nil })
	return closeObject(b, mark)
}

func mProximity(b []byte, key string, p *Proximity) []byte {
	if p == nil {
		return b
	}
	b = appendKey(b, key)
	mark := len(b)
	idKey, lonKey := "beacon_id", "long"
	if p.beaconKey != "" {
		idKey = p.beaconKey
	}
	if p.lonKey != "" {
		lonKey = p.lonKey
	}
	b = mStr(b, idKey, p.BeaconID)
	b = mNum(b, "major", p.Major)
	b = mNum(b, "minor", p.Minor)
	b = mNum(b, "rssi", p.RSSI)
	b = mNum(b, "lat", p.Latitude)
	b = mNum(b, lonKey, p.Longitude)
	b = appendExtra(b, p.Extra, func(k string) bool {
		switch k {
		case idKey:
			return p.BeaconID != ""
		case "major":
			return !p.Major.IsZero()
		case "minor":
			return !p.Minor.IsZero()
		case "rssi":
			return !p.RSSI.IsZero()
		case "lat":
			return !p.Latitude.IsZero()
		case lonKey:
			return !p.Longitude.IsZero()
		}
		return false
	})
	return closeObject(b, mark)
}

func mCircular(b []byte, key string, c *CircularRegion) []byte {
	if c == nil {
		return b
	}
	b = appendKey(b, key)
	mark := len(b)
	b = mNum(b, "radius", c.Radius)
	b = mNum(b, "lat", c.Latitude)
	b = mNum(b, "long", c.Longitude)
	b = appendExtra(b, c.Extra, func(k string) bool {
		return k == "radius" && !c.Radius.IsZero() || k == "lat" && !c.Latitude.IsZero() || k == "long" && !c.Longitude.IsZero()
	})
	return closeObject(b, mark)
}

func mPages(b []byte, key string, pages []ViewedPage) []byte {
	if pages == nil {
		return b
	}
	b = appendKey(b, key)
	b = append(b, '[')
	for i := range pages {
		p := &pages[i]
		if i > 0 {
			b = append(b, ',')
		}
		mark := len(b)
		b = mStr(b, "page_identifier", p.PageIdentifier)
		b = mNum(b, "page_index", p.PageIndex)
		b = mNum(b, "display_time", p.DisplayTime)
		b = appendExtra(b, p.Extra, func(k string) bool {
			return k == "page_identifier" && p.PageIdentifier != "" || k == "page_index" && !p.PageIndex.IsZero() || k == "display_time" && !p.DisplayTime.IsZero()
		})
		b = closeObject(b, mark)
	}
	return append(b, ']')
}

func mAttrItems(b []byte, key string, items []AttributeItem) []byte {
	if items == nil {
		return b
	}
	b = appendKey(b, key)
	b = append(b, '[')
	for i := range items {
		it := &items[i]
		if i > 0 {
			b = append(b, ',')
		}
		mark := len(b)
		b = mStr(b, "key", it.Key)
		b = mRaw(b, "value", it.Value)
		b = mStr(b, "type", it.Type)
		b = appendExtra(b, it.Extra, func(k string) bool {
			return k == "key" && it.Key != "" || k == "value" && it.Value != nil || k == "type" && it.Type != ""
		})
		b = closeObject(b, mark)
	}
	return append(b, ']')
}

func appendNumber(b []byte, n Number) []byte {
	if !n.quoted && isValidNumber(n.text) {
		return append(b, n.text...)
	}
	return appendString(b, n.text)
}

// isValidNumber reports whether s is a JSON number.
func isValidNumber(s string) bool {
	d := decoder{data: unsafeBytes(s)}
	if len(s) == 0 {
		return false
	}
	if _, err := d.number(); err != nil {
		return false
	}
	return d.pos == len(s)
}

const hex = "0123456789abcdef"

// appendString appends s as a JSON string, escaping as encoding/json does
// (without HTML escaping): invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// valueOf strips the `,"key":` a member appender wrote with key "v".
func valueOf(member []byte) []byte {
	if len(member) == 0 {
		return []byte("null")
	}
	return member[len(`,"v":`):]
}

// MarshalJSON encodes the campaigns as received, or as built.
func (c Campaigns) MarshalJSON() ([]byte, error) { return valueOf(mCampaigns(nil, "v", &c)), nil }

// MarshalJSON encodes the beacon as received (key spellings included), or
// as built.
func (p Proximity) MarshalJSON() ([]byte, error) { return valueOf(mProximity(nil, "v", &p)), nil }

// MarshalJSON encodes the geofence as received, or as built.
func (c CircularRegion) MarshalJSON() ([]byte, error) { return valueOf(mCircular(nil, "v", &c)), nil }

// MarshalJSON encodes the page as received, or as built.
func (p ViewedPage) MarshalJSON() ([]byte, error) {
	b := mPages(nil, "v", []ViewedPage{p})
	b = valueOf(b)
	return b[1 : len(b)-1], nil
}

// MarshalJSON encodes the item as received, or as built.
func (it AttributeItem) MarshalJSON() ([]byte, error) {
	b := mAttrItems(nil, "v", []AttributeItem{it})
	b = valueOf(b)
	return b[1 : len(b)-1], nil
}
