package event

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"testing"
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
