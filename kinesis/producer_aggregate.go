package kinesis

import (
	"math/bits"
	"sync"

	"github.com/rtdskit/rtds/batch"
)

// aggRecordOverhead bounds the bytes one user record adds to an aggregate
// beyond its data and partition key (protobuf tags, lengths and indexes):
// at most 15 with batch.Aggregator's encoding, for records up to 10 MiB.
const aggRecordOverhead = 24

// aggHeader bounds an aggregate's bytes beyond its records, not counting
// its partition key: batch.Magic and the MD5 trailer.
const aggHeader = 4 + 16 + 48

// encodeAggregate encodes u's records as one KPL aggregated record built by
// a (the request's batch.Aggregator, reused), into a buffer from pool, and
// returns that buffer. The user records carry no explicit hash key: the
// Kinesis record's own explicit hash key routes the aggregate to the shard
// its records' keys hash to.
//
// The dispatcher bounds each aggregate's size from above before taking its
// records, and Put validated their keys with the same rules, so AddShared cannot
// fail; if it ever did, the unit's records are failed with the error rather
// than sent incomplete.
//
// The records' data is copied once, straight into the buffer (AddShared
// refers to it, AppendToUnsealed copies it), and a is reset afterwards so
// that it holds no reference to the records. The aggregate is unsealed:
// send seals a request's new aggregates together with batch.Seal, which
// computes their MD5s side by side.
func encodeAggregate(a *batch.Aggregator, pool *aggBufPool, u *unit) (*aggBuf, error) {
	a.Reset()
	defer a.Reset()
	for i := range u.recs {
		r := &u.recs[i]
		if err := a.AddShared(batch.Record{PartitionKey: r.pk, Data: r.data}); err != nil {
			return nil, errorf("aggregating record %d of %d: %w", i, len(u.recs), err)
		}
	}
	b := pool.get(a.Size()) // Size counts the data and the partition key
	b.b = a.AppendToUnsealed(b.b[:0])
	return b, nil
}

// aggBuf holds one encoded aggregate: a unit's data, from its encoding
// until its records are reported delivered or failed (a retried unit keeps
// it through its retries).
type aggBuf struct {
	b     []byte
	class int // index of its aggBufPool class
}

// minAggBuf is the smallest aggBufPool class.
const minAggBuf = 1 << 10

// aggBufPool recycles aggregate buffers, so that encoding an aggregate
// neither allocates nor grows a buffer. Its classes hold buffers of
// minAggBuf, 2*minAggBuf, ... bytes, the last exactly the aggregate size
// limit, so a small aggregate does not pin a buffer of the limit's size.
type aggBufPool struct {
	sizes   []int
	classes []sync.Pool
}

func newAggBufPool(maxBytes int) *aggBufPool {
	p := &aggBufPool{}
	for n := minAggBuf; ; n *= 2 {
		if n >= maxBytes {
			p.sizes = append(p.sizes, maxBytes)
			break
		}
		p.sizes = append(p.sizes, n)
	}
	p.classes = make([]sync.Pool, len(p.sizes))
	return p
}

// get returns an empty buffer of at least n bytes' capacity.
func (p *aggBufPool) get(n int) *aggBuf {
	c := 0
	if n > minAggBuf {
		c = bits.Len(uint(n-1)) - bits.Len(minAggBuf-1)
	}
	c = min(c, len(p.sizes)-1)
	if n > p.sizes[c] {
		// Over the limit (the dispatcher's bounds rule this out): a
		// buffer the pool will not keep.
		return &aggBuf{b: make([]byte, 0, n), class: -1}
	}
	if b, ok := p.classes[c].Get().(*aggBuf); ok {
		return b
	}
	return &aggBuf{b: make([]byte, 0, p.sizes[c]), class: c}
}

// put recycles b. The caller must hold no reference to b's bytes: its
// PutRecords call has returned and it is not kept for a retry.
func (p *aggBufPool) put(b *aggBuf) {
	if b.class < 0 || cap(b.b) != p.sizes[b.class] {
		return // not the pool's size: let it go
	}
	b.b = b.b[:0]
	p.classes[b.class].Put(b)
}
