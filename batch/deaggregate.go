package batch

import (
	"bytes"
	"crypto/md5"
	"errors"
	"fmt"
	"slices"
	"sync"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
)

// KinesisRecord is a record as Kinesis returns it (GetRecords, a Lambda
// event), reduced to what deaggregation needs.
type KinesisRecord struct {
	SequenceNumber  string
	PartitionKey    string
	ExplicitHashKey string
	Data            []byte
}

// UserRecord is one user record inside a Kinesis record.
type UserRecord struct {
	// SequenceNumber is the Kinesis record's.
	SequenceNumber string
	// SubSequenceNumber is the user record's index in its aggregate; 0 for
	// a plain record.
	SubSequenceNumber uint64
	// PartitionKey is the user record's own partition key.
	PartitionKey string
	// ExplicitHashKey is the user record's explicit hash key, "" if it had
	// none. For a plain record it is the Kinesis record's (often unknown to
	// consumers, so "").
	ExplicitHashKey string
	// Data shares memory with the Kinesis record's data.
	Data []byte
	// Aggregated is true for a user record that came out of a KPL aggregate.
	Aggregated bool
}

// ErrBadAggregate matches every [*DeaggregationError] with [errors.Is].
var ErrBadAggregate = errors.New("batch: bad KPL aggregate")

// DeaggregationError reports a Kinesis record that starts with the KPL
// magic bytes but is not a valid aggregate: a wrong MD5, a truncated or
// malformed protobuf, a key index out of range, a record without data.
// None of its user records are returned: route the whole Kinesis record
// to a dead-letter handler.
type DeaggregationError struct {
	SequenceNumber string
	PartitionKey   string
	// Reason says what is wrong, for example "md5 mismatch".
	Reason string
}

func (e *DeaggregationError) Error() string {
	return fmt.Sprintf("batch: record %s (partition key %q): bad KPL aggregate: %s", e.SequenceNumber, e.PartitionKey, e.Reason)
}

// Unwrap returns [ErrBadAggregate].
func (e *DeaggregationError) Unwrap() error { return ErrBadAggregate }

// IsAggregate reports whether data starts with the KPL magic bytes, so
// that it is (or claims to be) an aggregate.
func IsAggregate(data []byte) bool { return bytes.HasPrefix(data, Magic[:]) }

// Deaggregate returns r's user records in order, with sub-sequence numbers
// 0, 1, .... A record without the magic bytes is one plain user record.
// The user records' data share memory with r.Data; their keys are copies.
// An invalid aggregate returns a [*DeaggregationError] and no records.
func Deaggregate(r KinesisRecord) ([]UserRecord, error) {
	return AppendDeaggregated(nil, r)
}

// AppendDeaggregated is [Deaggregate] appending to dst, so a consumer can
// reuse one slice. On error it returns dst unchanged. It allocates only
// each distinct key of an aggregate (once) and dst's growth.
func AppendDeaggregated(dst []UserRecord, r KinesisRecord) ([]UserRecord, error) {
	if !IsAggregate(r.Data) {
		return append(dst, plain(r)), nil
	}
	s, err := parseAggregate(r, func(b []byte) string { return string(b) })
	if err != nil {
		return dst, err
	}
	defer s.free()
	dst = slices.Grow(dst, len(s.recs))
	for i := range s.recs {
		dst = append(dst, s.user(r, i))
	}
	return dst, nil
}

// DeaggregateFunc calls fn for each of r's user records in order, like
// [Deaggregate] but without allocating: the user record's keys and data
// share memory with r.Data and are valid only during the call (copy a key
// with strings.Clone to keep it). The aggregate is validated completely
// before fn is first called, so on a [*DeaggregationError] fn was never
// called. An error from fn stops the iteration and is returned as is.
func DeaggregateFunc(r KinesisRecord, fn func(UserRecord) error) error {
	if !IsAggregate(r.Data) {
		return fn(plain(r))
	}
	s, err := parseAggregate(r, alias)
	if err != nil {
		return err
	}
	defer s.free()
	for i := range s.recs {
		if err := fn(s.user(r, i)); err != nil {
			return err
		}
	}
	return nil
}

func plain(r KinesisRecord) UserRecord {
	return UserRecord{SequenceNumber: r.SequenceNumber, PartitionKey: r.PartitionKey, ExplicitHashKey: r.ExplicitHashKey, Data: r.Data}
}

func alias(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// parsed is a validated aggregate: its key tables and records. It is
// pooled, so deaggregation does not allocate in a steady state.
type parsed struct {
	pks, ehks []string
	recs      []parsedRecord
}

var parsedPool = sync.Pool{New: func() any { return new(parsed) }}

func (s *parsed) free() {
	// Drop references to the record's data before pooling.
	clear(s.pks)
	clear(s.ehks)
	clear(s.recs)
	s.pks, s.ehks, s.recs = s.pks[:0], s.ehks[:0], s.recs[:0]
	parsedPool.Put(s)
}

func (s *parsed) user(r KinesisRecord, i int) UserRecord {
	rec := &s.recs[i]
	u := UserRecord{
		SequenceNumber:    r.SequenceNumber,
		SubSequenceNumber: uint64(i),
		PartitionKey:      s.pks[rec.pk],
		Data:              rec.data,
		Aggregated:        true,
	}
	if rec.hasEHK {
		u.ExplicitHashKey = s.ehks[rec.ehk]
	}
	return u
}

// parseAggregate checks the MD5 of the aggregate r.Data and parses and
// validates its whole protobuf. str converts a key.
func parseAggregate(r KinesisRecord, str func([]byte) string) (*parsed, error) {
	fail := func(format string, args ...any) error {
		return &DeaggregationError{SequenceNumber: r.SequenceNumber, PartitionKey: r.PartitionKey, Reason: fmt.Sprintf(format, args...)}
	}
	body := r.Data[len(Magic):]
	if len(body) < md5.Size {
		return nil, fail("truncated: %d bytes after the magic, fewer than the 16-byte MD5", len(body))
	}
	msg, trailer := body[:len(body)-md5.Size], body[len(body)-md5.Size:]
	if sum := md5.Sum(msg); !bytes.Equal(sum[:], trailer) {
		return nil, fail("md5 mismatch (truncated or corrupted)")
	}
	s := parsedPool.Get().(*parsed)
	// bad reports a malformation; its arguments are evaluated before s is
	// freed.
	bad := func(format string, args ...any) (*parsed, error) {
		err := fail(format, args...)
		s.free()
		return nil, err
	}
	var maxPK, maxEHK uint64
	var anyEHK bool
	for b := msg; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return bad("malformed protobuf at offset %d: %v", len(msg)-len(b), protowire.ParseError(n))
		}
		off := len(msg) - len(b)
		b = b[n:]
		switch {
		case (num == fieldPartitionKeyTable || num == fieldExplicitHashKeyTable || num == fieldRecords) && typ != protowire.BytesType:
			return bad("malformed protobuf at offset %d: field %d has wire type %d", off, num, typ)
		case num == fieldRecords:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return bad("malformed protobuf at offset %d: record %d: %v", off, len(s.recs), protowire.ParseError(n))
			}
			b = b[n:]
			rec, reason := parseRecord(v)
			if reason != "" {
				return bad("record %d: %s", len(s.recs), reason)
			}
			maxPK = max(maxPK, rec.pk)
			if rec.hasEHK {
				anyEHK = true
				maxEHK = max(maxEHK, rec.ehk)
			}
			s.recs = append(s.recs, rec)
		case num == fieldPartitionKeyTable || num == fieldExplicitHashKeyTable:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return bad("malformed protobuf at offset %d: key table entry: %v", off, protowire.ParseError(n))
			}
			b = b[n:]
			if num == fieldPartitionKeyTable {
				s.pks = append(s.pks, str(v))
			} else {
				s.ehks = append(s.ehks, str(v))
			}
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return bad("malformed protobuf at offset %d: field %d: %v", off, num, protowire.ParseError(n))
			}
			b = b[n:]
		}
	}
	switch {
	case len(s.recs) == 0:
		return bad("no user records")
	case maxPK >= uint64(len(s.pks)):
		return bad("partition key index %d out of range (table has %d)", maxPK, len(s.pks))
	case anyEHK && maxEHK >= uint64(len(s.ehks)):
		return bad("explicit hash key index %d out of range (table has %d)", maxEHK, len(s.ehks))
	}
	return s, nil
}

type parsedRecord struct {
	pk, ehk       uint64
	hasPK, hasEHK bool
	data          []byte
	hasData       bool
}

// parseRecord parses a KPL Record message: partition_key_index (1,
// required), explicit_hash_key_index (2), data (3, required), tags (4,
// validated and skipped). It returns a reason when the record is invalid.
func parseRecord(b []byte) (parsedRecord, string) {
	var r parsedRecord
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return r, "malformed protobuf: " + protowire.ParseError(n).Error()
		}
		b = b[n:]
		switch num {
		case fieldPartitionKeyIndex, fieldExplicitHashKeyIndex:
			if typ != protowire.VarintType {
				return r, "malformed protobuf: key index is not a varint"
			}
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return r, "malformed protobuf: key index: " + protowire.ParseError(n).Error()
			}
			b = b[n:]
			if num == fieldPartitionKeyIndex {
				r.pk, r.hasPK = v, true
			} else {
				r.ehk, r.hasEHK = v, true
			}
		case fieldData:
			if typ != protowire.BytesType {
				return r, "malformed protobuf: data is not length-delimited"
			}
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return r, "malformed protobuf: data: " + protowire.ParseError(n).Error()
			}
			b = b[n:]
			r.data, r.hasData = v, true
		case fieldTags:
			// Tags are not returned, but a malformed one makes the
			// aggregate malformed, as it is for the KPL's decoders.
			if typ != protowire.BytesType {
				return r, "malformed protobuf: tag is not length-delimited"
			}
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return r, "malformed protobuf: tag: " + protowire.ParseError(n).Error()
			}
			b = b[n:]
			if reason := checkTag(v); reason != "" {
				return r, reason
			}
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return r, "malformed protobuf: " + protowire.ParseError(n).Error()
			}
			b = b[n:]
		}
	}
	switch {
	case !r.hasPK:
		return r, "no partition key index"
	case !r.hasData:
		return r, "no data"
	}
	return r, ""
}

// fieldTags is the Record field of its tags, Tag{key = 1 (required), value
// = 2}.
const fieldTags protowire.Number = 4

// checkTag validates a KPL Tag message and returns a reason if it is
// malformed.
func checkTag(b []byte) string {
	hasKey := false
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return "malformed protobuf: tag: " + protowire.ParseError(n).Error()
		}
		b = b[n:]
		if (num == 1 || num == 2) && typ != protowire.BytesType {
			return "malformed protobuf: tag: key or value is not length-delimited"
		}
		hasKey = hasKey || num == 1
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return "malformed protobuf: tag: " + protowire.ParseError(n).Error()
		}
		b = b[n:]
	}
	if !hasKey {
		return "tag without a key"
	}
	return ""
}
