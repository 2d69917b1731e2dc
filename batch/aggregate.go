package batch

import (
	"crypto/md5"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"math/bits"
	"slices"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/rtdskit/rtds/internal/md5x8"
)

// Magic is the 4-byte prefix of every KPL aggregated record.
var Magic = [4]byte{0xF3, 0x89, 0x9A, 0xC2}

// Field numbers of the KPL AggregatedRecord and Record protobuf messages.
const (
	fieldPartitionKeyTable    protowire.Number = 1
	fieldExplicitHashKeyTable protowire.Number = 2
	fieldRecords              protowire.Number = 3

	fieldPartitionKeyIndex    protowire.Number = 1
	fieldExplicitHashKeyIndex protowire.Number = 2
	fieldData                 protowire.Number = 3
)

// aggOverhead is the bytes an aggregate adds around its protobuf: the magic
// prefix and the MD5 trailer.
const aggOverhead = len(Magic) + md5.Size

// Aggregation defaults.
const (
	// DefaultMaxAggregateBytes is the KPL's default aggregate size: 51,200
	// bytes, counting the aggregate's data and its partition key.
	DefaultMaxAggregateBytes = 51200
	// DefaultMaxAggregateRecords is the default most user records per
	// aggregate: effectively unlimited, like the KPL, so the size bounds it.
	DefaultMaxAggregateRecords = math.MaxInt32
)

// ErrAggregateFull is returned by [Aggregator.Add] for a record that does not
// fit in the aggregate.
var ErrAggregateFull = errors.New("batch: aggregate full")

type aggConfig struct {
	maxBytes, maxRecords int
	limits               Limits
}

// AggregatorOption configures an [Aggregator] or a [ShardAggregator].
type AggregatorOption func(*aggConfig)

// WithMaxAggregateBytes bounds an aggregate's size, counting its data
// (magic, protobuf, MD5) and its partition key, to n bytes (default
// [DefaultMaxAggregateBytes]). n must be in [64, the record limit] (see
// [WithRecordLimits]).
func WithMaxAggregateBytes(n int) AggregatorOption {
	return func(c *aggConfig) { c.maxBytes = n }
}

// WithRecordLimits sets the stream's limits (default [DefaultLimits]): an
// aggregate must fit its record limit, and a [ShardAggregator] validates
// user records against it. Use [LargeRecordLimits] for aggregates over 1 MiB.
func WithRecordLimits(l Limits) AggregatorOption {
	return func(c *aggConfig) { c.limits = l }
}

// WithMaxAggregateRecords bounds the user records per aggregate to n
// (default [DefaultMaxAggregateRecords]).
func WithMaxAggregateRecords(n int) AggregatorOption {
	return func(c *aggConfig) { c.maxRecords = n }
}

func newAggConfig(opts []AggregatorOption) (aggConfig, error) {
	c := aggConfig{maxBytes: DefaultMaxAggregateBytes, maxRecords: DefaultMaxAggregateRecords, limits: DefaultLimits()}
	for _, o := range opts {
		o(&c)
	}
	if err := c.limits.Check(); err != nil {
		return c, err
	}
	if c.maxBytes < 64 || c.maxBytes > c.limits.MaxRecordBytes {
		return c, fmt.Errorf("batch: max aggregate bytes %d not in [64, %d] (the record limit)", c.maxBytes, c.limits.MaxRecordBytes)
	}
	if c.maxRecords < 1 {
		return c, fmt.Errorf("batch: max aggregate records %d not positive", c.maxRecords)
	}
	return c, nil
}

// keyTable is a deduplicated key table of an aggregate, encoded as it
// grows. Tables of up to indexAbove keys are searched linearly; larger ones
// through an open-addressing hash index of the keys.
type keyTable struct {
	field protowire.Number
	keys  []string
	// index holds, once the table has more than indexAbove keys, 1 + the
	// index in keys of each key, at its hash's slot or the next free one
	// (0 is free). Its length is a power of two, at least twice len(keys).
	index []uint32
	seed  maphash.Seed
	buf   []byte // encoded table entries
}

const indexAbove = 8

// keyRef is the result of looking a key up in a keyTable: its index, or
// for a new key the index it will get and, once the table is indexed, the
// free slot of the index where add will put it.
type keyRef struct {
	i     uint64
	isNew bool
	slot  int
}

func (t *keyTable) find(k string) keyRef {
	if len(t.keys) <= indexAbove {
		for j, s := range t.keys {
			if s == k {
				return keyRef{i: uint64(j)}
			}
		}
		return keyRef{i: uint64(len(t.keys)), isNew: true, slot: -1}
	}
	mask := len(t.index) - 1
	for i := int(maphash.String(t.seed, k)) & mask; ; i = (i + 1) & mask {
		j := t.index[i]
		if j == 0 {
			return keyRef{i: uint64(len(t.keys)), isNew: true, slot: i}
		}
		if t.keys[j-1] == k {
			return keyRef{i: uint64(j - 1)}
		}
	}
}

// insert adds keys[j] to the index.
func (t *keyTable) insert(j int) {
	mask := len(t.index) - 1
	i := int(maphash.String(t.seed, t.keys[j])) & mask
	for t.index[i] != 0 {
		i = (i + 1) & mask
	}
	t.index[i] = uint32(j + 1)
}

// entrySize is the encoded size of a table entry for k.
func entrySize(k string) int { return 1 + protowire.SizeBytes(len(k)) }

// add appends k, which ref (from find, with the table unchanged since)
// says is new.
func (t *keyTable) add(k string, ref keyRef) {
	t.keys = append(t.keys, k)
	t.buf = protowire.AppendTag(t.buf, t.field, protowire.BytesType)
	t.buf = protowire.AppendString(t.buf, k)
	switch n := len(t.keys); {
	case n <= indexAbove:
	case 2*n > len(t.index):
		// (Re)build the index at 4 slots a key.
		if t.index == nil {
			t.seed = maphash.MakeSeed()
		}
		t.index = make([]uint32, max(64, 1<<bits.Len(uint(4*n-1))))
		for j := range t.keys {
			t.insert(j)
		}
	case n == indexAbove+1:
		// The index, cleared by reset, is large enough: fill it.
		for j := range t.keys {
			t.insert(j)
		}
	default:
		t.index[ref.slot] = uint32(n)
	}
}

func (t *keyTable) reset() {
	if len(t.keys) > indexAbove {
		clear(t.index)
	}
	clear(t.keys)
	t.keys = t.keys[:0]
	t.buf = t.buf[:0]
}

// Aggregator builds one KPL aggregated record. Add user records while
// [Aggregator.WouldFit], then [Aggregator.Build] (or
// [Aggregator.AppendTo]) and [Aggregator.Reset] to start the next one; its
// buffers are reused, so a steady state does not allocate.
//
// Every user record keeps its own partition key and explicit hash key: the
// aggregate holds each distinct key once in its tables, in order of first
// appearance, exactly as the KPL and aws-kinesis-agg write them. The
// aggregate's own partition key is its first user record's, and its
// explicit hash key is the one given to [Aggregator.SetExplicitHashKey]
// (none by default, so Kinesis routes it by its partition key).
//
// An Aggregator is not safe for concurrent use.
type Aggregator struct {
	cfg  aggConfig
	pks  keyTable
	ehks keyTable
	// buf holds head bytes of headroom, then the encoded records field
	// entries. Build writes the magic and key tables into the headroom,
	// right before the records, and the MD5 after them, so an aggregate is
	// built without copying its records.
	buf  []byte
	head int
	// shared are the data of records added with AddShared, in order: each
	// goes at its offset in buf, which holds their framing but not their
	// bytes (sharedBytes in all).
	shared      []sharedData
	sharedBytes int
	n           int
	pk          string // the aggregate's partition key
	ehk         string // the aggregate's explicit hash key
	out         []byte
}

// sharedData is the data of a record added with AddShared: it belongs in
// the encoding at offset at of Aggregator.buf.
type sharedData struct {
	at   int
	data []byte
}

// NewAggregator returns an empty Aggregator.
func NewAggregator(opts ...AggregatorOption) (*Aggregator, error) {
	cfg, err := newAggConfig(opts)
	if err != nil {
		return nil, err
	}
	return newAggregator(cfg), nil
}

func newAggregator(cfg aggConfig) *Aggregator {
	a := &Aggregator{
		cfg:  cfg,
		pks:  keyTable{field: fieldPartitionKeyTable},
		ehks: keyTable{field: fieldExplicitHashKeyTable},
	}
	a.Reset()
	return a
}

// Len returns the number of user records in the aggregate.
func (a *Aggregator) Len() int { return a.n }

// MaxBytes returns the aggregate's size limit.
func (a *Aggregator) MaxBytes() int { return a.cfg.maxBytes }

// Size returns the bytes the aggregate counts against Kinesis limits: its
// data (magic, protobuf and MD5) plus its partition key. It is 0 when empty.
func (a *Aggregator) Size() int {
	if a.n == 0 {
		return 0
	}
	return a.dataSize() + len(a.pk)
}

func (a *Aggregator) dataSize() int {
	return aggOverhead + len(a.pks.buf) + len(a.ehks.buf) + len(a.buf) - a.head + a.sharedBytes
}

// PartitionKey returns the aggregate's partition key: its first user
// record's.
func (a *Aggregator) PartitionKey() string { return a.pk }

// SetExplicitHashKey sets the aggregate's explicit hash key, the decimal
// hash key routing it to a shard (for example [ShardMap.ExplicitHashKey]);
// "" removes it. It does not count against size limits.
func (a *Aggregator) SetExplicitHashKey(ehk string) error {
	if ehk != "" {
		if _, err := ParseHashKey(ehk); err != nil {
			return err
		}
	}
	a.ehk = ehk
	return nil
}

// growth returns the size r would add to the aggregate and where its keys
// are (or go) in the tables.
func (a *Aggregator) growth(r Record) (n int, pk, ehk keyRef) {
	pk = a.pks.find(r.PartitionKey)
	if pk.isNew {
		n += entrySize(r.PartitionKey)
	}
	inner := 1 + protowire.SizeVarint(pk.i) + 1 + protowire.SizeBytes(len(r.Data))
	if r.ExplicitHashKey != "" {
		ehk = a.ehks.find(r.ExplicitHashKey)
		if ehk.isNew {
			n += entrySize(r.ExplicitHashKey)
		}
		inner += 1 + protowire.SizeVarint(ehk.i)
	}
	n += 1 + protowire.SizeBytes(inner)
	if a.n == 0 {
		n += aggOverhead + len(r.PartitionKey)
	}
	return n, pk, ehk
}

// WouldFit reports whether r fits in the aggregate under its size and count
// limits. It does not validate r's keys. When it reports false for an empty
// Aggregator, r is too large to aggregate: send it as a record on its own.
func (a *Aggregator) WouldFit(r Record) bool {
	if a.n >= a.cfg.maxRecords {
		return false
	}
	n, _, _ := a.growth(r)
	return a.Size()+n <= a.cfg.maxBytes
}

// Add appends a user record to the aggregate. It returns a [*LimitError]
// for an invalid partition key or explicit hash key, and [ErrAggregateFull]
// when r does not fit (see [Aggregator.WouldFit]). r.Data is copied.
func (a *Aggregator) Add(r Record) error {
	ok, err := a.add(r, true, false)
	if err != nil {
		return err
	}
	if !ok {
		return ErrAggregateFull
	}
	return nil
}

// AddShared is Add without copying r.Data: the aggregate refers to it
// until its next Reset, and it must not be modified before then. The
// bytes are copied once, when the aggregate is encoded: AppendTo writes
// them straight into its destination, where Add copies them twice (into
// the Aggregator, then out of it). Use it to encode an aggregate into a
// buffer of your own with AppendTo; Build copies shared data into a buffer
// of the Aggregator's.
func (a *Aggregator) AddShared(r Record) error {
	ok, err := a.add(r, true, true)
	if err != nil {
		return err
	}
	if !ok {
		return ErrAggregateFull
	}
	return nil
}

// add adds r if it fits. With validate, it first validates keys that are
// not in the tables yet (those in them were validated when added). With
// shared, r.Data is referred to, not copied.
func (a *Aggregator) add(r Record, validate, shared bool) (bool, error) {
	n, pk, ehk := a.growth(r)
	if validate && (pk.isNew || ehk.isNew) {
		if err := validateKeys(r); err != nil {
			return false, err
		}
	}
	if a.n >= a.cfg.maxRecords || a.Size()+n > a.cfg.maxBytes {
		return false, nil
	}
	if pk.isNew {
		a.pks.add(r.PartitionKey, pk)
	}
	pki, ehki := pk.i, ehk.i
	inner := 1 + protowire.SizeVarint(pki) + 1 + protowire.SizeBytes(len(r.Data))
	if r.ExplicitHashKey != "" {
		if ehk.isNew {
			a.ehks.add(r.ExplicitHashKey, ehk)
		}
		inner += 1 + protowire.SizeVarint(ehki)
	}
	b := protowire.AppendTag(a.buf, fieldRecords, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(inner))
	b = protowire.AppendTag(b, fieldPartitionKeyIndex, protowire.VarintType)
	b = protowire.AppendVarint(b, pki)
	if r.ExplicitHashKey != "" {
		b = protowire.AppendTag(b, fieldExplicitHashKeyIndex, protowire.VarintType)
		b = protowire.AppendVarint(b, ehki)
	}
	b = protowire.AppendTag(b, fieldData, protowire.BytesType)
	if shared {
		a.buf = protowire.AppendVarint(b, uint64(len(r.Data)))
		a.shared = append(a.shared, sharedData{at: len(a.buf), data: r.Data})
		a.sharedBytes += len(r.Data)
	} else {
		a.buf = protowire.AppendBytes(b, r.Data)
	}
	if a.n == 0 {
		a.pk = r.PartitionKey
	}
	a.n++
	return true, nil
}

// validateKeys checks a user record's keys like [Limits.Validate], without
// the size limit (an aggregate's size bounds it).
func validateKeys(r Record) error {
	if !utf8.ValidString(r.PartitionKey) {
		return &LimitError{Limit: "partition key encoding", Size: len(r.PartitionKey), Err: ErrInvalidPartitionKey}
	}
	if n := partitionKeyLength(r.PartitionKey); n < 1 || n > MaxPartitionKeyLength {
		return &LimitError{Limit: "partition key length", Size: n, Max: MaxPartitionKeyLength, Err: ErrInvalidPartitionKey}
	}
	if r.ExplicitHashKey != "" {
		if _, err := ParseHashKey(r.ExplicitHashKey); err != nil {
			return &LimitError{Limit: "explicit hash key", Size: len(r.ExplicitHashKey), Err: ErrInvalidExplicitHashKey}
		}
	}
	return nil
}

// AppendTo appends the aggregate's data (magic, protobuf, MD5) to dst. An
// empty aggregate appends nothing.
func (a *Aggregator) AppendTo(dst []byte) []byte {
	if a.n == 0 {
		return dst
	}
	dst, start := a.appendBody(dst)
	sum := md5.Sum(dst[start:])
	return append(dst, sum[:]...)
}

// AppendToUnsealed is AppendTo without computing the MD5 trailer: the
// aggregate's last 16 bytes are zeros until [Seal] fills them in. Append
// several aggregates this way and seal them in one call, which computes
// their MD5s side by side where the CPU allows: about a third of the CPU
// time of sealing them one by one on amd64 with AVX2. An unsealed
// aggregate is not a valid aggregate: deaggregation reads it as plain
// data.
func (a *Aggregator) AppendToUnsealed(dst []byte) []byte {
	if a.n == 0 {
		return dst
	}
	dst, _ = a.appendBody(dst)
	var zero [md5.Size]byte
	return append(dst, zero[:]...)
}

// Seal computes the MD5 trailer of each aggregate appended by
// [Aggregator.AppendToUnsealed] (the whole aggregate's data, from its magic
// to its trailer). It computes up to eight MD5s side by side on amd64 CPUs
// with AVX2, and one by one with crypto/md5 elsewhere; the result is the
// same. Empty data (what an empty Aggregator appends) is skipped; other
// data shorter than an aggregate's magic and trailer makes it panic.
func Seal(aggs ...[]byte) {
	const chunk = 32
	var sums [chunk][md5.Size]byte
	var bodies [chunk][]byte
	var dsts [chunk][]byte
	for len(aggs) > 0 {
		n := 0
		for len(aggs) > 0 && n < chunk {
			agg := aggs[0]
			aggs = aggs[1:]
			if len(agg) == 0 {
				continue
			}
			if len(agg) < aggOverhead {
				panic("batch: Seal: data too short to be an aggregate")
			}
			bodies[n] = agg[len(Magic) : len(agg)-md5.Size]
			dsts[n] = agg[len(agg)-md5.Size:]
			n++
		}
		md5x8.Sums(sums[:n], bodies[:n])
		for i := range n {
			copy(dsts[i], sums[i][:])
		}
		clear(bodies[:n])
		clear(dsts[:n])
	}
}

// appendBody appends the magic and the protobuf message, and returns where
// the message starts.
func (a *Aggregator) appendBody(dst []byte) ([]byte, int) {
	dst = slices.Grow(dst, a.dataSize())
	dst = append(dst, Magic[:]...)
	start := len(dst)
	dst = append(dst, a.pks.buf...)
	dst = append(dst, a.ehks.buf...)
	from := a.head
	for _, s := range a.shared {
		dst = append(dst, a.buf[from:s.at]...)
		dst = append(dst, s.data...)
		from = s.at
	}
	dst = append(dst, a.buf[from:]...)
	return dst, start
}

// Build returns the aggregate as a Kinesis record: the first user record's
// partition key, the explicit hash key set with
// [Aggregator.SetExplicitHashKey], and the aggregated data. The data is in
// the Aggregator's buffer, valid until its next Add, Build or Reset; copy
// it (or use [Aggregator.AppendTo]) to keep it. An empty aggregate builds
// the zero Record.
func (a *Aggregator) Build() Record {
	if a.n == 0 {
		return Record{}
	}
	h := len(Magic) + len(a.pks.buf) + len(a.ehks.buf)
	if h > a.head || len(a.shared) > 0 {
		// Tables larger than the headroom (copy this time, and make room
		// for them from the next Reset), or shared data to copy in.
		a.out = a.AppendTo(a.out[:0])
		return Record{PartitionKey: a.pk, ExplicitHashKey: a.ehk, Data: a.out}
	}
	start := a.head - h
	b := append(a.buf[start:start], Magic[:]...)
	b = append(b, a.pks.buf...)
	b = append(b, a.ehks.buf...)
	end := len(a.buf)
	sum := md5.Sum(a.buf[start+len(Magic) : end])
	a.buf = append(a.buf, sum[:]...)
	data := a.buf[start:len(a.buf):len(a.buf)]
	a.buf = a.buf[:end]
	return Record{PartitionKey: a.pk, ExplicitHashKey: a.ehk, Data: data}
}

// Reset empties the aggregate (and clears its explicit hash key), keeping
// its buffers.
func (a *Aggregator) Reset() {
	if need := len(Magic) + len(a.pks.buf) + len(a.ehks.buf); need > a.head || a.buf == nil {
		a.head = max(512, need+need/2)
		a.buf = make([]byte, a.head, max(cap(a.buf), a.head+256))
	}
	a.buf = a.buf[:a.head]
	a.pks.reset()
	a.ehks.reset()
	clear(a.shared) // drop the references to shared data
	a.shared = a.shared[:0]
	a.sharedBytes = 0
	a.n = 0
	a.pk, a.ehk = "", ""
}
