package kinesis

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"golang.org/x/time/rate"

	"github.com/rtdskit/rtds/batch"
	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

func TestProducerNonRetryableErrorsFailAtOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, reason string
		stream       string // "" for the fake's stream "s"
		fault        error  // per entry
		check        func(error) bool
	}{
		{
			name: "missing stream", reason: "ResourceNotFoundException fails the whole call",
			stream: "nope",
			check:  func(err error) bool { var e *sdktypes.ResourceNotFoundException; return errors.As(err, &e) },
		},
		{
			name: "kms disabled", reason: "an entry's KMSDisabledException cannot succeed on retry",
			fault: &sdktypes.KMSDisabledException{Message: aws.String("disabled")},
			check: func(err error) bool { var e *sdktypes.KMSDisabledException; return errors.As(err, &e) },
		},
		{
			name: "access denied", reason: "an entry's KMSAccessDeniedException is permanent",
			fault: &sdktypes.KMSAccessDeniedException{Message: aws.String("denied")},
			check: func(err error) bool { var e *sdktypes.KMSAccessDeniedException; return errors.As(err, &e) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := kinesistest.New(kinesistest.WithStream("s", 2))
			if tt.fault != nil {
				f.SetFault(func(op string, entry int) error {
					if op == kinesistest.OpPutRecords && entry >= 0 {
						return tt.fault
					}
					return nil
				})
			}
			stream := tt.stream
			if stream == "" {
				stream = "s"
			}
			var c collector
			p, err := NewProducer(f, stream, WithResultHandler(c.handle))
			if err != nil {
				t.Fatal(err)
			}
			putAll(t, p, 5, 20)
			if err := p.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			delivered, failed := c.tally(t)
			if len(delivered) != 0 || len(failed) != 20 {
				t.Fatalf("delivered %d, failed %d, want 20 failed", len(delivered), len(failed))
			}
			for _, r := range failed {
				var re *RecordError
				if !tt.check(r.Err) || !errors.As(r.Err, &re) || r.Attempts != 1 {
					t.Fatalf("%s: got %v after %d attempts", tt.reason, r.Err, r.Attempts)
				}
			}
			if st := p.Stats(); st.Failed != 20 || st.Retried != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestProducerRetryLimits(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := kinesistest.New(kinesistest.WithStream("s", 1))
		f.SetFault(func(op string, entry int) error {
			if op == kinesistest.OpPutRecords && entry >= 0 {
				return &sdktypes.ProvisionedThroughputExceededException{Message: aws.String("slow down")}
			}
			return nil
		})
		var c collector
		retry := DefaultPutRetry
		retry.MaxAttempts = 3
		p, err := NewProducer(f, "s", WithResultHandler(c.handle), WithPutRetry(retry))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Put(t.Context(), "k", []byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		rs := c.snapshot()
		if len(rs) != 1 {
			t.Fatalf("%d results", len(rs))
		}
		var pt *sdktypes.ProvisionedThroughputExceededException
		if err := rs[0].Err; !errors.Is(err, ErrRecordExpired) || !errors.As(err, &pt) || rs[0].Attempts != 3 {
			t.Fatalf("got %v after %d attempts, want ErrRecordExpired wrapping the throttling error after 3", err, rs[0].Attempts)
		}
	})
}

func TestProducerRecordTTL(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := kinesistest.New(kinesistest.WithStream("s", 1))
		f.SetFault(func(op string, entry int) error {
			if op == kinesistest.OpPutRecords && entry < 0 {
				return errors.New("connection reset")
			}
			return nil
		})
		var c collector
		p, err := NewProducer(f, "s", WithResultHandler(c.handle), WithRecordTTL(10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := p.Put(t.Context(), "k", []byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := p.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		rs := c.snapshot()
		if len(rs) != 1 || !errors.Is(rs[0].Err, ErrRecordExpired) {
			t.Fatalf("results %+v", rs)
		}
		if el := time.Since(start); el > 10*time.Second || rs[0].Attempts < 5 {
			t.Errorf("failed after %v and %d attempts; want within the 10s TTL, after several backed-off attempts", el, rs[0].Attempts)
		}
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestProducerCloseDeadlineReportsEveryRecord(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := kinesistest.New(kinesistest.WithStream("s", 2))
		f.SetFault(func(op string, entry int) error {
			if op == kinesistest.OpPutRecords && entry < 0 {
				time.Sleep(time.Hour) // an endpoint that never answers in time
			}
			return nil
		})
		var c collector
		p, err := NewProducer(f, "s", WithResultHandler(c.handle), WithMaxInFlight(1), WithBatchLimits(batchLimits(func(l *batch.Limits) { l.MaxRecordsPerRequest = 10 })))
		if err != nil {
			t.Fatal(err)
		}
		putAll(t, p, 5, 100)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		err = p.Close(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("close: %v, want the deadline error", err)
		}
		delivered, failed := c.tally(t)
		if len(delivered)+len(failed) != 100 || len(failed) == 0 {
			t.Fatalf("delivered %d + failed %d, want 100 outcomes", len(delivered), len(failed))
		}
		for _, r := range failed {
			if !errors.Is(r.Err, ErrClosed) || !errors.Is(r.Err, context.DeadlineExceeded) {
				t.Fatalf("failed with %v, want ErrClosed and the deadline", r.Err)
			}
		}
		if err2 := p.Close(context.Background()); err2 != err {
			t.Errorf("second Close = %v, want the first's %v", err2, err)
		}
		if err := p.Put(context.Background(), "k", nil); !errors.Is(err, ErrClosed) {
			t.Errorf("Put after Close = %v", err)
		}
		if err := p.Flush(context.Background()); !errors.Is(err, ErrClosed) {
			t.Errorf("Flush after Close = %v", err)
		}
		if st := p.Stats(); st.Buffered != 0 || st.Delivered+st.Failed != 100 {
			t.Errorf("stats %+v", st)
		}
	})
}

func TestProducerBackpressure(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := kinesistest.New(kinesistest.WithStream("s", 1))
		release := make(chan struct{})
		f.SetFault(func(op string, entry int) error {
			if op == kinesistest.OpPutRecords && entry < 0 {
				<-release
			}
			return nil
		})
		const buf = 4000
		p, err := NewProducer(f, "s", WithBatchLimits(batchLimits(func(l *batch.Limits) { l.MaxRecordBytes = 1000 })), WithBufferBytes(buf), WithLinger(0))
		if err != nil {
			t.Fatal(err)
		}
		data := make([]byte, 99)
		n := 0
		for ; n < 1000; n++ {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			err := p.Put(ctx, "k", data)
			cancel()
			if err != nil {
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("put: %v", err)
				}
				break
			}
		}
		if n != buf/100 {
			t.Errorf("accepted %d records of 100 bytes into a %d-byte buffer", n, buf)
		}
		if st := p.Stats(); st.BufferedBytes > buf {
			t.Errorf("buffered %d bytes, more than %d", st.BufferedBytes, buf)
		}
		// Once the endpoint answers, a blocked Put gets through.
		done := make(chan error)
		go func() { done <- p.Put(context.Background(), "k", data) }()
		synctest.Wait()
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := len(f.Records("s")); got != n+1 {
			t.Errorf("stream has %d records, want %d", got, n+1)
		}
	})
}

func TestProducerFlush(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := kinesistest.New(kinesistest.WithStream("s", 2))
		var c collector
		p, err := NewProducer(f, "s", WithResultHandler(c.handle), WithLinger(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		putAll(t, p, 10, 100)
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				if err := p.Flush(context.Background()); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got := len(c.snapshot()); got != 100 {
			t.Fatalf("after Flush %d of 100 outcomes", got)
		}
		if el := time.Since(start); el >= time.Hour {
			t.Errorf("Flush waited for the linger (%v)", el)
		}
		if err := p.Flush(context.Background()); err != nil {
			t.Errorf("Flush with nothing buffered: %v", err)
		}
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestProducerLinger(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := kinesistest.New(kinesistest.WithStream("s", 1))
		p, err := NewProducer(f, "s", WithLinger(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			if err := p.Put(t.Context(), "k", payload("k", i)); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(999 * time.Millisecond)
		synctest.Wait()
		if got := f.Calls(kinesistest.OpPutRecords); got != 0 {
			t.Fatalf("%d PutRecords calls before the linger passed", got)
		}
		time.Sleep(2 * time.Millisecond)
		synctest.Wait()
		if got := f.Calls(kinesistest.OpPutRecords); got != 1 {
			t.Fatalf("%d PutRecords calls after the linger, want 1 with all 10 records", got)
		}
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

// throttleHook records which shards throttled.
type throttleHook struct {
	mu     sync.Mutex
	shards map[string]int
}

func (h *throttleHook) OnPutThrottled(m PutThrottleMetrics) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.shards == nil {
		h.shards = map[string]int{}
	}
	h.shards[m.ShardID]++
}

func TestProducerThrottledShardSlowsDownAlone(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := fakeAtShardLimits(2)
		var h throttleHook
		var mu sync.Mutex
		lastDone := map[string]time.Time{}
		p, err := NewProducer(f, "s", WithHooks(&h), WithResultHandler(func(r Result) {
			if r.Err != nil {
				t.Errorf("record failed: %v", r.Err)
				return
			}
			mu.Lock()
			lastDone[r.ShardID] = time.Now()
			mu.Unlock()
		}))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		// Find one key per shard.
		var hot, cold string
		if err := p.Put(t.Context(), "probe", nil); err != nil { // Flush then waits for the shard map
			t.Fatal(err)
		}
		if err := p.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		p.mu.Lock()
		m := p.shards
		p.mu.Unlock()
		if len(m) != 2 {
			t.Fatalf("shard map has %d shards", len(m))
		}
		for i := 0; hot == "" || cold == ""; i++ {
			k := fmt.Sprintf("key-%d", i)
			p.mu.Lock()
			q := p.routeLocked(batch.PartitionKeyHash(k))
			p.mu.Unlock()
			if q == m[0] {
				hot = k
			} else {
				cold = k
			}
		}
		// 5,000 records to the hot shard: 5 s at 1,000 records/s. 500 to
		// the other, well within its limit.
		want := map[string]bool{"": true} // the probe
		for i := range 5000 {
			want[string(payload(hot, i))] = true
		}
		for i := range 500 {
			want[string(payload(cold, i))] = true
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := range 5000 {
				if err := p.Put(t.Context(), hot, payload(hot, i)); err != nil {
					t.Error(err)
				}
			}
		})
		wg.Go(func() {
			for i := range 500 {
				if err := p.Put(t.Context(), cold, payload(cold, i)); err != nil {
					t.Error(err)
				}
			}
		})
		wg.Wait()
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.shards[m[0].id] == 0 || len(h.shards) != 1 {
			t.Errorf("throttled shards %v, want only %s", h.shards, m[0].id)
		}
		hotTook, coldTook := lastDone[m[0].id].Sub(start), lastDone[m[1].id].Sub(start)
		if coldTook > time.Second || hotTook < 4*time.Second {
			t.Errorf("cold shard done after %v (want < 1s), hot after %v (want >= 4s at its limit)", coldTook, hotTook)
		}
		// No spinning: the hot shard's 5,000 records took a bounded number
		// of calls, far fewer than one per throttled record.
		if calls := f.Calls(kinesistest.OpPutRecords); calls > 200 {
			t.Errorf("%d PutRecords calls for 5,500 records", calls)
		}
		checkStream(t, fakeRecords(t, f, "s"), want, false)
	})
}

func TestProducerFollowsResharding(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := kinesistest.New(kinesistest.WithStream("s", 2))
		var c collector
		p, err := NewProducer(f, "s", WithResultHandler(c.handle), WithAggregation(true), WithOrdering(true))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{}
		put := func(from, to int) {
			for i := from; i < to; i++ {
				k := fmt.Sprintf("key-%03d", i%20)
				want[string(payload(k, i))] = true
				if err := p.Put(t.Context(), k, payload(k, i)); err != nil {
					t.Fatal(err)
				}
				if i%100 == 99 {
					time.Sleep(100 * time.Millisecond)
				}
			}
		}
		put(0, 1000)
		ls, err := f.ListShards(t.Context(), &sdkkinesis.ListShardsInput{StreamName: aws.String("s")})
		if err != nil {
			t.Fatal(err)
		}
		sh := ls.Shards[0]
		start, _ := batch.ParseHashKey(*sh.HashKeyRange.StartingHashKey)
		mid := hashKey{Hi: start.Hi + 1<<62, Lo: start.Lo}
		if _, err := f.SplitShard(t.Context(), &sdkkinesis.SplitShardInput{StreamName: aws.String("s"),
			ShardToSplit: sh.ShardId, NewStartingHashKey: aws.String(mid.String())}); err != nil {
			t.Fatal(err)
		}
		// Records keep flowing; the first answer from a child shard makes
		// the producer re-read the map.
		put(1000, 3000)
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		delivered, failed := c.tally(t)
		if len(delivered) != len(want) || len(failed) != 0 {
			t.Fatalf("delivered %d, failed %d of %d", len(delivered), len(failed), len(want))
		}
		checkStream(t, fakeRecords(t, f, "s"), want, true)
		p.mu.Lock()
		n := len(p.shards)
		p.mu.Unlock()
		if n != 3 {
			t.Errorf("producer's shard map has %d shards after the split, want 3", n)
		}
		// The last records went to the open shards only.
		for i := 2900; i < 3000; i++ {
			k := fmt.Sprintf("key-%03d", i%20)
			if r := delivered[string(payload(k, i))]; r.ShardID == *sh.ShardId {
				t.Fatalf("record %d written to the closed parent %s", i, r.ShardID)
			}
		}
	})
}

func TestProducerRateRecoversAfterThrottling(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := kinesistest.New(kinesistest.WithStream("s", 1))
		start := time.Now()
		f.SetFault(func(op string, entry int) error {
			if op == kinesistest.OpPutRecords && entry >= 0 && time.Since(start) < time.Second {
				return &sdktypes.ProvisionedThroughputExceededException{Message: aws.String("slow down")}
			}
			return nil
		})
		var h throttleHook
		var c collector
		p, err := NewProducer(f, "s", WithHooks(&h), WithResultHandler(c.handle), WithLinger(10*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		limit := func() float64 {
			p.mu.Lock()
			defer p.mu.Unlock()
			return float64(p.shards[0].lim.Limit())
		}
		for i := range 2000 {
			if err := p.Put(t.Context(), "k", payload("k", i)); err != nil {
				t.Fatal(err)
			}
			if i%20 == 19 {
				time.Sleep(100 * time.Millisecond) // 200 records/s for 10 s
			}
			if i == 150 && !(limit() < nominalShardRate*2) { // while every entry is throttled
				t.Errorf("rate %v after throttling, want it lowered", limit())
			}
		}
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := limit(); rate.Limit(got) != rate.Inf {
			t.Errorf("rate %v 9 s after the last throttle, want unlimited again", got)
		}
		delivered, failed := c.tally(t)
		if len(delivered) != 2000 || len(failed) != 0 || h.shards["shardId-000000000000"] == 0 {
			t.Errorf("delivered %d, failed %d, throttle hooks %v", len(delivered), len(failed), h.shards)
		}
	})
}

func TestProducerSlowShardWithLargeAggregatedRecords(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := kinesistest.New(kinesistest.WithStream("s", 1))
		var c collector
		p, err := NewProducer(f, "s", WithResultHandler(c.handle), WithAggregation(true))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Put(t.Context(), "k", []byte("warm up")); err != nil {
			t.Fatal(err)
		}
		if err := p.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		// A shard throttled down to its floor rate has a per-request budget
		// (minShardRate * shardSlice, about 3 KiB) smaller than one 40 KiB
		// record: the record must still go out, one per request, rather
		// than starve.
		p.mu.Lock()
		p.shards[0].lim.SetLimit(minShardRate)
		p.mu.Unlock()
		for i := range 3 {
			if err := p.Put(t.Context(), "k", append(payload("k", i), make([]byte, 40<<10)...)); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := p.Flush(ctx); err != nil {
			t.Fatalf("flush: %v", err)
		}
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if delivered, failed := c.tally(t); len(delivered) != 4 || len(failed) != 0 {
			t.Fatalf("delivered %d, failed %d of 4", len(delivered), len(failed))
		}
	})
}

func TestProducerRetriesBackOffExponentially(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := kinesistest.New(kinesistest.WithStream("s", 1))
		var mu sync.Mutex
		var calls []time.Time
		f.SetFault(func(op string, entry int) error {
			if op != kinesistest.OpPutRecords || entry >= 0 {
				return nil
			}
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, time.Now())
			if len(calls) <= 7 {
				return errors.New("connection reset by peer")
			}
			return nil
		})
		p, err := NewProducer(f, "s", WithLinger(0))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Put(t.Context(), "k", []byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(calls) != 8 {
			t.Fatalf("%d PutRecords calls, want 7 failures and a success", len(calls))
		}
		// Default policy: waits of 100 ms doubling up to 5 s, each within
		// ±50% jitter.
		want := DefaultPutRetry.InitialInterval
		for i := 1; i < len(calls); i++ {
			gap := calls[i].Sub(calls[i-1])
			lo := time.Duration(float64(want) * (1 - DefaultPutRetry.Jitter))
			hi := time.Duration(float64(want) * (1 + DefaultPutRetry.Jitter))
			if gap < lo || gap > hi+time.Millisecond {
				t.Errorf("wait before attempt %d: %v, want within [%v, %v]", i+1, gap, lo, hi)
			}
			want = min(time.Duration(float64(want)*DefaultPutRetry.Multiplier), DefaultPutRetry.MaxInterval)
		}
	})
}

func TestProducerCloseReleasesBlockedPut(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := kinesistest.New(kinesistest.WithStream("s", 1))
		f.SetFault(func(op string, entry int) error {
			if op == kinesistest.OpPutRecords && entry < 0 {
				time.Sleep(time.Hour) // the endpoint never answers in time
			}
			return nil
		})
		var c collector
		p, err := NewProducer(f, "s", WithResultHandler(c.handle), WithBatchLimits(batchLimits(func(l *batch.Limits) { l.MaxRecordBytes = 1000 })), WithBufferBytes(1000))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Put(t.Context(), "k", make([]byte, 900)); err != nil {
			t.Fatal(err)
		}
		blocked := make(chan error)
		go func() { blocked <- p.Put(context.Background(), "k", make([]byte, 900)) }()
		synctest.Wait() // the second Put waits for buffer space
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := p.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("close: %v", err)
		}
		if err := <-blocked; !errors.Is(err, ErrClosed) {
			t.Fatalf("blocked Put returned %v, want ErrClosed", err)
		}
		if _, failed := c.tally(t); len(failed) != 1 {
			t.Fatalf("%d failed outcomes, want the one accepted record", len(failed))
		}
	})
}
