package eventgen

import (
	"strconv"
	"strings"
)

// device is one channel of the generator's pool. Events pick devices from
// the pool, so a stream shows the same channels (and named users) again.
type device struct {
	channel   string
	platform  string // IOS, ANDROID, AMAZON, WEB, OPEN, EMAIL, SMS
	namedUser string
	contact   string
	address   string // EMAIL and SMS delivery address
	sender    string // SMS sender / short code
	attrs     [][2]string
	idents    [][2]string
}

// makeDevices fills the device pools.
func (g *Generator) makeDevices() {
	for i := 0; i < 160; i++ {
		g.apps = append(g.apps, g.newAppDevice(pick(g, []string{"IOS", "IOS", "ANDROID", "ANDROID", "ANDROID", "AMAZON"})))
	}
	for i := 0; i < 24; i++ {
		g.webs = append(g.webs, g.newWebDevice())
		g.opens = append(g.opens, g.newOpenDevice())
		g.emails = append(g.emails, g.newEmailDevice())
		g.smses = append(g.smses, g.newSMSDevice())
	}
}

func (g *Generator) newDevice(platform string, namedPct int) *device {
	d := &device{channel: g.uuidString(), platform: platform}
	if g.chance(namedPct) {
		d.namedUser = g.namedUser()
	}
	if d.namedUser != "" || g.chance(30) {
		d.contact = g.uuidString()
	}
	return d
}

func (g *Generator) namedUser() string {
	switch g.rng.IntN(4) {
	case 0:
		return "user-" + strconv.Itoa(1+g.rng.IntN(99999))
	case 1:
		return emailLocal(pick(g, firstNames)) + "." + emailLocal(pick(g, lastNames)) + "@example.com"
	case 2:
		return "cust_" + strconv.FormatUint(g.rng.Uint64N(1<<40), 36)
	default:
		return g.uuidString()
	}
}

func (g *Generator) newAppDevice(platform string) *device {
	d := g.newDevice(platform, 55)
	var pkg, model, osv, sdk string
	switch platform {
	case "IOS":
		pkg, model = pick(g, iosApps), pick(g, iosModels)
		osv = pick(g, []string{"16.7.10", "17.4", "17.6.1", "18.1", "18.3.2", "26.0"})
		sdk = pick(g, []string{"16.12.5", "17.8.0", "18.14.2", "19.1.0"})
	case "ANDROID":
		pkg, model = pick(g, androidApps), pick(g, androidModels)
		osv = pick(g, []string{"11", "12", "13", "14", "15", "16"})
		sdk = pick(g, []string{"16.11.1", "17.8.0", "18.5.0", "19.0.3"})
	default: // AMAZON
		pkg, model = pick(g, androidApps), pick(g, amazonModels)
		osv = pick(g, []string{"7.3.2.9", "8.3.1.4", "9.0"})
		sdk = pick(g, []string{"16.11.1", "17.8.0"})
	}
	loc := pick(g, locales)
	optIn := g.chance(75)
	d.attrs = [][2]string{
		{"app_package_name", pkg},
		{"app_version", pick(g, []string{"5.2.0", "5.3.1", "6.0.0-beta.2", "512", "2024.11.3"})},
		{"device_model", model},
		{"device_os", osv},
		{"carrier", pick(g, carriers)},
		{"connection_type", pick(g, []string{"WIFI", "CELL", "WIFI"})},
		{"push_opt_in", strconv.FormatBool(optIn)},
		{"background_push_enabled", strconv.FormatBool(optIn || g.chance(50))},
		{"location_enabled", strconv.FormatBool(g.chance(40))},
		{"location_permission", pick(g, []string{"SYSTEM_LOCATION_DISABLED", "NOT_ALLOWED", "ALWAYS_ALLOWED", "FOREGROUND_ALLOWED", "UNPROMPTED"})},
		{"locale_country_code", loc.country},
		{"locale_language_code", loc.language},
		{"locale_variant", ""},
		{"locale_timezone", strconv.Itoa(loc.offset)},
		{"iana_timezone", loc.zone},
		{"ua_sdk_version", sdk},
	}
	switch platform {
	case "IOS":
		d.idents = append(d.idents, [2]string{"com.urbanairship.vendor", strings.ToUpper(g.uuidString())})
		if g.chance(30) {
			d.idents = append(d.idents, [2]string{"com.urbanairship.idfa", strings.ToUpper(g.uuidString())})
		}
	default:
		d.idents = append(d.idents, [2]string{"com.urbanairship.aaid", g.uuidString()})
	}
	d.idents = append(d.idents, [2]string{"com.urbanairship.limited_ad_tracking_enabled", strconv.FormatBool(g.chance(20))})
	if g.chance(15) {
		d.idents = append(d.idents, [2]string{"com.urbanairship.gimbal.aii", g.uuidString()})
	}
	if g.chance(25) {
		d.idents = append(d.idents, [2]string{"customer_id", "C-" + strconv.Itoa(100000+g.rng.IntN(900000))})
	}
	return d
}

func (g *Generator) newWebDevice() *device {
	d := g.newDevice("WEB", 35)
	loc := pick(g, locales)
	br := pick(g, browsers)
	d.attrs = [][2]string{
		{"browser_name", br[0]},
		{"browser_version", br[1]},
		{"browser_type", pick(g, []string{"desktop", "mobile", "tablet"})},
		{"locale_country_code", loc.country},
		{"locale_language_code", loc.language},
		{"iana_timezone", loc.zone},
		{"ua_sdk_version", "2.4.0"},
	}
	return d
}

func (g *Generator) newOpenDevice() *device {
	d := g.newDevice("OPEN", 60)
	d.idents = [][2]string{{"open_platform_name", pick(g, []string{"smart_tv", "kiosk", "car_dashboard"})}}
	return d
}

func (g *Generator) newEmailDevice() *device {
	d := g.newDevice("EMAIL", 70)
	d.address = emailLocal(pick(g, firstNames)) + "." + emailLocal(pick(g, lastNames)) +
		strconv.Itoa(g.rng.IntN(100)) + "@" + pick(g, []string{"example.com", "example.org", "mail.example.net"})
	return d
}

func (g *Generator) newSMSDevice() *device {
	d := g.newDevice("SMS", 40)
	d.address = "1" + strconv.Itoa(200+g.rng.IntN(800)) + "555" + strconv.Itoa(1000+g.rng.IntN(9000))
	d.sender = pick(g, []string{"12345", "78901", "18885550100"})
	d.idents = [][2]string{{"sender", d.sender}}
	return d
}

// deviceForm is how a device is written.
type deviceForm int

const (
	formCurrent deviceForm = iota // channel, device_type, attributes, ...
	formLegacy                    // only ios_channel / android_channel / amazon_channel
	formMixed                     // legacy with 2015 test-server keys: IOS_channel, ...
)

// appendDevice appends the "device" member for d.
func (g *Generator) appendDevice(b []byte, d *device, form deviceForm) []byte {
	b = key(b, "device")
	b = append(b, '{')
	if form != formCurrent && platformKey(d.platform) != "" {
		k := platformKey(d.platform)
		if form == formMixed {
			k = d.platform + "_channel"
		}
		b = str(b, k, d.channel)
		return append(b, '}')
	}
	b = str(b, "channel", d.channel)
	b = str(b, "device_type", d.platform)
	if k := platformKey(d.platform); k != "" && g.chance(60) {
		b = str(b, k, d.channel)
	}
	if d.address != "" {
		b = str(b, "delivery_address", d.address)
	}
	if d.namedUser != "" {
		// Email compliance documents spell it named_user.
		if d.platform == "EMAIL" && g.chance(30) {
			b = str(b, "named_user", d.namedUser)
		} else {
			b = str(b, "named_user_id", d.namedUser)
		}
	}
	if len(d.attrs) > 0 && g.chance(85) {
		b = appendPairs(key(b, "attributes"), d.attrs)
	}
	if len(d.idents) > 0 && g.chance(80) {
		b = appendPairs(key(b, "identifiers"), d.idents)
	}
	return append(b, '}')
}

// appendUser appends the optional "user" member for d.
func (g *Generator) appendUser(b []byte, d *device) []byte {
	if d.contact == "" || !g.chance(60) {
		return b
	}
	b = key(b, "user")
	b = append(b, '{')
	b = str(b, "contact_id", d.contact)
	if d.namedUser != "" {
		b = str(b, "named_user_id", d.namedUser)
	}
	return append(b, '}')
}

func appendPairs(b []byte, kv [][2]string) []byte {
	b = append(b, '{')
	for _, p := range kv {
		b = str(b, p[0], p[1])
	}
	return append(b, '}')
}

func platformKey(platform string) string {
	switch platform {
	case "IOS":
		return "ios_channel"
	case "ANDROID":
		return "android_channel"
	case "AMAZON":
		return "amazon_channel"
	}
	return ""
}

// emailLocal turns a name into an email local part: lower case, without
// spaces or apostrophes (non-ASCII letters stay: addresses may carry them).
func emailLocal(name string) string {
	return strings.NewReplacer(" ", "", "'", "").Replace(strings.ToLower(name))
}
