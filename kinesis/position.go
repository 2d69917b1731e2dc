package kinesis

import (
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

// Compare orders two checkpoints of the same shard: it returns -1 if c is
// behind o, 0 if they are the same position and +1 if c is ahead of o.
// Positions are ordered by sequence number (numerically: sequence numbers
// have up to 129 digits, so they are compared as decimal strings, the
// longer one being the larger), then by sub-sequence number. A checkpoint
// with ShardEnded is ahead of every other, and two ended checkpoints are
// equal whatever their sequence numbers. A start time (Timestamp, no
// sequence number) is behind every sequence number; two start times compare
// by time.
//
// A CheckpointStore refuses to Save a checkpoint c when
// c.Compare(stored) < 0, and accepts it otherwise (saving the stored
// position again succeeds). Both checkpoints must be valid (see Validate).
func (c Checkpoint) Compare(o Checkpoint) int {
	switch {
	case c.ShardEnded && o.ShardEnded:
		return 0
	case c.ShardEnded:
		return 1
	case o.ShardEnded:
		return -1
	case c.SequenceNumber == "" && o.SequenceNumber == "":
		return c.Timestamp.Compare(o.Timestamp)
	}
	if r := compareSequenceNumbers(c.SequenceNumber, o.SequenceNumber); r != 0 {
		return r
	}
	switch {
	case c.SubSequenceNumber < o.SubSequenceNumber:
		return -1
	case c.SubSequenceNumber > o.SubSequenceNumber:
		return 1
	}
	return 0
}

// comparePosition is a.Compare(b).
func comparePosition(a, b Checkpoint) int { return a.Compare(b) }

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

// Validate reports whether c may be saved: its SequenceNumber is a
// canonical decimal as Kinesis returns them (1 to 129 digits, no sign, no
// leading zeros but for "0" itself); or it has no sequence number but a
// start time (Timestamp, from 1970 on) where a reader started reading; or,
// for an ended shard, either of those or neither (a shard can end without
// ever holding a record). Never both a sequence number and a start time;
// without a sequence number, SubSequenceNumber must be 0. A
// CheckpointStore's Save refuses an invalid checkpoint with this error
// before storing anything, and Compare is only meaningful between valid
// checkpoints.
func (c Checkpoint) Validate() error {
	if !c.Timestamp.IsZero() && c.SequenceNumber != "" {
		return fmt.Errorf("%w: both a sequence number and a start time", errInvalidCheckpoint)
	}
	if c.SequenceNumber == "" && (c.ShardEnded || !c.Timestamp.IsZero()) {
		if c.SubSequenceNumber != 0 {
			return fmt.Errorf("%w: sub-sequence number %d without a sequence number", errInvalidCheckpoint, c.SubSequenceNumber)
		}
		if c.Timestamp.UnixNano() < 0 && !c.Timestamp.IsZero() {
			return fmt.Errorf("%w: start time %v before 1970", errInvalidCheckpoint, c.Timestamp)
		}
		return nil
	}
	if !validSequenceNumber(c.SequenceNumber) {
		return fmt.Errorf("%w: sequence number %q is not a decimal of 1 to %d digits without leading zeros",
			errInvalidCheckpoint, c.SequenceNumber, maxSequenceNumberDigits)
	}
	return nil
}

// String renders the position for logs and errors, for example
// "49590338271490256608559692538361571095921575989136588898/3" (sequence
// number/sub-sequence number), "from 2026-01-02T03:04:05.006Z" (a start
// time), "shard end (after 4959.../0)" or "shard end". A store names both positions this way when it refuses a
// checkpoint behind the stored one (see ErrCheckpointBehind).
func (c Checkpoint) String() string {
	pos := c.SequenceNumber + "/" + strconv.FormatUint(c.SubSequenceNumber, 10)
	if c.SequenceNumber == "" && !c.Timestamp.IsZero() {
		pos = "from " + c.Timestamp.UTC().Format(time.RFC3339Nano)
	}
	if !c.ShardEnded {
		return pos
	}
	if c.SequenceNumber == "" {
		return "shard end"
	}
	return "shard end (after " + pos + ")"
}
