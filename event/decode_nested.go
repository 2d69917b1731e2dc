package event

import (
	"encoding/json"
	"strings"
)

// span is the position of a scanned value, kept to resolve alternative key
// spellings once the whole object is read.
type span struct {
	key        string
	start, end int
}

func (s span) ok() bool { return s.end > 0 }

// altString returns the non-empty string in sp, if it is one.
func (d *decoder) altString(sp span) (string, bool) {
	if d.data[sp.start] != '"' {
		return "", false
	}
	sub := decoder{data: d.data[:sp.end], pos: sp.start}
	s, err := sub.readString()
	return s, err == nil && s != ""
}

// resolveAlt settles a member that may arrive under a canonical key and an
// alternative one: the canonical value wins; the alternative fills in when
// the canonical one is absent (and its key is remembered for re-encoding);
// otherwise it is kept in extra.
func (d *decoder) resolveAlt(dst *string, altKey *string, sp span, extra *map[string]json.RawMessage) {
	if !sp.ok() {
		return
	}
	if *dst == "" {
		if s, ok := d.altString(sp); ok {
			*dst, *altKey = s, sp.key
			return
		}
	}
	keepSpan(extra, sp.key, d.data[sp.start:sp.end:sp.end])
}

func (d *decoder) scanSpan(key string) (span, error) {
	start := d.pos
	if err := d.skipValue(); err != nil {
		return span{}, err
	}
	return span{key: key, start: start, end: d.pos}, nil
}

// device decodes the device object at d.pos.
func (d *decoder) device(dev *Device) error {
	if err := d.openObject(); err != nil {
		return err
	}
	var namedUser span
	var legacy [3]span
	for first := true; ; first = false {
		key, ok, err := d.nextKey(first)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		switch key {
		case "channel":
			err = d.str(&dev.Channel, &dev.Extra, key)
		case "device_type":
			err = d.str(&dev.DeviceType, &dev.Extra, key)
		case "ios_channel":
			err = d.str(&dev.IOSChannel, &dev.Extra, key)
		case "android_channel":
			err = d.str(&dev.AndroidChannel, &dev.Extra, key)
		case "amazon_channel":
			err = d.str(&dev.AmazonChannel, &dev.Extra, key)
		case "named_user_id":
			err = d.str(&dev.NamedUserID, &dev.Extra, key)
		case "delivery_address":
			err = d.str(&dev.DeliveryAddress, &dev.Extra, key)
		case "attributes":
			err = d.strMap(&dev.Attributes, &dev.Extra, key)
		case "identifiers":
			err = d.strMap(&dev.Identifiers, &dev.Extra, key)
		case "named_user":
			if namedUser.ok() {
				keepSpan(&dev.Extra, namedUser.key, d.data[namedUser.start:namedUser.end:namedUser.end])
			}
			namedUser, err = d.scanSpan(key)
		default:
			p := legacyPlatform(key)
			if p < 0 {
				err = d.keep(&dev.Extra, key)
				break
			}
			// Of several mixed-case spellings, the one that sorts first is
			// used, so that the choice does not depend on member order.
			var sp span
			if sp, err = d.scanSpan(key); err != nil {
				break
			}
			if legacy[p].ok() {
				if legacy[p].key < key {
					legacy[p], sp = sp, legacy[p]
				}
				keepSpan(&dev.Extra, legacy[p].key, d.data[legacy[p].start:legacy[p].end:legacy[p].end])
			}
			legacy[p] = sp
		}
		if err != nil {
			return inField(err, key)
		}
	}
	d.resolveAlt(&dev.NamedUserID, &dev.namedUserKey, namedUser, &dev.Extra)
	d.resolveAlt(&dev.IOSChannel, &dev.platformKeys[platIOS], legacy[platIOS], &dev.Extra)
	d.resolveAlt(&dev.AndroidChannel, &dev.platformKeys[platAndroid], legacy[platAndroid], &dev.Extra)
	d.resolveAlt(&dev.AmazonChannel, &dev.platformKeys[platAmazon], legacy[platAmazon], &dev.Extra)
	return nil
}

// legacyPlatform matches the mixed-case platform keys of the 2015 test
// server (IOS_channel, ...): the platform index, or -1.
func legacyPlatform(key string) int {
	for p, name := range platformKeyNames {
		if len(key) == len(name) && strings.EqualFold(key, name) {
			return p
		}
	}
	return -1
}

func (d *decoder) user(u *User) error {
	if err := d.openObject(); err != nil {
		return err
	}
	for first := true; ; first = false {
		key, ok, err := d.nextKey(first)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		switch key {
		case "contact_id":
			err = d.str(&u.ContactID, &u.Extra, key)
		case "named_user_id":
			err = d.str(&u.NamedUserID, &u.Extra, key)
		default:
			err = d.keep(&u.Extra, key)
		}
		if err != nil {
			return inField(err, key)
		}
	}
}

type kv struct{ k, v string }

// strMap decodes an object of strings. Any other value anywhere in it keeps
// the whole object in extra.
func (d *decoder) strMap(dst *map[string]string, extra *map[string]json.RawMessage, key string) error {
	start, depth := d.pos, d.depth
	var stack [24]kv
	pairs := stack[:0]
	err := d.openObject()
	for first := true; err == nil; first = false {
		k, ok, kerr := d.nextKey(first)
		if kerr != nil {
			return kerr
		}
		if !ok {
			break
		}
		if d.data[d.pos] != '"' {
			err = errMismatch
			break
		}
		v, verr := d.readString()
		if verr != nil {
			return verr
		}
		pairs = append(pairs, kv{k, v})
	}
	if err != nil {
		if err != errMismatch {
			return err
		}
		d.pos, d.depth = start, depth
		*dst = nil
		return d.keep(extra, key)
	}
	m := make(map[string]string, len(pairs))
	for _, p := range pairs {
		m[p.k] = p.v
	}
	*dst = m
	clearExtra(extra, key)
	return nil
}

// strs decodes an array of strings; anything else goes to extra.
func (d *decoder) strs(dst *[]string, extra *map[string]json.RawMessage, key string) error {
	start, depth := d.pos, d.depth
	out, err := d.stringArray()
	if err != nil {
		if err != errMismatch {
			return err
		}
		d.pos, d.depth = start, depth
		*dst = nil
		return d.keep(extra, key)
	}
	*dst = out
	clearExtra(extra, key)
	return nil
}

func (d *decoder) stringArray() ([]string, error) {
	var stack [16]string
	out, err := d.appendStrings(stack[:0])
	if err != nil || len(out) == 0 {
		return []string{}, err
	}
	if len(out) <= len(stack) {
		// One allocation of the exact size instead of append's growth.
		out = append([]string(nil), out...)
	}
	return out, nil
}

// appendStrings appends the elements of the array of strings at d.pos to
// out; errMismatch if it is not an array or an element is not a string.
func (d *decoder) appendStrings(out []string) ([]string, error) {
	if err := d.openArray(); err != nil {
		return nil, err
	}
	for first := true; ; first = false {
		ok, err := d.nextElem(first)
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		if d.data[d.pos] != '"' {
			return nil, errMismatch
		}
		s, err := d.readString()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
}

// tagGroups decodes {"group": ["tag", ...], ...}. The tags of all groups
// share one allocation (each group's slice is capped at its own length).
func (d *decoder) tagGroups(dst *TagGroups, extra *map[string]json.RawMessage, key string) error {
	start, depth := d.pos, d.depth
	type group struct {
		name       string
		start, end int
	}
	var (
		groupStack [8]group
		tagStack   [32]string
	)
	groups, tags := groupStack[:0], tagStack[:0]
	err := d.openObject()
	for first := true; err == nil; first = false {
		k, ok, kerr := d.nextKey(first)
		if kerr != nil {
			return kerr
		}
		if !ok {
			break
		}
		n := len(tags)
		if tags, err = d.appendStrings(tags); err != nil {
			break
		}
		groups = append(groups, group{k, n, len(tags)})
	}
	if err != nil {
		if err != errMismatch {
			return err
		}
		d.pos, d.depth = start, depth
		*dst = nil
		return d.keep(extra, key)
	}
	if len(tags) > 0 && len(tags) <= len(tagStack) {
		tags = append([]string(nil), tags...)
	}
	m := make(TagGroups, len(groups))
	for _, g := range groups {
		if g.start == g.end {
			m[g.name] = []string{}
		} else {
			m[g.name] = tags[g.start:g.end:g.end]
		}
	}
	*dst = m
	clearExtra(extra, key)
	return nil
}

// push decodes an associated push into store and points *dst at it.
func (d *decoder) push(dst **AssociatedPush, store *AssociatedPush, extra *map[string]json.RawMessage, key string) error {
	if d.data[d.pos] != '{' {
		*dst = nil
		return d.keep(extra, key)
	}
	*store = AssociatedPush{}
	if err := d.decodePush(store); err != nil {
		return err
	}
	*dst = store
	clearExtra(extra, key)
	return nil
}

func (d *decoder) decodePush(p *AssociatedPush) error {
	if err := d.openObject(); err != nil {
		return err
	}
	for first := true; ; first = false {
		key, ok, err := d.nextKey(first)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		switch key {
		case "push_id":
			err = d.str(&p.PushID, &p.Extra, key)
		case "group_id":
			err = d.str(&p.GroupID, &p.Extra, key)
		case "variant_id":
			err = d.num(&p.VariantID, &p.Extra, key)
		case "time":
			err = d.timestamp(&p.Time, &p.timeRaw, &p.Extra, key)
		case "campaigns":
			err = d.campaigns(&p.Campaigns, &p.Extra, key)
		default:
			err = d.keep(&p.Extra, key)
		}
		if err != nil {
			return inField(err, key)
		}
	}
}

// campaignsWith allocates Campaigns together with room for its
// first categories (1-10 on the wire, most often 1 or 2); more go to a
// slice of their own.
type campaignsWith struct {
	c   Campaigns
	buf [2]string
}

func (d *decoder) campaigns(dst **Campaigns, extra *map[string]json.RawMessage, key string) error {
	if d.data[d.pos] != '{' {
		*dst = nil
		return d.keep(extra, key)
	}
	cw := new(campaignsWith)
	c := &cw.c
	if err := d.openObject(); err != nil {
		return err
	}
	for first := true; ; first = false {
		k, ok, err := d.nextKey(first)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if k == "categories" {
			err = d.categories(cw, k)
		} else {
			err = d.keep(&c.Extra, k)
		}
		if err != nil {
			return inField(err, k)
		}
	}
	*dst = c
	clearExtra(extra, key)
	return nil
}

// categories decodes campaigns.categories as strs does, into cw's own
// room when the categories fit.
func (d *decoder) categories(cw *campaignsWith, key string) error {
	c := &cw.c
	start, depth := d.pos, d.depth
	out, err := d.appendStrings(cw.buf[:0:len(cw.buf)])
	if err != nil {
		if err != errMismatch {
			return err
		}
		d.pos, d.depth = start, depth
		c.Categories = nil
		return d.keep(&c.Extra, key)
	}
	if len(out) == 0 {
		out = []string{}
	}
	c.Categories = out[:len(out):len(out)]
	clearExtra(&c.Extra, key)
	return nil
}

func (d *decoder) proximity(dst **Proximity, extra *map[string]json.RawMessage, key string) error {
	if d.data[d.pos] != '{' {
		*dst = nil
		return d.keep(extra, key)
	}
	p := &Proximity{}
	if err := d.openObject(); err != nil {
		return err
	}
	var altID, altLon span
	for first := true; ; first = false {
		k, ok, err := d.nextKey(first)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		switch k {
		case "beacon_id":
			err = d.str(&p.BeaconID, &p.Extra, k)
		case "id":
			altID, err = d.scanSpan(k)
		case "major":
			err = d.num(&p.Major, &p.Extra, k)
		case "minor":
			err = d.num(&p.Minor, &p.Extra, k)
		case "rssi":
			err = d.num(&p.RSSI, &p.Extra, k)
		case "lat":
			err = d.num(&p.Latitude, &p.Extra, k)
		case "long":
			err = d.num(&p.Longitude, &p.Extra, k)
		case "lon":
			altLon, err = d.scanSpan(k)
		default:
			err = d.keep(&p.Extra, k)
		}
		if err != nil {
			return inField(err, k)
		}
	}
	d.resolveAlt(&p.BeaconID, &p.beaconKey, altID, &p.Extra)
	if altLon.ok() {
		if p.Longitude.IsZero() {
			sub := decoder{data: d.data[:altLon.end], pos: altLon.start}
			var tmp map[string]json.RawMessage
			_ = sub.num(&p.Longitude, &tmp, "lon")
			if tmp != nil {
				keepSpan(&p.Extra, "lon", d.data[altLon.start:altLon.end:altLon.end])
			} else {
				p.lonKey = "lon"
			}
		} else {
			keepSpan(&p.Extra, "lon", d.data[altLon.start:altLon.end:altLon.end])
		}
	}
	*dst = p
	clearExtra(extra, key)
	return nil
}

func (d *decoder) circular(dst **CircularRegion, extra *map[string]json.RawMessage, key string) error {
	if d.data[d.pos] != '{' {
		*dst = nil
		return d.keep(extra, key)
	}
	c := &CircularRegion{}
	if err := d.openObject(); err != nil {
		return err
	}
	for first := true; ; first = false {
		k, ok, err := d.nextKey(first)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		switch k {
		case "radius":
			err = d.num(&c.Radius, &c.Extra, k)
		case "lat":
			err = d.num(&c.Latitude, &c.Extra, k)
		case "long":
			err = d.num(&c.Longitude, &c.Extra, k)
		default:
			err = d.keep(&c.Extra, k)
		}
		if err != nil {
			return inField(err, k)
		}
	}
	*dst = c
	clearExtra(extra, key)
	return nil
}

// pages decodes viewed_pages; a non-object element keeps the whole array in
// extra.
func (d *decoder) pages(dst *[]ViewedPage, extra *map[string]json.RawMessage, key string) error {
	return objectArray(d, dst, extra, key, func(p *ViewedPage, k string) error {
		switch k {
		case "page_identifier":
			return d.str(&p.PageIdentifier, &p.Extra, k)
		case "page_index":
			return d.num(&p.PageIndex, &p.Extra, k)
		case "display_time":
			return d.num(&p.DisplayTime, &p.Extra, k)
		default:
			return d.keep(&p.Extra, k)
		}
	})
}

// attrItems decodes ATTRIBUTE_OPERATION's set or remove; a non-object
// element keeps the whole array in extra.
func (d *decoder) attrItems(dst *[]AttributeItem, extra *map[string]json.RawMessage, key string) error {
	return objectArray(d, dst, extra, key, func(it *AttributeItem, k string) error {
		switch k {
		case "key":
			return d.str(&it.Key, &it.Extra, k)
		case "value":
			return d.raw(&it.Value, &it.Extra, k)
		case "type":
			return d.str(&it.Type, &it.Extra, k)
		default:
			return d.keep(&it.Extra, k)
		}
	})
}

// objectArray decodes an array of objects into *dst, calling field for
// each member of each element. An element that is not an object leaves
// *dst nil and keeps the whole array in extra under key, so nothing is lost.
func objectArray[T any](d *decoder, dst *[]T, extra *map[string]json.RawMessage, key string, field func(v *T, k string) error) error {
	start, depth := d.pos, d.depth
	err := d.openArray()
	out := []T{}
	for first := true; err == nil; first = false {
		ok, eerr := d.nextElem(first)
		if eerr != nil {
			return eerr
		}
		if !ok {
			break
		}
		if d.data[d.pos] != '{' {
			err = errMismatch
			break
		}
		var v T
		if err := d.openObject(); err != nil {
			return err
		}
		for first := true; ; first = false {
			k, ok, kerr := d.nextKey(first)
			if kerr != nil {
				return kerr
			}
			if !ok {
				break
			}
			if kerr := field(&v, k); kerr != nil {
				return inField(kerr, k)
			}
		}
		out = append(out, v)
	}
	if err != nil {
		if err != errMismatch {
			return err
		}
		d.pos, d.depth = start, depth
		*dst = nil
		return d.keep(extra, key)
	}
	*dst = out
	clearExtra(extra, key)
	return nil
}
