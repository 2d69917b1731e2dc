package wire

import (
	"math"
	"sync"
	"time"

	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	smithytime "github.com/aws/smithy-go/time"
	"github.com/segmentio/asm/base64"
)

// span locates a string in the decoder's arena; off < 0 means absent.
type span struct{ off, end int32 }

var none = span{-1, -1}

// record is a record as the first pass finds it.
type record struct {
	null      bool
	data      span // raw base64 in the payload, not the arena
	dataEsc   bool
	seq, key  span
	enc       span
	encConst  types.EncryptionType
	hasEnc    bool
	hasTime   bool
	timestamp time.Time
}

// result is a PutRecords result entry as the first pass finds it.
type result struct {
	null                  bool
	code, msg, seq, shard span
}

// decoder holds the scratch space of one decoding, pooled.
type decoder struct {
	s       scanner
	arena   []byte
	records []record
	results []result
	tmp     []byte
}

var decoders = sync.Pool{New: func() any { return new(decoder) }}

func getDecoder(b []byte) *decoder {
	d := decoders.Get().(*decoder)
	d.s = scanner{b: b}
	d.arena = d.arena[:0]
	d.records = d.records[:0]
	d.results = d.results[:0]
	return d
}

// maxPooledScratch bounds the scratch kept in the pool.
const maxPooledScratch = 1 << 20

func putDecoder(d *decoder) {
	d.s = scanner{}
	if cap(d.arena) > maxPooledScratch || cap(d.tmp) > maxPooledScratch || cap(d.records) > 1<<14 || cap(d.results) > 1<<14 {
		return
	}
	decoders.Put(d)
}

// str reads a string value into the arena.
func (d *decoder) str() (span, bool) {
	start, end, esc, ok := d.s.str()
	if !ok {
		return none, false
	}
	off := len(d.arena)
	if esc {
		d.arena = unescape(d.arena, d.s.b[start:end])
	} else {
		d.arena = append(d.arena, d.s.b[start:end]...)
	}
	if len(d.arena) > math.MaxInt32 {
		return none, false
	}
	return span{int32(off), int32(len(d.arena))}, true
}

// optStr reads a string member: a null leaves the member unset, as in the
// SDK.
func (d *decoder) optStr(dst *span) bool {
	if d.s.null() {
		return true
	}
	sp, ok := d.str()
	*dst = sp
	return ok
}

// strTable turns the arena into one string and hands out its pieces.
type strTable struct {
	all  string
	ptrs []string
}

func (d *decoder) strings(n int) *strTable {
	return &strTable{all: string(d.arena), ptrs: make([]string, 0, n)}
}

func (ss *strTable) ptr(sp span) *string {
	if sp.off < 0 {
		return nil
	}
	ss.ptrs = append(ss.ptrs, ss.all[sp.off:sp.end])
	return &ss.ptrs[len(ss.ptrs)-1]
}

func (ss *strTable) val(sp span) string {
	return ss.all[sp.off:sp.end]
}

// epoch converts epoch seconds to a time exactly as the SDK does
// (smithytime.ParseEpochSeconds multiplies by 1000 at float64 precision,
// then truncates to milliseconds), without its big.Float allocations.
func epoch(v float64) time.Time {
	ms := v * 1000
	if !(math.Abs(ms) < 1<<62) {
		return smithytime.ParseEpochSeconds(v)
	}
	return time.Unix(0, int64(ms)*1e6).UTC()
}

// timestamp reads an epoch-seconds number.
func (d *decoder) timestamp() (time.Time, bool) {
	tok, ok := d.s.number()
	if !ok {
		return time.Time{}, false
	}
	f, ok := parseFloat(tok)
	if !ok {
		return time.Time{}, false
	}
	return epoch(f), true
}

func (d *decoder) int64() (int64, bool) {
	tok, ok := d.s.number()
	if !ok {
		return 0, false
	}
	return parseInt(tok)
}

// decodeGetRecords decodes a GetRecords answer into out. It reports false,
// leaving out untouched, for anything it does not handle exactly like the
// SDK; the caller then uses the SDK's codec.
func decodeGetRecords(payload []byte, out *sdkkinesis.GetRecordsOutput) bool {
	d := getDecoder(payload)
	defer putDecoder(d)
	s := &d.s
	var (
		millis      int64
		hasMillis   bool
		next        = none
		hasRecords  bool
		children    []types.ChildShard
		hasChildren bool
	)
	ok := s.object(func(k []byte) bool {
		switch string(k) {
		case "Records":
			if s.null() {
				return true
			}
			if hasRecords {
				// A second Records: the SDK decodes (and may reject) the
				// data of the first, which the fast path never decodes.
				return false
			}
			hasRecords = true
			return s.array(d.record)
		case "NextShardIterator":
			return d.optStr(&next)
		case "MillisBehindLatest":
			if s.null() {
				return true
			}
			var ok bool
			millis, ok = d.int64()
			hasMillis = true
			return ok
		case "ChildShards":
			if s.null() {
				return true
			}
			hasChildren = true
			var ok bool
			children, ok = d.childShards()
			return ok
		}
		return s.skip(0)
	})
	if !ok {
		return false
	}

	// The data of all records goes into one buffer.
	var records []types.Record
	if hasRecords {
		size := 0
		for i := range d.records {
			if r := &d.records[i]; r.data.off >= 0 {
				size += base64.StdEncoding.DecodedLen(int(r.data.end - r.data.off))
			}
		}
		buf := make([]byte, size)
		off := 0
		for i := range d.records {
			r := &d.records[i]
			if r.data.off < 0 {
				continue
			}
			src := payload[r.data.off:r.data.end]
			if r.dataEsc {
				d.tmp = unescape(d.tmp[:0], src)
				src = d.tmp
			}
			n, err := base64.StdEncoding.Decode(buf[off:], src)
			if err != nil {
				return false
			}
			r.data = span{int32(off), int32(off + n)}
			off += n
		}
		nstr, ntime := 0, 0
		for i := range d.records {
			r := &d.records[i]
			if r.seq.off >= 0 {
				nstr++
			}
			if r.key.off >= 0 {
				nstr++
			}
			if r.hasTime {
				ntime++
			}
		}
		ss := d.strings(nstr + 1)
		times := make([]time.Time, 0, ntime)
		records = make([]types.Record, len(d.records))
		for i := range d.records {
			r := &d.records[i]
			if r.null {
				continue
			}
			rec := &records[i]
			if r.data.off >= 0 {
				rec.Data = buf[r.data.off:r.data.end:r.data.end]
			}
			rec.SequenceNumber = ss.ptr(r.seq)
			rec.PartitionKey = ss.ptr(r.key)
			if r.hasEnc {
				if r.enc.off >= 0 {
					rec.EncryptionType = types.EncryptionType(ss.val(r.enc))
				} else {
					rec.EncryptionType = r.encConst
				}
			}
			if r.hasTime {
				times = append(times, r.timestamp)
				rec.ApproximateArrivalTimestamp = &times[len(times)-1]
			}
		}
		if next.off >= 0 {
			out.NextShardIterator = ss.ptr(next)
		}
	} else if next.off >= 0 {
		v := string(d.arena[next.off:next.end])
		out.NextShardIterator = &v
	}
	if hasRecords {
		out.Records = records
	}
	if hasMillis {
		out.MillisBehindLatest = &millis
	}
	if hasChildren {
		out.ChildShards = children
	}
	return true
}

// record reads one element of Records.
func (d *decoder) record() bool {
	s := &d.s
	d.records = append(d.records, record{data: none, seq: none, key: none, enc: none})
	r := &d.records[len(d.records)-1]
	if s.null() {
		r.null = true
		return true
	}
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "Data":
			if s.null() {
				return true
			}
			if r.data.off >= 0 {
				return false // a second Data: as for a second Records
			}
			start, end, esc, ok := s.b64str()
			r.data, r.dataEsc = span{int32(start), int32(end)}, esc
			return ok
		case "SequenceNumber":
			return d.optStr(&r.seq)
		case "PartitionKey":
			return d.optStr(&r.key)
		case "ApproximateArrivalTimestamp":
			if s.null() {
				return true
			}
			var ok bool
			r.timestamp, ok = d.timestamp()
			r.hasTime = true
			return ok
		case "EncryptionType":
			if s.null() {
				return true
			}
			start, end, esc, ok := s.str()
			if !ok {
				return false
			}
			r.hasEnc, r.enc = true, none
			switch v := s.b[start:end]; {
			case !esc && string(v) == "NONE":
				r.encConst = types.EncryptionTypeNone
			case !esc && string(v) == "KMS":
				r.encConst = types.EncryptionTypeKms
			default:
				off := len(d.arena)
				if esc {
					d.arena = unescape(d.arena, v)
				} else {
					d.arena = append(d.arena, v...)
				}
				r.enc = span{int32(off), int32(len(d.arena))}
			}
			return true
		}
		return s.skip(0)
	})
}

// childShards reads ChildShards, which is rare and small: it allocates
// plainly.
func (d *decoder) childShards() ([]types.ChildShard, bool) {
	s := &d.s
	str := func(dst **string) bool {
		if s.null() {
			return true
		}
		start, end, esc, ok := s.str()
		if !ok {
			return false
		}
		var v string
		if esc {
			v = string(unescape(nil, s.b[start:end]))
		} else {
			v = string(s.b[start:end])
		}
		*dst = &v
		return true
	}
	list := make([]types.ChildShard, 0)
	ok := s.array(func() bool {
		var c types.ChildShard
		if s.null() {
			list = append(list, c)
			return true
		}
		ok := s.object(func(k []byte) bool {
			switch string(k) {
			case "ShardId":
				return str(&c.ShardId)
			case "ParentShards":
				if s.null() {
					return true
				}
				parents := make([]string, 0, 2)
				ok := s.array(func() bool {
					var p *string
					if !str(&p) {
						return false
					}
					if p == nil {
						parents = append(parents, "")
					} else {
						parents = append(parents, *p)
					}
					return true
				})
				c.ParentShards = parents
				return ok
			case "HashKeyRange":
				if s.null() {
					return true
				}
				h := &types.HashKeyRange{}
				c.HashKeyRange = h
				return s.object(func(k []byte) bool {
					switch string(k) {
					case "StartingHashKey":
						return str(&h.StartingHashKey)
					case "EndingHashKey":
						return str(&h.EndingHashKey)
					}
					return s.skip(0)
				})
			}
			return s.skip(0)
		})
		list = append(list, c)
		return ok
	})
	return list, ok
}

// decodePutRecords decodes a PutRecords answer into out; false as for
// decodeGetRecords.
func decodePutRecords(payload []byte, out *sdkkinesis.PutRecordsOutput) bool {
	d := getDecoder(payload)
	defer putDecoder(d)
	s := &d.s
	var (
		failed     int64
		hasFailed  bool
		enc        = none
		hasResults bool
	)
	ok := s.object(func(k []byte) bool {
		switch string(k) {
		case "Records":
			if s.null() {
				return true
			}
			hasResults = true
			d.results = d.results[:0]
			return s.array(d.result)
		case "FailedRecordCount":
			if s.null() {
				return true
			}
			var ok bool
			failed, ok = d.int64()
			hasFailed = true
			return ok && failed >= math.MinInt32 && failed <= math.MaxInt32
		case "EncryptionType":
			return d.optStr(&enc)
		}
		return s.skip(0)
	})
	if !ok {
		return false
	}
	n := 0
	for i := range d.results {
		r := &d.results[i]
		for _, sp := range [...]span{r.code, r.msg, r.seq, r.shard} {
			if sp.off >= 0 {
				n++
			}
		}
	}
	ss := d.strings(n)
	if hasResults {
		results := make([]types.PutRecordsResultEntry, len(d.results))
		for i := range d.results {
			r := &d.results[i]
			if r.null {
				continue
			}
			results[i] = types.PutRecordsResultEntry{
				ErrorCode:      ss.ptr(r.code),
				ErrorMessage:   ss.ptr(r.msg),
				SequenceNumber: ss.ptr(r.seq),
				ShardId:        ss.ptr(r.shard),
			}
		}
		out.Records = results
	}
	if hasFailed {
		v := int32(failed)
		out.FailedRecordCount = &v
	}
	if enc.off >= 0 {
		switch v := ss.val(enc); v {
		case "NONE":
			out.EncryptionType = types.EncryptionTypeNone
		case "KMS":
			out.EncryptionType = types.EncryptionTypeKms
		default:
			out.EncryptionType = types.EncryptionType(v)
		}
	}
	return true
}

// result reads one element of a PutRecords answer's Records.
func (d *decoder) result() bool {
	s := &d.s
	d.results = append(d.results, result{code: none, msg: none, seq: none, shard: none})
	r := &d.results[len(d.results)-1]
	if s.null() {
		r.null = true
		return true
	}
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "SequenceNumber":
			return d.optStr(&r.seq)
		case "ShardId":
			return d.optStr(&r.shard)
		case "ErrorCode":
			return d.optStr(&r.code)
		case "ErrorMessage":
			return d.optStr(&r.msg)
		}
		return s.skip(0)
	})
}
