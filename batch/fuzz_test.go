package batch

import (
	"bytes"
	"crypto/md5"
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// fuzzSeedAggregates returns valid aggregates and near misses as seeds.
func fuzzSeedAggregates(f *testing.F) [][]byte {
	f.Helper()
	a, err := NewAggregator()
	if err != nil {
		f.Fatal(err)
	}
	for _, r := range []Record{
		{PartitionKey: "a", Data: []byte("hi")},
		{PartitionKey: "b", ExplicitHashKey: "5", Data: []byte{}},
		{PartitionKey: "a", Data: []byte("x")},
		{PartitionKey: "ü-ключ", ExplicitHashKey: MaxHashKey.String(), Data: []byte{0xF3, 0x89, 0x9A, 0xC2}},
	} {
		if err := a.Add(r); err != nil {
			f.Fatal(err)
		}
	}
	good := bytes.Clone(a.Build().Data)
	badMD5 := bytes.Clone(good)
	badMD5[len(badMD5)-1] ^= 1
	// A well-formed protobuf whose record points past the key table,
	// with a correct MD5.
	msg := protowire.AppendTag(nil, fieldPartitionKeyTable, protowire.BytesType)
	msg = protowire.AppendString(msg, "k")
	rec := protowire.AppendTag(nil, fieldPartitionKeyIndex, protowire.VarintType)
	rec = protowire.AppendVarint(rec, 3)
	rec = protowire.AppendTag(rec, fieldData, protowire.BytesType)
	rec = protowire.AppendBytes(rec, []byte("d"))
	msg = protowire.AppendTag(msg, fieldRecords, protowire.BytesType)
	msg = protowire.AppendBytes(msg, rec)
	sum := md5.Sum(msg)
	outOfRange := append(append(Magic[:], msg...), sum[:]...)
	return [][]byte{
		good, badMD5, outOfRange,
		good[:len(good)/2],
		Magic[:],
		[]byte("plain data"),
		{},
	}
}

// FuzzDeaggregate feeds arbitrary data (or, with wrap, an arbitrary
// protobuf with magic and a valid MD5) to the deaggregator. It must never
// panic; an error is always a *DeaggregationError for data with the magic
// bytes; plain data is one user record; [Deaggregate] and
// [DeaggregateFunc] agree; and the user records of a valid aggregate
// aggregate again into an aggregate that deaggregates to the same records.
func FuzzDeaggregate(f *testing.F) {
	for _, s := range fuzzSeedAggregates(f) {
		f.Add(s, false)
		if IsAggregate(s) && len(s) >= len(Magic)+md5.Size {
			f.Add(s[len(Magic):len(s)-md5.Size], true)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, wrap bool) {
		if wrap {
			// Treat data as the protobuf and give it a valid MD5, so the
			// fuzzer explores the parser rather than the checksum.
			sum := md5.Sum(data)
			data = append(append(Magic[:], data...), sum[:]...)
		}
		r := KinesisRecord{SequenceNumber: "49590338271490256608559692538361571095921575989136588898", PartitionKey: "outer", Data: data}
		got, err := Deaggregate(r)
		var viaFunc []UserRecord
		errFunc := DeaggregateFunc(r, func(u UserRecord) error {
			u.PartitionKey, u.ExplicitHashKey = strings.Clone(u.PartitionKey), strings.Clone(u.ExplicitHashKey)
			viaFunc = append(viaFunc, u)
			return nil
		})
		if err != nil {
			var de *DeaggregationError
			if !errors.As(err, &de) || !errors.Is(err, ErrBadAggregate) {
				t.Fatalf("error %v (%T) is not a *DeaggregationError matching ErrBadAggregate", err, err)
			}
			if de.SequenceNumber != r.SequenceNumber || de.Reason == "" {
				t.Fatalf("error %+v lacks the sequence number or a reason", de)
			}
			if !IsAggregate(data) {
				t.Fatalf("plain data rejected: %v", err)
			}
			if got != nil {
				t.Fatalf("records returned with error: %+v", got)
			}
			if errFunc == nil || errFunc.Error() != err.Error() || len(viaFunc) != 0 {
				t.Fatalf("DeaggregateFunc: %v after %d records; Deaggregate: %v", errFunc, len(viaFunc), err)
			}
			return
		}
		if errFunc != nil {
			t.Fatalf("DeaggregateFunc: %v; Deaggregate succeeded", errFunc)
		}
		if !IsAggregate(data) {
			if len(got) != 1 || !bytes.Equal(got[0].Data, data) || got[0].Aggregated || got[0].PartitionKey != r.PartitionKey {
				t.Fatalf("plain record deaggregated to %+v", got)
			}
			return
		}
		if len(got) == 0 {
			t.Fatal("valid aggregate without user records")
		}
		if len(viaFunc) != len(got) {
			t.Fatalf("DeaggregateFunc: %d records, Deaggregate %d", len(viaFunc), len(got))
		}
		want := make([]Record, len(got))
		for i, u := range got {
			if v := viaFunc[i]; v.PartitionKey != u.PartitionKey || v.ExplicitHashKey != u.ExplicitHashKey ||
				!bytes.Equal(v.Data, u.Data) || v.SubSequenceNumber != u.SubSequenceNumber {
				t.Fatalf("record %d: DeaggregateFunc %+v, Deaggregate %+v", i, v, u)
			}
			if u.SubSequenceNumber != uint64(i) || !u.Aggregated || u.SequenceNumber != r.SequenceNumber {
				t.Fatalf("record %d: %+v", i, u)
			}
			want[i] = Record{PartitionKey: u.PartitionKey, ExplicitHashKey: u.ExplicitHashKey, Data: u.Data}
		}
		// Aggregate them again. Other writers may put keys in an aggregate
		// that Kinesis itself would reject (empty, too long, not decimal);
		// ours refuses those with a *LimitError, which is consistent too.
		a, err := NewAggregator(WithMaxAggregateBytes(LargeMaxRecordBytes), WithRecordLimits(LargeRecordLimits()), WithMaxAggregateRecords(len(want)))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if err := a.Add(w); err != nil {
				var le *LimitError
				if !errors.As(err, &le) || (!errors.Is(err, ErrInvalidPartitionKey) && !errors.Is(err, ErrInvalidExplicitHashKey)) {
					t.Fatalf("re-aggregating %+v: %v", w, err)
				}
				if validateKeys(w) == nil {
					t.Fatalf("re-aggregating %+v: %v, but its keys are valid", w, err)
				}
				return
			}
		}
		again, err := Deaggregate(KinesisRecord{SequenceNumber: "2", Data: a.Build().Data})
		if err != nil {
			t.Fatalf("re-aggregated records do not deaggregate: %v", err)
		}
		checkUserRecords(t, again, want, "2")
	})
}

// fuzzRecords decodes a list of user records from b: per record one header
// byte (partition key length 1..16, whether it has an explicit hash key),
// one data length byte, the key bytes (made valid UTF-8), 16 bytes of hash
// key if any, and the data.
func fuzzRecords(b []byte) []Record {
	var rs []Record
	take := func(n int) []byte {
		n = min(n, len(b))
		v := b[:n]
		b = b[n:]
		return v
	}
	for len(b) >= 2 {
		h, dl := b[0], int(b[1])*int(b[1]%8+1)
		b = b[2:]
		r := Record{PartitionKey: strings.ToValidUTF8(string(take(1+int(h&15))), "?")}
		if r.PartitionKey == "" {
			r.PartitionKey = "k"
		}
		if h&16 != 0 {
			var k [16]byte
			copy(k[:], take(16))
			r.ExplicitHashKey = HashKeyFromBytes(k).String()
		}
		r.Data = take(dl)
		rs = append(rs, r)
	}
	return rs
}

// FuzzAggregateRoundTrip aggregates arbitrary user records under arbitrary
// size and count limits: every aggregate respects them and its Size is
// exact, and deaggregating the aggregates gives back every record, in
// order, with its own keys. The same records through a ShardAggregator come
// back complete, each in an aggregate routed to its own shard.
func FuzzAggregateRoundTrip(f *testing.F) {
	f.Add([]byte("\x03\x05abcdhello\x12\x00k1\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"), uint16(0), uint8(0))
	f.Add(bytes.Repeat([]byte("\x01\xffxy"), 40), uint16(300), uint8(3))
	f.Add([]byte("\x00\x04a\xF3\x89\x9A\xC2"), uint16(1), uint8(1))
	f.Fuzz(func(t *testing.T, b []byte, maxBytes uint16, maxRecords uint8) {
		recs := fuzzRecords(b)
		limit := 64 + int(maxBytes)
		a, err := NewAggregator(WithMaxAggregateBytes(limit), WithMaxAggregateRecords(1+int(maxRecords)))
		if err != nil {
			t.Fatal(err)
		}
		var pending []Record
		flush := func() {
			if a.Len() == 0 {
				return
			}
			built := a.Build()
			if n := len(built.Data) + len(built.PartitionKey); n != a.Size() || n > limit {
				t.Fatalf("aggregate of %d bytes, Size %d, limit %d", n, a.Size(), limit)
			}
			if a.Len() > 1+int(maxRecords) {
				t.Fatalf("aggregate of %d records, limit %d", a.Len(), 1+int(maxRecords))
			}
			got, err := Deaggregate(KinesisRecord{SequenceNumber: "s", Data: built.Data})
			if err != nil {
				t.Fatal(err)
			}
			checkUserRecords(t, got, pending, "s")
			pending = pending[:0]
			a.Reset()
		}
		for _, r := range recs {
			if !a.WouldFit(r) {
				flush()
			}
			if !a.WouldFit(r) {
				if err := a.Add(r); !errors.Is(err, ErrAggregateFull) {
					t.Fatalf("Add of a record that does not fit an empty aggregate: %v", err)
				}
				continue
			}
			if err := a.Add(r); err != nil {
				t.Fatalf("Add(%+v) after WouldFit: %v", r, err)
			}
			pending = append(pending, r)
		}
		flush()

		// Per shard, over four shards with a gap: each emitted aggregate
		// holds records of one shard and is routed to it.
		m, err := NewShardMap([]ShardRange{
			{ShardID: "0", StartingHashKey: HashKey{}, EndingHashKey: HashKey{Hi: 1 << 62}},
			{ShardID: "1", StartingHashKey: HashKey{Hi: 1 << 62, Lo: 1}, EndingHashKey: HashKey{Hi: 1 << 63}},
			{ShardID: "2", StartingHashKey: HashKey{Hi: 3 << 62}, EndingHashKey: MaxHashKey},
		})
		if err != nil {
			t.Fatal(err)
		}
		sa, err := NewShardAggregator(m, WithMaxAggregateBytes(limit), WithMaxAggregateRecords(1+int(maxRecords)))
		if err != nil {
			t.Fatal(err)
		}
		var out, accepted []Record
		emit := func(r Record) error {
			if r.Size() > DefaultMaxRecordBytes {
				t.Fatalf("emitted %d bytes", r.Size())
			}
			route, err := RecordHashKey(r)
			if err != nil {
				t.Fatalf("emitted record with keys %q, %q: %v", r.PartitionKey, r.ExplicitHashKey, err)
			}
			users, err := Deaggregate(KinesisRecord{SequenceNumber: "s", PartitionKey: r.PartitionKey, ExplicitHashKey: r.ExplicitHashKey, Data: r.Data})
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range users {
				h, err := RecordHashKey(Record{PartitionKey: u.PartitionKey, ExplicitHashKey: u.ExplicitHashKey})
				if err != nil {
					t.Fatal(err)
				}
				if i := m.Index(h); i >= 0 && i != m.Index(route) {
					t.Fatalf("user record of shard %d in an aggregate routed to shard %d", i, m.Index(route))
				}
				if m.Index(h) < 0 && route != h {
					t.Fatalf("user record with hash key %s outside every shard in an aggregate routed by %s", h, route)
				}
				out = append(out, Record{PartitionKey: u.PartitionKey, ExplicitHashKey: u.ExplicitHashKey, Data: bytes.Clone(u.Data)})
			}
			return nil
		}
		for _, r := range recs {
			if err := sa.Add(r, emit); err != nil {
				if !errors.Is(err, ErrRecordTooLarge) || !IsAggregate(r.Data) {
					t.Fatalf("ShardAggregator.Add(%+v): %v", r, err)
				}
				// Refused, not dropped: the caller was told.
				continue
			}
			accepted = append(accepted, r)
		}
		if err := sa.Flush(emit); err != nil {
			t.Fatal(err)
		}
		if sa.Len() != 0 {
			t.Fatalf("%d records left after Flush", sa.Len())
		}
		// Same multiset, and per (partition key, hash key) the same order.
		type key struct{ pk, ehk string }
		byKey := func(rs []Record) map[key][]string {
			g := map[key][]string{}
			for _, r := range rs {
				k := key{r.PartitionKey, r.ExplicitHashKey}
				g[k] = append(g[k], string(r.Data))
			}
			return g
		}
		want, got := byKey(accepted), byKey(out)
		if len(out) != len(accepted) || len(want) != len(got) {
			t.Fatalf("%d records (%d keys) in, %d (%d keys) out", len(accepted), len(want), len(out), len(got))
		}
		for k, w := range want {
			if g := got[k]; strings.Join(g, "\x00|") != strings.Join(w, "\x00|") {
				t.Fatalf("key %+v: records %q, want %q", k, g, w)
			}
		}
	})
}
