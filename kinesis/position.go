package kinesis

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Positions in a shard.
//
// A Kinesis sequence number is a decimal string of up to 129 digits (the API
// pattern is 0|([1-9]\d{0,128})), far beyond int64, so positions are
// compared as canonical decimal strings: the longer string is the larger
// number, and strings of equal length compare lexicographically. Inside one
// Kinesis record, user records of a KPL aggregate are ordered by their
// SubSequenceNumber. A checkpoint with ShardEnded set is past every record of
// its shard; all ended checkpoints of a shard are the same position.

// maxSequenceNumberDigits is the longest sequence number the Kinesis API
// allows.
const maxSequenceNumberDigits = 129

// errInvalidCheckpoint is wrapped by validateCheckpoint's errors.
var errInvalidCheckpoint = errors.New("kinesis: invalid checkpoint")

// compareSequenceNumbers compares two canonical decimal sequence numbers
// numerically and returns -1, 0 or +1. Both must have passed
// validSequenceNumber (no sign, no leading zeros except "0" itself); the empty
// string sorts before every number.
func compareSequenceNumbers(a, b string) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// comparePosition orders two checkpoints of the same shard and returns -1 if
// a is behind b, 0 if they are the same position and +1 if a is ahead of b.
// Order: sequence number (numerically), then sub-sequence number; a
// checkpoint with ShardEnded is ahead of every other, and two ended
// checkpoints are equal whatever their sequence numbers. A start time
// (Timestamp, no sequence number) is behind every sequence number; two
// start times compare by time.
func comparePosition(a, b Checkpoint) int {
	switch {
	case a.ShardEnded && b.ShardEnded:
		return 0
	case a.ShardEnded:
		return 1
	case b.ShardEnded:
		return -1
	case a.SequenceNumber == "" && b.SequenceNumber == "":
		return a.Timestamp.Compare(b.Timestamp)
	}
	if c := compareSequenceNumbers(a.SequenceNumber, b.SequenceNumber); c != 0 {
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

// validSequenceNumber reports whether s is a canonical decimal sequence
// number as Kinesis returns them.
func validSequenceNumber(s string) bool {
	if s == "" || len(s) > maxSequenceNumberDigits {
		return false
	}
	if len(s) > 1 && s[0] == '0' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validateCheckpoint checks what a store is asked to save: a canonical
// sequence number, or a start time (Timestamp) without one, or, for an
// ended shard, either or neither (a shard can end without ever holding a
// record); never both.
func validateCheckpoint(cp Checkpoint) error {
	if !cp.Timestamp.IsZero() && cp.SequenceNumber != "" {
		return fmt.Errorf("%w: both a sequence number and a start time", errInvalidCheckpoint)
	}
	if cp.SequenceNumber == "" && (cp.ShardEnded || !cp.Timestamp.IsZero()) {
		if cp.SubSequenceNumber != 0 {
			return fmt.Errorf("%w: sub-sequence number %d without a sequence number", errInvalidCheckpoint, cp.SubSequenceNumber)
		}
		if cp.Timestamp.UnixNano() < 0 && !cp.Timestamp.IsZero() {
			return fmt.Errorf("%w: start time %v before 1970", errInvalidCheckpoint, cp.Timestamp)
		}
		return nil
	}
	if !validSequenceNumber(cp.SequenceNumber) {
		return fmt.Errorf("%w: sequence number %q is not a decimal of 1 to %d digits without leading zeros",
			errInvalidCheckpoint, cp.SequenceNumber, maxSequenceNumberDigits)
	}
	return nil
}

// formatPosition renders a checkpoint for error messages and logs, for
// example "49590338271490256608559692538361571095921575989136588898/3",
// "shard end (after 4959.../0)" or "from 2026-01-02T03:04:05.006Z".
func formatPosition(cp Checkpoint) string {
	pos := cp.SequenceNumber + "/" + strconv.FormatUint(cp.SubSequenceNumber, 10)
	if cp.SequenceNumber == "" && !cp.Timestamp.IsZero() {
		pos = "from " + cp.Timestamp.UTC().Format(time.RFC3339Nano)
	}
	if !cp.ShardEnded {
		return pos
	}
	if cp.SequenceNumber == "" {
		return "shard end"
	}
	return "shard end (after " + pos + ")"
}

// sortablePosition encodes a valid checkpoint as a string whose byte order
// is the order of comparePosition, so a store can compare positions
// server-side (DynamoDB's "pos <= :pos" condition):
//
//	"0" + 20-digit Unix nanoseconds of Timestamp for a start time
//	"1" + 3-digit length of the sequence number + the sequence number + 20-digit sub-sequence number
//	"2" for any ended shard
//
// For example sequence number 12345, sub-sequence 7 is
// "1005" + "12345" + "00000000000000000007". The length prefix makes longer
// (larger) numbers sort after shorter ones without padding every position
// to 129 digits.
func sortablePosition(cp Checkpoint) string {
	if cp.ShardEnded {
		return "2"
	}
	var b strings.Builder
	if cp.SequenceNumber == "" {
		b.WriteByte('0')
		writePadded(&b, uint64(cp.Timestamp.UnixNano()), 20)
		return b.String()
	}
	b.Grow(1 + 3 + len(cp.SequenceNumber) + 20)
	b.WriteByte('1')
	writePadded(&b, uint64(len(cp.SequenceNumber)), 3)
	b.WriteString(cp.SequenceNumber)
	writePadded(&b, cp.SubSequenceNumber, 20)
	return b.String()
}

func writePadded(b *strings.Builder, v uint64, width int) {
	var buf [20]byte
	s := strconv.AppendUint(buf[:0], v, 10)
	for i := len(s); i < width; i++ {
		b.WriteByte('0')
	}
	b.Write(s)
}
