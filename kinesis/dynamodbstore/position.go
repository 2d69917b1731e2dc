package dynamodbstore

import (
	"strconv"
	"strings"

	"github.com/rtdskit/rtds/kinesis"
)

// sortablePosition encodes a valid checkpoint as a string whose byte order
// is the order of kinesis.Checkpoint.Compare, so that DynamoDB compares
// positions server-side (the "pos <= :pos" condition of Save):
//
//	"0" + 20-digit Unix nanoseconds of Timestamp for a start time
//	"1" + 3-digit length of the sequence number + the sequence number + 20-digit sub-sequence number
//	"2" for any ended shard
//
// For example sequence number 12345, sub-sequence 7 is
// "1005" + "12345" + "00000000000000000007". The length prefix makes longer
// (larger) numbers sort after shorter ones without padding every position
// to 129 digits.
func sortablePosition(cp kinesis.Checkpoint) string {
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
