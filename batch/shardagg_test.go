package batch

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strconv"
	"testing"
)

// collect returns an emit function that keeps copies of emitted records.
func collect(out *[]Record) func(Record) error {
	return func(r Record) error {
		r.Data = bytes.Clone(r.Data)
		*out = append(*out, r)
		return nil
	}
}

// readAll deaggregates emitted records, checking each against the limits.
func readAll(t *testing.T, emitted []Record, max int) [][]UserRecord {
	t.Helper()
	var all [][]UserRecord
	for i, r := range emitted {
		if err := DefaultLimits().Validate(r); err != nil {
			t.Fatalf("emitted record %d: %v", i, err)
		}
		if IsAggregate(r.Data) && r.Size() > max {
			t.Fatalf("aggregate %d is %d bytes, over %d", i, r.Size(), max)
		}
		us, err := Deaggregate(KinesisRecord{SequenceNumber: strconv.Itoa(i), PartitionKey: r.PartitionKey, ExplicitHashKey: r.ExplicitHashKey, Data: r.Data})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, us)
	}
	return all
}

// checkOrder checks that every input record comes out exactly once and in
// order per partition key.
func checkOrder(t *testing.T, in []Record, out [][]UserRecord) {
	t.Helper()
	perKey := map[string][][]byte{}
	n := 0
	for _, us := range out {
		for _, u := range us {
			perKey[u.PartitionKey] = append(perKey[u.PartitionKey], u.Data)
			n++
		}
	}
	if n != len(in) {
		t.Fatalf("%d user records out, %d in", n, len(in))
	}
	for _, r := range in {
		q := perKey[r.PartitionKey]
		if len(q) == 0 || !bytes.Equal(q[0], r.Data) {
			t.Fatalf("key %s: records out of order or lost", r.PartitionKey)
		}
		perKey[r.PartitionKey] = q[1:]
	}
}

func numbered(rng *rand.Rand, n, keys, maxData int) []Record {
	rs := make([]Record, n)
	for i := range rs {
		d := make([]byte, 8+rng.IntN(maxData))
		copy(d, strconv.Itoa(i)) // unique data, to check order
		rs[i] = Record{PartitionKey: "key-" + strconv.Itoa(rng.IntN(keys)), Data: d}
	}
	return rs
}

func TestShardAggregatorByShard(t *testing.T) {
	m, err := NewShardMap(evenShards(t, 4))
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewShardAggregator(m, WithMaxAggregateBytes(4096))
	if err != nil {
		t.Fatal(err)
	}
	in := numbered(rand.New(rand.NewPCG(1, 1)), 3000, 200, 300)
	var emitted []Record
	for _, r := range in {
		if err := s.Add(r, collect(&emitted)); err != nil {
			t.Fatal(err)
		}
	}
	if s.Len() == 0 {
		t.Fatal("nothing buffered before Flush")
	}
	if err := s.Flush(collect(&emitted)); err != nil {
		t.Fatal(err)
	}
	if s.Len() != 0 {
		t.Fatalf("Len = %d after Flush", s.Len())
	}
	out := readAll(t, emitted, 4096)
	for i, us := range out {
		r := emitted[i]
		shard := m.Index(PartitionKeyHash(us[0].PartitionKey))
		if r.ExplicitHashKey != m.ExplicitHashKey(shard) {
			t.Fatalf("aggregate %d: explicit hash key %s, want shard %d's start", i, r.ExplicitHashKey, shard)
		}
		if r.PartitionKey != us[0].PartitionKey {
			t.Fatalf("aggregate %d: partition key %q, want its first record's %q", i, r.PartitionKey, us[0].PartitionKey)
		}
		keys := map[string]bool{}
		for _, u := range us {
			keys[u.PartitionKey] = true
			if got := m.Index(PartitionKeyHash(u.PartitionKey)); got != shard {
				t.Fatalf("aggregate %d for shard %d holds key %s of shard %d", i, shard, u.PartitionKey, got)
			}
		}
		if len(us) > 20 && len(keys) < 2 {
			t.Errorf("aggregate %d has a single key: keys are not being kept per record", i)
		}
	}
	checkOrder(t, in, out)
	// Aggregates are full but for per-record overhead (a few bytes) and
	// one partial aggregate per shard.
	total := 0
	for _, r := range in {
		total += r.Size()
	}
	if max := total*10/(4096*9) + 4; len(emitted) > max {
		t.Errorf("%d aggregates for %d bytes, want at most %d: aggregates are not being filled", len(emitted), total, max)
	}
}

func TestShardAggregatorByKey(t *testing.T) {
	// Without a map, and with a map whose gaps cover every key.
	gapMap, err := NewShardMap([]ShardRange{{ShardID: "tiny", StartingHashKey: HashKey{}, EndingHashKey: HashKey{Lo: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]*ShardMap{"no map": nil, "keys in gaps": gapMap} {
		t.Run(name, func(t *testing.T) {
			s, err := NewShardAggregator(m, WithMaxAggregateRecords(10))
			if err != nil {
				t.Fatal(err)
			}
			in := numbered(rand.New(rand.NewPCG(2, 2)), 500, 20, 50)
			in = append(in, Record{PartitionKey: "key-1", ExplicitHashKey: "12345", Data: []byte("routed")})
			var emitted []Record
			for _, r := range in {
				if err := s.Add(r, collect(&emitted)); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Flush(collect(&emitted)); err != nil {
				t.Fatal(err)
			}
			out := readAll(t, emitted, DefaultMaxAggregateBytes)
			for i, us := range out {
				if len(us) > 10 {
					t.Fatalf("aggregate %d has %d records, over 10", i, len(us))
				}
				for _, u := range us {
					if u.PartitionKey != emitted[i].PartitionKey || u.ExplicitHashKey != emitted[i].ExplicitHashKey {
						t.Fatalf("aggregate %d (%q, %q) holds record (%q, %q)", i, emitted[i].PartitionKey, emitted[i].ExplicitHashKey, u.PartitionKey, u.ExplicitHashKey)
					}
				}
			}
			checkOrder(t, in, out)
		})
	}
}

func TestShardAggregatorLargeRecords(t *testing.T) {
	m, _ := NewShardMap(evenShards(t, 1))
	s, err := NewShardAggregator(m)
	if err != nil {
		t.Fatal(err)
	}
	var emitted []Record
	small := Record{PartitionKey: "a", Data: []byte("small")}
	large := Record{PartitionKey: "a", Data: make([]byte, DefaultMaxAggregateBytes)}
	for _, r := range []Record{small, large, small} {
		if err := s.Add(r, collect(&emitted)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(collect(&emitted)); err != nil {
		t.Fatal(err)
	}
	if len(emitted) != 3 || !IsAggregate(emitted[0].Data) || !bytes.Equal(emitted[1].Data, large.Data) || !IsAggregate(emitted[2].Data) {
		t.Fatalf("want aggregate, plain large record, aggregate; got %d records", len(emitted))
	}
	if emitted[1].ExplicitHashKey != "" || emitted[1].PartitionKey != "a" {
		t.Errorf("the plain record was rerouted: %q %q", emitted[1].PartitionKey, emitted[1].ExplicitHashKey)
	}

	t.Run("magic prefix", func(t *testing.T) {
		r := Record{PartitionKey: "a", Data: append(Magic[:], make([]byte, DefaultMaxAggregateBytes)...)}
		if err := s.Add(r, collect(&emitted)); !errors.Is(err, ErrRecordTooLarge) {
			t.Fatalf("a large record that looks like an aggregate: %v, want ErrRecordTooLarge", err)
		}
		// Small enough to aggregate: wrapped, so it reads back intact.
		r.Data = r.Data[:100]
		emitted = emitted[:0]
		if err := s.Add(r, collect(&emitted)); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(collect(&emitted)); err != nil {
			t.Fatal(err)
		}
		us := readAll(t, emitted, DefaultMaxAggregateBytes)
		if len(us) != 1 || len(us[0]) != 1 || !bytes.Equal(us[0][0].Data, r.Data) {
			t.Fatal("a small record starting with the magic bytes did not round-trip")
		}
	})
	t.Run("invalid", func(t *testing.T) {
		emitted = emitted[:0]
		for _, r := range []Record{{Data: []byte("no key")}, {PartitionKey: "a", Data: make([]byte, 1<<20)}} {
			var le *LimitError
			if err := s.Add(r, collect(&emitted)); !errors.As(err, &le) {
				t.Fatalf("Add: %v, want a *LimitError", err)
			}
		}
		if len(emitted) != 0 || s.Len() != 0 {
			t.Fatal("an invalid record was emitted or buffered")
		}
	})
}

func TestShardAggregatorEmitError(t *testing.T) {
	s, err := NewShardAggregator(nil, WithMaxAggregateRecords(2))
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	fail := func(Record) error { return boom }
	var emitted []Record
	recs := []Record{{PartitionKey: "a", Data: []byte("1")}, {PartitionKey: "a", Data: []byte("2")}, {PartitionKey: "a", Data: []byte("3")}}
	for _, r := range recs[:2] {
		if err := s.Add(r, fail); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Add(recs[2], fail); !errors.Is(err, boom) {
		t.Fatalf("Add: %v, want the emit error", err)
	}
	if s.Len() != 2 {
		t.Fatalf("Len = %d after a failed emit, want 2 (nothing lost, the new record not added)", s.Len())
	}
	if err := s.Flush(fail); !errors.Is(err, boom) || s.Len() != 2 {
		t.Fatalf("Flush: %v, Len %d", err, s.Len())
	}
	if err := s.Add(recs[2], collect(&emitted)); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(collect(&emitted)); err != nil {
		t.Fatal(err)
	}
	checkOrder(t, recs, readAll(t, emitted, DefaultMaxAggregateBytes))
}

func TestShardAggregatorSteadyStateDoesNotAllocate(t *testing.T) {
	m, _ := NewShardMap(evenShards(t, 8))
	in := numbered(rand.New(rand.NewPCG(3, 3)), 2000, 300, 100)
	for name, m := range map[string]*ShardMap{"by shard": m, "by key": nil} {
		t.Run(name, func(t *testing.T) {
			s, err := NewShardAggregator(m)
			if err != nil {
				t.Fatal(err)
			}
			discard := func(Record) error { return nil }
			run := func() {
				for _, r := range in {
					if err := s.Add(r, discard); err != nil {
						t.Fatal(err)
					}
				}
				if err := s.Flush(discard); err != nil {
					t.Fatal(err)
				}
			}
			run()
			if n := testing.AllocsPerRun(10, run); n != 0 {
				t.Fatalf("%v allocations per %d records", n, len(in))
			}
		})
	}
}
