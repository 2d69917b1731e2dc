package bench

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	producer "github.com/a8m/kinesis-producer"

	"github.com/rtdskit/rtds/kinesis"
)

// libs are the producers compared, in the order each benchmark runs them.
var libs = []string{"rtds", "a8m"}

// runner is one producer under test, writing to a fakeKinesis.
type runner struct {
	put func(key string, data []byte) error
	// stop delivers everything put and stops the producer.
	stop func() error
	// delivered is the producer's own count of delivered records, -1 when
	// it keeps none.
	delivered func() int64
	// warm is how many records were put on the same client before the
	// runner was returned (they are delivered; the client counted them).
	warm int
}

// startProducer starts lib's producer on c with aggregation on or off,
// with each library's defaults otherwise, and warms it up with warm records
// of data: its shard map, pooled buffers and lazily built tables are ready
// when it returns.
//
// rtds is warmed on the producer itself, then flushed, so nothing is
// pending (its shard map is read once, at start). a8m has no flush other
// than Stop, so it is warmed on a throwaway producer and client instead;
// the one returned starts empty.
//
// Aggregation off for a8m is AggregateBatchSize 1: every record bypasses
// its aggregator (it aggregates each record no larger than that, 50 KiB by
// default; it has no other switch).
func startProducer(lib string, agg bool, c *fakeKinesis, keys []string, data []byte, warm int) (*runner, error) {
	ctx := context.Background()
	switch lib {
	case "rtds":
		p, err := kinesis.NewProducer(c, "bench", kinesis.WithAggregation(agg))
		if err != nil {
			return nil, err
		}
		for i := range warm {
			if err := p.Put(ctx, keys[i%len(keys)], data); err != nil {
				return nil, err
			}
		}
		if err := p.Flush(ctx); err != nil {
			return nil, err
		}
		return &runner{
			put:       func(key string, data []byte) error { return p.Put(ctx, key, data) },
			stop:      func() error { return p.Close(ctx) },
			delivered: func() int64 { return p.Stats().Delivered },
			warm:      warm,
		}, nil
	case "a8m":
		cfg := func(c *fakeKinesis) *producer.Config {
			cfg := &producer.Config{StreamName: "bench", Client: c, Logger: nopLogger{}}
			if !agg {
				cfg.AggregateBatchSize = 1
			}
			return cfg
		}
		w := producer.New(cfg(newFakeKinesis(false)))
		w.Start()
		for i := range warm {
			if err := w.Put(data, keys[i%len(keys)]); err != nil {
				return nil, err
			}
		}
		w.Stop()
		p := producer.New(cfg(c))
		p.Start()
		return &runner{
			put:       func(key string, data []byte) error { return p.Put(data, key) },
			stop:      func() error { p.Stop(); return nil },
			delivered: func() int64 { return -1 },
		}, nil
	}
	return nil, fmt.Errorf("unknown library %q", lib)
}

// nopLogger discards a8m's logs (it logs every PutRecords at Info).
type nopLogger struct{}

func (nopLogger) Info(string, ...producer.LogValue)         {}
func (nopLogger) Error(string, error, ...producer.LogValue) {}

// channelKeys returns n partition keys like Airship channel ids.
func channelKeys(n int) []string {
	rng := rand.New(rand.NewPCG(1, 2))
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", rng.Uint32(), rng.Uint32()&0xffff,
			rng.Uint32()&0xfff, rng.Uint32()&0xfff, rng.Uint64()&(1<<48-1))
	}
	return keys
}

// payload returns size bytes of printable data.
func payload(size int) []byte {
	rng := rand.New(rand.NewPCG(3, 4))
	d := make([]byte, size)
	for i := range d {
		d[i] = byte('a' + rng.IntN(26))
	}
	return d
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// checkDelivered reports whether the n records put after the warm-up all
// reached c (and, for rtds, the producer counted them delivered). Without
// countUsers it can check user records only when aggregation is off.
func checkDelivered(r *runner, c *fakeKinesis, agg bool, n int) error {
	want := int64(r.warm + n)
	if d := r.delivered(); d >= 0 && d != want {
		return fmt.Errorf("producer delivered %d records, want %d", d, want)
	}
	if bad := c.badAggs.Load(); bad > 0 {
		return fmt.Errorf("%d entries were bad aggregates", bad)
	}
	switch {
	case c.countUsers:
		if got := c.users.Load(); got != want {
			return fmt.Errorf("client received %d user records in %d entries, want %d", got, c.entries.Load(), want)
		}
	case !agg:
		if got := c.entries.Load(); got != want {
			return fmt.Errorf("client received %d records, want %d", got, want)
		}
	default:
		if c.entries.Load() == 0 {
			return errors.New("client received nothing")
		}
	}
	return nil
}

// BenchmarkProducer measures each library's producer per record, from Put
// until the record is in a PutRecords request and answered, with the
// network cut out (fakeKinesis answers at once). One op is one record
// put; the timer also covers the final flush and stop, so every record is
// delivered inside it. Records are keyed by 1,024 channel-id-like keys.
//
// ns/op is wall time; cpu-ns/op is the process's CPU time (user plus
// system, all goroutines and GC, the fake included) per record, which
// counts the work both producers do on background goroutines. Compare the
// libraries in the same run:
//
//	go test -run '^$' -bench . -benchmem -count 5
func BenchmarkProducer(b *testing.B) {
	keys := channelKeys(1024)
	for _, size := range []int{100, 500, 1024} {
		data := payload(size)
		for _, agg := range []bool{true, false} {
			for _, lib := range libs {
				b.Run(fmt.Sprintf("lib=%s/agg=%s/size=%d", lib, onOff(agg), size), func(b *testing.B) {
					c := newFakeKinesis(false)
					r, err := startProducer(lib, agg, c, keys, data, 10000)
					if err != nil {
						b.Fatal(err)
					}
					b.SetBytes(int64(size))
					b.ReportAllocs()
					cpu0 := cpuTime()
					b.ResetTimer()
					for i := range b.N {
						if err := r.put(keys[i%len(keys)], data); err != nil {
							b.Fatal(err)
						}
					}
					if err := r.stop(); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					if cpu := cpuTime() - cpu0; cpu > 0 {
						b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
					}
					if err := checkDelivered(r, c, agg, b.N); err != nil {
						b.Fatal(err)
					}
				})
			}
		}
	}
}

// TestProducerSetup checks that each library's benchmark setup delivers
// every record put to the fake client, aggregated or not, so the benchmark
// does not measure a no-op: the client opens every aggregate and counts
// the user records inside.
func TestProducerSetup(t *testing.T) {
	keys := channelKeys(1024)
	// 20,000 records of 100 bytes, or 3,000 of 1 KiB, fill a8m's 1 MiB
	// aggregates twice or more (the rest goes out at Stop) and rtds's
	// 50 KiB ones many times.
	for _, tc := range []struct{ size, n int }{{100, 20000}, {1024, 3000}} {
		data := payload(tc.size)
		for _, agg := range []bool{true, false} {
			for _, lib := range libs {
				t.Run(fmt.Sprintf("lib=%s/agg=%s/size=%d", lib, onOff(agg), tc.size), func(t *testing.T) {
					c := newFakeKinesis(true)
					r, err := startProducer(lib, agg, c, keys, data, 1000)
					if err != nil {
						t.Fatal(err)
					}
					for i := range tc.n {
						if err := r.put(keys[i%len(keys)], data); err != nil {
							t.Fatal(err)
						}
					}
					if err := r.stop(); err != nil {
						t.Fatal(err)
					}
					if err := checkDelivered(r, c, agg, tc.n); err != nil {
						t.Fatal(err)
					}
					// Aggregation on must pack several records per entry.
					if entries, users := c.entries.Load(), c.users.Load(); agg && entries*2 > users {
						t.Errorf("aggregation on: %d entries for %d user records", entries, users)
					} else if !agg && entries != users {
						t.Errorf("aggregation off: %d entries for %d user records", entries, users)
					}
					t.Logf("%d requests, %d entries, %d user records", c.requests.Load(), c.entries.Load(), c.users.Load())
				})
			}
		}
	}
}

// BenchmarkMD5 is the floor of aggregation for both libraries: the KPL
// format's MD5 trailer covers every byte of an aggregate. Compare its
// ns/op per size with BenchmarkProducer's agg=on rows.
func BenchmarkMD5(b *testing.B) {
	for _, size := range []int{100, 500, 1024} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			data := payload(size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				md5.Sum(data)
			}
		})
	}
}
