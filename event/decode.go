package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// typed is implemented by every concrete event type (the generated ones and
// *Unknown).
type typed interface {
	Event
	// decodeBody decodes the body object at d.pos into the typed fields.
	decodeBody(d *decoder) error
	// storage returns the event's co-allocated device and user.
	storage() *storage
	// appendBody appends the typed body members, each as `,"key":value`.
	appendBody(b []byte) []byte
}

// Decode decodes one RTDS event (one JSON object) into its typed struct, for
// example *Open for an OPEN event, or into *Unknown for a type this version
// does not know. It does not retain data: the event holds one private copy
// of it, which its strings and raw JSON share. That copy stays in memory as
// long as the event or any one of its strings is reachable: to keep a few
// strings long after the events, strings.Clone them.
//
// Errors are *DecodeError, naming the field and the reason.
func Decode(data []byte) (Event, error) {
	t, err := PeekType(data)
	if err != nil {
		// Decode the copy anyway: the error it finds first is the one to
		// report (a syntax error before "type", a missing "id", ...).
		_, err := decode(append([]byte(nil), data...), nil, false)
		return nil, err
	}
	ev, buf := newEventWithBuffer(t, len(data))
	copy(buf, data)
	return decode(buf, ev, true)
}

// PeekType returns the event's "type" without decoding the rest: it reads
// only up to the top-level "type" member, so it costs a small fraction of
// Decode. Use it to skip events no one handles. It does not validate the
// rest of the event, and it does not retain data.
func PeekType(data []byte) (Type, error) {
	d := decoder{data: data}
	if err := d.openObject(); err != nil {
		return "", d.notObject(err)
	}
	for first := true; ; first = false {
		key, ok, err := d.nextKey(first)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", &DecodeError{Field: "type", Offset: d.pos, Err: ErrMissingField}
		}
		if key != "type" {
			if err := d.skipValue(); err != nil {
				return "", err
			}
			continue
		}
		s, err := d.strictString("type")
		if err != nil {
			return "", err
		}
		if t, ok := knownType(s); ok {
			return t, nil
		}
		return Type(strings.Clone(s)), nil
	}
}

// notObject turns openObject's errMismatch at the top level into the right
// error: a syntax error if the input is not JSON, else ErrNotObject.
func (d *decoder) notObject(err error) error {
	if err != errMismatch {
		return err
	}
	start := d.pos
	if serr := d.skipValue(); serr != nil {
		return serr
	}
	if d.ws(); d.pos < len(d.data) {
		return d.unexpected("after top-level value")
	}
	return &DecodeError{Offset: start, Err: fmt.Errorf("%w: found %s", ErrNotObject, kindOf(d.data[start]))}
}

func kindOf(c byte) string {
	switch c {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// strictString reads a required non-empty string member (id, type).
func (d *decoder) strictString(key string) (string, error) {
	if c := d.ws(); c != '"' {
		if err := d.skipValue(); err != nil {
			return "", err
		}
		return "", &DecodeError{Field: key, Offset: d.pos, Err: fmt.Errorf("%w: expected a string, found %s", ErrInvalidField, kindOf(c))}
	}
	start := d.pos
	s, err := d.readString()
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", &DecodeError{Field: key, Offset: start, Err: fmt.Errorf("%w: empty", ErrMissingField)}
	}
	return s, nil
}

// decode decodes the event in buf, which it owns. into, if not nil, is the
// (zeroed) event to decode into. Unless replaceable, its type must match the
// event's; if replaceable (Decode allocated it from a peek at the type), it
// is replaced when a later duplicate "type" member says otherwise.
func decode(buf []byte, into typed, replaceable bool) (Event, error) {
	ev, err := decodeEvent(buf, into, replaceable)
	if err != nil && !errors.Is(err, ErrSyntax) {
		// Invalid JSON is reported as such, wherever it is, as
		// encoding/json does, even when another problem came first.
		if serr := validate(buf); serr != nil {
			return nil, serr
		}
	}
	return ev, err
}

// validate returns the first syntax error in data, or nil.
func validate(data []byte) error {
	d := decoder{data: data}
	if err := d.skipValue(); err != nil {
		return err
	}
	if d.ws(); d.pos < len(d.data) {
		return d.unexpected("after top-level value")
	}
	return nil
}

func decodeEvent(buf []byte, into typed, replaceable bool) (Event, error) {
	d := decoder{data: buf}
	if err := d.openObject(); err != nil {
		return nil, d.notObject(err)
	}
	var (
		env                 Envelope
		dev                 Device
		user                User
		hasDev, hasUser     bool
		haveID, haveType    bool
		ev                  = into
		bodyStart, bodyEnd  = -1, -1
		bodyDone, bodyDirty bool
	)
	for first := true; ; first = false {
		key, ok, err := d.nextKey(first)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		switch key {
		case "id":
			s, err := d.strictString(key)
			if err != nil {
				return nil, err
			}
			env.ID, haveID = s, true
		case "type":
			s, err := d.strictString(key)
			if err != nil {
				return nil, err
			}
			t, known := knownType(s)
			if !known {
				t = Type(s)
			}
			env.Type, haveType = t, true
			switch {
			case into != nil && replaceable:
				if ev == nil || ev.EventType() != t {
					ev, bodyDone = newEvent(t), false
				}
			case into != nil:
				if want := into.EventType(); want != "" && want != t {
					return nil, &DecodeError{Field: "type", Offset: d.pos, Err: fmt.Errorf("%w: decoding %s into %T", ErrTypeMismatch, t, into)}
				}
			case ev == nil || ev.EventType() != t:
				ev, bodyDone = newEvent(t), false
			}
		case "offset":
			switch d.data[d.pos] {
			case '"':
				start := d.pos
				s, err := d.readString()
				if err != nil {
					return nil, err
				}
				if s == "" {
					d.pos = start
					err = d.keep(&env.Extra, key)
				} else {
					env.Offset, env.offsetNumber = s, false
					clearExtra(&env.Extra, key)
				}
			case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
				env.Offset, err = d.number()
				env.offsetNumber = true
				clearExtra(&env.Extra, key)
			default:
				env.Offset, env.offsetNumber = "", false
				err = d.keep(&env.Extra, key)
			}
			if err != nil {
				return nil, inField(err, key)
			}
		case "occurred":
			if err := d.timestamp(&env.Occurred, &env.occurredRaw, &env.Extra, key); err != nil {
				return nil, inField(err, key)
			}
		case "processed":
			if err := d.timestamp(&env.Processed, &env.processedRaw, &env.Extra, key); err != nil {
				return nil, inField(err, key)
			}
		case "device":
			if d.data[d.pos] != '{' {
				hasDev = false
				if err := d.keep(&env.Extra, key); err != nil {
					return nil, inField(err, key)
				}
				continue
			}
			dev = Device{}
			if err := d.device(&dev); err != nil {
				return nil, inField(err, key)
			}
			hasDev = true
			clearExtra(&env.Extra, key)
		case "user":
			if d.data[d.pos] != '{' {
				hasUser = false
				if err := d.keep(&env.Extra, key); err != nil {
					return nil, inField(err, key)
				}
				continue
			}
			user = User{}
			if err := d.user(&user); err != nil {
				return nil, inField(err, key)
			}
			hasUser = true
			clearExtra(&env.Extra, key)
		case "body":
			bodyStart = d.pos
			if d.data[d.pos] == '{' && ev != nil && !bodyDirty && !isUnknown(ev) {
				if err := decodeBodyOf(ev, &d); err != nil {
					return nil, inField(err, key)
				}
				bodyDone, bodyDirty = true, true
			} else {
				if err := d.skipValue(); err != nil {
					return nil, inField(err, key)
				}
				bodyDone = false
			}
			bodyEnd = d.pos
			clearExtra(&env.Extra, key)
		default:
			if err := d.keep(&env.Extra, key); err != nil {
				return nil, inField(err, key)
			}
		}
	}
	if d.ws(); d.pos < len(d.data) {
		return nil, d.unexpected("after top-level value")
	}
	if !haveID {
		return nil, &DecodeError{Field: "id", Offset: d.pos, Err: ErrMissingField}
	}
	if !haveType {
		return nil, &DecodeError{Field: "type", Offset: d.pos, Err: ErrMissingField}
	}
	if ev == nil {
		ev = newEvent(env.Type)
	}
	if bodyStart >= 0 {
		if bodyDirty && !bodyDone && (into == nil || replaceable) {
			// A duplicate "body" after one was decoded into ev: the last
			// one wins, as in encoding/json's maps.
			ev = newEvent(env.Type)
		}
		env.Body = buf[bodyStart:bodyEnd:bodyEnd]
		env.bodyKind = bodyOther
		if buf[bodyStart] == '{' && !isUnknown(ev) {
			env.bodyKind = bodyObject
			if !bodyDone {
				sub := decoder{data: buf[:bodyEnd], pos: bodyStart}
				if err := decodeBodyOf(ev, &sub); err != nil {
					return nil, inField(err, "body")
				}
			}
		}
	}
	st := ev.storage()
	if hasDev {
		st.dev = dev
		env.Device = &st.dev
	}
	if hasUser {
		st.user = user
		env.User = &st.user
	}
	*ev.Base() = env
	if u, ok := ev.(*Unknown); ok {
		u.Raw = buf
	}
	return ev, nil
}

func isUnknown(ev typed) bool {
	_, ok := ev.(*Unknown)
	return ok
}

// clearExtra removes key from *extra, which stays nil when empty.
func clearExtra(extra *map[string]json.RawMessage, key string) {
	if *extra != nil {
		delete(*extra, key)
		if len(*extra) == 0 {
			*extra = nil
		}
	}
}

// keep stores the value at d.pos in *extra under key.
func (d *decoder) keep(extra *map[string]json.RawMessage, key string) error {
	raw, err := d.skip()
	if err != nil {
		return err
	}
	if *extra == nil {
		*extra = make(map[string]json.RawMessage, 1)
	}
	(*extra)[key] = raw
	return nil
}

// keepSpan stores an already scanned value in *extra.
func keepSpan(extra *map[string]json.RawMessage, key string, raw []byte) {
	if *extra == nil {
		*extra = make(map[string]json.RawMessage, 1)
	}
	(*extra)[key] = raw
}

// str decodes a non-empty string into dst; any other value (an empty
// string, null, a number) goes to extra so that it re-encodes as sent.
func (d *decoder) str(dst *string, extra *map[string]json.RawMessage, key string) error {
	if d.data[d.pos] == '"' {
		start := d.pos
		s, err := d.readString()
		if err != nil {
			return err
		}
		if s != "" {
			*dst = s
			clearExtra(extra, key)
			return nil
		}
		d.pos = start
	}
	*dst = ""
	return d.keep(extra, key)
}

// num decodes a number, or a non-empty string standing for one.
func (d *decoder) num(dst *Number, extra *map[string]json.RawMessage, key string) error {
	switch c := d.data[d.pos]; {
	case c == '"':
		start := d.pos
		s, err := d.readString()
		if err != nil {
			return err
		}
		if s != "" {
			*dst = Number{text: s, quoted: true}
			clearExtra(extra, key)
			return nil
		}
		d.pos = start
	case c == '-' || '0' <= c && c <= '9':
		s, err := d.number()
		if err != nil {
			return err
		}
		*dst = Number{text: s}
		clearExtra(extra, key)
		return nil
	}
	*dst = Number{}
	return d.keep(extra, key)
}

func (d *decoder) boolean(dst *Bool, extra *map[string]json.RawMessage, key string) error {
	switch d.data[d.pos] {
	case 't':
		if err := d.literal("true"); err != nil {
			return err
		}
		*dst = BoolTrue
		clearExtra(extra, key)
		return nil
	case 'f':
		if err := d.literal("false"); err != nil {
			return err
		}
		*dst = BoolFalse
		clearExtra(extra, key)
		return nil
	}
	*dst = BoolAbsent
	return d.keep(extra, key)
}

// timestamp decodes an RFC 3339 timestamp, with or without fractional
// seconds. It is strict: a value that is not a timestamp string is an error
// (null is kept in extra, as absent).
func (d *decoder) timestamp(dst *time.Time, raw *string, extra *map[string]json.RawMessage, key string) error {
	c := d.data[d.pos]
	if c == 'n' {
		*dst, *raw = time.Time{}, ""
		return d.keep(extra, key)
	}
	start := d.pos
	if c != '"' {
		if err := d.skipValue(); err != nil {
			return err
		}
		return &DecodeError{Offset: start, Err: fmt.Errorf("%w: expected an RFC 3339 string, found %s", ErrInvalidField, kindOf(c))}
	}
	s, err := d.readString()
	if err != nil {
		return err
	}
	t, err := parseTime(s)
	if err != nil {
		return &DecodeError{Offset: start, Err: fmt.Errorf("%w: %w", ErrInvalidTimestamp, err)}
	}
	*dst, *raw = t, s
	clearExtra(extra, key)
	return nil
}

// parseTime parses RFC 3339 as encoding/json does for time.Time.
func parseTime(s string) (time.Time, error) {
	if t, ok := parseUTC(s); ok {
		return t, nil
	}
	var t time.Time
	err := t.UnmarshalText(unsafeBytes(s))
	return t, err
}

// parseUTC is parseTime's fast path for the form RTDS sends,
// 2006-01-02T15:04:05Z with 0 to 9 fractional digits: the same time as
// time.Time.UnmarshalText, or false for anything else (another zone, a
// field out of range), which is left to UnmarshalText.
func parseUTC(s string) (time.Time, bool) {
	n := len(s)
	if n < len("2006-01-02T15:04:05Z") || n > len("2006-01-02T15:04:05.999999999Z") || s[n-1] != 'Z' ||
		s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	// The digits of "2006-01-" and "02T15:04", eight bytes at a time, then
	// the seconds.
	if !digits(leWord(s[0:8]), 0x00ff_ff00_ffff_ffff) || !digits(leWord(s[8:16]), 0xffff_00ff_ff00_ffff) ||
		s[17]-'0' > 9 || s[18]-'0' > 9 {
		return time.Time{}, false
	}
	d2 := func(i int) int { return int(s[i]-'0')*10 + int(s[i+1]-'0') }
	year, month, day := d2(0)*100+d2(2), d2(5), d2(8)
	hour, minute, sec := d2(11), d2(14), d2(17)
	nsec := 0
	if n > 20 {
		if s[19] != '.' || n == 21 {
			return time.Time{}, false
		}
		for i := 20; i < n-1; i++ {
			c := s[i] - '0'
			if c > 9 {
				return time.Time{}, false
			}
			nsec = nsec*10 + int(c)
		}
		for i := n - 1; i < len("2006-01-02T15:04:05.999999999"); i++ {
			nsec *= 10
		}
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), true
}

// leWord returns the first eight bytes of s as a little-endian word.
func leWord(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// digits reports whether the bytes of w selected by mask (0xff each) are
// all ASCII digits: 0x30-0x3f, and still below 0x40 after adding 6.
func digits(w, mask uint64) bool {
	const high, six = 0xf0f0_f0f0_f0f0_f0f0, 0x0606_0606_0606_0606
	w &= mask
	want := 0x3030_3030_3030_3030 & mask
	return w&high&mask == want && (w+six&mask)&high&mask == want
}

// daysIn returns the number of days in month of year.
func daysIn(month, year int) int {
	if month == 2 {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 31 - (month-1)%7%2
}

// raw keeps any value as sent.
func (d *decoder) raw(dst *json.RawMessage, extra *map[string]json.RawMessage, key string) error {
	v, err := d.skip()
	if err != nil {
		return err
	}
	*dst = v
	clearExtra(extra, key)
	return nil
}
