package batch

import (
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// recorder collects flushed batches (copies) with the fake time of each.
type recorder struct {
	mu      sync.Mutex
	start   time.Time
	batches [][]Record
	at      []time.Duration
}

func (r *recorder) flush(b []Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, append([]Record(nil), b...))
	r.at = append(r.at, time.Since(r.start))
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.batches)
}

func newTestBatcher(t *testing.T, rec *recorder, opts ...BatcherOption) *Batcher[Record] {
	t.Helper()
	rec.start = time.Now()
	l := DefaultLimits()
	b, err := NewBatcher(l.Size, rec.flush, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

func rec1(n int) Record { return Record{PartitionKey: "k", Data: make([]byte, n)} }

func TestBatcherLinger(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var r recorder
		b := newTestBatcher(t, &r)
		if err := b.Add(rec1(1)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(DefaultMaxLinger / 2)
		if err := b.Add(rec1(2)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(DefaultMaxLinger/2 - time.Nanosecond)
		synctest.Wait()
		if r.count() != 0 {
			t.Fatal("flushed before the first record's linger ended")
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if r.count() != 1 || len(r.batches[0]) != 2 || r.at[0] != DefaultMaxLinger {
			t.Fatalf("batches %d at %v, want one batch of 2 at %v", r.count(), r.at, DefaultMaxLinger)
		}
		// Idle: nothing more.
		time.Sleep(time.Hour)
		synctest.Wait()
		if r.count() != 1 {
			t.Fatalf("%d batches while idle", r.count())
		}
	})
}

func TestBatcherLingerOption(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var r recorder
		b := newTestBatcher(t, &r, WithMaxLinger(time.Second))
		_ = b.Add(rec1(1))
		time.Sleep(time.Second - 1)
		synctest.Wait()
		if r.count() != 0 {
			t.Fatal("flushed before a 1s linger")
		}
		time.Sleep(1)
		synctest.Wait()
		if r.count() != 1 {
			t.Fatal("not flushed after a 1s linger")
		}
	})
}

// TestBatcherLingerAfterFullFlush checks that the linger of a batch starts
// with its own first record, not an earlier batch's.
func TestBatcherLingerAfterFullFlush(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var r recorder
		b := newTestBatcher(t, &r, WithLimits(Limits{MaxRecordsPerRequest: 2, MaxRequestBytes: 5 << 20, MaxRecordBytes: 1 << 20}))
		_ = b.Add(rec1(1))
		time.Sleep(10 * time.Millisecond)
		_ = b.Add(rec1(1)) // full: flushed now
		time.Sleep(10 * time.Millisecond)
		_ = b.Add(rec1(1)) // new batch at 20ms
		time.Sleep(DefaultMaxLinger - 20*time.Millisecond + 10*time.Millisecond)
		synctest.Wait()
		if r.count() != 1 {
			t.Fatalf("%d batches at 110ms, want 1 (the new batch lingers until 120ms)", r.count())
		}
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		if r.count() != 2 || r.at[0] != 10*time.Millisecond || r.at[1] != 20*time.Millisecond+DefaultMaxLinger {
			t.Fatalf("flushes at %v", r.at)
		}
	})
}

func TestBatcherFull(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name    string
		reason  string
		sizes   []int // data bytes of records with key "k"
		batches []int // records per flushed batch, before Close
	}{
		{name: "500 records", reason: "a batch at the count limit is flushed at once",
			sizes: make([]int, 500), batches: []int{500}},
		{name: "501 records", sizes: make([]int, 501), batches: []int{500}},
		{name: "exactly 5 MiB", reason: "five records of 1 MiB - 1 and one of 5 bytes (data + key) fill a request",
			sizes: []int{mib - 2, mib - 2, mib - 2, mib - 2, mib - 2, 4}, batches: []int{6}},
		{name: "one byte over 5 MiB", reason: "the sixth record does not fit, so five go first",
			sizes: []int{mib - 2, mib - 2, mib - 2, mib - 2, mib - 2, 5}, batches: []int{5}},
		{name: "1 MiB records", reason: "five records of exactly 1 MiB fill a request",
			sizes: []int{mib - 1, mib - 1, mib - 1, mib - 1, mib - 1, mib - 1}, batches: []int{5}},
		{name: "under both limits", sizes: []int{10, 20, 30}, batches: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var r recorder
				b := newTestBatcher(t, &r)
				for _, n := range tt.sizes {
					if err := b.Add(rec1(n)); err != nil {
						t.Fatal(err)
					}
				}
				if r.count() != len(tt.batches) {
					t.Fatalf("%d batches, want %d (%s)", r.count(), len(tt.batches), tt.reason)
				}
				for i, n := range tt.batches {
					if len(r.batches[i]) != n {
						t.Fatalf("batch %d has %d records, want %d (%s)", i, len(r.batches[i]), n, tt.reason)
					}
				}
				total := 0
				for _, bt := range r.batches {
					total += len(bt)
				}
				if b.Len() != len(tt.sizes)-total {
					t.Fatalf("Len = %d, want %d", b.Len(), len(tt.sizes)-total)
				}
			})
		})
	}
}

func TestBatcherRejects(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var r recorder
		b := newTestBatcher(t, &r)
		_ = b.Add(rec1(1))
		var le *LimitError
		if err := b.Add(rec1(1 << 20)); !errors.As(err, &le) || !errors.Is(err, ErrRecordTooLarge) || le.Size != 1<<20+1 {
			t.Fatalf("Add of a record one byte over: %v", err)
		}
		if err := b.Add(Record{Data: []byte("x")}); !errors.Is(err, ErrInvalidPartitionKey) {
			t.Fatalf("Add without a key: %v", err)
		}
		if b.Len() != 1 || r.count() != 0 {
			t.Fatal("a rejected record changed the batch")
		}
		b.Close()
		if r.count() != 1 {
			t.Fatal("Close did not flush")
		}
		if err := b.Add(rec1(1)); !errors.Is(err, ErrBatcherClosed) {
			t.Fatalf("Add after Close: %v", err)
		}
		b.Close()
	})
}

func TestBatcherGenericSizeOverRequest(t *testing.T) {
	b, err := NewBatcher(func(n int) (int, error) { return n, nil }, func([]int) {})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Add(5<<20 + 1); !errors.Is(err, ErrRecordTooLarge) {
		t.Fatalf("an item larger than a request: %v", err)
	}
}

func TestBatcherOptions(t *testing.T) {
	size := DefaultLimits().Size
	for name, opts := range map[string][]BatcherOption{
		"zero linger":   {WithMaxLinger(0)},
		"zero limits":   {WithLimits(Limits{})},
		"too many recs": {WithLimits(Limits{MaxRecordsPerRequest: 501, MaxRequestBytes: 1, MaxRecordBytes: 1})},
	} {
		if _, err := NewBatcher(size, func([]Record) {}, opts...); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := NewBatcher[Record](nil, nil); err == nil {
		t.Error("nil functions accepted")
	}
}

func TestBatcherConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var r recorder
		b := newTestBatcher(t, &r)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 1000 {
					if err := b.Add(rec1(g + i%100)); err != nil {
						t.Error(err)
					}
					if i%97 == 0 {
						time.Sleep(time.Millisecond)
					}
				}
			})
		}
		wg.Wait()
		b.Close()
		total := 0
		for _, bt := range r.batches {
			n := 0
			for _, x := range bt {
				n += x.Size()
			}
			if len(bt) > MaxRecordsPerRequest || n > DefaultMaxRequestBytes {
				t.Fatalf("batch of %d records, %d bytes", len(bt), n)
			}
			total += len(bt)
		}
		if total != 8000 {
			t.Fatalf("%d records flushed, want 8000", total)
		}
	})
}

func TestBatcherDoesNotAllocate(t *testing.T) {
	l := DefaultLimits()
	b, err := NewBatcher(l.Size, func([]Record) {})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	r := rec1(100)
	if n := testing.AllocsPerRun(2000, func() { _ = b.Add(r) }); n != 0 {
		t.Fatalf("Add allocates %v times", n)
	}
}
