package dedupe

import (
	"errors"
	"strings"
	"sync"
	"time"
)

// Option configures a Window.
type Option func(*Window)

// WithTTL makes ids expire: an id recorded longer than ttl ago is no longer
// a duplicate. Default: 0, no expiry (only capacity bounds the window).
func WithTTL(ttl time.Duration) Option {
	return func(w *Window) { w.ttl = ttl }
}

// WithClock sets the clock used for WithTTL. Default: time.Now.
func WithClock(now func() time.Time) Option {
	return func(w *Window) { w.now = now }
}

// Window remembers recently seen ids. See the package documentation.
type Window struct {
	ttl time.Duration
	now func() time.Time

	mu   sync.Mutex
	ring []entry // entry with insertion seq s is at ring[s%len(ring)]
	next uint64  // insertion counter: the next entry's seq
	// id -> seq of its live entry; UUIDs and other ids apart, so the
	// common UUID entry is 24 bytes.
	uuids map[[16]byte]uint64
	strs  map[string]uint64
}

type entry struct {
	k  key
	at int64 // UnixNano when recorded; 0 without a TTL
}

// key is an id: a parsed lowercase UUID, or (isS) any other string.
type key struct {
	uuid [16]byte
	s    string
	isS  bool
}

// New returns a Window remembering at most capacity ids.
func New(capacity int, opts ...Option) (*Window, error) {
	if capacity < 1 {
		return nil, errors.New("dedupe: capacity must be at least 1")
	}
	w := &Window{now: time.Now}
	for _, o := range opts {
		o(w)
	}
	if w.ttl < 0 {
		return nil, errors.New("dedupe: negative TTL")
	}
	if w.now == nil {
		w.now = time.Now
	}
	w.ring = make([]entry, capacity)
	w.uuids = make(map[[16]byte]uint64, capacity)
	w.strs = make(map[string]uint64)
	return w, nil
}

// Seen records id and reports whether it was already recorded (and not
// expired): true means id is a duplicate. Recording a duplicate does not
// move it in the window; an expired id is recorded anew.
func (w *Window) Seen(id string) bool {
	k := makeKey(id)
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.stamp()
	if w.live(k, now) {
		return true
	}
	if k.isS {
		k.s = strings.Clone(k.s)
	}
	w.insert(k, now)
	return false
}

// Add records id; it is Seen without the answer.
func (w *Window) Add(id string) { w.Seen(id) }

// Contains reports whether id is recorded and not expired, without
// recording it.
func (w *Window) Contains(id string) bool {
	k := makeKey(id)
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.live(k, w.stamp())
}

// Forget removes id from the window, so the next Seen(id) is false.
func (w *Window) Forget(id string) {
	k := makeKey(id)
	w.mu.Lock()
	w.del(k)
	w.mu.Unlock()
}

// Len returns the number of ids remembered, including expired ids not yet
// evicted. It is at most the capacity.
func (w *Window) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.uuids) + len(w.strs)
}

// Cap returns the capacity.
func (w *Window) Cap() int { return len(w.ring) }

func (w *Window) stamp() int64 {
	if w.ttl == 0 {
		return 0
	}
	return w.now().UnixNano()
}

// live reports whether k has an unexpired entry. w.mu is held.
func (w *Window) live(k key, now int64) bool {
	seq, ok := w.lookup(k)
	if !ok {
		return false
	}
	if w.ttl == 0 {
		return true
	}
	e := &w.ring[seq%uint64(len(w.ring))]
	return now-e.at < int64(w.ttl)
}

// insert records k as the newest entry, evicting the oldest if full.
// w.mu is held.
func (w *Window) insert(k key, now int64) {
	n := uint64(len(w.ring))
	slot := &w.ring[w.next%n]
	if w.next >= n {
		// Evict the oldest entry (seq w.next-n), unless its id was
		// forgotten or re-recorded since (then the index points
		// elsewhere).
		if seq, ok := w.lookup(slot.k); ok && seq == w.next-n {
			w.del(slot.k)
		}
	}
	*slot = entry{k: k, at: now}
	if k.isS {
		w.strs[k.s] = w.next
	} else {
		w.uuids[k.uuid] = w.next
	}
	w.next++
}

func (w *Window) lookup(k key) (uint64, bool) {
	if k.isS {
		seq, ok := w.strs[k.s]
		return seq, ok
	}
	seq, ok := w.uuids[k.uuid]
	return seq, ok
}

func (w *Window) del(k key) {
	if k.isS {
		delete(w.strs, k.s)
	} else {
		delete(w.uuids, k.uuid)
	}
}

// makeKey parses a canonical lowercase UUID into 16 bytes; any other id is
// kept as a string (not yet copied).
func makeKey(id string) key {
	var k key
	if len(id) != 36 || id[8] != '-' || id[13] != '-' || id[18] != '-' || id[23] != '-' {
		return key{s: id, isS: true}
	}
	j := 0
	for i := 0; i < 36; i += 2 {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
		}
		hi, ok1 := lowerHex(id[i])
		lo, ok2 := lowerHex(id[i+1])
		if !ok1 || !ok2 {
			return key{s: id, isS: true}
		}
		k.uuid[j] = hi<<4 | lo
		j++
	}
	return k
}

func lowerHex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
