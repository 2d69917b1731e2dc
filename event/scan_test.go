package event

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"testing"
	"time"
)

// TestSpecial checks the one-branch word test of readString against a byte
// by byte reading: its lowest flagged byte is the first that is '"', '\\',
// a control character or non-ASCII, and it is zero when there is none.
func TestSpecial(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	interesting := []byte{0, 0x1f, 0x20, 0x21, '"', '#', '[', '\\', ']', 0x7f, 0x80, 0xff, 'a'}
	var b [8]byte
	for n := 0; n < 200_000; n++ {
		for i := range b {
			if r.IntN(2) == 0 {
				b[i] = interesting[r.IntN(len(interesting))]
			} else {
				b[i] = byte(r.UintN(256))
			}
		}
		want := 8
		for i, c := range b {
			if c == '"' || c == '\\' || c < 0x20 || c >= 0x80 {
				want = i
				break
			}
		}
		if got := bits.TrailingZeros64(special(binary.LittleEndian.Uint64(b[:]))) >> 3; got != want {
			t.Fatalf("special(%q) flags byte %d first, want %d", b[:], got, want)
		}
	}
}

// TestParseUTC checks parseTime's fast path against time.Time.UnmarshalText
// (encoding/json's reading) on valid, edge and invalid timestamps.
func TestParseUTC(t *testing.T) {
	inputs := []string{
		"2026-01-21T04:46:15.414Z", "2026-01-21T04:46:15Z", "2026-01-21T04:46:15.1Z",
		"2026-01-21T04:46:15.123456789Z", "2026-01-21T04:46:15.1234567891Z", "2026-01-21T04:46:15.Z",
		"2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "2000-02-29T23:59:59Z", "1900-02-29T00:00:00Z",
		"2026-04-31T00:00:00Z", "2026-12-31T23:59:59.999Z", "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z",
		"2026-01-00T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z", "2026-01-01T00:00:60Z",
		"0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2026-01-21T04:46:15+00:00", "2026-01-21t04:46:15Z",
		"2026-01-21T04:46:15z", "2026-1-21T04:46:15Z", "2026-01-21T04:46:1aZ", "2026-01-21T04:46:15,5Z",
		"+026-01-21T04:46:15Z", "2026-01-21T04:46:15.-1Z", "2026-01-21 04:46:15Z", "",
	}
	for m := 1; m <= 12; m++ {
		for _, d := range []int{28, 29, 30, 31, 32} {
			inputs = append(inputs, fmt.Sprintf("2025-%02d-%02dT12:00:00Z", m, d), fmt.Sprintf("2024-%02d-%02dT12:00:00Z", m, d))
		}
	}
	// Each byte of the common form replaced by its neighbours in ASCII
	// and by a letter.
	base := "2026-01-21T04:46:15.414Z"
	for i := range base {
		for _, c := range []byte{base[i] - 1, base[i] + 1, '/', ':', 'a', '0', '9'} {
			b := []byte(base)
			b[i] = c
			inputs = append(inputs, string(b))
		}
	}
	for _, s := range inputs {
		var want time.Time
		werr := want.UnmarshalText([]byte(s))
		got, ok := parseUTC(s)
		if ok && (werr != nil || !got.Equal(want) || got.Location() != want.Location() || got != want) {
			t.Errorf("parseUTC(%q) = %v, want %v (%v)", s, got, want, werr)
		}
		if g, err := parseTime(s); (err == nil) != (werr == nil) || g != want {
			t.Errorf("parseTime(%q) = %v, %v; want %v, %v", s, g, err, want, werr)
		}
	}
	if _, ok := parseUTC("2026-01-21T04:46:15.414Z"); !ok {
		t.Error("the common form is not on the fast path")
	}
}
