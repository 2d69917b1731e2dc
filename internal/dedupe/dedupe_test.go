package dedupe

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"
)

// fakeClock is a manually advanced clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func uuidN(n int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n) }

func mustNew(t testing.TB, capacity int, opts ...Option) *Window {
	t.Helper()
	w, err := New(capacity, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestNewValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		reason   string
		capacity int
		opts     []Option
		ok       bool
	}{
		{"one", "smallest window", 1, nil, true},
		{"zero", "a window must hold something", 0, nil, false},
		{"negative", "nonsense capacity", -3, nil, false},
		{"negative ttl", "expiry in the past is a bug", 10, []Option{WithTTL(-time.Second)}, false},
		{"nil clock", "falls back to time.Now", 10, []Option{WithTTL(time.Second), WithClock(nil)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, err := New(tt.capacity, tt.opts...)
			if (err == nil) != tt.ok {
				t.Fatalf("New = %v, want ok=%v (%s)", err, tt.ok, tt.reason)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "dedupe: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if w != nil && w.Seen("x") {
				t.Error("first Seen on a new window reported a duplicate")
			}
		})
	}
}

func TestSeen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		reason string
		id     string
	}{
		{"uuid", "the RTDS id form takes the 16-byte path", "0b9a4b7c-2d3e-4f10-9a8b-7c6d5e4f3a2b"},
		{"upper uuid", "non-canonical case stays a distinct string id", "0B9A4B7C-2D3E-4F10-9A8B-7C6D5E4F3A2B"},
		{"plain string", "any other id", "event-42"},
		{"empty", "an empty id is still an id", ""},
		{"uuid-shaped non-hex", "36 chars with dashes but not hex", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := mustNew(t, 4)
			if w.Contains(tt.id) {
				t.Fatalf("Contains before Seen (%s)", tt.reason)
			}
			if w.Seen(tt.id) {
				t.Fatalf("first Seen = true (%s)", tt.reason)
			}
			if !w.Seen(tt.id) || !w.Contains(tt.id) {
				t.Fatalf("second Seen/Contains = false (%s)", tt.reason)
			}
			if w.Len() != 1 {
				t.Fatalf("Len = %d, want 1", w.Len())
			}
		})
	}
}

func TestUUIDCaseIsExact(t *testing.T) {
	t.Parallel()
	w := mustNew(t, 4)
	w.Add("0b9a4b7c-2d3e-4f10-9a8b-7c6d5e4f3a2b")
	if w.Contains("0B9A4B7C-2D3E-4F10-9A8B-7C6D5E4F3A2B") {
		t.Error("ids differing in case are distinct strings and must not collide")
	}
	// Distinct UUIDs differing in one nibble in each group do not collide.
	base := []byte("00000000-0000-0000-0000-000000000000")
	w2 := mustNew(t, 64)
	w2.Add(string(base))
	for i, c := range base {
		if c == '-' {
			continue
		}
		v := append([]byte(nil), base...)
		v[i] = 'f'
		if w2.Seen(string(v)) {
			t.Errorf("uuid differing at %d collides", i)
		}
	}
}

func TestCapacityEvictsOldest(t *testing.T) {
	t.Parallel()
	w := mustNew(t, 3)
	for i := range 5 {
		if w.Seen(uuidN(i)) {
			t.Fatalf("id %d reported duplicate on first sight", i)
		}
		if w.Len() > 3 {
			t.Fatalf("Len = %d exceeds capacity", w.Len())
		}
	}
	for i, want := range []bool{false, false, true, true, true} {
		if got := w.Contains(uuidN(i)); got != want {
			t.Errorf("Contains(id %d) = %v, want %v (ids 2..4 are the newest 3)", i, got, want)
		}
	}
	// A duplicate does not refresh its position: id 2 is still the oldest.
	w.Seen(uuidN(2))
	w.Seen(uuidN(5))
	if w.Contains(uuidN(2)) {
		t.Error("id 2 survived eviction after a duplicate hit; window order must be first-seen")
	}
	if !w.Contains(uuidN(3)) || !w.Contains(uuidN(5)) {
		t.Error("newer ids evicted")
	}
}

func TestForget(t *testing.T) {
	t.Parallel()
	w := mustNew(t, 2)
	w.Add("a")
	w.Forget("a")
	if w.Contains("a") {
		t.Fatal("forgotten id still contained")
	}
	if w.Seen("a") {
		t.Fatal("Seen after Forget = true; a failed handler's retry would be dropped")
	}
	// The stale ring slot of the first "a" must not evict the new "a".
	w.Add("b") // evicts the slot of the first "a" (stale)
	if !w.Contains("a") || !w.Contains("b") {
		t.Fatalf("after stale-slot eviction: a=%v b=%v, want both", w.Contains("a"), w.Contains("b"))
	}
	w.Forget("never-seen") // no-op
	if w.Len() != 2 {
		t.Fatalf("Len = %d, want 2", w.Len())
	}
}

func TestTTL(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	w := mustNew(t, 10, WithTTL(time.Minute), WithClock(clk.Now))
	w.Add("a")
	clk.Advance(59 * time.Second)
	if !w.Seen("a") {
		t.Fatal("id expired before its TTL")
	}
	clk.Advance(time.Second)
	if w.Contains("a") {
		t.Fatal("id still contained at its TTL")
	}
	// An expired id is recorded anew with a fresh time.
	if w.Seen("a") {
		t.Fatal("Seen of an expired id = true")
	}
	clk.Advance(30 * time.Second)
	if !w.Contains("a") {
		t.Fatal("re-recorded id expired early")
	}
	// Its old ring slot is stale: filling the window past it must keep
	// the re-recorded id until its own slot is reused.
	for i := range 8 {
		w.Add(uuidN(i))
	}
	if !w.Contains("a") {
		t.Fatal("re-recorded id evicted through its stale slot")
	}
	if w.Len() > w.Cap() {
		t.Fatalf("Len %d > Cap %d", w.Len(), w.Cap())
	}
}

func TestNoTTLDoesNotReadClock(t *testing.T) {
	t.Parallel()
	w := mustNew(t, 2, WithClock(func() time.Time { panic("clock read without a TTL") }))
	w.Add("a")
	if !w.Contains("a") {
		t.Fatal("lost id")
	}
}

// TestConcurrent checks that concurrent Seen calls for the same ids report
// each id new exactly once (run with -race).
func TestConcurrent(t *testing.T) {
	t.Parallel()
	const ids, goroutines = 500, 8
	w := mustNew(t, ids)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first = make(map[string]int)
	)
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ids {
				id := uuidN(i)
				if !w.Seen(id) {
					mu.Lock()
					first[id]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if len(first) != ids {
		t.Fatalf("%d ids reported new, want %d", len(first), ids)
	}
	for id, n := range first {
		if n != 1 {
			t.Fatalf("id %s reported new %d times", id, n)
		}
	}
}

// TestStringIDIsCopied checks the window does not keep a reference into
// the caller's buffer: mutating the buffer must not change what is stored.
func TestStringIDIsCopied(t *testing.T) {
	t.Parallel()
	w := mustNew(t, 4)
	// A string aliasing a reusable buffer, as zero-copy decoders produce.
	buf := []byte("event-1")
	w.Add(unsafe.String(&buf[0], len(buf)))
	buf[6] = '2'
	if !w.Contains("event-1") || w.Contains("event-2") {
		t.Fatal("stored id changed with the caller's buffer")
	}
}
