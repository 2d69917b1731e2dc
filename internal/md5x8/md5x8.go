// Package md5x8 computes the MD5 sums of several messages at once: eight
// side by side in the lanes of AVX2 vector registers on amd64 CPUs that
// have it, one by one with crypto/md5 elsewhere. One MD5 is a chain of
// dependent steps that a CPU cannot run faster, but eight independent
// chains fill the vector units: on AVX2 eight messages cost about what two
// or three cost one by one. The purego build tag turns the vector code off.
package md5x8

import (
	"crypto/md5"
	"encoding/binary"
	"math"
	"slices"
)

//go:generate go run gen.go

// Size is the size of an MD5 sum in bytes.
const Size = md5.Size

// lanes is the number of messages hashed side by side.
const lanes = 8

// minLanes is the fewest messages worth hashing side by side: with fewer,
// the idle lanes make the vector code no faster than crypto/md5.
const minLanes = 3

// Available reports whether this CPU hashes messages side by side; Sums
// works either way.
func Available() bool { return haveAVX2 }

// Sums stores the MD5 sum of msgs[i] in sums[i], which must be at least as
// long as msgs.
func Sums(sums [][Size]byte, msgs [][]byte) {
	if len(sums) < len(msgs) {
		panic("md5x8: fewer sums than messages")
	}
	if !haveAVX2 || len(msgs) < minLanes {
		for i, m := range msgs {
			sums[i] = md5.Sum(m)
		}
		return
	}
	// Hash messages of similar lengths together, longest first, so that
	// few lanes idle while others finish.
	var buf [32]int
	order := buf[:0]
	if len(msgs) > len(buf) {
		order = make([]int, 0, len(msgs))
	}
	for i := range msgs {
		order = append(order, i)
	}
	slices.SortFunc(order, func(a, b int) int { return len(msgs[b]) - len(msgs[a]) })
	for len(order) > 0 {
		n := min(lanes, len(order))
		if n < minLanes {
			for _, i := range order {
				sums[i] = md5.Sum(msgs[i])
			}
			return
		}
		var group [lanes][]byte
		for l := range n {
			group[l] = msgs[order[l]]
		}
		out := sum8(&group, n)
		for l := range n {
			sums[order[l]] = out[l]
		}
		order = order[n:]
	}
}

// k holds MD5's 64 constants, each repeated in the 8 lanes.
var k = func() (k [64][lanes]uint32) {
	for i := range k {
		c := uint32(uint64(math.Abs(math.Sin(float64(i+1)))*(1<<32)) & 0xffffffff)
		for l := range lanes {
			k[i][l] = c
		}
	}
	return k
}()

var initState = [4]uint32{0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476}

// sum8 returns the MD5 sums of the first n messages of m.
func sum8(m *[lanes][]byte, n int) (out [lanes][Size]byte) {
	var state [4][lanes]uint32
	for w := range state {
		for l := range lanes {
			state[w][l] = initState[w]
		}
	}
	// Each message is its full blocks, read in place, then one or two
	// tail blocks holding its last bytes, the padding and its length.
	var tails [lanes][2 * 64]byte
	var full, blocks [lanes]int
	maxBlocks := 0
	for l := range n {
		msg := m[l]
		full[l] = len(msg) / 64
		rest := msg[full[l]*64:]
		t := tails[l][:]
		copy(t, rest)
		t[len(rest)] = 0x80
		tailBlocks := 1
		if len(rest) >= 56 {
			tailBlocks = 2
		}
		binary.LittleEndian.PutUint64(t[tailBlocks*64-8:], uint64(len(msg))<<3)
		blocks[l] = full[l] + tailBlocks
		maxBlocks = max(maxBlocks, blocks[l])
	}
	var zero [64]byte
	var msg [16][lanes]uint32 // scratch for block8
	var ptrs [lanes]*byte     // each lane's next 64-byte block
	for j := range maxBlocks {
		for l := range lanes {
			switch {
			case l >= n || j >= blocks[l]:
				ptrs[l] = &zero[0] // an idle lane: its result is not read
			case j < full[l]:
				ptrs[l] = &m[l][j*64]
			default:
				ptrs[l] = &tails[l][(j-full[l])*64]
			}
		}
		block8(&state, &ptrs, &k, &msg)
		for l := range n {
			if j == blocks[l]-1 {
				for w := range 4 {
					binary.LittleEndian.PutUint32(out[l][4*w:], state[w][l])
				}
			}
		}
	}
	return out
}
