package kinesis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

// randomThrottles is a fault hook that throttles a fraction calls of the
// PutRecords calls and a fraction entries of the entries of the others,
// at random, whatever the producer's rate: throttles the producer did not
// cause (another writer on the stream, a fault), as issue 17's fault mix.
func randomThrottles(seed uint64, calls, entries float64) kinesistest.FaultFunc {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, seed))
	return func(op string, entry int) error {
		if op != kinesistest.OpPutRecords {
			return nil
		}
		frac := entries
		if entry == kinesistest.CallEntry {
			frac = calls
		}
		mu.Lock()
		hit := rng.Float64() < frac
		mu.Unlock()
		if hit {
			return &sdktypes.ProvisionedThroughputExceededException{Message: aws.String("injected")}
		}
		return nil
	}
}

// TestProducerPutWaitsInsteadOfExpiring puts records much faster than a
// shard accepts them, with a TTL shorter than the backlog would take to
// drain: Put must block (back-pressure) so that every record is delivered
// within its TTL, rather than buffering records that then expire.
func TestProducerPutWaitsInsteadOfExpiring(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := fakeAtShardLimits(1)
		var c collector
		const ttl = 5 * time.Second
		p, err := NewProducer(f, "s", WithResultHandler(c.handle), WithRecordTTL(ttl))
		if err != nil {
			t.Fatal(err)
		}
		// 15,000 records: 15 s at the shard's 1,000 records/s, three TTLs.
		const n = 15000
		start := time.Now()
		for i := range n {
			if err := p.Put(t.Context(), "k", payload("k", i)); err != nil {
				t.Fatal(err)
			}
		}
		putTook := time.Since(start)
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		delivered, failed := c.tally(t)
		if len(failed) > 0 {
			var e error
			for _, r := range failed {
				e = r.Err
				break
			}
			t.Fatalf("%d of %d records failed (e.g. %v); want Put to wait instead", len(failed), n, e)
		}
		if len(delivered) != n {
			t.Fatalf("delivered %d of %d", len(delivered), n)
		}
		if putTook < 5*time.Second {
			t.Errorf("Put of %d records returned after %v: it did not wait for the 1,000 records/s shard", n, putTook)
		}
	})
}

// TestProducerRateHoldsUnderRandomThrottles writes to a two-shard stream at
// the shards' limits (1,000 records/s each) while 10% of the calls and
// 10% of the other entries are throttled at random: the producer's rate
// must not collapse. It must deliver at least 70% of what the same run
// delivers without the injected throttles, with no record expiring at
// the default TTL.
func TestProducerRateHoldsUnderRandomThrottles(t *testing.T) {
	t.Parallel()
	run := func(t *testing.T, fault kinesistest.FaultFunc) (perSecond float64) {
		synctest.Test(t, func(t *testing.T) {
			perSecond = throughputAtShardLimits(t, fault, 2, 20*time.Second, true)
		})
		return perSecond
	}
	clean := run(t, nil)
	faulted := run(t, randomThrottles(1, 0.10, 0.10))
	ratio := faulted / clean
	t.Logf("records/s: %.0f without injected throttles, %.0f with 10%% throttled calls and 10%% throttled entries: %.0f%%", clean, faulted, 100*ratio)
	if ratio < 0.70 {
		t.Errorf("throughput under random throttles is %.0f%% of the unthrottled run, want at least 70%%", 100*ratio)
	}
}

// throughputAtShardLimits runs a producer with default options against a
// fake stream of shards shards, each accepting Kinesis's 1,000 records/s
// and 1 MiB/s, with fault installed, for d: putters write 200-byte records
// over 1,024 keys as fast as Put accepts them. It returns the records
// delivered per second after the first second (the warm-up), and fails
// the test if any record fails. Unless drain is set, it then gives Close
// only 100 ms to deliver the backlog (up to half a TTL's worth) and lets
// the rest fail with ErrClosed.
func throughputAtShardLimits(tb testing.TB, fault kinesistest.FaultFunc, shards int, d time.Duration, drain bool) float64 {
	f := fakeAtShardLimits(shards)
	f.SetFault(fault)
	var failed sync.Map
	p, err := NewProducer(f, "s", WithResultHandler(func(r Result) {
		if r.Err != nil {
			failed.Store(string(r.Data), r.Err)
		}
	}))
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("channel-%04d", i)
	}
	data := make([]byte, 200)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := g; ; i += 4 {
				if err := p.Put(ctx, keys[i%len(keys)], data); err != nil {
					if !errors.Is(err, context.DeadlineExceeded) {
						tb.Error(err)
					}
					return
				}
			}
		})
	}
	time.Sleep(time.Second)
	from := p.Stats().Delivered
	wg.Wait()
	perSecond := float64(p.Stats().Delivered-from) / (d - time.Second).Seconds()
	closeCtx := context.Background()
	if !drain {
		var cancel context.CancelFunc
		closeCtx, cancel = context.WithTimeout(closeCtx, 100*time.Millisecond)
		defer cancel()
	}
	if err := p.Close(closeCtx); err != nil && (drain || !errors.Is(err, context.DeadlineExceeded)) {
		tb.Fatal(err)
	}
	n := 0
	failed.Range(func(_, v any) bool {
		if !drain && errors.Is(v.(error), ErrClosed) {
			return true
		}
		if n == 0 {
			tb.Errorf("a record failed: %v", v)
		}
		n++
		return true
	})
	if n > 0 {
		tb.Errorf("%d records failed", n)
	}
	return perSecond
}

// TestProducerWithoutTTLRetriesUntilDelivered: with the longest TTL (none),
// a record whose first attempts fail is retried, not expired (the retry
// deadline must not overflow).
func TestProducerWithoutTTLRetriesUntilDelivered(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := kinesistest.New(kinesistest.WithStream("s", 1))
		calls := 0
		f.SetFault(func(op string, entry int) error {
			if op != kinesistest.OpPutRecords || entry != kinesistest.CallEntry {
				return nil
			}
			if calls++; calls <= 3 {
				return errors.New("connection reset by peer")
			}
			return nil
		})
		var c collector
		p, err := NewProducer(f, "s", WithResultHandler(c.handle), WithRecordTTL(math.MaxInt64))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second) // the record's Put time is not the producer's start
		if err := p.Put(t.Context(), "k", []byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if rs := c.snapshot(); len(rs) != 1 || rs[0].Err != nil || rs[0].Attempts != 4 {
			t.Fatalf("results %+v, want delivered on the 4th attempt", rs)
		}
	})
}
