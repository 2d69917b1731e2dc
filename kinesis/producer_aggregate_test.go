package kinesis

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

func TestAggBufPoolClasses(t *testing.T) {
	t.Parallel()
	p := newAggBufPool(51200)
	want := []int{1 << 10, 2 << 10, 4 << 10, 8 << 10, 16 << 10, 32 << 10, 51200}
	if len(p.sizes) != len(want) {
		t.Fatalf("sizes %v, want %v", p.sizes, want)
	}
	for i := range want {
		if p.sizes[i] != want[i] {
			t.Fatalf("sizes %v, want %v", p.sizes, want)
		}
	}
	for _, tc := range []struct{ n, cap int }{
		{0, 1 << 10}, {1, 1 << 10}, {1 << 10, 1 << 10}, {1<<10 + 1, 2 << 10}, {5000, 8 << 10},
		{32 << 10, 32 << 10}, {32<<10 + 1, 51200}, {51200, 51200}, {51201, 51201}, {1 << 20, 1 << 20},
	} {
		b := p.get(tc.n)
		if len(b.b) != 0 || cap(b.b) != tc.cap {
			t.Errorf("get(%d): len %d cap %d, want 0 and %d", tc.n, len(b.b), cap(b.b), tc.cap)
		}
		p.put(b)
	}
	// A pool smaller than the first class has one class, the limit.
	small := newAggBufPool(300)
	if b := small.get(10); cap(b.b) != 300 {
		t.Errorf("get(10) from a 300-byte pool: cap %d", cap(b.b))
	}
	if b := small.get(301); cap(b.b) != 301 || b.class != -1 {
		t.Errorf("get(301) from a 300-byte pool: cap %d class %d", cap(b.b), b.class)
	}
	// A buffer that grew past its class is not kept.
	b := p.get(100)
	b.b = append(b.b, make([]byte, 5000)...)
	p.put(b)
	for range 10 {
		if c := p.get(100); cap(c.b) != 1<<10 {
			t.Fatalf("pool handed out a %d-byte buffer for class 1 KiB", cap(c.b))
		}
	}
}

// recordingClient remembers the bytes of every entry whose attempt failed
// until an attempt with the same bytes succeeds.
type recordingClient struct {
	*kinesistest.Fake
	mu      sync.Mutex
	pending map[string]int // failed entries' data, awaiting a retry
	retried int            // failed entries later delivered as they were
}

func (c *recordingClient) PutRecords(ctx context.Context, in *sdkkinesis.PutRecordsInput, opts ...func(*sdkkinesis.Options)) (*sdkkinesis.PutRecordsOutput, error) {
	out, err := c.Fake.PutRecords(ctx, in, opts...)
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range in.Records {
		switch {
		case err != nil || out.Records[i].ErrorCode != nil:
			c.pending[string(e.Data)]++
		case c.pending[string(e.Data)] > 0:
			delete(c.pending, string(e.Data))
			c.retried++
		}
	}
	return out, err
}

// TestProducerRetriedAggregateKeepsItsBytes checks that an aggregate whose
// entry failed is sent again byte for byte, while other aggregates are
// encoded (in recycled buffers) before its retry.
func TestProducerRetriedAggregateKeepsItsBytes(t *testing.T) {
	t.Parallel()
	f := kinesistest.New(kinesistest.WithStream("s", 3))
	rng := rand.New(rand.NewPCG(3, 4))
	var mu sync.Mutex
	f.SetFault(func(op string, entry int) error {
		if op != kinesistest.OpPutRecords || entry < 0 {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		if rng.IntN(10) < 3 {
			return errors.New("internal failure")
		}
		return nil
	})
	c := &recordingClient{Fake: f, pending: map[string]int{}}
	var res collector
	p, err := NewProducer(c, "s", WithResultHandler(res.handle), WithAggregation(true),
		WithAggregateLimits(AggregateLimits{MaxBytes: 2000, MaxRecords: DefaultAggregateLimits.MaxRecords}), WithLinger(time.Millisecond), WithPutRetry(fastPutRetry))
	if err != nil {
		t.Fatal(err)
	}
	want := putAll(t, p, 30, 3000)
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	delivered, failed := res.tally(t)
	if len(delivered) != len(want) || len(failed) != 0 {
		t.Fatalf("delivered %d, failed %d of %d", len(delivered), len(failed), len(want))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending) != 0 || c.retried == 0 {
		t.Fatalf("%d failed entries never resent as they were, %d resent", len(c.pending), c.retried)
	}
	checkStream(t, fakeRecords(t, f, "s"), want, false)
}
