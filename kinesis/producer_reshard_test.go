package kinesis

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/rtdskit/rtds/batch"
	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

// stall makes the next PutRecords call, once armed, block until released
// and then fail whole with a retryable error, so its records are retried
// after whatever happens meanwhile. It is a kinesistest.FaultFunc.
type stall struct {
	mu      sync.Mutex
	armed   bool
	release chan struct{}
	stalled chan struct{} // closed when a call has taken the stall
}

func (s *stall) arm() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.armed = true
	s.release = make(chan struct{})
	s.stalled = make(chan struct{})
}

func (s *stall) fault(op string, entry int) error {
	if op != kinesistest.OpPutRecords || entry != kinesistest.CallEntry {
		return nil
	}
	s.mu.Lock()
	if !s.armed {
		s.mu.Unlock()
		return nil
	}
	s.armed = false
	release := s.release
	close(s.stalled)
	s.mu.Unlock()
	<-release
	return &sdktypes.InternalFailureException{Message: aws.String("stalled, then failed")}
}

func (s *stall) wait(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	stalled := s.stalled
	s.mu.Unlock()
	select {
	case <-stalled:
	default:
		t.Fatal("no PutRecords call took the stall")
	}
}

func (s *stall) free() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.release)
}

// openShards lists the fake stream's open shards, in hash key order.
func openShards(t *testing.T, f *kinesistest.Fake, stream string) []sdktypes.Shard {
	t.Helper()
	ls, err := f.ListShards(t.Context(), &sdkkinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	var open []sdktypes.Shard
	for _, s := range ls.Shards {
		if s.SequenceNumberRange.EndingSequenceNumber == nil {
			open = append(open, s)
		}
	}
	return open
}

// checkShards asserts that every record is in a shard whose hash key range
// holds its partition key's hash: a retried aggregate of a closed parent
// must not take records of one child's keys into the other child.
func checkShards(t *testing.T, f *kinesistest.Fake, stream string, got []storedRecord) {
	t.Helper()
	ls, err := f.ListShards(t.Context(), &sdkkinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	ranges := map[string]batch.ShardRange{}
	for _, s := range ls.Shards {
		id := aws.ToString(s.ShardId)
		rg, err := batch.ParseShardRange(id, aws.ToString(s.HashKeyRange.StartingHashKey), aws.ToString(s.HashKeyRange.EndingHashKey))
		if err != nil {
			t.Fatal(err)
		}
		ranges[id] = rg
	}
	for _, r := range got {
		h, rg := batch.PartitionKeyHash(r.PartitionKey), ranges[r.ShardID]
		if h.Compare(rg.StartingHashKey) < 0 || h.Compare(rg.EndingHashKey) > 0 {
			t.Errorf("record %q in shard %s, outside the shard's hash key range", r.Data, r.ShardID)
		}
	}
}

// TestProducerOrderingAcrossReshards forces the race between a closed
// shard's records (in flight, then retried) and newer records for the same
// keys routed to its children after a split, and to the merged shard after
// a merge: with WithOrdering, every key's records must still be written
// in Put order (the fake's sequence numbers are global, so its stream
// order is write order).
func TestProducerOrderingAcrossReshards(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, reason string
		aggregate    bool
	}{
		{"plain", "one entry per key per request: a parent's stalled request holds one record per key", false},
		{"aggregated", "one aggregate per shard per request: the retried aggregate goes to one child", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				const refresh = time.Second
				f := kinesistest.New(kinesistest.WithStream("s", 1))
				var st stall
				f.SetFault(st.fault)
				var c collector
				p, err := NewProducer(f, "s", WithResultHandler(c.handle), WithOrdering(true),
					WithAggregation(tc.aggregate), WithPutRetry(fastPutRetry), WithShardRefreshInterval(refresh))
				if err != nil {
					t.Fatal(err)
				}
				want := map[string]bool{}
				next := 0
				put := func(n int) {
					t.Helper()
					for range n {
						k := fmt.Sprintf("key-%02d", next%16)
						want[string(payload(k, next))] = true
						if err := p.Put(t.Context(), k, payload(k, next)); err != nil {
							t.Fatal(err)
						}
						next++
					}
					time.Sleep(2 * DefaultLinger) // past the linger: requests go out
					synctest.Wait()
				}
				shards := func() int {
					p.mu.Lock()
					defer p.mu.Unlock()
					return len(p.shards)
				}
				reshard := func(wantShards int, do func()) {
					t.Helper()
					do()
					time.Sleep(2 * refresh) // the producer re-reads the map
					synctest.Wait()
					if n := shards(); n != wantShards {
						t.Fatalf("the producer maps %d shards, want %d", n, wantShards)
					}
				}

				// Split: the parent's first request stalls, then fails;
				// the children must not write its keys meanwhile.
				put(10) // the map is read first
				st.arm()
				put(200)
				st.wait(t)
				parent := openShards(t, f, "s")[0]
				reshard(2, func() {
					if _, err := f.SplitShard(t.Context(), &sdkkinesis.SplitShardInput{StreamName: aws.String("s"),
						ShardToSplit: parent.ShardId, NewStartingHashKey: aws.String("170141183460469231731687303715884105728")}); err != nil {
						t.Fatal(err)
					}
				})
				put(200)
				st.free()
				put(100)
				if err := p.Flush(t.Context()); err != nil {
					t.Fatal(err)
				}

				// Merge: a child's request stalls, then fails; the merged
				// shard must not write its keys meanwhile.
				st.arm()
				put(200)
				st.wait(t)
				children := openShards(t, f, "s")
				reshard(1, func() {
					if _, err := f.MergeShards(t.Context(), &sdkkinesis.MergeShardsInput{StreamName: aws.String("s"),
						ShardToMerge: children[0].ShardId, AdjacentShardToMerge: children[1].ShardId}); err != nil {
						t.Fatal(err)
					}
				})
				put(200)
				st.free()
				put(100)

				if err := p.Close(context.Background()); err != nil {
					t.Fatal(err)
				}
				delivered, failed := c.tally(t)
				if len(delivered) != len(want) || len(failed) != 0 {
					t.Fatalf("delivered %d, failed %d of %d", len(delivered), len(failed), len(want))
				}
				if got := p.Stats().Retried; got == 0 {
					t.Error("no record was retried: the stalls did not fail a request")
				}
				got := fakeRecords(t, f, "s")
				checkStream(t, got, want, true)
				checkShards(t, f, "s", got)
			})
		})
	}
}
