package kinesis

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/rtdskit/rtds/batch"
	"github.com/rtdskit/rtds/kinesis/internal/wire"
)

// rec is one buffered user record.
type rec struct {
	pk    string
	data  []byte
	h     hashKey
	at    time.Duration // Put time, since Producer.t0
	epoch uint64        // Flush generation
}

type unitState uint8

const (
	stateSent unitState = iota
	stateDelivered
	stateRetry
	stateFailed
)

// unit is one PutRecords entry: a single user record, or with aggregation
// an aggregate of user records bound for one shard.
type unit struct {
	sh       *shardQ
	pk, ehk  string
	buf      *aggBuf // an aggregate's encoding, once sent (recycled when the unit is done)
	recs     []rec   // aggregated records; nil for a single record (one)
	one      rec
	size     int           // bytes counted against request limits
	born     time.Duration // oldest record's Put time
	attempts int
	retry    *Retrier // its retry sequence, from its first failure
	retryAt  time.Time
	state    unitState
	shardID  string // answer
	seq      string
	err      error
}

func (u *unit) count() int {
	if u.recs != nil {
		return len(u.recs)
	}
	return 1
}

// data is the unit's Kinesis record data: its record's, or its encoded
// aggregate (nil until encoded).
func (u *unit) data() []byte {
	if u.recs == nil {
		return u.one.data
	}
	if u.buf == nil {
		return nil
	}
	return u.buf.b
}

func (u *unit) rec(i int) *rec {
	if u.recs != nil {
		return &u.recs[i]
	}
	return &u.one
}

// request is one PutRecords call being built, in flight, or answered.
type request struct {
	units    []unit
	entries  []sdktypes.PutRecordsRequestEntry
	shards   []*shardQ
	seqs     []uint64 // per shard: its request number (shardQ.sent)
	recBuf   []rec
	agg      *batch.Aggregator // encodes the request's aggregates
	unsealed [][]byte          // aggregates encoded by send, sealed together before the call
	sent     []int             // indexes of the units sent, when some could not be encoded
	sentAt   time.Time
	bytes    int
	records  int
}

// run is the dispatch loop: it sends requests when records have lingered
// long enough, a request is full, a Flush waits or retries are due, within
// the in-flight limit and each shard's rate, and sleeps until the next such
// moment otherwise.
func (p *Producer) run() {
	defer p.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		p.mu.Lock()
		next, expired := p.dispatchLocked(now)
		buf := p.bufferLocked()
		p.mu.Unlock()
		p.reportBuffer(buf)
		if len(expired) > 0 {
			p.finish(expired, nil)
			continue
		}
		d := time.Hour
		if !next.IsZero() {
			d = max(next.Sub(now), time.Millisecond)
		}
		timer.Reset(d)
		select {
		case <-p.wake:
		case <-timer.C:
		case <-p.stop:
			return
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// bufferLocked is the buffer's state for HookPutBuffer.
func (p *Producer) bufferLocked() BufferMetrics {
	return BufferMetrics{Records: p.stats.Buffered, Bytes: p.stats.BufferedBytes, Capacity: p.cfg.bufferBytes}
}

// reportBuffer calls the HookPutBuffer hooks. Only the dispatch loop calls
// it while the producer runs, and Close once after the loop stopped, so
// the hooks see the states in order.
func (p *Producer) reportBuffer(buf BufferMetrics) {
	for _, h := range p.hooks.buffer {
		h.OnPutBuffer(buf)
	}
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// dispatchLocked starts as many requests as are due and allowed, and
// returns when it next needs to run, plus records that expired in the
// buffer (to be reported outside the lock).
func (p *Producer) dispatchLocked(now time.Time) (next time.Time, expired []unit) {
	if p.aborted {
		return time.Time{}, nil
	}
	if !p.refreshing && (p.lastRefresh.IsZero() || (p.needRefresh && now.Sub(p.lastRefresh) >= time.Second) ||
		now.Sub(p.lastRefresh) >= p.cfg.refresh) {
		p.refreshing, p.needRefresh = true, false
		p.wg.Add(1)
		go p.refreshShards()
	}
	if !p.lastRefresh.IsZero() {
		next = p.lastRefresh.Add(p.cfg.refresh)
	}
	if !p.mapReady {
		return next, nil
	}
	if len(p.draining) > 0 {
		p.draining = slices.DeleteFunc(p.draining, func(q *shardQ) bool { return q.idle() })
		p.rebuildAllLocked()
	}
	lingerAt := p.lingerStart.Add(p.cfg.linger)
	for p.inflight < p.cfg.maxInFlight {
		due := p.urgent > 0 || p.closed || !now.Before(lingerAt) ||
			(!p.cfg.aggregate && p.freshRecs >= p.cfg.maxBatchRecords) || p.freshBytes >= p.fullBytes
		req, wake, exp := p.buildLocked(now, due)
		expired = append(expired, exp...)
		next = earliest(next, wake)
		if req == nil {
			if !due && p.freshRecs > 0 {
				next = earliest(next, lingerAt)
			}
			break
		}
		if p.freshRecs > 0 {
			p.lingerStart = now
			lingerAt = now.Add(p.cfg.linger)
		}
		p.inflight++
		p.stats.Requests++
		p.stats.KinesisRecords += int64(len(req.units))
		p.wg.Add(1)
		go p.send(req)
	}
	return next, expired
}

func (p *Producer) rebuildAllLocked() {
	p.all = p.all[:0]
	p.all = append(p.all, p.shards...)
	p.all = append(p.all, p.draining...)
	p.all = append(p.all, p.unmapped)
}

func (p *Producer) newRequest() *request {
	if n := len(p.reqPool); n > 0 {
		r := p.reqPool[n-1]
		p.reqPool = p.reqPool[:n-1]
		return r
	}
	return &request{}
}

func (p *Producer) freeRequest(r *request) {
	clear(r.units)
	r.units = r.units[:0]
	clear(r.entries)
	r.entries = r.entries[:0]
	clear(r.shards)
	r.shards = r.shards[:0]
	r.seqs = r.seqs[:0]
	clear(r.recBuf)
	r.recBuf = r.recBuf[:0]
	r.sent = r.sent[:0]
	r.bytes, r.records = 0, 0
	p.reqPool = append(p.reqPool, r)
}

// fullRequestBytes is how many buffered bytes make a request due before
// the linger ends.
const fullRequestBytes = 1 << 20

// buildLocked takes records for one request, visiting shards round-robin.
// A shard's retries that are due come first, in their original order
// (takeRetriesLocked); then, when due is set, its fresh records
// (takeFreshLocked). With WithOrdering, fresh records wait until the
// shard's retries are all out; without it, a shard whose retries still
// wait for their backoff sends fresh records meanwhile. It returns the
// request (nil if nothing could be taken), when it should run next, and
// records that expired in the buffer.
func (p *Producer) buildLocked(now time.Time, due bool) (req *request, wake time.Time, expired []unit) {
	n := len(p.all)
	start := p.rr
	p.rr++
	for k := range n {
		sh := p.all[(start+k)%n]
		retryDue := len(sh.retry) > 0 && !sh.retry[0].retryAt.After(now)
		freshDue := due && sh.recs.len() > 0 && (len(sh.retry) == 0 || !p.cfg.ordering)
		if len(sh.retry) > 0 && !retryDue {
			wake = earliest(wake, sh.retry[0].retryAt)
		}
		if !retryDue && !freshDue {
			continue
		}
		if p.cfg.ordering && (sh.inflight > 0 || sh.waiting()) {
			continue
		}
		if at := sh.readyAt(now); at.After(now) {
			wake = earliest(wake, at)
			continue
		}
		if req == nil {
			req = p.newRequest()
			if p.cfg.ordering && !p.cfg.aggregate {
				if p.keys == nil {
					p.keys = map[string]struct{}{}
				}
				clear(p.keys)
			}
		} else if len(req.units) >= p.cfg.maxBatchRecords || req.bytes >= p.cfg.maxBatchBytes {
			break
		}
		t := take{req: req, sh: sh, budget: sh.budget(), first: len(req.units)}
		if retryDue {
			p.takeRetriesLocked(&t, now)
		}
		if due && (len(sh.retry) == 0 || !p.cfg.ordering) {
			expired = p.takeFreshLocked(&t, now, expired)
		}
		if len(req.units) > t.first {
			sh.inflight++
			sh.charge(now, t.cost)
			sh.sent++
			req.shards = append(req.shards, sh)
			req.seqs = append(req.seqs, sh.sent)
		}
	}
	if req != nil && len(req.units) == 0 {
		p.freeRequest(req)
		req = nil
	}
	if req != nil {
		req.sentAt = now
	}
	return req, wake, expired
}

// take is one shard's share of a request being built.
type take struct {
	req    *request
	sh     *shardQ
	budget int // cost the shard's rate allows this request
	cost   int // cost taken so far
	first  int // index in req.units of the shard's first unit
}

// room reports whether a unit of size bytes fits the request's limits and
// the shard's budget (the shard's first unit always fits the budget, so a
// slow shard still progresses).
func (t *take) room(p *Producer, size int) bool {
	return len(t.req.units) < p.cfg.maxBatchRecords && t.req.bytes+size <= p.cfg.maxBatchBytes &&
		(t.cost == 0 || t.cost < t.budget)
}

// add appends u to the request.
func (t *take) add(u unit) {
	t.req.units = append(t.req.units, u)
	t.req.bytes += u.size
	t.req.records += u.count()
	t.cost += max(u.size, recordCostFloor)
}

// keyTakenLocked reports, with ordering and without aggregation, whether
// the request already holds a record of key pk, and claims pk otherwise:
// one request carries at most one record per key.
func (p *Producer) keyTakenLocked(pk string) bool {
	if !p.cfg.ordering || p.cfg.aggregate {
		return false
	}
	if _, dup := p.keys[pk]; dup {
		return true
	}
	p.keys[pk] = struct{}{}
	return false
}

// takeRetriesLocked moves the shard's retries that are due into the
// request, in their original order.
func (p *Producer) takeRetriesLocked(t *take, now time.Time) {
	sh := t.sh
	taken := 0
	for taken < len(sh.retry) {
		u := &sh.retry[taken]
		if u.retryAt.After(now) || !t.room(p, u.size) {
			break
		}
		if p.cfg.ordering && p.cfg.aggregate && len(t.req.units) > t.first {
			break // one aggregate per shard per request
		}
		if p.keyTakenLocked(u.pk) {
			break
		}
		t.add(*u)
		taken++
	}
	clear(sh.retry[:taken])
	sh.retry = sh.retry[taken:]
	if len(sh.retry) == 0 {
		sh.retry = nil
	}
}

// takeFreshLocked moves the shard's fresh records into the request, in Put
// order, as single records or (with aggregation) aggregates, and appends
// those older than the TTL to expired instead.
func (p *Producer) takeFreshLocked(t *take, now time.Time, expired []unit) []unit {
	sh, req := t.sh, t.req
	sinceT0 := now.Sub(p.t0)
	taken := 0
	for taken < sh.recs.len() {
		r := sh.recs.at(taken)
		if sinceT0-r.at > p.cfg.ttl {
			expired = append(expired, unit{sh: sh, pk: r.pk, one: *r, born: r.at,
				state: stateFailed, err: &RecordError{ShardID: sh.id, Err: fmt.Errorf("%w: expired in the buffer", ErrRecordExpired)}})
			p.freshRecs--
			p.freshBytes -= len(r.pk) + len(r.data)
			taken++
			continue
		}
		size := len(r.pk) + len(r.data)
		if p.cfg.ordering && p.cfg.aggregate && len(req.units) > t.first {
			break
		}
		if p.cfg.aggregate && sh.id != "" && 2*len(r.pk)+len(r.data)+aggRecordOverhead+aggHeader+len(sh.ehk) <= p.cfg.maxAggBytes {
			if t.cost > 0 && t.cost >= t.budget {
				break
			}
			m := p.takeAggregateLocked(req, sh, taken, p.cfg.maxBatchBytes, t.budget-t.cost, t.cost == 0)
			if m == 0 {
				break
			}
			u := &req.units[len(req.units)-1]
			t.cost += max(u.size, recordCostFloor)
			taken += m
			continue
		}
		if !t.room(p, size) || p.keyTakenLocked(r.pk) {
			break
		}
		t.add(unit{sh: sh, pk: r.pk, one: *r, size: size, born: r.at})
		p.freshRecs--
		p.freshBytes -= size
		taken++
	}
	sh.recs.drop(taken)
	return expired
}

// takeAggregateLocked packs fresh records of sh, starting at index from,
// into one aggregate unit appended to req, and returns how many records it
// took (0 when the request has no room).
func (p *Producer) takeAggregateLocked(req *request, sh *shardQ, from int, maxBytes, budget int, firstOfShard bool) int {
	if len(req.units) >= p.cfg.maxBatchRecords {
		return 0
	}
	hard := min(p.cfg.maxAggBytes, maxBytes-req.bytes)
	// The shard's rate budget bounds the aggregate too, except that its
	// first record is always admitted, so a slow shard still progresses.
	soft := hard
	if budget < math.MaxInt {
		soft = min(hard, max(budget, recordCostFloor))
	}
	size := aggHeader + len(sh.ehk) + len(sh.recs.at(from).pk)
	start := len(req.recBuf)
	dataBytes := 0
	i := from
	for ; i < sh.recs.len() && i-from < p.cfg.maxAggRecords; i++ {
		r := sh.recs.at(i)
		s := len(r.pk) + len(r.data) + aggRecordOverhead
		limit := soft
		if i == from && firstOfShard {
			limit = hard
		}
		if size+s > limit {
			break
		}
		size += s
		dataBytes += len(r.pk) + len(r.data)
		req.recBuf = append(req.recBuf, *r)
	}
	m := i - from
	if m == 0 {
		return 0
	}
	recs := req.recBuf[start:len(req.recBuf):len(req.recBuf)]
	req.units = append(req.units, unit{sh: sh, pk: recs[0].pk, ehk: sh.ehk, recs: recs, size: size, born: recs[0].at})
	req.bytes += size
	req.records += m
	p.freshRecs -= m
	p.freshBytes -= dataBytes
	return m
}

// send makes one PutRecords call and processes its answer.
func (p *Producer) send(req *request) {
	defer p.wg.Done()
	unsent := 0
	for i := range req.units {
		u := &req.units[i]
		if u.recs != nil && u.buf == nil {
			var err error
			if req.agg == nil {
				req.agg, err = p.cfg.newAggregator() // checked by NewProducer: does not fail
			}
			var buf *aggBuf
			if err == nil {
				buf, err = encodeAggregate(req.agg, p.aggBufs, u)
			}
			if err != nil {
				u.state, u.err = stateFailed, &RecordError{ShardID: u.sh.id, Err: err}
				unsent++
				continue
			}
			u.buf = buf
			req.unsealed = append(req.unsealed, buf.b)
		}
		e := sdktypes.PutRecordsRequestEntry{Data: u.data(), PartitionKey: &u.pk}
		if u.ehk != "" {
			e.ExplicitHashKey = &u.ehk
		}
		req.entries = append(req.entries, e)
	}
	// The new aggregates' MD5 trailers, computed side by side.
	batch.Seal(req.unsealed...)
	clear(req.unsealed)
	req.unsealed = req.unsealed[:0]
	if unsent > 0 {
		for i := range req.units {
			if req.units[i].state != stateFailed {
				req.sent = append(req.sent, i)
			}
		}
	}
	var out *sdkkinesis.PutRecordsOutput
	var err error
	start := time.Now()
	if len(req.entries) > 0 {
		in := &sdkkinesis.PutRecordsInput{Records: req.entries, StreamName: p.name, StreamARN: p.arn}
		if p.cfg.wire == WireFast {
			// The fast codec reuses the request body once the call is over.
			var body wire.Tracker
			out, err = p.client.PutRecords(wire.Track(p.ctx, &body), in, p.cfg.putRecordsOpts()...)
			body.Release(err == nil)
		} else {
			out, err = p.client.PutRecords(p.ctx, in, p.cfg.putRecordsOpts()...)
		}
	}
	p.complete(req, out, err, time.Since(start))
}

// complete processes a PutRecords answer: delivered units are reported,
// retryable failures are queued again at the front of their shard, the
// rest are reported failed.
func (p *Producer) complete(req *request, out *sdkkinesis.PutRecordsOutput, err error, latency time.Duration) {
	now := time.Now()
	if n := len(req.entries); n > 0 && err == nil && (out == nil || len(out.Records) != n) {
		err = fmt.Errorf("kinesis: PutRecords answered %d results for %d entries", lenResults(out), n)
	}
	failed := 0
	type throttle struct {
		sh   *shardQ
		rate float64
	}
	var throttles []throttle

	p.mu.Lock()
	aborted := p.aborted
	if out != nil && err == nil {
		p.stats.Answered++
	}
	for k := range req.entries {
		i := k
		if len(req.sent) > 0 {
			i = req.sent[k] // some units could not be encoded and were not sent
		}
		u := &req.units[i]
		u.attempts++
		var cause error
		if err != nil {
			cause = err
		} else if r := &out.Records[k]; r.ErrorCode != nil && *r.ErrorCode != "" {
			cause = entryError(*r.ErrorCode, aws.ToString(r.ErrorMessage))
		} else {
			u.state, u.err = stateDelivered, nil
			u.shardID, u.seq = aws.ToString(r.ShardId), aws.ToString(r.SequenceNumber)
			u.sh.meter.add(now, max(u.size, recordCostFloor))
			if u.sh.id != "" && u.shardID != u.sh.id {
				p.needRefresh = true
			}
			continue
		}
		failed++
		p.stats.LastError = cause
		retry, thr := classify(cause)
		if retry && isSetupError(cause) {
			retry = false
		}
		if thr {
			p.stats.Throttled++
			if r := u.sh.throttled(now, req.seq(u.sh)); r > 0 {
				throttles = append(throttles, throttle{u.sh, r})
			}
		}
		switch {
		case aborted:
			u.state = stateFailed
			u.err = &RecordError{ShardID: u.sh.id, Attempts: u.attempts,
				Err: fmt.Errorf("%w (its last attempt may have succeeded): %w", p.abortErr, cause)}
		case !retry:
			u.state = stateFailed
			u.err = &RecordError{ShardID: u.sh.id, Attempts: u.attempts, Err: cause}
		default:
			p.scheduleRetryLocked(u, cause, thr, now)
		}
	}
	for i, sh := range req.shards {
		sh.inflight--
		if req.seqs[i] > sh.decreased {
			sh.succeeded(now)
		}
		sh.setAdmit(now, p.cfg.ttl)
	}
	// Requeue retries at the front of their shard, in their original order
	// (a shard's units are contiguous in the request).
	for i := 0; i < len(req.units); {
		j := i
		for j < len(req.units) && req.units[j].sh == req.units[i].sh {
			j++
		}
		var run []unit
		for k := i; k < j; k++ {
			if u := &req.units[k]; u.state == stateRetry {
				// The retry takes over u's aggregate buffer, if any
				// (finish leaves it alone), but not its records, which
				// are in req's buffer.
				c := *u
				if c.recs != nil {
					c.recs = slices.Clone(c.recs)
				}
				run = p.regroupLocked(run, &c)
			}
		}
		if len(run) > 0 {
			sh := req.units[i].sh
			if p.cfg.ordering {
				// Nothing of the shard was sent since these units:
				// they are its oldest.
				sh.retry = append(run, sh.retry...)
			} else {
				sh.retry = mergeRetries(sh.retry, run)
			}
			p.stats.Retried += int64(countRecs(run))
		}
		i = j
	}
	p.inflight--
	p.mu.Unlock()

	for _, t := range throttles {
		p.cfg.log().Debug("kinesis: shard throttled; lowering its rate", "shard", t.sh.id, "bytes_per_second", t.rate)
		for _, h := range p.hooks.throttle {
			h.OnPutThrottled(PutThrottleMetrics{ShardID: t.sh.id, Rate: t.rate})
		}
	}
	p.cfg.log().Debug("kinesis: PutRecords answered", "entries", len(req.units), "records", req.records,
		"bytes", req.bytes, "failed", failed, "latency", latency, "error", err)
	p.hookBatch(req, failed, err, latency)
	p.hookRetries(req)
	p.finish(req.units, req)
	p.signal()
}

func (r *request) seq(sh *shardQ) uint64 {
	for i, s := range r.shards {
		if s == sh {
			return r.seqs[i]
		}
	}
	return 0
}

func lenResults(out *sdkkinesis.PutRecordsOutput) int {
	if out == nil {
		return 0
	}
	return len(out.Records)
}

// mergeRetries merges run into q, a shard's retries in order of retryAt,
// keeping that order (and the order of units due at the same time).
// Without WithOrdering a shard sends fresh records while its retries wait,
// so a failed request may hold units newer than some waiting in q.
func mergeRetries(q, run []unit) []unit {
	slices.SortStableFunc(run, func(a, b unit) int { return a.retryAt.Compare(b.retryAt) })
	if len(q) == 0 || !run[0].retryAt.Before(q[len(q)-1].retryAt) {
		return append(q, run...)
	}
	out := make([]unit, 0, len(q)+len(run))
	i, j := 0, 0
	for i < len(q) && j < len(run) {
		if run[j].retryAt.Before(q[i].retryAt) {
			out = append(out, run[j])
			j++
		} else {
			out = append(out, q[i])
			i++
		}
	}
	out = append(out, q[i:]...)
	return append(out, run[j:]...)
}

func countRecs(us []unit) int {
	n := 0
	for i := range us {
		n += us[i].count()
	}
	return n
}

// scheduleRetryLocked marks u for a retry after its backoff, or failed when
// its TTL or attempt limit does not allow one. A throttled unit waits at
// most maxThrottleWait: its shard's rate limit, not its backoff, paces it.
func (p *Producer) scheduleRetryLocked(u *unit, cause error, throttled bool, now time.Time) {
	if u.retry == nil {
		u.retry = p.cfg.retry.Start()
	}
	d, ok := u.retry.Next()
	if throttled {
		d = min(d, maxThrottleWait)
	}
	// The TTL left, computed so that a TTL of up to math.MaxInt64 does
	// not overflow.
	left := p.cfg.ttl - (now.Sub(p.t0) - u.born)
	at := now.Add(d)
	if !ok || d > left {
		u.state = stateFailed
		u.err = &RecordError{ShardID: u.sh.id, Attempts: u.attempts, Err: fmt.Errorf("%w: %w", ErrRecordExpired, cause)}
		return
	}
	u.state = stateRetry
	u.retryAt = at
	u.err = cause
}

// finish reports the outcome of delivered and failed units, then releases
// their buffer space and wakes Flush calls waiting for them. req, when not
// nil, is recycled afterwards.
func (p *Producer) finish(units []unit, req *request) {
	var delivered, failed, freed int
	for i := range units {
		u := &units[i]
		if u.state != stateDelivered && u.state != stateFailed {
			continue
		}
		n := u.count()
		if u.state == stateDelivered {
			delivered += n
		} else {
			failed += n
			p.reportFailure(u)
		}
		for j := range n {
			r := u.rec(j)
			freed += len(r.pk) + len(r.data)
			if p.cfg.onResult != nil {
				res := Result{PartitionKey: r.pk, Data: r.data, Attempts: u.attempts, Err: u.err}
				if u.state == stateDelivered {
					res.ShardID, res.SequenceNumber = u.shardID, u.seq
					if u.recs != nil {
						res.SubSequenceNumber, res.Aggregated = uint64(j), true
					}
				}
				p.cfg.onResult(res)
			}
		}
		// Results carry the caller's data, never the aggregate's, and a
		// done unit's PutRecords calls have all returned.
		if u.buf != nil {
			p.aggBufs.put(u.buf)
			u.buf = nil
		}
	}
	p.mu.Lock()
	p.stats.Delivered += int64(delivered)
	p.stats.Failed += int64(failed)
	p.stats.Buffered -= delivered + failed
	p.stats.BufferedBytes -= freed
	for i := range units {
		u := &units[i]
		if u.state != stateDelivered && u.state != stateFailed {
			continue
		}
		for j := range u.count() {
			r := u.rec(j)
			u.sh.pending -= p.recCost(len(r.pk) + len(r.data))
		}
		if u.recs == nil {
			p.completeLocked(u.one.epoch, 1)
			continue
		}
		for j := 0; j < len(u.recs); {
			k := j
			for k < len(u.recs) && u.recs[k].epoch == u.recs[j].epoch {
				k++
			}
			p.completeLocked(u.recs[j].epoch, k-j)
			j = k
		}
	}
	if req != nil {
		p.freeRequest(req)
	}
	if freed > 0 && p.space != nil {
		close(p.space)
		p.space = nil
	}
	p.mu.Unlock()
}

func (p *Producer) reportFailure(u *unit) {
	n := u.count()
	if p.cfg.onResult == nil {
		p.cfg.log().Warn("kinesis: records failed", "shard", u.sh.id, "records", n, "attempts", u.attempts, "error", u.err)
	}
	for _, h := range p.hooks.failed {
		h.OnPutFailed(PutFailureMetrics{ShardID: u.sh.id, Records: n, Err: u.err})
	}
}

func (p *Producer) hookBatch(req *request, failed int, err error, latency time.Duration) {
	if len(p.hooks.batch) == 0 {
		return
	}
	m := PutBatchMetrics{Records: req.records, KinesisRecords: len(req.units), Bytes: req.bytes,
		Failed: failed, Latency: latency, Err: err}
	for i := 0; i < len(req.units); {
		sh := req.units[i].sh
		s := ShardBatchMetrics{ShardID: sh.id}
		for ; i < len(req.units) && req.units[i].sh == sh; i++ {
			s.Records += req.units[i].count()
			s.KinesisRecords++
			s.Bytes += req.units[i].size
			if req.units[i].state == stateDelivered {
				m.Delivered += req.units[i].count()
			}
		}
		m.Shards = append(m.Shards, s)
	}
	for _, h := range p.hooks.batch {
		h.OnPutBatch(m)
	}
}

func (p *Producer) hookRetries(req *request) {
	for i := range req.units {
		u := &req.units[i]
		if u.state != stateRetry {
			continue
		}
		if len(p.hooks.retried) > 0 {
			m := PutRetryMetrics{ShardID: u.sh.id, Records: u.count(), Attempt: u.attempts, Delay: time.Until(u.retryAt), Err: u.err}
			for _, h := range p.hooks.retried {
				h.OnPutRetried(m)
			}
		}
		p.cfg.log().Debug("kinesis: retrying records", "shard", u.sh.id, "records", u.count(), "attempt", u.attempts, "error", u.err)
	}
}
