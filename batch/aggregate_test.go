package batch

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
)

func mustAggregator(t testing.TB, opts ...AggregatorOption) *Aggregator {
	t.Helper()
	a, err := NewAggregator(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestAggregateGolden checks the exact bytes against an aggregate written
// by npm aws-kinesis-agg 4.2.8 for the same three records (see kpl.js).
func TestAggregateGolden(t *testing.T) {
	a := mustAggregator(t)
	for _, r := range []Record{
		{PartitionKey: "a", Data: []byte("hi")},
		{PartitionKey: "b", ExplicitHashKey: "5", Data: []byte{}},
		{PartitionKey: "a", Data: []byte("x")},
	} {
		if err := a.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	want, _ := base64.StdEncoding.DecodeString("84mawgoBYQoBYhIBNRoGCAAaAmhpGgYIARAAGgAaBQgAGgF4O1ok6WgPyrWf1D3GO0fTLQ==")
	got := a.Build()
	if !bytes.Equal(got.Data, want) {
		t.Fatalf("aggregate\n got %x\nwant %x", got.Data, want)
	}
	if got.PartitionKey != "a" || got.ExplicitHashKey != "" {
		t.Errorf("aggregate keys = %q, %q; want the first record's partition key and no hash key", got.PartitionKey, got.ExplicitHashKey)
	}
	if a.Size() != len(want)+1 {
		t.Errorf("Size = %d, want %d", a.Size(), len(want)+1)
	}
}

func randomRecords(rng *rand.Rand, n, keys, maxData int) []Record {
	rs := make([]Record, n)
	for i := range rs {
		rs[i].PartitionKey = "key-" + strconv.Itoa(rng.IntN(keys))
		if rng.IntN(4) == 0 {
			rs[i].ExplicitHashKey = HashKey{Hi: rng.Uint64() >> rng.UintN(64), Lo: rng.Uint64()}.String()
		}
		rs[i].Data = make([]byte, rng.IntN(maxData+1))
		for j := range rs[i].Data {
			rs[i].Data[j] = byte(rng.Uint32())
		}
	}
	return rs
}

// TestAggregatorSizeIsExact checks that Size equals the built aggregate's
// data plus partition key after every Add, and that WouldFit says exactly
// whether the result stays within the limit.
func TestAggregatorSizeIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for round := range 50 {
		max := 64 + rng.IntN(4000)
		small := mustAggregator(t, WithMaxAggregateBytes(max))
		big := mustAggregator(t, WithMaxAggregateBytes(1<<20))
		for _, r := range randomRecords(rng, 400, 1+rng.IntN(40), 300) {
			twin := big.Size()
			if err := big.Add(r); err != nil {
				t.Fatal(err)
			}
			after := big.Size()
			if b := big.Build(); after != len(b.Data)+len(b.PartitionKey) {
				t.Fatalf("round %d: Size %d, built %d + key %d", round, after, len(b.Data), len(b.PartitionKey))
			}
			if twin != small.Size() {
				t.Fatalf("round %d: twin aggregators diverged: %d vs %d", round, twin, small.Size())
			}
			fits := small.WouldFit(r)
			if fits != (after <= max) {
				t.Fatalf("round %d: WouldFit = %v with size %d after adding, limit %d", round, fits, after, max)
			}
			if !fits {
				if err := small.Add(r); !errors.Is(err, ErrAggregateFull) {
					t.Fatalf("Add of a record that does not fit: %v", err)
				}
				break
			}
			if err := small.Add(r); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestAggregatorBoundaries(t *testing.T) {
	// Find data lengths L for which one record is exactly n bytes.
	one := func(L int) int {
		a := mustAggregator(t, WithMaxAggregateBytes(1<<20))
		if err := a.Add(Record{PartitionKey: "k", Data: make([]byte, L)}); err != nil {
			t.Fatal(err)
		}
		return a.Size()
	}
	for _, L := range []int{0, 100, 51200 - 40, 1<<20 - 40} {
		size := one(L)
		for _, tc := range []struct {
			name string
			max  int
			fits bool
		}{
			{name: "exactly at the limit", max: size, fits: true},
			{name: "one byte over", max: size - 1, fits: false},
		} {
			if tc.max < 64 {
				continue
			}
			t.Run(fmt.Sprintf("%d bytes/%s", L, tc.name), func(t *testing.T) {
				a := mustAggregator(t, WithMaxAggregateBytes(tc.max))
				r := Record{PartitionKey: "k", Data: make([]byte, L)}
				if got := a.WouldFit(r); got != tc.fits {
					t.Fatalf("WouldFit = %v, want %v (size %d, limit %d)", got, tc.fits, size, tc.max)
				}
				err := a.Add(r)
				if tc.fits != (err == nil) {
					t.Fatalf("Add: %v", err)
				}
			})
		}
	}
	t.Run("second record exactly at the limit", func(t *testing.T) {
		a := mustAggregator(t, WithMaxAggregateBytes(1000))
		if err := a.Add(Record{PartitionKey: "k", Data: make([]byte, 500)}); err != nil {
			t.Fatal(err)
		}
		// Data of L bytes (about 460) adds L + 8 bytes here: record tag
		// (1), record length (2), key index (2), data tag (1), data length
		// (2).
		room := 1000 - a.Size()
		L := room - 8
		if !a.WouldFit(Record{PartitionKey: "k", Data: make([]byte, L)}) {
			t.Fatalf("a record of exactly the remaining %d bytes does not fit", room)
		}
		if a.WouldFit(Record{PartitionKey: "k", Data: make([]byte, L+1)}) {
			t.Fatal("a record one byte over the limit fits")
		}
		if err := a.Add(Record{PartitionKey: "k", Data: make([]byte, L)}); err != nil || a.Size() != 1000 {
			t.Fatalf("Add: %v, size %d", err, a.Size())
		}
	})
	t.Run("record count", func(t *testing.T) {
		a := mustAggregator(t, WithMaxAggregateRecords(3))
		for i := range 3 {
			if err := a.Add(Record{PartitionKey: "k", Data: []byte{byte(i)}}); err != nil {
				t.Fatal(err)
			}
		}
		if a.WouldFit(Record{PartitionKey: "k"}) || !errors.Is(a.Add(Record{PartitionKey: "k"}), ErrAggregateFull) {
			t.Fatal("a fourth record fits in an aggregate of at most 3")
		}
	})
	t.Run("options", func(t *testing.T) {
		for _, opts := range [][]AggregatorOption{
			{WithMaxAggregateBytes(63)},
			{WithMaxAggregateBytes(1<<20 + 1)},
			{WithMaxAggregateRecords(0)},
			{WithRecordLimits(Limits{})},
		} {
			if _, err := NewAggregator(opts...); err == nil {
				t.Errorf("NewAggregator accepted an invalid option")
			}
		}
		if _, err := NewAggregator(WithRecordLimits(LargeRecordLimits()), WithMaxAggregateBytes(10<<20)); err != nil {
			t.Errorf("10 MiB aggregates with large-record limits: %v", err)
		}
	})
}

func TestAggregatorRejectsInvalidKeys(t *testing.T) {
	a := mustAggregator(t)
	for _, r := range []Record{
		{},
		{PartitionKey: string(make([]byte, 257))},
		{PartitionKey: "\xff"},
		{PartitionKey: "k", ExplicitHashKey: "x"},
	} {
		var le *LimitError
		if err := a.Add(r); !errors.As(err, &le) {
			t.Errorf("Add(%q, %q) = %v, want a *LimitError", r.PartitionKey, r.ExplicitHashKey, err)
		}
	}
	if a.Len() != 0 {
		t.Fatalf("invalid records were added: %d", a.Len())
	}
	if err := a.SetExplicitHashKey("not a number"); !errors.Is(err, ErrInvalidExplicitHashKey) {
		t.Errorf("SetExplicitHashKey: %v", err)
	}
}

// TestAggregateRoundTrip aggregates random records, with many distinct
// keys so the key tables switch to hash indexes, and checks that every record
// comes back with its own keys and data, in order.
func TestAggregateRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	a := mustAggregator(t, WithMaxAggregateBytes(1<<20))
	for round := range 20 {
		a.Reset()
		recs := randomRecords(rng, 1+rng.IntN(300), 1+rng.IntN(100), 200)
		for _, r := range recs {
			if err := a.Add(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.SetExplicitHashKey("42"); err != nil {
			t.Fatal(err)
		}
		k := a.Build()
		if k.ExplicitHashKey != "42" || k.PartitionKey != recs[0].PartitionKey {
			t.Fatalf("aggregate keys %q %q", k.PartitionKey, k.ExplicitHashKey)
		}
		// AppendTo writes the same bytes after a prefix.
		if app := a.AppendTo([]byte("xy")); !bytes.Equal(app[2:], k.Data) {
			t.Fatal("AppendTo and Build differ")
		}
		got, err := Deaggregate(KinesisRecord{SequenceNumber: strconv.Itoa(round), PartitionKey: k.PartitionKey, ExplicitHashKey: k.ExplicitHashKey, Data: k.Data})
		if err != nil {
			t.Fatal(err)
		}
		checkUserRecords(t, got, recs, strconv.Itoa(round))
	}
}

// TestAggregatorKeyTableSizes reuses one Aggregator for key tables of
// sizes around the switch from linear search to the hash index and across
// the index's growth, up and down, and checks that every record keeps its
// own keys.
func TestAggregatorKeyTableSizes(t *testing.T) {
	a := mustAggregator(t, WithMaxAggregateBytes(1<<20))
	for round, keys := range []int{1, 8, 9, 10, 3, 16, 17, 31, 32, 33, 9, 8, 500, 2, 2000, 9, 100} {
		a.Reset()
		var recs []Record
		for i := range 2*keys + 3 {
			k := (i * 7) % keys
			r := Record{PartitionKey: "pk-" + strconv.Itoa(k), Data: []byte(strconv.Itoa(i))}
			if i%3 == 0 {
				r.ExplicitHashKey = strconv.Itoa(k % (keys/2 + 1))
			}
			if err := a.Add(r); err != nil {
				t.Fatal(err)
			}
			recs = append(recs, r)
		}
		k := a.Build()
		got, err := Deaggregate(KinesisRecord{SequenceNumber: strconv.Itoa(round), PartitionKey: k.PartitionKey, Data: k.Data})
		if err != nil {
			t.Fatal(err)
		}
		checkUserRecords(t, got, recs, strconv.Itoa(round))
	}
}

func checkUserRecords(t *testing.T, got []UserRecord, want []Record, seq string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d user records, want %d", len(got), len(want))
	}
	for i, u := range got {
		w := want[i]
		if u.PartitionKey != w.PartitionKey || u.ExplicitHashKey != w.ExplicitHashKey || !bytes.Equal(u.Data, w.Data) ||
			u.SubSequenceNumber != uint64(i) || u.SequenceNumber != seq || !u.Aggregated {
			t.Fatalf("user record %d = %+v, want %+v", i, u, w)
		}
	}
}

func TestAggregatorReuseDoesNotAllocate(t *testing.T) {
	a := mustAggregator(t)
	recs := randomRecords(rand.New(rand.NewPCG(9, 10)), 100, 40, 100)
	fill := func() {
		a.Reset()
		for _, r := range recs {
			if !a.WouldFit(r) {
				break
			}
			if err := a.Add(r); err != nil {
				t.Fatal(err)
			}
		}
		a.Build()
	}
	fill()
	if n := testing.AllocsPerRun(50, fill); n != 0 {
		t.Fatalf("a reused Aggregator allocates %v times per aggregate", n)
	}
}
