package s3export

import (
	"context"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"time"
)

// A file much larger than a part never sits in memory: while 32 MiB go
// into one object (default 5 MiB parts, gzip off), the heap grows by a
// few parts at most.
func TestLargeFileMemoryStaysBounded(t *testing.T) {
	_, _, tg := s3Bucket(t)
	e := newExporter(t, tg, WithFormat(FormatJSON))
	w := e.NewShardWriter(testShard)
	ctx := context.Background()
	// Collect garbage eagerly, so the heap shows what is live.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
		}
	}()
	var written int
	for i := 0; written < 32<<20; i += 1000 {
		for k, d := range benchEvents(i, 1000) {
			written += len(d) + 1
			if err := w.Write(ctx, rec(testShard, i+k, d), nopAck{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	closeWriter(t, w)
	close(stop)
	<-sampled
	grew := int64(peak.Load()) - int64(base)
	t.Logf("%d MiB written in %d files; heap grew by %.1f MiB at most", written>>20, e.Stats().FilesCompleted, float64(grew)/(1<<20))
	// The bound: about 1.25 parts for the open file, the old buffer while
	// append grows it, and 16 bytes per record for its acknowledgement
	// (here 100,000 records), with 2 MiB to spare.
	if bound := int64(2.25*DefaultPartSize) + 16*2*100000 + 2<<20; grew > bound {
		t.Errorf("heap grew by %d MiB while writing %d MiB", grew>>20, written>>20)
	}
}
