package eventgen

import (
	"math/rand/v2"
	"slices"
	"time"
)

// knownTypes are the wire names of every event type the generator knows,
// sorted. The generator does not import package event, so that event's own
// tests can use it.
var knownTypes = []string{
	"ATTRIBUTE_OPERATION", "CLOSE", "COMPLIANCE", "CONTACT_CHANGE", "CONTROL",
	"CUSTOM", "FEATURE_FLAG_INTERACTION", "FIRST_OPEN", "FIRST_OPT_IN",
	"IN_APP_BUTTON_TAP", "IN_APP_EXPERIENCES", "IN_APP_FORM_DISPLAY",
	"IN_APP_FORM_RESULT", "IN_APP_MESSAGE_CONTROL", "IN_APP_MESSAGE_DISPLAY",
	"IN_APP_MESSAGE_EXCLUSION", "IN_APP_MESSAGE_EXPIRATION",
	"IN_APP_MESSAGE_RESOLUTION", "IN_APP_PAGER_COMPLETED", "IN_APP_PAGER_SUMMARY",
	"IN_APP_PAGE_SWIPE", "IN_APP_PAGE_VIEW", "LABEL_EVENT", "LOCATION",
	"MOBILE_ORIGINATED", "OFFSET_UPDATE", "OPEN", "PUSH_BODY", "REGION",
	"RICH_CONTROL", "RICH_DELETE", "RICH_DELIVERY", "RICH_READ", "SCREEN_VIEWED",
	"SEND", "SEND_ABORTED", "SEND_REJECTED", "SHORT_LINK_CLICK", "SUBSCRIPTION",
	"SUBSCRIPTION_LIST", "TAG_CHANGE", "UNINSTALL", "WEB_CLICK", "WEB_SESSION",
}

// weights make the default mix look like a real stream: sends, opens,
// closes and custom events dominate. Types not listed weigh 1.
var weights = map[string]int{
	"SEND": 6, "OPEN": 4, "CLOSE": 4, "CUSTOM": 4, "SCREEN_VIEWED": 2,
	"LOCATION": 2, "TAG_CHANGE": 2, "UNINSTALL": 2,
}

// Types returns the wire names of every event type the generator knows, in
// sorted order. The slice is a copy.
func Types() []string { return slices.Clone(knownTypes) }

// DefaultStart is the default time of the first generated event; each seed
// moves it forward by up to 30 days, so that different seeds give different
// times.
var DefaultStart = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// Option configures a Generator.
type Option interface{ apply(*Generator) }

type optionFunc func(*Generator)

func (f optionFunc) apply(g *Generator) { f(g) }

// WithTypes restricts the generator to the given wire type names, each
// equally likely. A name that is not one of Types produces events of that
// type with a small generic body, which is useful for testing how unknown
// types are handled. Duplicates are ignored; no names (the default) means
// every known type, in a realistic mix.
func WithTypes(types ...string) Option {
	return optionFunc(func(g *Generator) {
		var ts []string
		for _, t := range types {
			if t != "" && !slices.Contains(ts, t) {
				ts = append(ts, t)
			}
		}
		g.types = ts
	})
}

// WithStart sets the time of the first event. Default: DefaultStart plus a
// seed-dependent shift of up to 30 days.
func WithStart(t time.Time) Option {
	return optionFunc(func(g *Generator) { g.start = t; g.startSet = true })
}

// Generator produces synthetic RTDS events. It is not safe for concurrent
// use; give each goroutine its own Generator (with its own seed).
type Generator struct {
	rng      *rand.Rand
	types    []string
	cum      []int // cumulative weights, parallel to types
	total    int
	start    time.Time
	startSet bool
	buf      []byte

	now    int64 // processing clock, Unix milliseconds
	offset uint64
	seq    uint64

	apps, webs, opens, emails, smses []*device
	pushes                           []push
}

// New returns a Generator whose output is determined by seed and opts: two
// generators made with the same arguments produce the same events.
func New(seed int64, opts ...Option) *Generator {
	s := uint64(seed)
	g := &Generator{rng: rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15))}
	for _, o := range opts {
		o.apply(g)
	}
	mixed := len(g.types) == 0
	if mixed {
		g.types = knownTypes
	}
	g.cum = make([]int, len(g.types))
	for i, t := range g.types {
		w := 1
		if x, ok := weights[t]; ok && mixed {
			w = x
		}
		g.total += w
		g.cum[i] = g.total
	}
	shift := g.rng.Int64N(30 * 24 * int64(time.Hour/time.Millisecond))
	if !g.startSet {
		g.start = DefaultStart.Add(time.Duration(shift) * time.Millisecond)
	}
	g.now = g.start.UnixMilli()
	g.offset = 1_000_000_000_000 + g.rng.Uint64N(100_000_000)
	g.makeDevices()
	g.pushes = make([]push, 24)
	for i := range g.pushes {
		g.pushes[i] = g.newPush(g.now - g.rng.Int64N(3*24*3600*1000))
	}
	return g
}

// Next returns the next event's JSON: one object, no trailing newline, with
// an id unique within the generator's output. The slice is the caller's.
func (g *Generator) Next() []byte {
	g.buf = g.AppendNext(g.buf[:0])
	return slices.Clone(g.buf)
}

// AppendNext appends the next event's JSON to dst and returns the extended
// slice. Once dst has room it allocates almost nothing (a few bytes per
// event on average, when a new push or id string is drawn), which makes it
// the fast way to write many events.
func (g *Generator) AppendNext(dst []byte) []byte {
	t := g.pickType()
	g.seq++
	g.offset += 1 + g.rng.Uint64N(3)
	g.now += 1 + g.rng.Int64N(40)
	processed := g.now
	occurred := processed - 200 - g.rng.Int64N(2800)
	switch r := g.rng.IntN(100); {
	case r < 4: // uploaded late by the device
		occurred -= g.rng.Int64N(6 * 3600 * 1000)
	case r < 6: // device clock slightly ahead: processed before occurred
		occurred = processed + 1 + g.rng.Int64N(90_000)
	}

	b := append(dst, '{')
	b = key(b, "id")
	b = g.appendEventID(b, processed)
	b = str(b, "type", t)
	// Offsets are strings on the wire; a few producers send bare numbers.
	b = numString(b, "offset", int64(g.offset), g.rng.IntN(50) != 0)
	seconds := g.rng.IntN(8) == 0
	b = key(b, "occurred")
	b = appendTime(b, occurred, seconds)
	b = key(b, "processed")
	b = appendTime(b, processed, seconds)
	b = g.appendEvent(b, t, occurred)
	return append(b, '}')
}

// pickType draws the next event's type.
func (g *Generator) pickType() string {
	if len(g.types) == 1 {
		return g.types[0]
	}
	n := g.rng.IntN(g.total)
	i, _ := slices.BinarySearch(g.cum, n+1)
	return g.types[i]
}

// appendEventID appends a quoted time-prefixed id shaped like
// 0000018f-3c2a-7b10-9a1e-5f2d8c4b9a01: 48 bits of milliseconds, version 7
// and variant bits, random bits and the event's sequence number, which
// makes ids unique within one generator.
func (g *Generator) appendEventID(b []byte, ms int64) []byte {
	r := g.rng.Uint64()
	b = append(b, '"')
	b = appendHex(b, uint64(ms)>>16, 8)
	b = append(b, '-')
	b = appendHex(b, uint64(ms), 4)
	b = append(b, '-', '7')
	b = appendHex(b, r, 3)
	b = append(b, '-', hexDigits[8|(r>>12)&3])
	b = appendHex(b, r>>16, 3)
	b = append(b, '-')
	b = appendHex(b, r>>28, 4)
	b = appendHex(b, g.seq, 8)
	return append(b, '"')
}

// uuid appends a quoted random version-4 UUID.
func (g *Generator) uuid(b []byte) []byte {
	b = append(b, '"')
	b = appendUUID(b, g.rng.Uint64(), g.rng.Uint64())
	return append(b, '"')
}

// uuidString returns a random version-4 UUID.
func (g *Generator) uuidString() string {
	var a [36]byte
	return string(appendUUID(a[:0], g.rng.Uint64(), g.rng.Uint64()))
}

// pick returns a random element of s.
func pick[T any](g *Generator, s []T) T { return s[g.rng.IntN(len(s))] }

// chance reports true with probability pct percent.
func (g *Generator) chance(pct int) bool { return g.rng.IntN(100) < pct }
