package reliability

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtdskit/rtds/batch"
	"github.com/rtdskit/rtds/internal/faultproxy"
	"github.com/rtdskit/rtds/internal/testenv"
	"github.com/rtdskit/rtds/kinesis"
)

// fastPutRetry keeps producer retries quick in the scenarios: 10 ms
// doubling to 200 ms, ±50%, no attempt limit.
var fastPutRetry = kinesis.Retry{InitialInterval: 10 * time.Millisecond, MaxInterval: 200 * time.Millisecond, Multiplier: 2, Jitter: 0.5}

// outcomes collects a producer's Results by event id and flags any event
// reported twice.
type outcomes struct {
	mu       sync.Mutex
	byID     map[string]kinesis.Result
	repeated []string
	bad      []string
}

func newOutcomes() *outcomes { return &outcomes{byID: map[string]kinesis.Result{}} }

func (o *outcomes) handle(r kinesis.Result) {
	id, err := eventID(r.Data)
	o.mu.Lock()
	defer o.mu.Unlock()
	if err != nil {
		o.bad = append(o.bad, string(r.Data))
		return
	}
	if _, dup := o.byID[id]; dup {
		o.repeated = append(o.repeated, id)
	}
	o.byID[id] = r
}

// check requires exactly one outcome per sent event and returns the ids
// reported failed.
func (o *outcomes) check(t *testing.T, sent []string) (failed []string) {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.repeated) > 0 || len(o.bad) > 0 {
		t.Errorf("%d events got more than one outcome (e.g. %v), %d outcomes carry no event", len(o.repeated), o.repeated[:min(3, len(o.repeated))], len(o.bad))
	}
	missing := 0
	for _, id := range sent {
		r, ok := o.byID[id]
		switch {
		case !ok:
			missing++
		case r.Err != nil:
			failed = append(failed, id)
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d events never got an outcome", missing, len(sent))
	}
	return failed
}

func putAll(ctx context.Context, p *kinesis.Producer, events []testEvent) error {
	for _, e := range events {
		if err := p.Put(ctx, e.PartitionKey, e.Data); err != nil {
			return fmt.Errorf("put %s: %w", e.ID, err)
		}
	}
	return nil
}

// TestProducerUnderFaults is scenario 1: 50,000 events through 10%
// throttled calls, 5% failed entries and 1% dropped connections (half
// before the emulator saw the call, half after it stored the records).
// With the default record TTL every event must be delivered: read back
// from the emulator, none reported failed, none lost.
//
// The failed entries carry InternalFailure: throttled entries (failed at
// random, whatever the rate) would hold every shard at the producer's
// minimum rate, which TestProducerUnderShardThrottling covers at a smaller
// size.
func TestProducerUnderFaults(t *testing.T) {
	t.Parallel()
	runProducerScenario(t, producerScenario{name: "producer-under-faults", n: 50000, cfg: faultproxy.Config{
		Throttle: 0.10, FailEntries: 0.05, EntryErrorCode: faultproxy.CodeInternalFailure,
		DropBefore: 0.005, DropAfter: 0.005,
	}})
}

// TestProducerUnderShardThrottling is scenario 1 with the failed entries
// throttled (ProvisionedThroughputExceededException), which makes the
// producer slow each shard down: 5,000 events, nothing lost or failed.
// (Too few calls for 1% drops to happen reliably; scenario 1 has them.)
func TestProducerUnderShardThrottling(t *testing.T) {
	t.Parallel()
	runProducerScenario(t, producerScenario{name: "producer-under-shard-throttling", n: 5000, cfg: faultproxy.Config{Throttle: 0.10, FailEntries: 0.05}})
}

// TestProducerUnderRandomThrottlesDefaultTTL is scenario 1c, issue 17's
// fault mix as a user meets it: 20,000 plain events put as fast as Put
// accepts them into a 2-shard stream, through a proxy that throttles 10%
// of the calls and 10% of the entries of the others
// (ProvisionedThroughputExceededException, at random, whatever the
// producer's rate), with every producer option at its default (the
// 30 s record TTL, the default retry policy and requests of up to 500
// records). The producer must neither let its rate collapse nor buffer
// more than it can send within the TTL: every event is delivered, none
// expires. (Before back-pressure, more than half expired in the buffer
// without a single attempt.)
func TestProducerUnderRandomThrottlesDefaultTTL(t *testing.T) {
	t.Parallel()
	runProducerScenario(t, producerScenario{name: "producer-under-random-throttles", n: 20000,
		cfg: faultproxy.Config{Throttle: 0.10, FailEntries: 0.10}, defaults: true})
}

// TestProducerUnderFaultsAggregated is scenario 1 with KPL aggregation on:
// 20,000 events in small aggregates (4 KiB, at most 5 per request, so the
// run makes enough calls for its drops). A drop after forwarding rewrites
// whole aggregates, and the ground truth expands them with its own decoder.
func TestProducerUnderFaultsAggregated(t *testing.T) {
	t.Parallel()
	runProducerScenario(t, producerScenario{name: "producer-under-faults-aggregated", n: 20000, cfg: faultproxy.Config{
		Throttle: 0.10, FailEntries: 0.05, EntryErrorCode: faultproxy.CodeInternalFailure,
		DropBefore: 0.005, DropAfter: 0.005,
	}, aggregated: true, opts: []kinesis.ProducerOption{
		kinesis.WithAggregation(true),
		kinesis.WithAggregateLimits(kinesis.AggregateLimits{MaxBytes: 4096, MaxRecords: kinesis.DefaultAggregateLimits.MaxRecords}),
		kinesis.WithBatchLimits(batch.Limits{MaxRecordsPerRequest: 5, MaxRequestBytes: batch.DefaultMaxRequestBytes, MaxRecordBytes: batch.DefaultMaxRecordBytes}),
	}})
}

// producerScenario is one run of runProducerScenario.
type producerScenario struct {
	name       string
	n          int // events
	cfg        faultproxy.Config
	aggregated bool
	// defaults leaves every producer option at its default and uses a
	// 2-shard stream; otherwise the stream has 4 shards, requests carry
	// at most 200 records, so that even 50,000 events make enough calls
	// (over 250) for a 0.5% call fault to happen, and retries are quick
	// (fastPutRetry). The record TTL is the default either way.
	defaults bool
	opts     []kinesis.ProducerOption
}

// runProducerScenario puts sc.n events through a proxy with sc.cfg.
func runProducerScenario(t *testing.T, sc producerScenario) {
	t.Helper()
	name, n, cfg, aggregated, opts := sc.name, sc.n, sc.cfg, sc.aggregated, sc.opts
	shards := int32(4)
	base := []kinesis.ProducerOption{
		kinesis.WithPutRetry(fastPutRetry),
		kinesis.WithBatchLimits(batch.Limits{MaxRecordsPerRequest: 200, MaxRequestBytes: batch.DefaultMaxRequestBytes, MaxRecordBytes: batch.DefaultMaxRecordBytes}),
	}
	if sc.defaults {
		shards, base = 2, nil
	}
	ep := testenv.Lookup(t, testenv.EnvKinesalite)
	direct := client(t, ep, 3)
	stream, _ := testenv.CreateStream(t, direct, shards)
	px := startProxy(t, ep, 11, cfg)
	via := client(t, px.URL(), 1) // faults reach the producer unfiltered by SDK retries
	out := newOutcomes()
	p, err := kinesis.NewProducer(via, stream, append(append([]kinesis.ProducerOption{
		kinesis.WithResultHandler(out.handle),
	}, base...), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout)
	defer cancel()
	events := makeEvents(name, n)
	start := time.Now()
	if err := putAll(ctx, p, events); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	elapsed := time.Since(start)
	failed := out.check(t, ids(events))
	res := readAndCompare(t, direct, stream, name, ids(events), failed)
	s := px.Stats()
	ps := p.Stats()
	t.Logf("%s: %v; proxy: calls=%d throttled=%d failed_entries=%d dropped_before=%d dropped_after=%d stored_then_dropped=%d; producer: requests=%d retried=%d delivered=%d failed=%d",
		name, elapsed.Round(time.Millisecond), s.TotalCalls(), s.Throttled, s.FailedEntries, s.DroppedBefore, s.DroppedAfter, s.StoredThenDropped, ps.Requests, ps.Retried, ps.Delivered, ps.Failed)
	if len(failed) != 0 {
		t.Errorf("%d events reported failed with the default time to live, e.g. %v", len(failed), out.byID[failed[0]].Err)
	}
	if res.Unique != n {
		t.Errorf("%d of %d events read back", res.Unique, n)
	}
	for _, f := range []struct {
		name       string
		configured float64
		happened   int64
	}{
		{"throttled calls", cfg.Throttle, s.Throttled},
		{"failed entries", cfg.FailEntries, s.FailedEntries},
		{"drops before forwarding", cfg.DropBefore, s.DroppedBefore},
		{"drops after forwarding", cfg.DropAfter, s.DroppedAfter},
	} {
		if f.configured > 0 && f.happened == 0 {
			t.Errorf("no %s happened: %+v", f.name, s)
		}
	}
	// Each entry stored in a call whose answer was dropped comes back as
	// duplicates: one user record per entry, or a whole aggregate.
	switch {
	case !aggregated && int64(res.Duplicated) != s.StoredThenDropped,
		aggregated && (int64(res.Duplicated) < s.StoredThenDropped || (res.Duplicated > 0) != (s.StoredThenDropped > 0)):
		t.Errorf("%d duplicates, but %d entries were stored in calls whose answer was dropped", res.Duplicated, s.StoredThenDropped)
	}
}

// TestProducerCloseWhileThrottled is scenario 2: Close while the endpoint
// throttles every call. Put applies back-pressure (the shards accept
// nothing, so it admits only what it assumes they drain within half the
// TTL) until its context ends; then every record it accepted must be
// reported (failed, since nothing can be written), none silently dropped,
// and the emulator must hold nothing.
func TestProducerCloseWhileThrottled(t *testing.T) {
	t.Parallel()
	const n = 5000
	ep := testenv.Lookup(t, testenv.EnvKinesalite)
	direct := client(t, ep, 3)
	stream, _ := testenv.CreateStream(t, direct, 2)
	px := startProxy(t, ep, 12, faultproxy.Config{Throttle: 1})
	via := client(t, px.URL(), 1)
	out := newOutcomes()
	p, err := kinesis.NewProducer(via, stream, kinesis.WithResultHandler(out.handle), kinesis.WithPutRetry(fastPutRetry))
	if err != nil {
		t.Fatal(err)
	}
	all := makeEvents("s2", n)
	putCtx, putCancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer putCancel()
	accepted := 0
	for _, e := range all {
		if err := p.Put(putCtx, e.PartitionKey, e.Data); err != nil {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("put %s: %v", e.ID, err)
			}
			break
		}
		accepted++
	}
	if accepted == 0 || accepted == n {
		t.Fatalf("Put accepted %d of %d events while every call was throttled, want back-pressure after some", accepted, n)
	}
	events := all[:accepted]
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := p.Close(ctx); err == nil {
		t.Error("Close returned nil though nothing could be delivered")
	}
	if err := p.Put(context.Background(), "k", []byte(`{"id":"late"}`)); !errors.Is(err, kinesis.ErrClosed) {
		t.Errorf("Put after Close: err = %v, want ErrClosed", err)
	}
	failed := out.check(t, ids(events))
	if len(failed) != accepted {
		t.Errorf("%d of %d accepted events reported failed, want all", len(failed), accepted)
	}
	for _, id := range failed[:min(len(failed), 100)] {
		if err := out.byID[id].Err; !errors.Is(err, kinesis.ErrClosed) && !errors.Is(err, kinesis.ErrRecordExpired) {
			t.Errorf("event %s failed with %v, want ErrClosed or ErrRecordExpired", id, err)
			break
		}
	}
	res := readAndCompare(t, direct, stream, "producer-close-while-throttled", ids(events), failed)
	if res.Read != 0 {
		t.Errorf("the emulator holds %d records though every call was throttled", res.Read)
	}
	if s := px.Stats(); s.Throttled == 0 || s.Forwarded != 0 {
		t.Errorf("proxy %+v: want throttled calls and none forwarded", s)
	}
}

// TestProducerBoundedMemoryWhileUnreachable is scenario 7: with the
// endpoint unreachable, four goroutines put 1 KiB events for 30 s into an
// 8 MiB buffer with a 1 s record TTL. Put admits what each shard could
// send within half the TTL at the nominal shard rate, and records keep
// expiring (reported failed) and making room, so Put keeps being accepted
// the whole time: in every 5 s of the run it must accept more, and over
// the run several times what it admits at once (2 shards × 64 KiB/s, the
// least drain rate it assumes, × 0.5 s, in 1 KiB records' cost). Meanwhile the live heap must stay flat at the
// buffer plus a small constant (median of samples every 250 ms), and even
// its peak must stay under the buffer plus what the requests in flight
// hold while the SDK serializes them (WithMaxInFlight requests of at most
// 5 MiB). Every accepted event must be reported failed exactly once, and
// none stored.
func TestProducerBoundedMemoryWhileUnreachable(t *testing.T) {
	// Not parallel: it measures the process's heap.
	const (
		putFor      = 30 * time.Second
		ttl         = time.Second
		sampleEvery = 250 * time.Millisecond
		buffer      = 8 << 20
		steadySlack = 20 << 20
		peakSlack   = kinesis.DefaultMaxInFlight * batch.DefaultMaxRequestBytes
		admitted    = 2 * (64 << 10) / 2 // what 2 shards that never answered admit at a 1 s TTL
		minChurn    = 3                  // accepted bytes / admitted
		window      = 5 * time.Second    // Put must accept more in each
	)
	ep := testenv.Lookup(t, testenv.EnvKinesalite)
	direct := client(t, ep, 3)
	stream, _ := testenv.CreateStream(t, direct, 2)
	px := startProxy(t, ep, 13, faultproxy.Config{Unreachable: true})
	via := client(t, px.URL(), 1)
	var accepted [s7Putters]int // putter g's events 0..accepted[g]-1 were accepted
	out := &s7Outcomes{}
	p, err := kinesis.NewProducer(via, stream, kinesis.WithBufferBytes(buffer), kinesis.WithRecordTTL(ttl),
		kinesis.WithResultHandler(out.handle), kinesis.WithPutRetry(fastPutRetry))
	if err != nil {
		t.Fatal(err)
	}
	liveHeap := func() int64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	base := liveHeap()
	ctx, cancel := context.WithTimeout(context.Background(), putFor)
	defer cancel()
	var wg sync.WaitGroup
	var putBytes atomic.Int64
	for g := range s7Putters {
		wg.Go(func() {
			pad := strings.Repeat("x", 900)
			// Put returns at once while the buffer has room, whatever ctx,
			// so stop on ctx too: records keep expiring and making room.
			for i := 0; ctx.Err() == nil; i++ {
				data := fmt.Appendf(nil, `{"id":%q,"type":"OPEN","pad":%q}`, s7ID(g, i), pad)
				if err := p.Put(ctx, fmt.Sprint("channel-", i%50), data); err != nil {
					return
				}
				accepted[g] = i + 1
				putBytes.Add(int64(len(data)))
			}
		})
	}
	var samples, accepts []int64
	tick := time.NewTicker(sampleEvery)
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-tick.C:
			samples = append(samples, liveHeap()-base)
			accepts = append(accepts, putBytes.Load())
		}
	}
	tick.Stop()
	wg.Wait()
	slices.Sort(samples)
	median, peak := samples[len(samples)/2], samples[len(samples)-1]
	closeCtx, closeCancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer closeCancel()
	_ = p.Close(closeCtx)
	sent, failed, expired, closed := out.check(t, accepted)
	res := readAndCompare(t, direct, stream, "producer-bounded-memory", sent, failed)
	churn := float64(putBytes.Load()) / admitted
	t.Logf("reliability: scenario=producer-bounded-memory duration=%v ttl=%v buffer=%d accepted=%d accepted_bytes=%d churn=%.1fx failed_expired=%d failed_closed=%d heap_growth_median=%d heap_growth_peak=%d heap_samples=%d unreachable_calls=%d",
		putFor, ttl, buffer, len(sent), putBytes.Load(), churn, expired, closed, median, peak, len(samples), px.Stats().Unreachable)
	if median > buffer+steadySlack {
		t.Errorf("live heap grew by %d bytes (median) with a %d-byte buffer (limit buffer + %d)", median, buffer, steadySlack)
	}
	if peak > buffer+peakSlack {
		t.Errorf("live heap peaked %d bytes above the start with a %d-byte buffer (limit buffer + %d)", peak, buffer, peakSlack)
	}
	per := int(window / sampleEvery)
	for i := per; i < len(accepts); i += per {
		if accepts[i] == accepts[i-per] {
			t.Errorf("Put accepted nothing from %v to %v: expiring records did not keep making room", time.Duration(i-per)*sampleEvery, time.Duration(i)*sampleEvery)
			break
		}
	}
	if churn < minChurn {
		t.Errorf("Put accepted %d bytes in %v, %.1f times the %d bytes admitted at once, want at least %d: expiring records did not keep making room", putBytes.Load(), putFor, churn, admitted, minChurn)
	}
	if len(sent) == 0 || len(failed) != len(sent) || res.Read != 0 {
		t.Errorf("%d of %d accepted events reported failed, %d read back: want all failed, none stored", len(failed), len(sent), res.Read)
	}
	if px.Stats().Unreachable == 0 {
		t.Error("the producer never tried the unreachable endpoint")
	}
}

const s7Putters = 4

func s7ID(g, i int) string { return fmt.Sprintf("s7-%d-%07d", g, i) }

// s7Outcomes counts scenario 7's Results per event without keeping them:
// outcomes would hold every Result, data included, and hundreds of
// thousands of them would swamp the heap being measured. The handler runs
// before the producer frees the record's buffer space, so it is kept cheap
// too (no JSON decoding).
type s7Outcomes struct {
	mu              sync.Mutex
	count           [s7Putters][]uint8 // outcomes per event, saturating
	delivered       [s7Putters][]bool  // reported delivered at least once
	expired, closed int                // failures by cause
	other           []error            // failures with another cause, the first few
	bad             int                // Results carrying no scenario 7 id
}

func (o *s7Outcomes) handle(r kinesis.Result) {
	g, i, ok := parseS7ID(r.Data)
	o.mu.Lock()
	defer o.mu.Unlock()
	if !ok {
		o.bad++
		return
	}
	for len(o.count[g]) <= i {
		o.count[g] = append(o.count[g], 0)
		o.delivered[g] = append(o.delivered[g], false)
	}
	if o.count[g][i] < 255 {
		o.count[g][i]++
	}
	switch {
	case r.Err == nil:
		o.delivered[g][i] = true
	case errors.Is(r.Err, kinesis.ErrRecordExpired):
		o.expired++
	case errors.Is(r.Err, kinesis.ErrClosed):
		o.closed++
	case len(o.other) < 3:
		o.other = append(o.other, r.Err)
	}
}

// parseS7ID reads g and i from data starting {"id":"s7-<g>-<i>".
func parseS7ID(data []byte) (g, i int, ok bool) {
	rest, ok := bytes.CutPrefix(data, []byte(`{"id":"s7-`))
	if !ok || len(rest) < 2 || rest[0] < '0' || int(rest[0]-'0') >= s7Putters || rest[1] != '-' {
		return 0, 0, false
	}
	g, rest = int(rest[0]-'0'), rest[2:]
	end := bytes.IndexByte(rest, '"')
	if end < 1 {
		return 0, 0, false
	}
	i, err := strconv.Atoi(string(rest[:end]))
	return g, i, err == nil && i >= 0
}

// check requires exactly one outcome per accepted event (putter g's events
// 0..accepted[g]-1), a failure with ErrRecordExpired or ErrClosed, and none
// for any other event. It returns the ids accepted and those reported
// failed, and how many failures wrapped ErrRecordExpired and ErrClosed.
func (o *s7Outcomes) check(t *testing.T, accepted [s7Putters]int) (sent, failed []string, expired, closed int) {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	var missing, repeated, delivered, extra int
	for g, n := range accepted {
		for i, c := range o.count[g] {
			switch {
			case i >= n:
				extra += int(c)
			case c == 0:
				missing++
			case c > 1:
				repeated++
			}
		}
		missing += max(0, n-len(o.count[g]))
		for i := range n {
			id := s7ID(g, i)
			sent = append(sent, id)
			if i < len(o.count[g]) && o.count[g][i] > 0 {
				if o.delivered[g][i] {
					delivered++
				} else {
					failed = append(failed, id)
				}
			}
		}
	}
	if missing > 0 || repeated > 0 || extra > 0 || o.bad > 0 {
		t.Errorf("of %d accepted events, %d never got an outcome and %d got more than one; %d outcomes for events never accepted, %d carrying no event", len(sent), missing, repeated, extra, o.bad)
	}
	if delivered > 0 {
		t.Errorf("%d events reported delivered to an unreachable endpoint", delivered)
	}
	if len(o.other) > 0 {
		t.Errorf("events failed with neither ErrRecordExpired nor ErrClosed, e.g. %v", o.other)
	}
	return sent, failed, o.expired, o.closed
}
