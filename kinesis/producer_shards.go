package kinesis

import (
	"context"
	"errors"
	"math"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/time/rate"

	"github.com/rtdskit/rtds/batch"
)

// Adaptive per-shard rate. A shard starts unlimited. When it throttles
// (at most once per round trip: throttles in answers to requests sent
// before the last change are already accounted for), its limit becomes
// throttleGain times the most it delivered in one second of the last
// meterSeconds (the rate the shard demonstrably accepts), at least
// nominalShardRate when it was unlimited and at least minShardRate. Each
// request it completes without throttling adds shardRateStep, and once the
// limit is back above maxShardRate the shard is unlimited again.
//
// Setting the limit from the delivered rate rather than halving it is what
// keeps the rate from collapsing under throttles the producer's own rate
// did not cause (another writer, a fault): those fail a share of entries
// whatever the rate, so the shard still delivers most of what it is sent,
// and the limit stays near the rate that worked. When the producer does
// exceed the shard, the shard delivers its capacity, and the limit
// settles just above it.
//
// Cost is bytes, with each Kinesis record counted as at least
// recordCostFloor bytes, so one limiter covers both the 1 MiB/s and the
// 1,000 records/s shard limits.
const (
	nominalShardRate = 1 << 20
	minShardRate     = 16 << 10
	maxShardRate     = 2 * nominalShardRate
	shardRateStep    = 64 << 10
	shardBurst       = 1 << 20
	recordCostFloor  = 1 << 10
	throttleGain     = 1.25
	meterSeconds     = 10
	// shardSlice bounds one request's share of a rate-limited shard to
	// this much of its rate, so a slow shard paces smoothly.
	shardSlice = 200 * time.Millisecond
	// admitShare is the share of the record TTL that a shard's backlog
	// may take to drain at its current rate (drainRate): Put admits a
	// record only when its shard's backlog, the record included, can be
	// sent within admitShare × TTL (or the backlog is empty). The rest of
	// the TTL is left for retries and for the rate to drop further.
	admitShare = 0.5
	// minAdmitRate is the least drain rate Put assumes of a shard (64
	// records of 1 KiB a second): what a shard that has not answered yet
	// is admitted at.
	minAdmitRate = 64 << 10
	// maxThrottleWait caps the backoff of a throttled record (see
	// WithPutRetry).
	maxThrottleWait = 500 * time.Millisecond
)

// hashKey is a 128-bit Kinesis hash key.
type hashKey = batch.HashKey

// shardQ is the producer's state for one (predicted) shard. All fields are
// guarded by Producer.mu.
type shardQ struct {
	id         string // "" for the unmapped queue
	start, end hashKey
	ehk        string   // explicit hash key routing an aggregate here
	recs       recQueue // fresh records, in Put order
	retry      []unit   // failed units awaiting a retry, in original order
	inflight   int      // requests in flight carrying this shard's records
	lim        *rate.Limiter
	sent       uint64 // requests sent that carry this shard's records
	decreased  uint64 // value of sent at the last rate decrease
	open       bool   // in the current shard map
	// pending is the cost of the records routed here and not yet
	// delivered or failed (fresh, retrying or in flight); Put admits a
	// record while pending stays within admit (see admitShare).
	pending int
	admit   int
	meter   deliveryMeter
	// after lists, with WithOrdering, the queues of an earlier shard map
	// whose hash ranges overlap this one and which still held records
	// (fresh, retrying or in flight) when this queue took over their
	// keys. The queue sends nothing until they are all idle, so a key's
	// older records are written before its newer ones.
	after []*shardQ
}

func newShardQ(id string, start, end hashKey, ehk string) *shardQ {
	return &shardQ{id: id, start: start, end: end, ehk: ehk,
		lim: rate.NewLimiter(rate.Inf, shardBurst), open: true, admit: math.MaxInt}
}

// admits reports whether a record of the given cost may join the shard's
// backlog.
func (s *shardQ) admits(cost int) bool { return s.pending == 0 || s.pending+cost <= s.admit }

// drainRate is the rate, in cost per second, at which the shard is
// expected to accept records: the most it delivered in a second lately (at
// least minAdmitRate), within its limit once it throttled. A shard that
// has not delivered yet is admitted little, and its admission grows with
// each answer, by as much as that answer delivered: a burst is admitted
// within a few round trips where the stream takes it, and a slow endpoint
// is not handed more than it can take within the TTL.
func (s *shardQ) drainRate(now time.Time) float64 {
	r := max(float64(s.meter.peak(now)), minAdmitRate)
	if l := s.lim.Limit(); l != rate.Inf {
		r = min(r, float64(l))
	}
	return r
}

// setAdmit sets the backlog Put may build for the shard: what drains in
// admitShare of ttl at its current rate. The unmapped queue counts as one
// shard.
func (s *shardQ) setAdmit(now time.Time, ttl time.Duration) {
	a := s.drainRate(now) * ttl.Seconds() * admitShare
	if a >= math.MaxInt/2 {
		s.admit = math.MaxInt / 2
		return
	}
	s.admit = int(a)
}

// deliveryMeter counts the cost a shard delivered in each of the last
// meterSeconds whole seconds.
type deliveryMeter struct {
	sec     int64 // Unix second of the current bucket; 0 before the first delivery
	buckets [meterSeconds]int64
}

func (m *deliveryMeter) advance(now time.Time) {
	sec := now.Unix()
	if m.sec == 0 || sec-m.sec >= meterSeconds {
		m.buckets = [meterSeconds]int64{}
		m.sec = sec
		return
	}
	for m.sec < sec {
		m.sec++
		m.buckets[m.sec%meterSeconds] = 0
	}
}

func (m *deliveryMeter) add(now time.Time, cost int) {
	m.advance(now)
	m.buckets[m.sec%meterSeconds] += int64(cost)
}

// peak is the most cost delivered in one second of the last meterSeconds,
// the current (partial) second included.
func (m *deliveryMeter) peak(now time.Time) int64 {
	if m.sec == 0 {
		return 0
	}
	m.advance(now)
	return slices.Max(m.buckets[:])
}

func (s *shardQ) idle() bool { return s.recs.len() == 0 && len(s.retry) == 0 && s.inflight == 0 }

// waiting reports whether a queue of an earlier map that s must follow
// still holds records, forgetting those that are idle.
func (s *shardQ) waiting() bool {
	if len(s.after) == 0 {
		return false
	}
	s.after = slices.DeleteFunc(s.after, func(q *shardQ) bool { return q.idle() })
	if len(s.after) == 0 {
		s.after = nil
		return false
	}
	return true
}

// overlaps reports whether s and q share hash keys.
func (s *shardQ) overlaps(q *shardQ) bool {
	return s.start.Compare(q.end) <= 0 && q.start.Compare(s.end) <= 0
}

// readyAt reports when the shard's rate allows its next request.
func (s *shardQ) readyAt(now time.Time) time.Time {
	l := s.lim.Limit()
	if l == rate.Inf {
		return now
	}
	tok := s.lim.TokensAt(now)
	if tok >= 0 {
		return now
	}
	return now.Add(time.Duration(-tok / float64(l) * float64(time.Second)))
}

// budget is how many cost bytes one request may take from the shard.
func (s *shardQ) budget() int {
	l := s.lim.Limit()
	if l == rate.Inf {
		return math.MaxInt
	}
	return max(int(float64(l)*shardSlice.Seconds()), recordCostFloor)
}

func (s *shardQ) charge(now time.Time, cost int) {
	if s.lim.Limit() == rate.Inf {
		return
	}
	s.lim.ReserveN(now, min(cost, shardBurst))
}

// throttled sets the shard's rate after a throttle in the answer to its
// request number seq, once per round trip: throttles of requests sent
// before the last change are already accounted for. The new rate is
// throttleGain times the shard's peak delivered rate (see the constants).
// It reports the new rate, or 0 when it did not change.
func (s *shardQ) throttled(now time.Time, seq uint64) float64 {
	if seq <= s.decreased {
		return 0
	}
	l := max(throttleGain*float64(s.meter.peak(now)), minShardRate)
	if s.lim.Limit() == rate.Inf {
		l = max(l, nominalShardRate)
	}
	if l >= maxShardRate {
		l = maxShardRate
	}
	s.decreased = s.sent
	s.lim.SetLimitAt(now, rate.Limit(l))
	return l
}

// succeeded raises a throttled shard's rate additively.
func (s *shardQ) succeeded(now time.Time) {
	l := s.lim.Limit()
	if l == rate.Inf {
		return
	}
	l += shardRateStep
	if l >= maxShardRate {
		l = rate.Inf
	}
	s.lim.SetLimitAt(now, l)
}

// routeLocked returns the queue of the shard whose hash key range holds
// h in the current shard map, or nil (no map yet, or h in a gap).
func (p *Producer) routeLocked(h hashKey) *shardQ {
	if p.shardMap == nil {
		return nil
	}
	if i := p.shardMap.Index(h); i >= 0 {
		return p.shards[i]
	}
	return nil
}

// listOpenShards reads the stream's open shards with ListShards, following
// NextToken pages (listShards).
func listOpenShards(ctx context.Context, client ListShardsAPI, name, arn *string) ([]batch.ShardRange, error) {
	shards, err := listShards(ctx, client, name, arn)
	if err != nil {
		return nil, errorf("%w", err)
	}
	var out []batch.ShardRange
	for _, s := range shards {
		if s.SequenceNumberRange != nil && s.SequenceNumberRange.EndingSequenceNumber != nil {
			continue // closed
		}
		if s.HashKeyRange == nil {
			continue
		}
		r, err := batch.ParseShardRange(aws.ToString(s.ShardId), aws.ToString(s.HashKeyRange.StartingHashKey), aws.ToString(s.HashKeyRange.EndingHashKey))
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// refreshShards reads the shard map and applies it.
func (p *Producer) refreshShards() {
	defer p.wg.Done()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	var m *batch.ShardMap
	ranges, err := listOpenShards(ctx, p.client, p.name, p.arn)
	if err == nil && len(ranges) > 0 {
		m, err = batch.NewShardMap(ranges)
	}
	p.mu.Lock()
	p.refreshing = false
	p.lastRefresh = time.Now()
	p.mapReady = true
	if m != nil {
		p.applyMapLocked(m)
	}
	p.mu.Unlock()
	if err != nil && !errors.Is(err, context.Canceled) {
		p.cfg.log().Warn("kinesis: reading the shard map failed; records are not routed by shard until it succeeds", "error", err)
	}
	p.signal()
}

// applyMapLocked installs a new shard map: unchanged shards keep their
// state, closed ones drain their retries and in-flight requests, and fresh
// records are routed again.
func (p *Producer) applyMapLocked(sm *batch.ShardMap) {
	ranges := sm.Ranges()
	m := make([]*shardQ, 0, len(ranges))
	byID := make(map[string]*shardQ, len(ranges))
	for i, r := range ranges {
		q := p.byID[r.ShardID]
		if q == nil || q.start != r.StartingHashKey || q.end != r.EndingHashKey {
			q = newShardQ(r.ShardID, r.StartingHashKey, r.EndingHashKey, sm.ExplicitHashKey(i))
		}
		m = append(m, q)
		byID[r.ShardID] = q
	}
	var moved []rec
	for id, q := range p.byID {
		if byID[id] == q {
			continue
		}
		q.open = false
		moved = append(moved, p.drainLocked(q)...)
		if !q.idle() {
			p.draining = append(p.draining, q)
		}
	}
	moved = append(moved, p.drainLocked(p.unmapped)...)
	if p.cfg.ordering {
		// A queue taking over keys from queues of the earlier map (closed
		// shards, or the unmapped queue before the first map) waits until
		// their retries and requests in flight are answered. Those records
		// still reach the right shard (Kinesis routes them by hash key,
		// and a closed parent's keys belong to its children), and they
		// are older than anything the new queue holds.
		var prev []*shardQ
		for _, q := range p.draining {
			if !q.idle() {
				prev = append(prev, q)
			}
		}
		if len(p.shards) == 0 && !p.unmapped.idle() {
			prev = append(prev, p.unmapped)
		}
		for _, q := range m {
			for _, d := range prev {
				if d != q && q.overlaps(d) && !slices.Contains(q.after, d) {
					q.after = append(q.after, d)
				}
			}
		}
	}
	if len(moved) > 0 {
		// Keep Put order within each key.
		slices.SortStableFunc(moved, func(a, b rec) int { return int(a.at - b.at) })
	}
	p.shardMap, p.shards, p.byID = sm, m, byID
	for _, q := range p.draining {
		if len(q.retry) > 0 {
			var retry []unit
			for i := range q.retry {
				retry = p.regroupLocked(retry, &q.retry[i])
			}
			q.retry = retry
		}
	}
	for _, r := range moved {
		q := p.routeLocked(r.h)
		if q == nil {
			q = p.unmapped
		}
		p.pushLocked(q, r)
	}
	now := time.Now()
	for _, q := range m {
		q.setAdmit(now, p.cfg.ttl)
	}
	p.rebuildAllLocked()
}

// regroupLocked appends u to dst, or, when u is an aggregate of a closed
// shard, one aggregate per shard of the current map that its records' keys
// belong to: the closed shard's explicit hash key would send it whole to
// one child, with records of its sibling's keys. The parts keep u's place
// in its queue, its attempts and its backoff (shared, under Producer.mu),
// and are encoded again when sent (u's encoding is left to the garbage
// collector).
func (p *Producer) regroupLocked(dst []unit, u *unit) []unit {
	if u.recs == nil || u.sh.open || len(p.shards) == 0 {
		return append(dst, *u)
	}
	var targets [4]*shardQ
	ts := targets[:0]
	for i := range u.recs {
		if q := p.routeLocked(u.recs[i].h); !slices.Contains(ts, q) {
			ts = append(ts, q)
		}
	}
	if len(ts) == 1 && (ts[0] == nil || ts[0].ehk == u.ehk) {
		return append(dst, *u)
	}
	n := len(dst)
	for _, q := range ts {
		part := *u
		part.recs, part.buf = nil, nil
		if q != nil {
			part.ehk = q.ehk
		}
		for i := range u.recs {
			if p.routeLocked(u.recs[i].h) == q {
				part.recs = append(part.recs, u.recs[i])
			}
		}
		part.pk, part.born = part.recs[0].pk, part.recs[0].at
		part.size = aggHeader + len(part.ehk) + len(part.pk)
		for i := range part.recs {
			part.size += len(part.recs[i].pk) + len(part.recs[i].data) + aggRecordOverhead
		}
		if part.size > p.cfg.maxAggBytes {
			// A longer explicit hash key pushed it over: keep u whole.
			clear(dst[n:])
			return append(dst[:n], *u)
		}
		dst = append(dst, part)
	}
	return dst
}

// recCost is what a record of size bytes (data plus partition key) costs
// against its shard's rate: its size, and without aggregation at least
// recordCostFloor, the share of a shard's 1 MiB/s that one of its 1,000
// records/s takes.
func (p *Producer) recCost(size int) int {
	if p.cfg.aggregate {
		return size + aggRecordOverhead
	}
	return max(size, recordCostFloor)
}

// pushLocked queues a fresh record on q.
func (p *Producer) pushLocked(q *shardQ, r rec) {
	q.recs.push(r)
	q.pending += p.recCost(len(r.pk) + len(r.data))
}

// drainLocked removes and returns q's fresh records.
func (p *Producer) drainLocked(q *shardQ) []rec {
	rs := q.recs.drain()
	for i := range rs {
		q.pending -= p.recCost(len(rs[i].pk) + len(rs[i].data))
	}
	return rs
}

// recQueue is a FIFO ring of buffered records. It grows by doubling and
// never moves records otherwise, so a long backlog costs no copying while
// records flow through it.
type recQueue struct {
	buf  []rec // len is a power of two, or 0
	head int
	n    int
}

func (q *recQueue) len() int { return q.n }

func (q *recQueue) at(i int) *rec { return &q.buf[(q.head+i)&(len(q.buf)-1)] }

func (q *recQueue) push(r rec) {
	if q.n == len(q.buf) {
		nb := make([]rec, max(64, 2*len(q.buf)))
		for i := range q.n {
			nb[i] = *q.at(i)
		}
		q.buf, q.head = nb, 0
	}
	q.buf[(q.head+q.n)&(len(q.buf)-1)] = r
	q.n++
}

// drop removes the first k records.
func (q *recQueue) drop(k int) {
	for i := range k {
		*q.at(i) = rec{}
	}
	q.head = (q.head + k) & (len(q.buf) - 1)
	q.n -= k
	if q.n == 0 {
		q.head = 0
	}
}

// drain removes and returns every record.
func (q *recQueue) drain() []rec {
	out := make([]rec, q.n)
	for i := range q.n {
		out[i] = *q.at(i)
	}
	q.drop(q.n)
	return out
}
