package event

// Keys are the members of an event that partition keys are made of, as
// PeekKeys finds them without decoding the event. Each is exactly what
// Decode gives for the same data: ID and Type are the envelope's (after
// Decode, e.Base().ID and e.EventType()), ChannelID is e.Base().ChannelID()
// and NamedUserID is e.Base().NamedUserID().
//
// The strings share the memory of the data given to PeekKeys (they are
// not copied), except for a value whose JSON text has escapes, which is
// unescaped into a new string: they stay valid, and unchanged, as long as
// that data is not modified. Use strings.Clone to keep one after modifying
// or reusing the data.
type Keys struct {
	ID          string // the event's "id"
	Type        Type   // the event's "type"
	ChannelID   string // device.channel, else the platform-keyed channel, else ""
	NamedUserID string // device.named_user_id (or named_user), else user.named_user_id, else ""
}

// PeekKeys returns the event's id, type, channel and named user, the
// values partition keys are chosen from, without decoding the event: it
// scans data once, reading only those members and skipping the others,
// and allocates nothing unless one of them has JSON escapes. It is several
// times cheaper than Decode; use it to route or key events that are
// forwarded as they are (kinesis.Producer.PutEventJSON does).
//
// PeekKeys checks that data is exactly one JSON object (the whole input
// must be valid JSON) with a non-empty string "id" and "type", and returns
// the same *DecodeError as Decode otherwise. It does not check the other
// members' values (timestamps, the body), which Decode rejects when they
// are invalid: for data Decode accepts, PeekKeys returns the values Decode
// gives, and for data PeekKeys rejects, Decode fails too. Where a member
// appears more than once, the same one wins as in Decode (the last).
//
// PeekKeys does not retain data, but the returned strings share its
// memory: see Keys.
func PeekKeys(data []byte) (Keys, error) {
	d := decoder{data: data}
	if err := d.openObject(); err != nil {
		return Keys{}, d.notObject(err)
	}
	var (
		k                Keys
		dev              peekedDevice
		userNamed        string
		hasDev, hasUser  bool
		haveID, haveType bool
	)
	for first := true; ; first = false {
		key, ok, err := d.nextKey(first)
		if err != nil {
			return Keys{}, err
		}
		if !ok {
			break
		}
		switch key {
		case "id":
			s, err := d.strictString(key)
			if err != nil {
				return Keys{}, err
			}
			k.ID, haveID = s, true
		case "type":
			s, err := d.strictString(key)
			if err != nil {
				return Keys{}, err
			}
			t, known := knownType(s)
			if !known {
				t = Type(s)
			}
			k.Type, haveType = t, true
		case "device":
			hasDev = d.data[d.pos] == '{'
			if !hasDev {
				err = d.skipValue()
				break
			}
			dev, err = d.peekDevice()
		case "user":
			hasUser = d.data[d.pos] == '{'
			if !hasUser {
				err = d.skipValue()
				break
			}
			userNamed, err = d.peekUser()
		default:
			err = d.skipValue()
		}
		if err != nil {
			return Keys{}, inField(err, key)
		}
	}
	if d.ws(); d.pos < len(d.data) {
		return Keys{}, d.unexpected("after top-level value")
	}
	if !haveID {
		return Keys{}, &DecodeError{Field: "id", Offset: d.pos, Err: ErrMissingField}
	}
	if !haveType {
		return Keys{}, &DecodeError{Field: "type", Offset: d.pos, Err: ErrMissingField}
	}
	if hasDev {
		k.ChannelID = dev.channelID()
		k.NamedUserID = dev.namedUser
	}
	if k.NamedUserID == "" && hasUser {
		k.NamedUserID = userNamed
	}
	return k, nil
}

// peekedDevice holds the members of a device object that ChannelID and
// NamedUserID read, resolved as Device's decoder resolves them.
type peekedDevice struct {
	channel   string
	platform  [3]string // ios_channel, android_channel, amazon_channel
	namedUser string
}

func (p *peekedDevice) channelID() string {
	if p.channel != "" {
		return p.channel
	}
	for _, c := range p.platform {
		if c != "" {
			return c
		}
	}
	return ""
}

// peekDevice reads the device object at d.pos like decoder.device, keeping
// only the channels and the named user.
func (d *decoder) peekDevice() (peekedDevice, error) {
	var p peekedDevice
	if err := d.openObject(); err != nil {
		return p, err
	}
	var namedUser span
	var legacy [3]span
	for first := true; ; first = false {
		key, ok, err := d.nextKey(first)
		if err != nil {
			return p, err
		}
		if !ok {
			break
		}
		switch key {
		case "channel":
			p.channel, err = d.peekStr()
		case "ios_channel":
			p.platform[platIOS], err = d.peekStr()
		case "android_channel":
			p.platform[platAndroid], err = d.peekStr()
		case "amazon_channel":
			p.platform[platAmazon], err = d.peekStr()
		case "named_user_id":
			p.namedUser, err = d.peekStr()
		case "named_user":
			namedUser, err = d.scanSpan(key)
		default:
			pl := legacyPlatform(key)
			if pl < 0 {
				err = d.skipValue()
				break
			}
			// The mixed-case spelling that sorts first wins; of equal
			// ones, the last (decoder.device).
			var sp span
			if sp, err = d.scanSpan(key); err == nil && (!legacy[pl].ok() || key <= legacy[pl].key) {
				legacy[pl] = sp
			}
		}
		if err != nil {
			return p, inField(err, key)
		}
	}
	if p.namedUser == "" && namedUser.ok() {
		p.namedUser, _ = d.altString(namedUser)
	}
	for pl := range legacy {
		if p.platform[pl] == "" && legacy[pl].ok() {
			p.platform[pl], _ = d.altString(legacy[pl])
		}
	}
	return p, nil
}

// peekUser reads the user object at d.pos like decoder.user, keeping only
// its named user.
func (d *decoder) peekUser() (string, error) {
	if err := d.openObject(); err != nil {
		return "", err
	}
	var named string
	for first := true; ; first = false {
		key, ok, err := d.nextKey(first)
		if err != nil {
			return "", err
		}
		if !ok {
			return named, nil
		}
		if key == "named_user_id" {
			named, err = d.peekStr()
		} else {
			err = d.skipValue()
		}
		if err != nil {
			return "", inField(err, key)
		}
	}
}

// peekStr reads a member like decoder.str: a non-empty string, or "" for
// any other value (which it skips).
func (d *decoder) peekStr() (string, error) {
	if d.data[d.pos] == '"' {
		return d.readString()
	}
	return "", d.skipValue()
}
