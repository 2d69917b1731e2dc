package kinesis

import (
	"testing"
	"time"
)

// TestStartTimePositionsSortBeforeSequenceNumbers: start times compare by
// time, behind every sequence number and every ended checkpoint, in
// Checkpoint.Compare.
func TestStartTimePositionsSortBeforeSequenceNumbers(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ordered := []Checkpoint{
		{Timestamp: t0},
		{Timestamp: t0.Add(time.Millisecond)},
		{Timestamp: t0.Add(time.Hour * 24 * 365 * 100)},
		{SequenceNumber: "0"},
		{SequenceNumber: seqA},
		{ShardEnded: true, Timestamp: t0},
	}
	for i, a := range ordered {
		if err := a.Validate(); err != nil {
			t.Errorf("Validate(%s): %v", a.String(), err)
		}
		for j, b := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := a.Compare(b); got != want {
				t.Errorf("%s.Compare(%s) = %d, want %d", a.String(), b.String(), got, want)
			}
		}
	}
	if got, want := (Checkpoint{Timestamp: t0}).String(), "from 2026-01-02T03:04:05Z"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}
