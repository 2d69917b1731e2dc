package md5x8

import (
	"crypto/md5"
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestSums(t *testing.T) {
	if !Available() {
		t.Log("no AVX2: checking the crypto/md5 path only")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		n := rng.IntN(20)
		msgs := make([][]byte, n)
		for i := range msgs {
			size := rng.IntN(300)
			if rng.IntN(4) == 0 {
				size = rng.IntN(70000)
			}
			if rng.IntN(5) == 0 {
				size = 64*rng.IntN(5) + 55 + rng.IntN(3) // around the padding edges
			}
			msgs[i] = make([]byte, size)
			for j := range msgs[i] {
				msgs[i][j] = byte(rng.Uint32())
			}
		}
		sums := make([][Size]byte, n)
		Sums(sums, msgs)
		for i, m := range msgs {
			if want := md5.Sum(m); sums[i] != want {
				t.Fatalf("round %d: message %d of %d (%d bytes): %x, want %x", round, i, n, len(m), sums[i], want)
			}
		}
	}
}

func TestSum8EveryLength(t *testing.T) {
	if !Available() {
		t.Skip("no AVX2")
	}
	data := make([]byte, 300)
	for i := range data {
		data[i] = byte(i * 7)
	}
	for size := range len(data) - 8 {
		var group [lanes][]byte
		for l := range lanes {
			group[l] = data[l : l+size+l%3]
		}
		out := sum8(&group, lanes)
		for l := range lanes {
			if want := md5.Sum(group[l]); out[l] != want {
				t.Fatalf("size %d lane %d: %x, want %x", len(group[l]), l, out[l], want)
			}
		}
	}
}

// BenchmarkSums compares Sums with crypto/md5 one by one over the same
// messages, in one run: 16 messages of each size.
func BenchmarkSums(b *testing.B) {
	for _, size := range []int{1 << 10, 50 << 10, 256 << 10} {
		msgs := make([][]byte, 16)
		for i := range msgs {
			msgs[i] = make([]byte, size)
		}
		sums := make([][Size]byte, len(msgs))
		b.Run(fmt.Sprintf("size=%d/md5x8", size), func(b *testing.B) {
			b.SetBytes(int64(size * len(msgs)))
			b.ReportAllocs()
			for b.Loop() {
				Sums(sums, msgs)
			}
		})
		b.Run(fmt.Sprintf("size=%d/crypto_md5", size), func(b *testing.B) {
			b.SetBytes(int64(size * len(msgs)))
			b.ReportAllocs()
			for b.Loop() {
				for i, m := range msgs {
					sums[i] = md5.Sum(m)
				}
			}
		})
	}
}

// FuzzSums checks Sums against crypto/md5 on messages cut from data at
// the given lengths (seed picks up to 12 lengths).
func FuzzSums(f *testing.F) {
	f.Add([]byte("hello, world"), uint64(0x0102030405060708))
	f.Add(make([]byte, 2000), uint64(0x3f3f3f3f3f3f3f3f))
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		rng := rand.New(rand.NewPCG(seed, seed>>7))
		n := 1 + rng.IntN(12)
		msgs := make([][]byte, n)
		for i := range msgs {
			if len(data) == 0 {
				break
			}
			start := rng.IntN(len(data))
			end := start + rng.IntN(len(data)-start+1)
			msgs[i] = data[start:end]
		}
		sums := make([][Size]byte, n)
		Sums(sums, msgs)
		for i, m := range msgs {
			if want := md5.Sum(m); sums[i] != want {
				t.Fatalf("message %d of %d (%d bytes): %x, want %x", i, n, len(m), sums[i], want)
			}
		}
	})
}
