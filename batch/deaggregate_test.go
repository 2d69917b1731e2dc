package batch

import (
	"bytes"
	"crypto/md5"
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// seal wraps a protobuf message into an aggregate with a correct MD5.
func seal(msg []byte) []byte {
	sum := md5.Sum(msg)
	return append(append(append([]byte{}, Magic[:]...), msg...), sum[:]...)
}

// pbRecord encodes a KPL Record message; negative indexes are omitted, nil
// data is omitted.
func pbRecord(pk, ehk int, data []byte) []byte {
	var b []byte
	if pk >= 0 {
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(pk))
	}
	if ehk >= 0 {
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(ehk))
	}
	if data != nil {
		b = protowire.AppendTag(b, 3, protowire.BytesType)
		b = protowire.AppendBytes(b, data)
	}
	return b
}

func field(num protowire.Number, v []byte) []byte {
	b := protowire.AppendTag(nil, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestDeaggregatePlain(t *testing.T) {
	for _, data := range [][]byte{nil, {}, []byte("abc"), {0xF3, 0x89, 0x9A}, []byte(`{"id":"x"}`)} {
		r := KinesisRecord{SequenceNumber: "9", PartitionKey: "pk", ExplicitHashKey: "7", Data: data}
		got, err := Deaggregate(r)
		if err != nil {
			t.Fatal(err)
		}
		want := UserRecord{SequenceNumber: "9", PartitionKey: "pk", ExplicitHashKey: "7", Data: data}
		if len(got) != 1 || got[0].SequenceNumber != want.SequenceNumber || got[0].PartitionKey != "pk" ||
			got[0].ExplicitHashKey != "7" || !bytes.Equal(got[0].Data, data) || got[0].Aggregated || got[0].SubSequenceNumber != 0 {
			t.Fatalf("Deaggregate(%q) = %+v", data, got)
		}
	}
}

func TestDeaggregateValidVariants(t *testing.T) {
	tests := []struct {
		name   string
		reason string
		msg    []byte
		want   []UserRecord
	}{
		{name: "tables after records", reason: "protobuf fields may come in any order",
			msg:  cat(field(3, pbRecord(0, 0, []byte("d"))), field(1, []byte("p")), field(2, []byte("12"))),
			want: []UserRecord{{PartitionKey: "p", ExplicitHashKey: "12", Data: []byte("d")}}},
		{name: "tags and unknown fields skipped", reason: "the KPL's Record has tags (field 4)",
			msg: cat(field(1, []byte("p")), field(3, cat(pbRecord(0, -1, []byte("d")), field(4, cat(field(1, []byte("k")), field(2, []byte("v")))))),
				protowire.AppendVarint(protowire.AppendTag(nil, 9, protowire.VarintType), 5)),
			want: []UserRecord{{PartitionKey: "p", Data: []byte("d")}}},
		{name: "empty data", reason: "data is present but empty",
			msg:  cat(field(1, []byte("p")), field(3, pbRecord(0, -1, []byte{}))),
			want: []UserRecord{{PartitionKey: "p", Data: []byte{}}}},
		{name: "unused table entries", msg: cat(field(1, []byte("p")), field(1, []byte("q")), field(3, pbRecord(1, -1, []byte("x")))),
			want: []UserRecord{{PartitionKey: "q", Data: []byte("x")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Deaggregate(KinesisRecord{SequenceNumber: "1", PartitionKey: "outer", Data: seal(tt.msg)})
			if err != nil {
				t.Fatalf("%v (%s)", err, tt.reason)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d records, want %d", len(got), len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if g.PartitionKey != w.PartitionKey || g.ExplicitHashKey != w.ExplicitHashKey || !bytes.Equal(g.Data, w.Data) || !g.Aggregated || g.SubSequenceNumber != uint64(i) {
					t.Errorf("record %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestDeaggregateErrors(t *testing.T) {
	good := mustAggregator(t)
	for _, r := range []Record{{PartitionKey: "a", Data: []byte("one")}, {PartitionKey: "b", ExplicitHashKey: "9", Data: []byte("two")}} {
		if err := good.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	valid := bytes.Clone(good.Build().Data)
	flip := func(b []byte, i int) []byte { b = bytes.Clone(b); b[i] ^= 1; return b }
	tests := []struct {
		name   string
		data   []byte
		reason string // substring of DeaggregationError.Reason
	}{
		{name: "magic only", data: Magic[:], reason: "truncated"},
		{name: "shorter than the MD5", data: append(Magic[:], make([]byte, 15)...), reason: "truncated"},
		{name: "bad MD5", data: flip(valid, len(valid)-1), reason: "md5 mismatch"},
		{name: "corrupted body", data: flip(valid, 6), reason: "md5 mismatch"},
		{name: "truncated", data: valid[:len(valid)-1], reason: "md5 mismatch"},
		{name: "empty protobuf", data: seal(nil), reason: "no user records"},
		{name: "truncated tag", data: seal([]byte{0x80}), reason: "malformed protobuf"},
		{name: "truncated record", data: seal(cat(field(1, []byte("p")), []byte{0x1a, 0x05, 0x08, 0x00})), reason: "malformed protobuf"},
		{name: "table entry as varint", data: seal(cat([]byte{0x08, 0x01}, field(3, pbRecord(0, -1, []byte("x"))))), reason: "wire type"},
		{name: "partition key index out of range", data: seal(cat(field(1, []byte("p")), field(3, pbRecord(1, -1, []byte("x"))))), reason: "partition key index 1 out of range"},
		{name: "no partition key table", data: seal(field(3, pbRecord(0, -1, []byte("x")))), reason: "partition key index 0 out of range"},
		{name: "hash key index out of range", data: seal(cat(field(1, []byte("p")), field(3, pbRecord(0, 0, []byte("x"))))), reason: "explicit hash key index 0 out of range"},
		{name: "missing data", data: seal(cat(field(1, []byte("p")), field(3, pbRecord(0, -1, nil)))), reason: "record 0: no data"},
		{name: "missing partition key index", data: seal(cat(field(1, []byte("p")), field(3, pbRecord(0, -1, []byte("x"))), field(3, pbRecord(-1, -1, []byte("y"))))), reason: "record 1: no partition key index"},
		{name: "data as varint", data: seal(cat(field(1, []byte("p")), field(3, []byte{0x08, 0x00, 0x18, 0x01}))), reason: "data is not length-delimited"},
		{name: "bad record field", data: seal(cat(field(1, []byte("p")), field(3, []byte{0x08, 0x00, 0x1a, 0x01, 0x01, 0x07}))), reason: "malformed protobuf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := KinesisRecord{SequenceNumber: "4960", PartitionKey: "outer", Data: tt.data}
			check := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, ErrBadAggregate) {
					t.Fatalf("%s: %v, want ErrBadAggregate", what, err)
				}
				var de *DeaggregationError
				if !errors.As(err, &de) || de.SequenceNumber != "4960" || de.PartitionKey != "outer" || !strings.Contains(de.Reason, tt.reason) {
					t.Fatalf("%s: %#v, want sequence number 4960 and reason %q", what, err, tt.reason)
				}
				if !strings.HasPrefix(err.Error(), "batch: record 4960") {
					t.Errorf("message %q", err)
				}
			}
			got, err := Deaggregate(r)
			check("Deaggregate", err)
			if got != nil {
				t.Errorf("Deaggregate returned %d records with the error", len(got))
			}
			dst := []UserRecord{{PartitionKey: "kept"}}
			dst, err = AppendDeaggregated(dst, r)
			check("AppendDeaggregated", err)
			if len(dst) != 1 || dst[0].PartitionKey != "kept" {
				t.Errorf("AppendDeaggregated changed dst: %+v", dst)
			}
			calls := 0
			err = DeaggregateFunc(r, func(UserRecord) error { calls++; return nil })
			check("DeaggregateFunc", err)
			if calls != 0 {
				t.Errorf("DeaggregateFunc delivered %d records of a bad aggregate", calls)
			}
		})
	}
}

func TestDeaggregateFunc(t *testing.T) {
	a := mustAggregator(t)
	want := []Record{{PartitionKey: "a", Data: []byte("1")}, {PartitionKey: "b", ExplicitHashKey: "3", Data: []byte("2")}, {PartitionKey: "a", Data: []byte("3")}}
	for _, r := range want {
		if err := a.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	r := KinesisRecord{SequenceNumber: "s", Data: a.Build().Data}
	var got []UserRecord
	if err := DeaggregateFunc(r, func(u UserRecord) error {
		u.PartitionKey, u.ExplicitHashKey = strings.Clone(u.PartitionKey), strings.Clone(u.ExplicitHashKey)
		got = append(got, u)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	checkUserRecords(t, got, want, "s")

	stop := errors.New("stop")
	calls := 0
	if err := DeaggregateFunc(r, func(UserRecord) error { calls++; return stop }); err != stop || calls != 1 {
		t.Fatalf("fn's error: %v after %d calls", err, calls)
	}
	// Its scratch space is pooled, and the race detector empties pools at
	// random; BenchmarkKPL reports the allocations under -race too.
	if n := testing.AllocsPerRun(100, func() {
		_ = DeaggregateFunc(r, func(UserRecord) error { return nil })
	}); n != 0 && !raceEnabled {
		t.Errorf("DeaggregateFunc allocates %v times", n)
	}
	buf := make([]UserRecord, 0, 8)
	plainRec := KinesisRecord{Data: []byte("plain")}
	if n := testing.AllocsPerRun(100, func() {
		buf, _ = AppendDeaggregated(buf[:0], plainRec)
	}); n != 0 {
		t.Errorf("AppendDeaggregated of a plain record allocates %v times", n)
	}
}
