package batch

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

// TestAggregatorAddShared checks that aggregates built with AddShared, alone
// or mixed with Add, are byte for byte those built with Add, through
// AppendTo and Build, with exact sizes and the same fit decisions, and that
// Reset drops the shared data.
func TestAggregatorAddShared(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for round := range 60 {
		max := 64 + rng.IntN(8000)
		ref := mustAggregator(t, WithMaxAggregateBytes(max))
		sh := mustAggregator(t, WithMaxAggregateBytes(max))
		mixed := mustAggregator(t, WithMaxAggregateBytes(max))
		for i, r := range randomRecords(rng, 200, 1+rng.IntN(30), 400) {
			err := ref.Add(r)
			if serr := sh.AddShared(r); !errors.Is(serr, err) {
				t.Fatalf("round %d record %d: AddShared %v, Add %v", round, i, serr, err)
			}
			add := mixed.Add
			if i%2 == 1 {
				add = mixed.AddShared
			}
			if merr := add(r); !errors.Is(merr, err) {
				t.Fatalf("round %d record %d: mixed %v, Add %v", round, i, merr, err)
			}
			if err != nil {
				break
			}
			if ref.Size() != sh.Size() || ref.Size() != mixed.Size() {
				t.Fatalf("round %d: sizes %d, %d shared, %d mixed", round, ref.Size(), sh.Size(), mixed.Size())
			}
		}
		want := ref.AppendTo([]byte("prefix"))
		for _, a := range []*Aggregator{sh, mixed} {
			if got := a.AppendTo([]byte("prefix")); !bytes.Equal(got, want) {
				t.Fatalf("round %d: AppendTo differs from Add's", round)
			}
			b := a.Build()
			if !bytes.Equal(b.Data, want[len("prefix"):]) || b.PartitionKey != ref.PartitionKey() {
				t.Fatalf("round %d: Build differs from Add's", round)
			}
			if len(b.Data)+len(b.PartitionKey) != ref.Size() {
				t.Fatalf("round %d: Size %d, built %d", round, ref.Size(), len(b.Data)+len(b.PartitionKey))
			}
		}
		if _, err := Deaggregate(KinesisRecord{SequenceNumber: "1", Data: want[len("prefix"):]}); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		sh.Reset()
		if len(sh.shared) != 0 || sh.sharedBytes != 0 || sh.Size() != 0 || cap(sh.shared) > 0 && sh.shared[:1][0].data != nil {
			t.Fatalf("round %d: Reset kept shared data", round)
		}
	}
}

func TestAggregatorAddSharedDoesNotAllocate(t *testing.T) {
	a := mustAggregator(t)
	recs := randomRecords(rand.New(rand.NewPCG(9, 10)), 100, 40, 100)
	out := make([]byte, 0, a.MaxBytes())
	fill := func() {
		a.Reset()
		for _, r := range recs {
			if err := a.AddShared(r); errors.Is(err, ErrAggregateFull) {
				break
			} else if err != nil {
				t.Fatal(err)
			}
		}
		out = a.AppendTo(out[:0])
	}
	fill()
	if n := testing.AllocsPerRun(50, fill); n != 0 {
		t.Fatalf("a reused Aggregator allocates %v times per shared aggregate", n)
	}
}

// TestSeal checks that aggregates appended unsealed and sealed together,
// in groups of every size, are byte for byte those AppendTo builds.
func TestSeal(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for round := range 40 {
		n := rng.IntN(45)
		var want, got [][]byte
		for range n {
			a := mustAggregator(t, WithMaxAggregateBytes(64+rng.IntN(60000)))
			for _, r := range randomRecords(rng, 500, 1+rng.IntN(30), 600) {
				if err := a.AddShared(r); err != nil {
					break
				}
			}
			want = append(want, a.AppendTo(nil))
			u := a.AppendToUnsealed([]byte("prefix"))
			got = append(got, u[len("prefix"):])
			if !bytes.Equal(u[:len("prefix")], []byte("prefix")) {
				t.Fatal("AppendToUnsealed changed dst's bytes")
			}
		}
		Seal(got...)
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("round %d: aggregate %d of %d sealed differs from AppendTo's", round, i, n)
			}
			if _, err := Deaggregate(KinesisRecord{SequenceNumber: "1", Data: got[i]}); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
	if empty := mustAggregator(t).AppendToUnsealed(nil); len(empty) != 0 {
		t.Errorf("an empty aggregate appended %d bytes", len(empty))
	}
}
