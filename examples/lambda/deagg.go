package main

import (
	"bytes"
	"crypto/md5"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// TODO(batch): replace this file with batch.Deaggregate once package batch
// lands; the handler only needs userRecord's fields.

// userRecord is one user record of a Kinesis record.
type userRecord struct {
	SubSequenceNumber uint64
	PartitionKey      string
	Data              []byte
}

// deaggregationError reports a record with the KPL magic bytes that is not
// a valid aggregate.
type deaggregationError struct {
	SequenceNumber string
	Reason         string
}

func (e *deaggregationError) Error() string {
	return fmt.Sprintf("record %s: corrupt KPL aggregate: %s", e.SequenceNumber, e.Reason)
}

var kplMagic = []byte{0xF3, 0x89, 0x9A, 0xC2}

// deaggregate returns the user records of a Kinesis record: a record
// without the KPL magic bytes is one user record; an aggregate with a bad
// MD5, malformed protobuf or an out-of-range key index is an error, never
// passed through as data.
func deaggregate(seq, pk string, data []byte) ([]userRecord, error) {
	if !bytes.HasPrefix(data, kplMagic) {
		return []userRecord{{PartitionKey: pk, Data: data}}, nil
	}
	fail := func(format string, args ...any) ([]userRecord, error) {
		return nil, &deaggregationError{SequenceNumber: seq, Reason: fmt.Sprintf(format, args...)}
	}
	body := data[len(kplMagic):]
	if len(body) < md5.Size {
		return fail("too short")
	}
	msg, sum := body[:len(body)-md5.Size], body[len(body)-md5.Size:]
	if got := md5.Sum(msg); !bytes.Equal(got[:], sum) {
		return fail("MD5 mismatch")
	}
	var keys []string
	type raw struct {
		key  uint64
		data []byte
	}
	var recs []raw
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return fail("bad protobuf tag")
		}
		msg = msg[n:]
		if typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, msg)
			if n < 0 {
				return fail("bad protobuf field %d", num)
			}
			msg = msg[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(msg)
		if n < 0 {
			return fail("truncated protobuf field %d", num)
		}
		msg = msg[n:]
		switch num {
		case 1: // partition_key_table
			keys = append(keys, string(v))
		case 3: // records
			var r raw
			var hasKey, hasData bool
			for len(v) > 0 {
				rn, rt, m := protowire.ConsumeTag(v)
				if m < 0 {
					return fail("bad protobuf tag in record %d", len(recs))
				}
				v = v[m:]
				switch {
				case rn == 1 && rt == protowire.VarintType:
					r.key, m = protowire.ConsumeVarint(v)
					hasKey = true
				case rn == 3 && rt == protowire.BytesType:
					r.data, m = protowire.ConsumeBytes(v)
					hasData = true
				default:
					m = protowire.ConsumeFieldValue(rn, rt, v)
				}
				if m < 0 {
					return fail("truncated record %d", len(recs))
				}
				v = v[m:]
			}
			if !hasKey || !hasData {
				return fail("record %d lacks its partition key index or data", len(recs))
			}
			recs = append(recs, r)
		}
	}
	out := make([]userRecord, len(recs))
	for i, r := range recs {
		if r.key >= uint64(len(keys)) {
			return fail("record %d: partition key index %d out of range (%d keys)", i, r.key, len(keys))
		}
		out[i] = userRecord{SubSequenceNumber: uint64(i), PartitionKey: keys[r.key], Data: r.data}
	}
	return out, nil
}
