package eventgen

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// push is a push the generator has "sent"; events attribute to pushes from
// a small rolling pool, so SEND, OPEN and in-app events share push ids.
type push struct {
	id, group string
	variant   int // -1: none
	time      int64
	category  string // "": no campaigns
}

func (g *Generator) newPush(ms int64) push {
	p := push{id: g.uuidString(), variant: -1, time: ms}
	if g.chance(35) {
		p.group = g.uuidString()
	}
	if g.chance(30) {
		p.variant = g.rng.IntN(4)
	}
	if g.chance(40) {
		p.category = pick(g, categories)
	}
	return p
}

// recentPush returns a push from the pool; now and then it sends a new one.
func (g *Generator) recentPush() push {
	i := g.rng.IntN(len(g.pushes))
	if g.chance(10) {
		g.pushes[i] = g.newPush(g.now - g.rng.Int64N(3600*1000))
	}
	return g.pushes[i]
}

// legacyTypes are the types the 2015-2016 stream carried, the only ones
// generated with legacy device forms.
var legacyTypes = map[string]bool{
	"OPEN": true, "CLOSE": true, "CUSTOM": true, "LOCATION": true, "SEND": true,
	"TAG_CHANGE": true, "FIRST_OPEN": true, "UNINSTALL": true, "RICH_DELIVERY": true,
	"RICH_READ": true, "RICH_DELETE": true, "REGION": true, "SCREEN_VIEWED": true,
	"CONTROL": true, "IN_APP_MESSAGE_DISPLAY": true, "IN_APP_MESSAGE_RESOLUTION": true,
	"IN_APP_MESSAGE_EXPIRATION": true,
}

// deviceFor picks the device of an event of type t and the form to write
// it in.
func (g *Generator) deviceFor(t string) (*device, deviceForm) {
	var d *device
	switch t {
	case "WEB_CLICK", "WEB_SESSION":
		d = pick(g, g.webs)
	case "COMPLIANCE":
		d = pick(g, [][]*device{g.emails, g.smses}[g.rng.IntN(2)])
	case "SUBSCRIPTION":
		d = pick(g, g.emails)
	case "SHORT_LINK_CLICK", "MOBILE_ORIGINATED":
		d = pick(g, g.smses)
	case "FIRST_OPT_IN":
		d = pick(g, [][]*device{g.emails, g.smses, g.opens}[g.rng.IntN(3)])
	case "CUSTOM":
		switch r := g.rng.IntN(10); {
		case r < 2:
			d = pick(g, g.emails)
		case r < 3:
			d = pick(g, g.smses)
		default:
			d = pick(g, g.apps)
		}
	case "SEND", "CONTACT_CHANGE", "SUBSCRIPTION_LIST":
		switch r := g.rng.IntN(20); {
		case r < 2:
			d = pick(g, g.webs)
		case r < 3:
			d = pick(g, g.opens)
		case r < 5:
			d = pick(g, g.emails)
		case r < 6:
			d = pick(g, g.smses)
		default:
			d = pick(g, g.apps)
		}
	default:
		d = pick(g, g.apps)
	}
	form := formCurrent
	if legacyTypes[t] && platformKey(d.platform) != "" && g.chance(8) {
		form = formLegacy
		if g.chance(25) {
			form = formMixed
		}
	}
	return d, form
}

// appendEvent appends the device, user and body members of an event of
// type t.
func (g *Generator) appendEvent(b []byte, t string, occurred int64) []byte {
	switch t {
	case "OFFSET_UPDATE":
		return b // an offset and nothing else
	case "PUSH_BODY":
		return g.pushBody(b, occurred)
	}
	d, form := g.deviceFor(t)
	b = g.appendDevice(b, d, form)
	if form == formCurrent {
		b = g.appendUser(b, d)
	}
	if t == "FIRST_OPEN" || t == "UNINSTALL" {
		// No body; newer producers may send an empty one.
		if g.chance(20) {
			b = append(key(b, "body"), '{', '}')
		}
		return b
	}
	b = append(key(b, "body"), '{')
	b = g.body(b, t, d, occurred)
	return append(b, '}')
}

// body appends the members of type t's body.
func (g *Generator) body(b []byte, t string, d *device, occurred int64) []byte {
	switch t {
	case "OPEN":
		if g.chance(60) {
			b = g.assocPush(b, "last_delivered", g.recentPush())
		}
		if g.chance(30) {
			b = g.assocPush(b, "triggering_push", g.recentPush())
		}
		if g.chance(85) {
			b = g.session(b)
		}
	case "CLOSE":
		b = g.session(b)
	case "SCREEN_VIEWED":
		b = str(b, "viewed_screen", pick(g, screens))
		if g.chance(70) {
			b = str(b, "previous_screen", pick(g, screens))
		}
		b = integer(b, "duration", 200+g.rng.Int64N(120_000))
		b = g.session(b)
	case "CUSTOM":
		b = g.custom(b, d)
	case "LOCATION":
		quoted := g.chance(25)
		lat, lon := g.coords()
		b = float(b, "latitude", lat, quoted)
		b = float(b, "longitude", lon, quoted)
		b = boolean(b, "foreground", g.chance(60))
		if g.chance(70) {
			b = g.session(b)
		}
	case "REGION":
		b = g.region(b)
	case "SEND", "CONTROL", "RICH_DELIVERY", "RICH_READ", "RICH_DELETE", "RICH_CONTROL":
		b = g.pushFields(b, g.recentPush())
	case "SEND_ABORTED":
		b = g.pushFields(b, g.recentPush())
		b = str(b, "reason", pick(g, []string{"FEED_RESOLVE_FAILURE", "FEED_REQUEST_REJECTED", "UNKNOWN"}))
	case "SEND_REJECTED":
		b = g.pushFields(b, g.recentPush())
		b = str(b, "status", pick(g, []string{"Unregistered", "BadDeviceToken", "DeviceTokenNotForTopic", "ExpiredToken", "PayloadTooLarge", "TooManyRequests", "Forbidden", "MissingDeviceToken", "unknown"}))
		if g.chance(50) {
			b = str(b, "reason", pick(g, []string{"The device token is inactive for the specified topic.", "Requested entity was not found.", "unregistered, \"token\" expired"}))
		}
	case "IN_APP_MESSAGE_DISPLAY":
		b = g.inAppCommon(b, occurred, false)
		if g.chance(30) {
			b = g.renderedLocale(b)
		}
	case "IN_APP_MESSAGE_RESOLUTION":
		b = g.inAppCommon(b, occurred, true)
		rt := pick(g, []string{"BUTTON_CLICK", "BUTTON_CLICK", "MESSAGE_CLICK", "USER_DISMISSED", "TIMED_OUT", "INTERRUPTED"})
		b = str(b, "type", rt)
		if rt == "BUTTON_CLICK" {
			b = str(b, "button_id", pick(g, []string{"yes", "no", "shop_now", "later"}))
			b = str(b, "button_group", pick(g, []string{"ua_yes_no_foreground", "ua_shop_now", "ua_remind_me_later"}))
			b = str(b, "button_description", pick(g, buttonDescriptions))
		}
		b = integer(b, "duration", 300+g.rng.Int64N(30_000))
	case "IN_APP_MESSAGE_EXPIRATION":
		b = g.inAppCommon(b, occurred, true)
		rt := pick(g, []string{"EXPIRED", "REPLACED", "ALREADY_DISPLAYED"})
		b = str(b, "type", rt)
		b = g.timeField(b, "time_expired", occurred)
		if rt == "REPLACED" {
			b = g.assocPush(b, "replacing_push", g.recentPush())
		}
	case "IN_APP_MESSAGE_CONTROL", "IN_APP_MESSAGE_EXCLUSION":
		b = g.inAppCommon(b, occurred, true)
	case "IN_APP_BUTTON_TAP", "IN_APP_EXPERIENCES", "IN_APP_FORM_DISPLAY", "IN_APP_FORM_RESULT",
		"IN_APP_PAGE_SWIPE", "IN_APP_PAGE_VIEW", "IN_APP_PAGER_COMPLETED", "IN_APP_PAGER_SUMMARY":
		b = g.layout(b, t, occurred)
	case "WEB_CLICK":
		b = g.pushFields(b, g.recentPush())
		if g.chance(70) {
			b = g.session(b)
		}
	case "WEB_SESSION":
		if g.chance(50) {
			b = g.assocPush(b, "last_delivered", g.recentPush())
		}
		b = g.session(b)
	case "TAG_CHANGE":
		b = g.tagChange(b)
	case "ATTRIBUTE_OPERATION":
		b = g.attributeOperation(b)
	case "COMPLIANCE":
		b = g.compliance(b, d)
	case "SUBSCRIPTION":
		b = append(key(b, "properties"), '{')
		b = str(b, "subscription_list", pick(g, []string{"newsletter", "promotions", "product_updates"}))
		b = str(b, "status", pick(g, []string{"subscribed", "unsubscribed"}))
		b = str(b, "scope", "EMAIL")
		b = str(b, "email", d.address)
		b = append(b, '}')
	case "SUBSCRIPTION_LIST":
		k := "enrolled"
		if g.chance(35) {
			k = "canceled"
		}
		b = append(key(b, k), '[')
		b = appendString(b, pick(g, []string{"newsletter", "promotions", "weekly_digest"}))
		if g.chance(30) {
			b = appendString(elem(b), "sms_alerts")
		}
		b = append(b, ']')
		b = str(b, "scope", listScope(d.platform))
	case "CONTACT_CHANGE":
		b = str(b, "change_type", pick(g, []string{"ASSOCIATION", "DISSOCIATION", "UNINSTALL"}))
		if g.chance(50) {
			b = str(b, "previous_contact_id", g.uuidString())
		}
	case "FIRST_OPT_IN":
		b = str(b, "channel_type", strings.ToLower(d.platform))
		if d.platform == "EMAIL" {
			b = str(b, "message_type", "commercial")
		}
		b = appendTime(key(b, "opted_in"), occurred, false)
	case "SHORT_LINK_CLICK":
		p := g.recentPush()
		b = str(b, "push_id", p.id)
		b = str(b, "short_link", "https://ua.link/"+strconv.FormatUint(g.rng.Uint64N(1<<30), 36))
		b = str(b, "original_url", pick(g, urls))
	case "MOBILE_ORIGINATED":
		b = str(b, "msisdn", d.address)
		b = str(b, "sender", d.sender)
		b = str(b, "message", pick(g, smsMessages))
		b = str(b, "keyword", pick(g, []string{"STOP", "JOIN", "HELP", ""}))
	case "FEATURE_FLAG_INTERACTION":
		b = str(b, "flag_name", pick(g, flagNames))
		b = str(b, "flag_id", g.uuidString())
		b = boolean(b, "eligible", g.chance(70))
		if g.chance(50) {
			b = integer(b, "variant_id", int64(g.rng.IntN(3)))
		}
		b = append(key(b, "reporting_metadata"), '{')
		b = str(b, "flag_id", g.uuidString())
		b = str(b, "evaluation_id", g.uuidString())
		b = append(b, '}')
		b = g.session(b)
	case "LABEL_EVENT":
		b = str(b, "label", pick(g, []string{"high_value", "churn_risk", "Käufer, aktiv"}))
		b = str(b, "action", pick(g, []string{"ADD", "REMOVE"}))
		b = str(b, "label_group", pick(g, []string{"segments", "lifecycle"}))
	default: // a type the generator does not know
		b = str(b, "note", "synthetic event of type "+t)
		b = integer(b, "value", g.rng.Int64N(1000))
	}
	return b
}

// listScope is the subscription-list scope of a platform.
func listScope(platform string) string {
	switch platform {
	case "WEB", "EMAIL", "SMS":
		return platform
	}
	return "APP"
}

// session appends a session_id member.
func (g *Generator) session(b []byte) []byte { return g.uuid(key(b, "session_id")) }

// timeField appends member k with a time shortly before ms.
func (g *Generator) timeField(b []byte, k string, ms int64) []byte {
	return appendTime(key(b, k), ms-g.rng.Int64N(3600*1000), g.chance(10))
}

// variant appends variant_id, now and then as a numeric string ("0").
func (g *Generator) variant(b []byte, v int) []byte {
	return numString(b, "variant_id", int64(v), g.chance(20))
}

// pushFields appends push_id, group_id, variant_id and campaigns.
func (g *Generator) pushFields(b []byte, p push) []byte {
	b = str(b, "push_id", p.id)
	if p.group != "" {
		b = str(b, "group_id", p.group)
	}
	if p.variant >= 0 {
		b = g.variant(b, p.variant)
	}
	if p.category != "" {
		b = g.campaigns(b, p.category)
	}
	return b
}

func (g *Generator) campaigns(b []byte, cat string) []byte {
	b = append(key(b, "campaigns"), '{')
	b = append(key(b, "categories"), '[')
	b = appendString(b, cat)
	if g.chance(25) {
		b = appendString(elem(b), pick(g, categories))
	}
	return append(b, ']', '}')
}

// assocPush appends member k with an associated-push object.
func (g *Generator) assocPush(b []byte, k string, p push) []byte {
	b = append(key(b, k), '{')
	b = g.pushFields(b, p)
	if g.chance(80) {
		b = appendTime(key(b, "time"), p.time, g.chance(10))
	}
	return append(b, '}')
}

// inAppCommon appends the members in-app message events share.
func (g *Generator) inAppCommon(b []byte, occurred int64, timeSent bool) []byte {
	b = g.pushFields(b, g.recentPush())
	if g.chance(30) {
		b = g.assocPush(b, "triggering_push", g.recentPush())
	}
	if g.chance(80) {
		b = g.session(b)
	}
	if timeSent {
		b = g.timeField(b, "time_sent", occurred)
	}
	return b
}

func (g *Generator) renderedLocale(b []byte) []byte {
	loc := pick(g, locales)
	b = append(key(b, "rendered_locale"), '{')
	b = str(b, "language", loc.language)
	b = str(b, "country", loc.country)
	return append(b, '}')
}

// coords returns a plausible latitude and longitude, rounded to 7 digits.
func (g *Generator) coords() (float64, float64) {
	lat := float64(g.rng.Int64N(1_300_000_000)-600_000_000) / 1e7
	lon := float64(g.rng.Int64N(3_600_000_000)-1_800_000_000) / 1e7
	return lat, lon
}

func (g *Generator) region(b []byte) []byte {
	action := pick(g, []string{"enter", "exit"})
	if g.chance(30) {
		action = strings.ToUpper(action)
	}
	b = str(b, "action", action)
	b = str(b, "region_id", g.uuidString())
	switch g.rng.IntN(3) {
	case 0:
		b = str(b, "name", pick(g, regionNames))
	case 1:
		b = str(b, "region_name", pick(g, regionNames))
	}
	b = str(b, "source", pick(g, []string{"Gimbal", "Gimbal", "Radar", "Factual"}))
	if g.chance(60) {
		b = str(b, "source_id", strconv.FormatUint(g.rng.Uint64N(1<<32), 16))
	}
	b = g.session(b)
	lat, lon := g.coords()
	if g.chance(50) {
		b = append(key(b, "proximity"), '{')
		if g.chance(60) {
			b = str(b, "beacon_id", strings.ToUpper(g.uuidString()))
		} else {
			b = str(b, "id", strings.ToUpper(g.uuidString()))
		}
		b = integer(b, "major", g.rng.Int64N(65536))
		b = integer(b, "minor", g.rng.Int64N(65536))
		b = integer(b, "rssi", -30-g.rng.Int64N(70))
		if g.chance(70) {
			b = float(b, "lat", lat, false)
			if g.chance(60) {
				b = float(b, "long", lon, false)
			} else {
				b = float(b, "lon", lon, false)
			}
		}
		return append(b, '}')
	}
	b = append(key(b, "circular_region"), '{')
	b = integer(b, "radius", 50+g.rng.Int64N(2000))
	b = float(b, "lat", lat, false)
	b = float(b, "long", lon, false)
	return append(b, '}')
}

var (
	emailNames = []string{"injection", "delivery", "bounce", "spam_complaint", "out_of_band", "delay", "click", "open", "initial_open", "list_unsubscribe", "link_unsubscribe", "unsubscribe"}
	smsNames   = []string{"dispatched", "delivered", "aborted", "rejected", "failed", "expired", "undeliverable", "deleted", "unknown", "read"}
)

func (g *Generator) custom(b []byte, d *device) []byte {
	switch d.platform {
	case "EMAIL":
		name := pick(g, emailNames)
		b = str(b, "name", name)
		b = str(b, "source", "API")
		b = g.assocPush(b, "triggering_push", g.recentPush())
		b = append(key(b, "properties"), '{')
		b = str(b, "email", d.address)
		b = str(b, "sender", pick(g, []string{"news@example.com", "\"Example Shop\" <shop@example.com>"}))
		b = str(b, "subject", pick(g, subjects))
		switch name {
		case "bounce":
			b = str(b, "bounce_class", strconv.Itoa(1+g.rng.IntN(100)))
			b = str(b, "bounce_event_type", "bounce")
		case "click", "open", "initial_open":
			if name == "click" {
				b = str(b, "link_name", pick(g, []string{"Shop now", "Unsubscribe", "Read more, here"}))
				b = str(b, "link_url", pick(g, urls))
			}
			b = boolean(b, "is_prefetched", g.chance(20))
			b = boolean(b, "is_mobile", g.chance(60))
			b = str(b, "os_family", pick(g, []string{"iOS", "Android", "Windows", "macOS"}))
			b = str(b, "agent_family", pick(g, []string{"Apple Mail", "Gmail", "Outlook"}))
		}
		return append(b, '}')
	case "SMS":
		b = str(b, "name", pick(g, smsNames))
		b = str(b, "interaction_type", "delivery_report")
		b = str(b, "interaction_id", g.uuidString())
		b = str(b, "source", "API")
		b = g.assocPush(b, "triggering_push", g.recentPush())
		b = append(key(b, "properties"), '{')
		b = str(b, "sender", d.sender)
		b = integer(b, "segments", 1+g.rng.Int64N(3))
		return append(b, '}')
	}
	api := g.chance(30)
	b = str(b, "name", pick(g, customNames))
	if g.chance(60) {
		b = float(b, "value", float64(g.rng.Int64N(100_000))/100, false)
	}
	if g.chance(70) {
		it := pick(g, []string{"url", "Landing Page", "ua_mcrap", "custom"})
		b = str(b, "interaction_type", it)
		b = str(b, "interaction_id", pick(g, []string{"/checkout", "/p/123,456", g.uuidString()}))
	}
	if g.chance(30) {
		b = str(b, "transaction", "order-"+strconv.Itoa(1000+g.rng.IntN(900000)))
	}
	if g.chance(20) {
		b = str(b, "customer_id", "C-"+strconv.Itoa(100000+g.rng.IntN(900000)))
	}
	if g.chance(75) {
		b = append(key(b, "properties"), '{')
		b = str(b, "sku", "SKU-"+strconv.Itoa(g.rng.IntN(10000)))
		b = integer(b, "qty", 1+g.rng.Int64N(5))
		b = boolean(b, "gift", g.chance(10))
		b = str(b, "note", pick(g, []string{"", "leave at door, \"side\" entrance", "für Oma ❤", "café au lait"}))
		if g.chance(40) {
			b = append(key(b, "items"), '[')
			for i := 0; i < 1+g.rng.IntN(3); i++ {
				b = append(elem(b), '{')
				b = str(b, "id", strconv.Itoa(g.rng.IntN(1000)))
				b = float(b, "price", float64(g.rng.Int64N(20000))/100, false)
				b = append(b, '}')
			}
			b = append(b, ']')
		}
		if g.chance(20) {
			b = append(key(b, "meta"), '{')
			b = append(key(b, "ab"), "null"...)
			b = str(b, "ref", pick(g, urls))
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	if api {
		b = str(b, "source", "API")
		b = str(b, "unique_id", g.uuidString())
	} else {
		b = str(b, "source", "SDK")
		b = g.session(b)
	}
	if g.chance(30) {
		b = g.assocPush(b, "last_delivered", g.recentPush())
	}
	if g.chance(15) {
		b = g.assocPush(b, "triggering_push", g.recentPush())
	}
	return b
}

func (g *Generator) tagList(b []byte, k string, groups []string) []byte {
	b = append(key(b, k), '{')
	for _, grp := range groups {
		b = append(key(b, grp), '[')
		for i := 0; i < 1+g.rng.IntN(3); i++ {
			b = appendString(elem(b), pick(g, tags))
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func (g *Generator) tagChange(b []byte) []byte {
	groups := []string{"device", "interests", "ua_locale_country", "timezone"}
	add, remove := g.chance(70), g.chance(40)
	if !add && !remove {
		add = true
	}
	if add {
		b = g.tagList(b, "add", groups[:1+g.rng.IntN(2)])
	}
	if remove {
		b = g.tagList(b, "remove", groups[g.rng.IntN(2):2])
	}
	if g.chance(80) {
		b = g.tagList(b, "current", groups)
	}
	return b
}

func (g *Generator) attributeOperation(b []byte) []byte {
	set, remove := g.chance(80), g.chance(35)
	if !set && !remove {
		set = true
	}
	if set {
		b = append(key(b, "set"), '[')
		for i := 0; i < 1+g.rng.IntN(3); i++ {
			b = append(elem(b), '{')
			switch g.rng.IntN(4) {
			case 0:
				b = str(b, "key", "loyalty_tier")
				b = str(b, "value", pick(g, []string{"gold", "silver", "bronze, legacy"}))
				b = str(b, "type", "text")
			case 1:
				b = str(b, "key", "points")
				b = integer(b, "value", g.rng.Int64N(100_000))
				b = str(b, "type", "number")
			case 2:
				b = str(b, "key", "birthdate")
				b = str(b, "value", strconv.Itoa(1950+g.rng.IntN(55))+"-04-01T00:00:00")
				b = str(b, "type", "date")
			default:
				b = str(b, "key", "preferences")
				b = append(key(b, "value"), '{')
				b = boolean(b, "email", g.chance(50))
				b = str(b, "language", pick(g, locales).language)
				b = append(b, '}')
				b = str(b, "type", "json")
			}
			if g.chance(30) {
				b = appendTime(key(b, "timestamp"), g.now-g.rng.Int64N(60_000), false)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if remove {
		b = append(key(b, "remove"), '[', '{')
		b = str(b, "key", pick(g, []string{"trial_end", "cart_total", "last_store"}))
		b = append(b, '}', ']')
	}
	return b
}

func (g *Generator) compliance(b []byte, d *device) []byte {
	if d.platform == "SMS" {
		et := pick(g, []string{"api_initiate_opt_in", "mobile_opt_in", "mobile_opt_out", "carrier_deactivation", "mobile_keyword_matched", "opted_out", "registration"})
		b = str(b, "event_type", et)
		b = append(key(b, "identifiers"), '{')
		b = str(b, "msisdn", d.address)
		b = str(b, "sender", d.sender)
		b = append(b, '}')
		if strings.HasPrefix(et, "mobile_keyword") {
			b = append(key(b, "properties"), '{')
			b = str(b, "keyword", pick(g, []string{"STOP", "JOIN", "HELP"}))
			b = append(b, '}')
		}
		return b
	}
	et := pick(g, []string{"bounce", "registration", "create_and_send"})
	b = str(b, "event_type", et)
	b = append(key(b, "identifiers"), '{')
	b = str(b, "address", d.address)
	b = append(b, '}')
	b = append(key(b, "properties"), '{')
	switch et {
	case "bounce":
		b = integer(b, "bounce_class", 1+g.rng.Int64N(100)) // a number here, a string in CUSTOM
		b = str(b, "bounce_event_type", "bounce")
		b = str(b, "email", d.address)
		b = str(b, "sender", "news@example.com")
		b = str(b, "subject", pick(g, subjects))
	case "registration":
		b = str(b, "registration_type", pick(g, []string{"opt_in", "opt_out", "unsubscribe", "open_tracking_opt_out", "update"}))
		b = str(b, "message_type", pick(g, []string{"commercial", "transactional"}))
		b = appendTime(key(b, "commercial_opted_in"), g.now-g.rng.Int64N(90*24*3600*1000), false)
		if g.chance(40) {
			b = appendTime(key(b, "transactional_opted_in"), g.now-g.rng.Int64N(90*24*3600*1000), false)
		}
		b = str(b, "suppression_state", pick(g, []string{"none", "bounce", "spam_complaint"}))
	default:
		b = str(b, "message_type", "commercial")
	}
	return append(b, '}')
}

// layout appends the body of a Scenes / in-app experience event.
func (g *Generator) layout(b []byte, t string, occurred int64) []byte {
	p := g.recentPush()
	// The SDK's message id: an object, or a plain string from older SDKs.
	switch r := g.rng.IntN(10); {
	case r < 5:
		b = append(key(b, "id"), '{')
		b = str(b, "message_id", p.id)
		if p.category != "" {
			b = g.campaigns(b, p.category)
		}
		b = append(b, '}')
	case r < 7:
		b = str(b, "id", p.id)
	}
	if g.chance(40) {
		b = str(b, "app_defined_id", "scene-"+strconv.Itoa(g.rng.IntN(500)))
	}
	b = g.pushFields(b, p)
	b = g.session(b)
	b = g.timeField(b, "time_sent", occurred)
	if g.chance(30) {
		b = g.assocPush(b, "triggering_push", g.recentPush())
	}
	if g.chance(50) {
		b = g.renderedLocale(b)
	}
	b = str(b, "source", pick(g, []string{"urban-airship", "urban-airship", "app-defined"}))
	pager := "pager-" + strconv.Itoa(g.rng.IntN(50))
	pageCount := int64(2 + g.rng.IntN(6))
	if g.chance(60) {
		b = append(key(b, "context"), '{')
		if strings.Contains(t, "PAGE") {
			b = append(key(b, "pager"), '{')
			b = str(b, "identifier", pager)
			b = integer(b, "count", pageCount)
			b = append(b, '}')
		}
		b = append(key(b, "display"), '{')
		b = g.uuid(key(b, "trigger_session_id"))
		b = boolean(b, "is_first_display", g.chance(50))
		b = boolean(b, "is_first_display_trigger_session", g.chance(50))
		b = append(b, '}')
		b = append(b, '}')
	}
	if g.chance(20) {
		b = str(b, "conversion_send_id", g.uuidString())
		b = str(b, "conversion_metadata", base64.StdEncoding.EncodeToString([]byte(`{"cm":"`+pick(g, categories)+`"}`)))
	}
	page := func(i int64) string { return "page-" + strconv.FormatInt(i, 10) }
	switch t {
	case "IN_APP_BUTTON_TAP":
		id := pick(g, []string{"dismiss", "submit", "next", "shop_now"})
		if g.chance(70) {
			b = str(b, "button_identifier", id)
		} else {
			b = str(b, "button_id", id)
		}
		if g.chance(40) {
			b = append(key(b, "reporting_metadata"), '{')
			b = str(b, "label", pick(g, buttonDescriptions))
			b = append(b, '}')
		}
	case "IN_APP_EXPERIENCES":
		b = str(b, "event_name", pick(g, []string{"survey_started", "story_viewed", "experience_triggered"}))
		if g.chance(50) {
			b = str(b, "survey_type", pick(g, []string{"nps", "form"}))
		}
	case "IN_APP_FORM_DISPLAY":
		b = str(b, "form_identifier", "form-"+strconv.Itoa(g.rng.IntN(40)))
		b = str(b, "form_type", pick(g, []string{"form", "nps"}))
		if g.chance(50) {
			b = str(b, "form_response_type", pick(g, []string{"user_feedback", "survey"}))
		}
		b = str(b, "in_app_form_event_type", "display")
	case "IN_APP_FORM_RESULT":
		fid := "form-" + strconv.Itoa(g.rng.IntN(40))
		b = str(b, "form_identifier", fid)
		b = append(key(b, "forms"), '{')
		b = append(key(b, fid), '{')
		b = str(b, "type", "form")
		b = str(b, "response_type", "user_feedback")
		b = append(key(b, "children"), '{')
		b = append(key(b, "email_input"), '{')
		b = str(b, "type", "email_input")
		b = str(b, "value", strings.ToLower(pick(g, firstNames))+"@example.com")
		b = append(b, '}')
		b = append(key(b, "score"), '{')
		b = str(b, "type", "score")
		b = integer(b, "value", g.rng.Int64N(11))
		b = append(b, '}')
		b = append(key(b, "comment"), '{')
		b = str(b, "type", "text_input")
		b = str(b, "value", pick(g, []string{"Great app!", "Too many \"notifications\", please", "Très bien, merci", ""}))
		b = append(b, '}', '}', '}', '}')
		b = str(b, "in_app_form_event_type", "result")
	case "IN_APP_PAGE_SWIPE":
		from := g.rng.Int64N(pageCount - 1)
		to := from + 1
		if g.chance(30) {
			from, to = to, from
		}
		b = str(b, "pager_identifier", pager)
		b = integer(b, "from_page_index", from)
		b = str(b, "from_page_identifier", page(from))
		b = integer(b, "to_page_index", to)
		b = str(b, "to_page_identifier", page(to))
	case "IN_APP_PAGE_VIEW":
		i := g.rng.Int64N(pageCount)
		b = str(b, "pager_identifier", pager)
		b = str(b, "page_identifier", page(i))
		b = integer(b, "page_index", i)
		b = integer(b, "page_count", pageCount)
		b = boolean(b, "completed", i == pageCount-1)
		b = integer(b, "viewed_count", 1+g.rng.Int64N(3))
	case "IN_APP_PAGER_COMPLETED":
		b = str(b, "pager_identifier", pager)
		b = str(b, "page_identifier", page(pageCount-1))
		b = integer(b, "page_index", pageCount-1)
		b = integer(b, "page_count", pageCount)
		b = boolean(b, "completed", true)
	case "IN_APP_PAGER_SUMMARY":
		viewed := 1 + g.rng.Int64N(pageCount)
		b = str(b, "pager_identifier", pager)
		b = str(b, "page_identifier", page(viewed-1))
		b = integer(b, "page_count", pageCount)
		b = boolean(b, "completed", viewed == pageCount)
		b = append(key(b, "viewed_pages"), '[')
		for i := int64(0); i < viewed; i++ {
			b = append(elem(b), '{')
			b = str(b, "page_identifier", page(i))
			b = integer(b, "page_index", i)
			// The SDK sends display_time as a string of seconds.
			secs := float64(g.rng.Int64N(3000)) / 100
			b = key(b, "display_time")
			if g.chance(70) {
				b = strconv.AppendQuote(b, strconv.FormatFloat(secs, 'f', 2, 64))
			} else {
				b = strconv.AppendFloat(b, secs, 'f', -1, 64)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return b
}

// pushBody appends a PUSH_BODY event's body (it has no device).
func (g *Generator) pushBody(b []byte, occurred int64) []byte {
	p := g.recentPush()
	resource := pick(g, []string{"PUSH", "PUSH", "SCHEDULE", "EXPERIMENT", "PIPELINE"})
	spec := append(make([]byte, 0, 256), '{')
	switch resource {
	case "PUSH":
		spec = str(spec, "audience", "all")
		spec = append(key(spec, "device_types"), `["ios","android"]`...)
		spec = append(key(spec, "notification"), '{')
		spec = str(spec, "alert", pick(g, subjects))
		spec = append(spec, '}')
	case "SCHEDULE":
		spec = append(key(spec, "schedule"), '{')
		spec = appendTime(key(spec, "scheduled_time"), occurred+3600*1000, true)
		spec = append(spec, '}')
		spec = append(key(spec, "push_ids"), '[')
		spec = appendString(spec, p.id)
		spec = append(spec, ']')
	case "EXPERIMENT":
		spec = str(spec, "name", "Subject test, "+pick(g, categories))
		spec = append(key(spec, "variants"), `[{"weight":50},{"weight":50}]`...)
		spec = appendTime(key(spec, "created_at"), occurred-86400*1000, false)
	default:
		spec = str(spec, "name", "Welcome series — step "+strconv.Itoa(1+g.rng.IntN(5)))
		spec = g.uuid(key(spec, "uid"))
		spec = boolean(spec, "immediate_trigger", g.chance(50))
	}
	spec = append(spec, '}')

	b = append(key(b, "body"), '{')
	if p.group == "" || g.chance(70) {
		b = str(b, "push_id", p.id)
	}
	if p.group != "" {
		b = str(b, "group_id", p.group)
	}
	if p.variant >= 0 {
		b = g.variant(b, p.variant)
	}
	b = key(b, "payload")
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, spec)
	b = append(b, '"')
	b = boolean(b, "trimmed", g.chance(3))
	b = str(b, "resource", resource)
	return append(b, '}')
}
