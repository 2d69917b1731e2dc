package main

import (
	"crypto/md5"
	"encoding/binary"
	"errors"
	"testing"
)

// withMD5 frames a protobuf body as a KPL aggregate with a correct MD5.
func withMD5(pb []byte) []byte {
	sum := md5.Sum(pb)
	out := append([]byte{0xF3, 0x89, 0x9A, 0xC2}, pb...)
	return append(out, sum[:]...)
}

func TestDeaggregate(t *testing.T) {
	t.Parallel()
	pkTable := []byte{1<<3 | 2, 1, 'k'}
	rec := func(idx uint64, data string) []byte {
		var r []byte
		r = binary.AppendUvarint(r, 1<<3)
		r = binary.AppendUvarint(r, idx)
		r = binary.AppendUvarint(r, 3<<3|2)
		r = binary.AppendUvarint(r, uint64(len(data)))
		r = append(r, data...)
		out := binary.AppendUvarint(nil, 3<<3|2)
		out = binary.AppendUvarint(out, uint64(len(r)))
		return append(out, r...)
	}
	tests := []struct {
		name   string
		reason string
		data   []byte
		want   []string // user record data; nil with wantErr
		err    bool
	}{
		{"plain", "no magic bytes: one user record", []byte(`{"id":"a"}`), []string{`{"id":"a"}`}, false},
		{"empty", "an empty record is one empty user record", []byte{}, []string{""}, false},
		{"aggregate", "records in order with their sub-sequence numbers", aggregate("x", "yy", "zzz"), []string{"x", "yy", "zzz"}, false},
		{"too short", "magic without an MD5", []byte{0xF3, 0x89, 0x9A, 0xC2, 1, 2}, nil, true},
		{"bad md5", "a corrupted aggregate is not data", append(aggregate("x")[:len(aggregate("x"))-1], 0), nil, true},
		{"key out of range", "index beyond the partition key table", withMD5(append(append([]byte{}, pkTable...), rec(3, "x")...)), nil, true},
		{"truncated protobuf", "length beyond the message", withMD5([]byte{3<<3 | 2, 50, 1}), nil, true},
		{"record without data", "a record lacking its data field", withMD5(append(append([]byte{}, pkTable...), 3<<3|2, 2, 1<<3, 0)), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			urs, err := deaggregate("123", "pk", tt.data)
			if tt.err {
				var de *deaggregationError
				if !errors.As(err, &de) || de.SequenceNumber != "123" {
					t.Fatalf("err = %v, want a *deaggregationError for sequence 123 (%s)", err, tt.reason)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v (%s)", err, tt.reason)
			}
			if len(urs) != len(tt.want) {
				t.Fatalf("%d user records, want %d (%s)", len(urs), len(tt.want), tt.reason)
			}
			for i, u := range urs {
				if string(u.Data) != tt.want[i] || u.SubSequenceNumber != uint64(i) || u.PartitionKey == "" {
					t.Errorf("user record %d = %+v, want data %q, sub %d (%s)", i, u, tt.want[i], i, tt.reason)
				}
			}
		})
	}
}
