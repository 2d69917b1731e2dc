package kinesis

import (
	"bytes"
	"crypto/md5"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// AggregateError reports a Kinesis record that starts with the KPL magic
// bytes but is not a valid aggregate (bad checksum, bad protobuf, a key
// index out of range). Such a record is dead-lettered as a whole.
type AggregateError struct {
	SequenceNumber string
	Reason         string
}

func (e *AggregateError) Error() string {
	return fmt.Sprintf("kinesis: record %s: corrupt KPL aggregate: %s", e.SequenceNumber, e.Reason)
}

// userRecord is one record inside a Kinesis record.
type userRecord struct {
	sub          uint64
	partitionKey string
	data         []byte
	aggregated   bool
}

// deaggregate splits data into its user records; a record that is not a KPL
// aggregate is one user record with sub-sequence number 0. The user
// records' data share memory with data.
func deaggregate(dst []userRecord, seq, pk string, data []byte) ([]userRecord, error) {
	dst = dst[:0]
	if len(data) < len(kplMagic) || !bytes.Equal(data[:len(kplMagic)], kplMagic) {
		return append(dst, userRecord{partitionKey: pk, data: data}), nil
	}
	fail := func(reason string) ([]userRecord, error) {
		return dst[:0], &AggregateError{SequenceNumber: seq, Reason: reason}
	}
	body := data[len(kplMagic):]
	if len(body) < md5.Size {
		return fail("too short")
	}
	msg, sum := body[:len(body)-md5.Size], body[len(body)-md5.Size:]
	if got := md5.Sum(msg); !bytes.Equal(got[:], sum) {
		return fail("checksum mismatch")
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
		switch {
		case num == 1 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(msg)
			if n < 0 {
				return fail("bad partition key")
			}
			keys = append(keys, string(v))
			msg = msg[n:]
		case num == 3 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(msg)
			if n < 0 {
				return fail("bad record")
			}
			msg = msg[n:]
			r, ok := parseUserRecord(v)
			if !ok {
				return fail(fmt.Sprintf("bad record %d", len(recs)))
			}
			recs = append(recs, raw{key: r.key, data: r.data})
		default:
			n := protowire.ConsumeFieldValue(num, typ, msg)
			if n < 0 {
				return fail("bad protobuf field")
			}
			msg = msg[n:]
		}
	}
	for i, r := range recs {
		if r.key >= uint64(len(keys)) {
			return fail(fmt.Sprintf("record %d: partition key index %d out of range", i, r.key))
		}
		dst = append(dst, userRecord{sub: uint64(i), partitionKey: keys[r.key], data: r.data, aggregated: true})
	}
	return dst, nil
}

type parsedRecord struct {
	key  uint64
	data []byte
}

// parseUserRecord parses the KPL Record message: partition_key_index (1),
// explicit_hash_key_index (2), data (3), tags (4).
func parseUserRecord(b []byte) (parsedRecord, bool) {
	var r parsedRecord
	var haveKey, haveData bool
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return r, false
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return r, false
			}
			r.key, haveKey = v, true
			b = b[n:]
		case num == 3 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return r, false
			}
			r.data, haveData = v, true
			b = b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return r, false
			}
			b = b[n:]
		}
	}
	return r, haveKey && haveData
}
