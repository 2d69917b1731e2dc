package batch

import (
	"crypto/md5"
	"errors"
	"math/big"
	"math/rand/v2"
	"testing"
)

func bigOf(k HashKey) *big.Int {
	b := k.Bytes()
	return new(big.Int).SetBytes(b[:])
}

func TestHashKeyDecimal(t *testing.T) {
	two128 := new(big.Int).Lsh(big.NewInt(1), 128)
	tests := []struct {
		name string
		in   string
		want HashKey
		ok   bool
	}{
		{name: "zero", in: "0", ok: true},
		{name: "leading zeros", in: "007"},
		{name: "zero with a leading zero", in: "00"},
		{name: "2^64-1", in: "18446744073709551615", want: HashKey{Lo: ^uint64(0)}, ok: true},
		{name: "2^64", in: "18446744073709551616", want: HashKey{Hi: 1}, ok: true},
		{name: "max", in: "340282366920938463463374607431768211455", want: MaxHashKey, ok: true},
		{name: "2^128", in: "340282366920938463463374607431768211456"},
		{name: "10^39", in: "1000000000000000000000000000000000000000"},
		{name: "empty", in: ""},
		{name: "sign", in: "+1"},
		{name: "space", in: " 1"},
		{name: "hex", in: "ff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHashKey(tt.in)
			if !tt.ok {
				if !errors.Is(err, ErrInvalidExplicitHashKey) {
					t.Fatalf("ParseHashKey(%q) = %v, %v; want ErrInvalidExplicitHashKey", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseHashKey(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
	// Random keys against math/big, both directions.
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		k := HashKey{Hi: rng.Uint64() >> rng.UintN(64), Lo: rng.Uint64()}
		s := k.String()
		if want := bigOf(k).String(); s != want {
			t.Fatalf("String(%#v) = %s, want %s", k, s, want)
		}
		back, err := ParseHashKey(s)
		if err != nil || back != k {
			t.Fatalf("ParseHashKey(%s) = %v, %v", s, back, err)
		}
		over := new(big.Int).Add(bigOf(k), two128).String()
		if _, err := ParseHashKey(over); err == nil {
			t.Fatalf("ParseHashKey(%s) accepted a key over 2^128", over)
		}
	}
}

func TestPartitionKeyHash(t *testing.T) {
	for _, pk := range []string{"a", "channel-1", "é", "0123456789"} {
		sum := md5.Sum([]byte(pk))
		want := new(big.Int).SetBytes(sum[:])
		if got := bigOf(PartitionKeyHash(pk)); got.Cmp(want) != 0 {
			t.Errorf("PartitionKeyHash(%q) = %s, want %s", pk, got, want)
		}
	}
	// A well-known value: md5("a") = 0cc175b9c0f1b6a831c399e269772661.
	if got, want := PartitionKeyHash("a").String(), "16955237001963240173058271559858726497"; got != want {
		t.Errorf("PartitionKeyHash(a) = %s, want %s", got, want)
	}
	if n := testing.AllocsPerRun(100, func() { PartitionKeyHash("channel-1") }); n != 0 {
		t.Errorf("PartitionKeyHash allocates %v times", n)
	}
}

func TestHashKeyCompare(t *testing.T) {
	a, b := HashKey{Hi: 1, Lo: 0}, HashKey{Hi: 0, Lo: ^uint64(0)}
	if a.Compare(b) != 1 || b.Compare(a) != -1 || a.Compare(a) != 0 {
		t.Fatal("Compare orders by Hi, then Lo")
	}
}

// evenShards splits the hash key space into n equal ranges, as CreateStream
// does.
func evenShards(t testing.TB, n int) []ShardRange {
	t.Helper()
	step := new(big.Int).Div(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(int64(n)))
	var rs []ShardRange
	for i := range n {
		start := new(big.Int).Mul(step, big.NewInt(int64(i)))
		end := new(big.Int).Sub(new(big.Int).Add(start, step), big.NewInt(1))
		if i == n-1 {
			end = bigOf(MaxHashKey)
		}
		s, err := ParseHashKey(start.String())
		if err != nil {
			t.Fatal(err)
		}
		e, err := ParseHashKey(end.String())
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, ShardRange{ShardID: "shardId-" + string(rune('a'+i)), StartingHashKey: s, EndingHashKey: e})
	}
	return rs
}

func TestShardMap(t *testing.T) {
	rs := evenShards(t, 4)
	// Out of order input.
	m, err := NewShardMap([]ShardRange{rs[2], rs[0], rs[3], rs[1]})
	if err != nil {
		t.Fatal(err)
	}
	if m.Len() != 4 {
		t.Fatalf("Len = %d", m.Len())
	}
	for i, r := range rs {
		for _, k := range []HashKey{r.StartingHashKey, r.EndingHashKey} {
			got, ok := m.Lookup(k)
			if !ok || got.ShardID != r.ShardID {
				t.Errorf("Lookup(%s) = %v, %v; want %s", k, got, ok, r.ShardID)
			}
		}
		if m.ExplicitHashKey(i) != r.StartingHashKey.String() {
			t.Errorf("ExplicitHashKey(%d) = %s", i, m.ExplicitHashKey(i))
		}
	}
	// Against a linear scan.
	rng := rand.New(rand.NewPCG(3, 4))
	for range 1000 {
		k := HashKey{Hi: rng.Uint64(), Lo: rng.Uint64()}
		want := -1
		for i, r := range rs {
			if r.StartingHashKey.Compare(k) <= 0 && k.Compare(r.EndingHashKey) <= 0 {
				want = i
			}
		}
		if got := m.Index(k); got != want {
			t.Fatalf("Index(%s) = %d, want %d", k, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { m.Index(PartitionKeyHash("x")) }); n != 0 {
		t.Errorf("Index allocates %v times", n)
	}
}

func TestShardMapGapsAndErrors(t *testing.T) {
	m, err := NewShardMap([]ShardRange{
		{ShardID: "a", StartingHashKey: HashKey{Lo: 10}, EndingHashKey: HashKey{Lo: 19}},
		{ShardID: "b", StartingHashKey: HashKey{Lo: 30}, EndingHashKey: HashKey{Lo: 30}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[uint64]int{0: -1, 9: -1, 10: 0, 19: 0, 20: -1, 29: -1, 30: 1, 31: -1} {
		if got := m.Index(HashKey{Lo: k}); got != want {
			t.Errorf("Index(%d) = %d, want %d", k, got, want)
		}
	}
	if _, err := NewShardMap([]ShardRange{
		{ShardID: "a", StartingHashKey: HashKey{Lo: 10}, EndingHashKey: HashKey{Lo: 20}},
		{ShardID: "b", StartingHashKey: HashKey{Lo: 20}, EndingHashKey: HashKey{Lo: 30}},
	}); err == nil {
		t.Error("overlapping ranges accepted")
	}
	if _, err := NewShardMap([]ShardRange{{ShardID: "a", StartingHashKey: HashKey{Lo: 2}, EndingHashKey: HashKey{Lo: 1}}}); err == nil {
		t.Error("inverted range accepted")
	}
}

func TestParseShardRange(t *testing.T) {
	r, err := ParseShardRange("shardId-000000000001", "170141183460469231731687303715884105728", "340282366920938463463374607431768211455")
	if err != nil {
		t.Fatal(err)
	}
	if r.ShardID != "shardId-000000000001" || r.StartingHashKey != (HashKey{Hi: 1 << 63}) || r.EndingHashKey != MaxHashKey {
		t.Fatalf("ParseShardRange = %+v", r)
	}
	for _, bad := range [][2]string{{"-1", "5"}, {"0", "340282366920938463463374607431768211456"}} {
		if _, err := ParseShardRange("s", bad[0], bad[1]); !errors.Is(err, ErrInvalidExplicitHashKey) {
			t.Errorf("ParseShardRange(%q, %q) = %v", bad[0], bad[1], err)
		}
	}
}
