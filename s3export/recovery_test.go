package s3export

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// recoverySet is n events on one shard over four hours of mixed types,
// some of them late, so that files close by time, split by size and start
// again for late events.
func recoverySet(n int) [][]byte { return eventSet(n, 10, 40) }

// eventSet is n events over four hours, one in lateEvery processed up to
// lateMax minutes late.
func eventSet(n, lateEvery, lateMax int) [][]byte {
	r := rand.New(rand.NewPCG(7, 11))
	types := []string{"OPEN", "CUSTOM", "SEND", "TAG_CHANGE", "MYSTERY", "LOCATION"}
	base := time.Date(2026, 3, 8, 16, 0, 0, 0, time.UTC)
	out := make([][]byte, n)
	for i := range out {
		p := base.Add(time.Duration(i) * 4 * time.Hour / time.Duration(n))
		if r.IntN(lateEvery) == 0 {
			p = p.Add(-time.Duration(r.IntN(lateMax)) * time.Minute) // late
		}
		out[i] = ev(fmt.Sprintf("r%05d", i), types[r.IntN(len(types))], p.Format(time.RFC3339Nano))
	}
	return out
}

// runRecords writes records [from, to) with a new exporter on target, as a
// process started at a checkpoint would, and returns the index of the
// first record whose acknowledgement did not come: where the next run
// starts. With closeAtEnd the writer is closed; otherwise the run
// "crashes" once its started uploads finished.
func runRecords(t *testing.T, tg Target, recs [][]byte, from, to int, closeAtEnd bool, opts ...Option) (int, Stats) {
	t.Helper()
	e := newExporter(t, tg, opts...)
	w := e.NewShardWriter(testShard)
	a := newAcks()
	ctx := context.Background()
	for i := from; i < to; i++ {
		if err := w.Write(ctx, rec(testShard, i, recs[i]), testAck{a, i}); err != nil {
			t.Fatal(err)
		}
	}
	if closeAtEnd {
		closeWriter(t, w)
	} else {
		w.uploads.Wait() // the crash comes after the uploads in flight
	}
	for i := from; i < to; i++ {
		if a.get(i) != ackDone {
			return i, e.Stats()
		}
	}
	return to, e.Stats()
}

// A run that crashes at any point and restarts from its checkpoint (the
// first unacknowledged record) ends with the same objects, byte for byte,
// as a run without crashes.
func TestRestartsFromTheCheckpointGiveTheSameObjects(t *testing.T) {
	lowerPartSize(t, 1024)
	const n = 600
	recs := recoverySet(n)
	for _, tc := range []struct {
		name string
		opts []Option
	}{
		{"csv", []Option{WithFormat(FormatCSV), WithMaxFileSize(6000)}},
		{"json-gzip", []Option{WithFormat(FormatJSON), WithGzip(true), WithMaxFileSize(12000)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, refBucket, ref := s3Bucket(t, WithPartSize(1024))
			_, _ = runRecords(t, ref, recs, 0, n, true, tc.opts...)
			want := bucketObjects(t, c, refBucket, "", false)
			if len(want) < 20 {
				t.Fatalf("only %d files: the set does not exercise enough", len(want))
			}
			var totalSkipped int64
			var totalRewritten int
			defer func() {
				if totalSkipped == 0 || totalRewritten == 0 {
					t.Errorf("the crashes exercised no recovery: %d records read again, %d skipped", totalRewritten, totalSkipped)
				}
			}()
			for _, crashes := range [][]int{{1}, {150, 151, 152}, {37, 290, 420, 599}, {300, 300, 300}} {
				t.Run(fmt.Sprint(crashes), func(t *testing.T) {
					_, bucket, tg := s3Bucket(t, WithPartSize(1024))
					start, skipped, rewritten := 0, int64(0), 0
					for _, k := range crashes {
						if k < start {
							k = start
						}
						next, st := runRecords(t, tg, recs, start, k, false, tc.opts...)
						skipped += st.Skipped
						rewritten += k - next
						start = next
					}
					_, st := runRecords(t, tg, recs, start, n, true, tc.opts...)
					skipped += st.Skipped
					t.Logf("records read again: %d, skipped as stored: %d", rewritten, skipped)
					totalSkipped += skipped
					totalRewritten += rewritten
					got := bucketObjects(t, c, bucket, "", false)
					if diff := cmp.Diff(keys(want), keys(got)); diff != "" {
						t.Fatalf("keys (-uninterrupted +crashed):\n%s", diff)
					}
					for k := range want {
						if string(want[k]) != string(got[k]) {
							t.Errorf("%s differs", k)
						}
					}
				})
			}
		})
	}
}
