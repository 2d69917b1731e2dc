package kinesis

import (
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// A realistic 56-digit sequence number and neighbours beyond int64/uint64.
const (
	seqA = "49590338271490256608559692538361571095921575989136588898"
	seqB = "49590338271490256608559692538361571095921575989136588899"
	seqC = "49590338271490256608559692540361571095921575989136588898"
)

func TestCheckpointCompareOrdersPositions(t *testing.T) {
	t.Parallel()
	max129 := strings.Repeat("9", 129)
	tests := []struct {
		name   string
		reason string
		a, b   Checkpoint
		want   int
	}{
		{"equal", "same sequence and sub-sequence is the same position",
			Checkpoint{SequenceNumber: seqA, SubSequenceNumber: 2}, Checkpoint{SequenceNumber: seqA, SubSequenceNumber: 2}, 0},
		{"last digit", "56-digit numbers differing in the last digit",
			Checkpoint{SequenceNumber: seqA}, Checkpoint{SequenceNumber: seqB}, -1},
		{"middle digit", "lexicographic order within equal length",
			Checkpoint{SequenceNumber: seqC}, Checkpoint{SequenceNumber: seqB}, 1},
		{"shorter is smaller", "9 < 10 although '9' > '1' lexicographically",
			Checkpoint{SequenceNumber: "9"}, Checkpoint{SequenceNumber: "10"}, -1},
		{"longer is larger", "length decides before digits",
			Checkpoint{SequenceNumber: "100000000000000000000"}, Checkpoint{SequenceNumber: "99999999999999999999"}, 1},
		{"zero", "0 is the smallest sequence number",
			Checkpoint{SequenceNumber: "0"}, Checkpoint{SequenceNumber: "1"}, -1},
		{"sub-sequence", "same record, later user record of the aggregate",
			Checkpoint{SequenceNumber: seqA, SubSequenceNumber: 3}, Checkpoint{SequenceNumber: seqA, SubSequenceNumber: 2}, 1},
		{"sequence beats sub-sequence", "a later record is ahead of any user record of an earlier one",
			Checkpoint{SequenceNumber: seqA, SubSequenceNumber: 1 << 60}, Checkpoint{SequenceNumber: seqB}, -1},
		{"max sub-sequence", "uint64 sub-sequence numbers do not overflow",
			Checkpoint{SequenceNumber: seqA, SubSequenceNumber: ^uint64(0)}, Checkpoint{SequenceNumber: seqA, SubSequenceNumber: ^uint64(0) - 1}, 1},
		{"ended beats everything", "an ended shard is past its last record",
			Checkpoint{SequenceNumber: "1", ShardEnded: true}, Checkpoint{SequenceNumber: max129, SubSequenceNumber: ^uint64(0)}, 1},
		{"behind ended", "mirror of the above",
			Checkpoint{SequenceNumber: max129}, Checkpoint{ShardEnded: true}, -1},
		{"ended equals ended", "all ended checkpoints of a shard are one position",
			Checkpoint{SequenceNumber: seqA, ShardEnded: true}, Checkpoint{SequenceNumber: seqB, SubSequenceNumber: 4, ShardEnded: true}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.a.Compare(tt.b); got != tt.want {
				t.Errorf("%v.Compare(%v) = %d, want %d (%s)", tt.a, tt.b, got, tt.want, tt.reason)
			}
			if got := tt.b.Compare(tt.a); got != -tt.want {
				t.Errorf("%v.Compare(%v) = %d, want %d (antisymmetry; %s)", tt.b, tt.a, got, -tt.want, tt.reason)
			}
		})
	}
}

func TestCheckpointValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		reason string
		cp     Checkpoint
		ok     bool
	}{
		{"plain", "a sequence number as Kinesis returns it", Checkpoint{SequenceNumber: seqA}, true},
		{"zero", "0 is canonical", Checkpoint{SequenceNumber: "0"}, true},
		{"max length", "129 digits is the API maximum", Checkpoint{SequenceNumber: "1" + strings.Repeat("0", 128)}, true},
		{"too long", "130 digits exceeds the API pattern", Checkpoint{SequenceNumber: "1" + strings.Repeat("0", 129)}, false},
		{"empty", "nothing processed is not a checkpoint", Checkpoint{}, false},
		{"leading zero", "would break length-first ordering", Checkpoint{SequenceNumber: "0123"}, false},
		{"sign", "sequence numbers are unsigned", Checkpoint{SequenceNumber: "-1"}, false},
		{"letters", "not decimal", Checkpoint{SequenceNumber: "12a"}, false},
		{"ended without records", "a shard may end without ever holding a record", Checkpoint{ShardEnded: true}, true},
		{"ended after record", "normal end of a shard", Checkpoint{SequenceNumber: seqA, SubSequenceNumber: 1, ShardEnded: true}, true},
		{"ended bad sequence", "a given sequence number must still be valid", Checkpoint{SequenceNumber: "x", ShardEnded: true}, false},
		{"ended sub-sequence only", "a sub-sequence number needs its record", Checkpoint{SubSequenceNumber: 1, ShardEnded: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cp.Validate()
			if (err == nil) != tt.ok {
				t.Errorf("Validate(%+v) = %v, want ok=%v (%s)", tt.cp, err, tt.ok, tt.reason)
			}
		})
	}
}

func TestCheckpointStringNamesThePosition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cp   Checkpoint
		want string
	}{
		{"plain", Checkpoint{SequenceNumber: "42"}, "42/0"},
		{"sub", Checkpoint{SequenceNumber: "42", SubSequenceNumber: 7}, "42/7"},
		{"ended", Checkpoint{SequenceNumber: "42", ShardEnded: true}, "shard end (after 42/0)"},
		{"ended empty", Checkpoint{ShardEnded: true}, "shard end"},
	}
	for _, tt := range tests {
		if got := tt.cp.String(); got != tt.want {
			t.Errorf("%s: String = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// randomCheckpoint returns a valid checkpoint from a small space, so that
// random pairs are often equal or adjacent.
func randomCheckpoint(r *rand.Rand) Checkpoint {
	if r.IntN(20) == 0 {
		return Checkpoint{ShardEnded: true, SequenceNumber: strconv.Itoa(r.IntN(5) + 1)}
	}
	var seq string
	switch r.IntN(3) {
	case 0:
		seq = strconv.Itoa(r.IntN(12))
	case 1:
		seq = seqA[:len(seqA)-1] + strconv.Itoa(r.IntN(10))
	default:
		seq = "1" + strings.Repeat("0", r.IntN(128))
	}
	return Checkpoint{SequenceNumber: seq, SubSequenceNumber: uint64(r.IntN(3))}
}

// TestCheckpointCompareMatchesBigInt checks Checkpoint.Compare against an
// independent model: math/big numbers.
func TestCheckpointCompareMatchesBigInt(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		a, b := randomCheckpoint(r), randomCheckpoint(r)
		want := modelCompare(t, a, b)
		if got := a.Compare(b); got != want {
			t.Fatalf("%+v.Compare(%+v) = %d, model says %d", a, b, got, want)
		}
	}
}

func modelCompare(t testing.TB, a, b Checkpoint) int {
	t.Helper()
	if a.ShardEnded || b.ShardEnded {
		switch {
		case a.ShardEnded && b.ShardEnded:
			return 0
		case a.ShardEnded:
			return 1
		default:
			return -1
		}
	}
	x, ok1 := new(big.Int).SetString(a.SequenceNumber, 10)
	y, ok2 := new(big.Int).SetString(b.SequenceNumber, 10)
	if !ok1 || !ok2 {
		t.Fatalf("model: bad numbers %q %q", a.SequenceNumber, b.SequenceNumber)
	}
	if c := x.Cmp(y); c != 0 {
		return c
	}
	switch {
	case a.SubSequenceNumber < b.SubSequenceNumber:
		return -1
	case a.SubSequenceNumber > b.SubSequenceNumber:
		return 1
	}
	return 0
}
