package kinesis

// StartLatest without a gap: a reader stores where it started before it
// reads, so a restart, a new lease owner or a child shard resumes there.

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/rtdskit/rtds/internal/testenv"
	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

// pollLog notes the shards a consumer has polled with GetRecords.
type pollLog struct{ shards sync.Map }

func (l *pollLog) OnRecordsFetched(m RecordsFetchedMetrics) { l.shards.Store(m.ShardID, true) }

func (l *pollLog) polled() int {
	n := 0
	l.shards.Range(func(any, any) bool { n++; return true })
	return n
}

// latestClient is what the StartLatest scenarios call.
type latestClient interface {
	ConsumerAPI
	PutRecordsAPI
}

// testLatestResume: a consumer with StartLatest positions itself on every
// shard of a quiet stream and stops before it handled a record; records
// are put; a second consumer (with leases: another worker, taking the
// shards over) must handle every one of them, and none put before the
// first consumer started.
func testLatestResume(t *testing.T, client latestClient, stream string, shards int, store CheckpointStore, leased bool) {
	p := newFeed(t, client, stream)
	p.put(20)
	before := p.all()
	time.Sleep(5 * time.Millisecond) // arrival timestamps have milliseconds
	g := newShardGuard(0)
	ll := newLeaseLog()
	start := func(worker string, polls *pollLog) (stop func() error) {
		opts := []ConsumerOption{WithStartPosition(StartLatest), WithHooks(polls), WithIdleWait(20 * time.Millisecond)}
		if leased {
			return runWorker(t, client, stream, store.(LeaseStore), Leases{WorkerID: worker, Duration: 300 * time.Millisecond}, g, ll, opts...)
		}
		c, err := NewConsumer(client, stream, append(append(fastConsumer(), g.handler(worker), WithCheckpointStore(store)), opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return startConsumer(t, c)
	}

	first := &pollLog{}
	stopFirst := start("a", first)
	waitUntil(t, 20*time.Second, "the first consumer to poll every shard", func() bool { return first.polled() == shards })
	if err := stopFirst(); err != nil {
		t.Fatalf("first consumer: %v", err)
	}
	p.put(50)
	want := p.all()[len(before):]

	g.checkLatest(t, before, want, 10*time.Second, start("b", &pollLog{}))
}

// checkLatest waits up to timeout for every record of want to be handled,
// stops the consumer, and fails the test if one of want was never handled
// or one of before was.
func (g *shardGuard) checkLatest(t *testing.T, before, want []string, timeout time.Duration, stop func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for g.missing(want) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
	if n := g.missing(want); n > 0 {
		t.Errorf("%d of the %d records put after the first consumer started were never handled", n, len(want))
	}
	if n := len(before) - g.missing(before); n > 0 {
		t.Errorf("%d records put before the first consumer started were handled", n)
	}
}

// TestConsumerLatestRestartBeforeFirstRecordLosesNothing: with
// StartLatest, a consumer restarted before it handled a record, or a
// worker taking over such a shard, resumes where the first reader started
// (issue 17 §3).
func TestConsumerLatestRestartBeforeFirstRecordLosesNothing(t *testing.T) {
	for _, leased := range []bool{false, true} {
		name := "restart"
		if leased {
			name = "takeover"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := kinesistest.New(kinesistest.WithStream("s", 2))
			testLatestResume(t, f, "s", 2, NewMemoryStore(), leased)
		})
	}
}

// TestConsumerIntegrationLatestRestartLosesNothing is the StartLatest
// restart and takeover on the emulators, checkpoints and leases in
// DynamoDB (dynalite).
func TestConsumerIntegrationLatestRestartLosesNothing(t *testing.T) {
	for _, em := range emulators {
		for _, leased := range []bool{false, true} {
			name := em.name + "/restart"
			if leased {
				name = em.name + "/takeover"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				client, _ := em.client(t)
				closeIdle(t, client)
				stream, _ := testenv.CreateStream(t, client, 2)
				store := newDynamoTestStore(t, dynaliteClient(t))
				testLatestResume(t, client, stream, 2, store, leased)
			})
		}
	}
}

// TestConsumerSplitUnderLatestLosesNothing: with StartLatest, the children
// of a split start where nothing put after the consumer started is
// skipped: at TRIM_HORIZON after a parent with records, and at the time
// the parent was started from after a quiet parent.
func TestConsumerSplitUnderLatestLosesNothing(t *testing.T) {
	for _, quiet := range []bool{false, true} {
		name := "parent with records"
		if quiet {
			name = "quiet parent"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			const stream = "s"
			f := kinesistest.New(kinesistest.WithStream(stream, 1))
			p := newFeed(t, f, stream)
			p.put(10)
			before := len(p.all())
			time.Sleep(5 * time.Millisecond)
			g := newShardGuard(0)
			polls := &pollLog{}
			// The parent's reader sleeps 300ms after an empty poll, so the
			// children's records below are put before their readers start.
			c, err := NewConsumer(f, stream, append(fastConsumer(), g.handler("c"), WithStartPosition(StartLatest),
				WithIdleWait(300*time.Millisecond), WithHooks(polls))...)
			if err != nil {
				t.Fatal(err)
			}
			stop := startConsumer(t, c)
			waitUntil(t, 5*time.Second, "the first poll", func() bool { return polls.polled() == 1 })
			if !quiet {
				p.put(20)
				waitUntil(t, 5*time.Second, "the parent's records", func() bool { return g.missing(p.all()[before:]) == 0 })
			}
			if _, err := f.SplitShard(context.Background(), &sdkkinesis.SplitShardInput{StreamName: aws.String(stream),
				ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String("170141183460469231731687303715884105728")}); err != nil {
				t.Fatal(err)
			}
			p.put(50)
			g.checkLatest(t, p.all()[:before], p.all()[before:], 5*time.Second, stop)
		})
	}
}
