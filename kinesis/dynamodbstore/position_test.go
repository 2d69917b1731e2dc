package dynamodbstore

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rtdskit/rtds/kinesis"
)

func TestSortablePositionIsTheDocumentedEncoding(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		cp   kinesis.Checkpoint
		want string
	}{
		{kinesis.Checkpoint{SequenceNumber: "12345", SubSequenceNumber: 7}, "1005" + "12345" + "00000000000000000007"},
		{kinesis.Checkpoint{SequenceNumber: "0"}, "1001" + "0" + "00000000000000000000"},
		{kinesis.Checkpoint{SequenceNumber: "12345", ShardEnded: true}, "2"},
		{kinesis.Checkpoint{ShardEnded: true}, "2"},
		{kinesis.Checkpoint{Timestamp: time.Unix(0, 1767323045006000000)}, "0" + "01767323045006000000"},
	} {
		if got := sortablePosition(tt.cp); got != tt.want {
			t.Errorf("sortablePosition(%+v) = %q, want %q", tt.cp, got, tt.want)
		}
	}
}

// Start times sort by time, behind every sequence number and every ended
// checkpoint, as in kinesis.Checkpoint.Compare.
func TestSortablePositionOrdersStartTimesFirst(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ordered := []kinesis.Checkpoint{
		{Timestamp: t0},
		{Timestamp: t0.Add(time.Millisecond)},
		{Timestamp: t0.Add(time.Hour * 24 * 365 * 100)},
		{SequenceNumber: "0"},
		{SequenceNumber: "49590338271490256608559692538361571095921575989136588898"},
		{ShardEnded: true, Timestamp: t0},
	}
	keys := make([]string, len(ordered))
	for i, cp := range ordered {
		keys[i] = sortablePosition(cp)
	}
	if !slices.IsSorted(keys) {
		t.Errorf("sortable positions out of order: %q", keys)
	}
}

// FuzzSortablePosition checks that the byte order of sortablePosition (what
// DynamoDB compares in Save's condition) is the order of
// kinesis.Checkpoint.Compare for any two valid positions. The fuzzer's
// bytes are turned into canonical decimal numbers, so every input is a
// valid position.
func FuzzSortablePosition(f *testing.F) {
	const seqA = "49590338271490256608559692538361571095921575989136588898"
	f.Add([]byte(seqA), uint64(0), []byte(seqA), uint64(1), false)
	f.Add([]byte("9"), uint64(5), []byte("10"), uint64(0), false)
	f.Add([]byte("100000000000000000000"), uint64(0), []byte("99999999999999999999"), ^uint64(0), false)
	f.Add([]byte("0"), uint64(0), []byte("0"), uint64(0), true)
	f.Fuzz(func(t *testing.T, s1 []byte, sub1 uint64, s2 []byte, sub2 uint64, ended bool) {
		a := kinesis.Checkpoint{SequenceNumber: fuzzDecimal(s1), SubSequenceNumber: sub1}
		b := kinesis.Checkpoint{SequenceNumber: fuzzDecimal(s2), SubSequenceNumber: sub2, ShardEnded: ended}
		for _, cp := range []kinesis.Checkpoint{a, b} {
			if err := cp.Validate(); err != nil {
				t.Fatalf("fuzzDecimal made an invalid checkpoint: %v", err)
			}
		}
		want := a.Compare(b)
		if got := strings.Compare(sortablePosition(a), sortablePosition(b)); got != want {
			t.Fatalf("sortablePosition order of %+v, %+v = %d, Compare says %d", a, b, got, want)
		}
	})
}

// fuzzDecimal maps arbitrary bytes to a canonical decimal of 1 to 129
// digits.
func fuzzDecimal(b []byte) string {
	d := make([]byte, 0, len(b))
	for _, c := range b {
		d = append(d, '0'+c%10)
	}
	s := strings.TrimLeft(string(d), "0")
	if s == "" {
		return "0"
	}
	return s[:min(len(s), 129)]
}
