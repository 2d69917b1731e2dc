package batch

import (
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"math/bits"
	"strconv"
	"unsafe"
)

// HashKey is a 128-bit Kinesis hash key. Kinesis routes a record to the
// shard whose hash key range contains its explicit hash key or, without
// one, [PartitionKeyHash] of its partition key. The zero value is key 0.
type HashKey struct {
	Hi, Lo uint64
}

// MaxHashKey is 2^128 - 1, the largest hash key.
var MaxHashKey = HashKey{Hi: ^uint64(0), Lo: ^uint64(0)}

// PartitionKeyHash is the hash key Kinesis computes for a partition key:
// the MD5 of its UTF-8 bytes read as a big-endian 128-bit integer.
func PartitionKeyHash(partitionKey string) HashKey {
	sum := md5.Sum(unsafe.Slice(unsafe.StringData(partitionKey), len(partitionKey)))
	return HashKeyFromBytes(sum)
}

// HashKeyFromBytes reads b as a big-endian 128-bit integer.
func HashKeyFromBytes(b [16]byte) HashKey {
	return HashKey{Hi: binary.BigEndian.Uint64(b[:8]), Lo: binary.BigEndian.Uint64(b[8:])}
}

// Bytes returns k as 16 big-endian bytes.
func (k HashKey) Bytes() [16]byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], k.Hi)
	binary.BigEndian.PutUint64(b[8:], k.Lo)
	return b
}

// Compare returns -1, 0 or +1 as k is less than, equal to or greater than o.
func (k HashKey) Compare(o HashKey) int {
	switch {
	case k.Hi < o.Hi || (k.Hi == o.Hi && k.Lo < o.Lo):
		return -1
	case k == o:
		return 0
	}
	return 1
}

// ParseHashKey parses a decimal hash key in [0, 2^128) in the form the
// Kinesis API requires of an ExplicitHashKey (the pattern 0|([1-9]\d{0,38}))
// and writes StartingHashKey and EndingHashKey in. Signs, spaces, leading
// zeros and other bases are rejected. The error matches
// [ErrInvalidExplicitHashKey].
func ParseHashKey(s string) (HashKey, error) {
	if s == "" || len(s) > 39 || (len(s) > 1 && s[0] == '0') {
		return HashKey{}, fmt.Errorf("%w: %q", ErrInvalidExplicitHashKey, truncate(s))
	}
	var k HashKey
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return HashKey{}, fmt.Errorf("%w: %q", ErrInvalidExplicitHashKey, truncate(s))
		}
		// k = k*10 + digit, failing on overflow past 128 bits.
		hiCarry, hi := bits.Mul64(k.Hi, 10)
		loCarry, lo := bits.Mul64(k.Lo, 10)
		hi, c1 := bits.Add64(hi, loCarry, 0)
		lo, c2 := bits.Add64(lo, uint64(c-'0'), 0)
		hi, c3 := bits.Add64(hi, 0, c2)
		if hiCarry != 0 || c1 != 0 || c3 != 0 {
			return HashKey{}, fmt.Errorf("%w: %q is 2^128 or more", ErrInvalidExplicitHashKey, truncate(s))
		}
		k = HashKey{Hi: hi, Lo: lo}
	}
	return k, nil
}

func truncate(s string) string {
	if len(s) > 48 {
		return s[:48] + "..."
	}
	return s
}

// String returns k in decimal, the form Kinesis APIs take.
func (k HashKey) String() string {
	var b [40]byte
	return string(k.AppendDecimal(b[:0]))
}

// AppendDecimal appends k in decimal to dst.
func (k HashKey) AppendDecimal(dst []byte) []byte {
	if k.Hi == 0 {
		return strconv.AppendUint(dst, k.Lo, 10)
	}
	// Split into base-10^19 digits: at most three (2^128 < 10^39).
	const base = 10_000_000_000_000_000_000
	var parts [3]uint64
	n := 0
	hi, lo := k.Hi, k.Lo
	for hi != 0 {
		q := hi / base
		var r uint64
		lo, r = bits.Div64(hi%base, lo, base)
		hi = q
		parts[n] = r
		n++
	}
	dst = strconv.AppendUint(dst, lo, 10)
	for i := n - 1; i >= 0; i-- {
		var pad [19]byte
		d := strconv.AppendUint(pad[:0], parts[i], 10)
		for range 19 - len(d) {
			dst = append(dst, '0')
		}
		dst = append(dst, d...)
	}
	return dst
}
