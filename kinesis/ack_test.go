package kinesis

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

// deferrer is an OnRecord handler that defers every record and keeps its
// Ack, as a sink does until it stored the record.
type deferrer struct {
	mu   sync.Mutex
	acks map[Checkpoint]Ack
	seen []Record
}

func newDeferrer() *deferrer { return &deferrer{acks: map[Checkpoint]Ack{}} }

func (d *deferrer) handle(ctx context.Context, r Record) error {
	ack, ok := Defer(ctx)
	if !ok {
		return errors.New("Defer: not ok in a consumer's handler")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.acks[Checkpoint{SequenceNumber: r.SequenceNumber, SubSequenceNumber: r.SubSequenceNumber}] = ack
	d.seen = append(d.seen, r)
	return nil
}

func (d *deferrer) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.seen)
}

// ack settles the record at seq/sub: Done when err is nil, else Fail.
func (d *deferrer) ack(t testing.TB, seq string, sub uint64, err error) {
	t.Helper()
	d.mu.Lock()
	a, ok := d.acks[Checkpoint{SequenceNumber: seq, SubSequenceNumber: sub}]
	d.mu.Unlock()
	if !ok {
		t.Fatalf("no ack for %s/%d", seq, sub)
	}
	if err != nil {
		a.Fail(err)
	} else {
		a.Done()
	}
}

// loadCP returns a shard's stored checkpoint, the zero one if none.
func loadCP(t testing.TB, store CheckpointStore, shard string) Checkpoint {
	t.Helper()
	cp, _, err := store.Load(context.Background(), "s", shard)
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

// ackFixture is a one-shard fake with n events, a memory store and a
// consumer whose handler defers every record.
type ackFixture struct {
	f     *kinesistest.Fake
	store *MemoryStore
	seqs  []string
	shard string
	d     *deferrer
	c     *Consumer
}

func newAckFixture(t *testing.T, n int, opts ...ConsumerOption) *ackFixture {
	t.Helper()
	fx := &ackFixture{f: kinesistest.New(kinesistest.WithStream("s", 1))}
	es, _ := eventEntries("a", n, 1)
	fx.seqs = putEntries(t, fx.f, "s", es)
	fx.shard = fx.f.Records("s")[0].ShardID
	fx.d, fx.store, fx.c = deferringConsumer(t, fx.f, opts...)
	return fx
}

// deferringConsumer returns a consumer (not started) of f's stream "s"
// with a memory store and a handler that defers every record.
func deferringConsumer(t *testing.T, f *kinesistest.Fake, opts ...ConsumerOption) (*deferrer, *MemoryStore, *Consumer) {
	t.Helper()
	d, store := newDeferrer(), NewMemoryStore()
	c, err := NewConsumer(f, "s", append(append(fastConsumer(), WithCheckpointStore(store), OnRecord(d.handle)), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return d, store, c
}

func (fx *ackFixture) waitCheckpoint(t *testing.T, seq string) {
	t.Helper()
	waitUntil(t, 5*time.Second, "checkpoint at "+seq, func() bool { return loadCP(t, fx.store, fx.shard).SequenceNumber == seq })
}

func TestAckedRecordsAreCheckpointedInOrder(t *testing.T) {
	fx := newAckFixture(t, 20)
	stop := startConsumer(t, fx.c)
	waitUntil(t, 5*time.Second, "all records deferred", func() bool { return fx.d.count() == 20 })
	time.Sleep(30 * time.Millisecond) // several empty batches: nothing may be saved
	if cp, ok, _ := fx.store.Load(context.Background(), "s", fx.shard); ok {
		t.Fatalf("checkpoint %+v saved before any ack", cp)
	}
	for i, seq := range fx.seqs {
		fx.d.ack(t, seq, 0, nil)
		if i == 9 {
			fx.waitCheckpoint(t, seq)
		}
	}
	fx.waitCheckpoint(t, fx.seqs[19])
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if st := fx.c.Stats(); st.Handled != 20 {
		t.Errorf("Handled = %d, want 20", st.Handled)
	}
}

func TestCheckpointStopsBeforeTheFirstUnackedRecord(t *testing.T) {
	fx := newAckFixture(t, 10)
	stop := startConsumer(t, fx.c)
	waitUntil(t, 5*time.Second, "all records deferred", func() bool { return fx.d.count() == 10 })
	go func() { // acks from another goroutine, out of order; record 3 last
		for i := 9; i >= 0; i-- {
			if i != 3 {
				fx.d.ack(t, fx.seqs[i], 0, nil)
			}
		}
	}()
	fx.waitCheckpoint(t, fx.seqs[2])
	time.Sleep(30 * time.Millisecond)
	if cp := loadCP(t, fx.store, fx.shard); cp.SequenceNumber != fx.seqs[2] {
		t.Fatalf("checkpoint = %+v with record 3 unacknowledged; want %s", cp, fx.seqs[2])
	}
	fx.d.ack(t, fx.seqs[3], 0, nil)
	fx.d.ack(t, fx.seqs[3], 0, errors.New("a second settle is ignored"))
	fx.waitCheckpoint(t, fx.seqs[9])
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestAckFailStopsRunBeforeTheRecord(t *testing.T) {
	fx := newAckFixture(t, 10)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- fx.c.Run(ctx) }()
	waitUntil(t, 5*time.Second, "all records deferred", func() bool { return fx.d.count() == 10 })
	errSink := errors.New("upload failed")
	for i, seq := range fx.seqs {
		switch i {
		case 5:
			fx.d.ack(t, seq, 0, errSink)
		default:
			fx.d.ack(t, seq, 0, nil)
		}
	}
	err := <-errc
	if !errors.Is(err, errSink) {
		t.Fatalf("Run = %v, want the Fail error", err)
	}
	if cp := loadCP(t, fx.store, fx.shard); cp.SequenceNumber != fx.seqs[4] {
		t.Errorf("checkpoint = %+v, want the record before the failed one (%s)", cp, fx.seqs[4])
	}
}

func TestShutdownSavesTheLastContiguousAckedRecord(t *testing.T) {
	for _, late := range []bool{false, true} {
		t.Run(fmt.Sprintf("ack during the drain %v", late), func(t *testing.T) {
			fx := newAckFixture(t, 6, WithShutdownTimeout(300*time.Millisecond))
			ctx, cancel := context.WithCancel(context.Background())
			errc := make(chan error, 1)
			go func() { errc <- fx.c.Run(ctx) }()
			waitUntil(t, 5*time.Second, "all records deferred", func() bool { return fx.d.count() == 6 })
			for _, i := range []int{0, 1, 2, 4} {
				fx.d.ack(t, fx.seqs[i], 0, nil)
			}
			start := time.Now()
			cancel()
			want := fx.seqs[2]
			if late {
				time.Sleep(50 * time.Millisecond)
				fx.d.ack(t, fx.seqs[3], 0, nil)
				want = fx.seqs[4]
			}
			if err := <-errc; err != nil {
				t.Fatalf("Run: %v", err)
			}
			if took := time.Since(start); took > 300*time.Millisecond {
				t.Errorf("Run took %v after its context was done, beyond the shutdown timeout", took)
			}
			if cp := loadCP(t, fx.store, fx.shard); cp.SequenceNumber != want {
				t.Errorf("final checkpoint = %+v, want %s", cp, want)
			}
		})
	}
}

func TestMaxPendingAcksPausesReading(t *testing.T) {
	fx := newAckFixture(t, 10, WithMaxPendingAcks(3))
	stop := startConsumer(t, fx.c)
	waitUntil(t, 5*time.Second, "3 records deferred", func() bool { return fx.d.count() == 3 })
	time.Sleep(30 * time.Millisecond)
	if n := fx.d.count(); n != 3 {
		t.Fatalf("%d records handled with 3 pending acks allowed", n)
	}
	if sh := fx.c.Stats().Shards; len(sh) != 1 || sh[0].PendingAcks != 3 {
		t.Errorf("Stats().Shards = %+v, want 3 pending acks", sh)
	}
	fx.d.ack(t, fx.seqs[1], 0, nil) // out of order still frees a slot
	waitUntil(t, 5*time.Second, "a 4th record", func() bool { return fx.d.count() == 4 })
	for i, seq := range fx.seqs {
		waitUntil(t, 5*time.Second, "the record", func() bool { return fx.d.count() > i })
		if i != 1 {
			fx.d.ack(t, seq, 0, nil)
		}
	}
	fx.waitCheckpoint(t, fx.seqs[9])
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestAggregatedSubRecordsAreAckedOneByOne(t *testing.T) {
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	var datas [][]byte
	for i := range 6 {
		datas = append(datas, testEvent(fmt.Sprintf("a%d", i), event.TypeOpen, ""))
	}
	seq := putEntries(t, f, "s", []entry{{"p", kplAggregate([]string{"k1", "k2"}, datas)}})[0]
	shard := f.Records("s")[0].ShardID
	d, store, c := deferringConsumer(t, f)
	stop := startConsumer(t, c)
	waitUntil(t, 5*time.Second, "all sub-records deferred", func() bool { return d.count() == 6 })
	for _, sub := range []uint64{5, 0, 4, 1, 3} {
		d.ack(t, seq, sub, nil)
	}
	waitUntil(t, 5*time.Second, "checkpoint at sub-record 1", func() bool {
		return loadCP(t, store, shard) == Checkpoint{SequenceNumber: seq, SubSequenceNumber: 1}
	})
	d.ack(t, seq, 2, nil)
	waitUntil(t, 5*time.Second, "checkpoint at sub-record 5", func() bool {
		return loadCP(t, store, shard) == Checkpoint{SequenceNumber: seq, SubSequenceNumber: 5}
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// splitWithRecords returns a fake whose only shard (the parent, returned
// with its records' sequence numbers) holds two events and was split;
// one child holds one event.
func splitWithRecords(t *testing.T) (f *kinesistest.Fake, parent string, seqs []string) {
	t.Helper()
	f = kinesistest.New(kinesistest.WithStream("s", 1))
	seqs = putEntries(t, f, "s", []entry{{"k", testEvent("p1", event.TypeOpen, "")}, {"k", testEvent("p2", event.TypeOpen, "")}})
	parent = f.Records("s")[0].ShardID
	if _, err := f.SplitShard(context.Background(), &sdkkinesis.SplitShardInput{
		StreamName: aws.String("s"), ShardToSplit: aws.String(parent),
		NewStartingHashKey: aws.String(new(big.Int).Lsh(big.NewInt(1), 127).String()),
	}); err != nil {
		t.Fatal(err)
	}
	putEntries(t, f, "s", []entry{{"k", testEvent("c1", event.TypeOpen, "")}})
	return f, parent, seqs
}

func TestShutdownWhileAShardEndWaitsForAcksSavesTheProgress(t *testing.T) {
	f, parent, seqs := splitWithRecords(t)
	d, store, c := deferringConsumer(t, f, WithShutdownTimeout(100*time.Millisecond))
	stop := startConsumer(t, c)
	waitUntil(t, 5*time.Second, "the parent's records deferred", func() bool { return d.count() == 2 })
	d.ack(t, seqs[0], 0, nil)
	time.Sleep(20 * time.Millisecond) // the reader waits at the shard's end
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if cp := loadCP(t, store, parent); cp != (Checkpoint{SequenceNumber: seqs[0]}) {
		t.Errorf("parent checkpoint = %+v, want %s, not ended", cp, seqs[0])
	}
}

func TestShardEndedCheckpointWaitsForAcks(t *testing.T) {
	f, parent, seqs := splitWithRecords(t)
	d, store, c := deferringConsumer(t, f)
	stop := startConsumer(t, c)
	waitUntil(t, 5*time.Second, "the parent's records deferred", func() bool { return d.count() == 2 })
	d.ack(t, seqs[0], 0, nil)
	waitUntil(t, 5*time.Second, "checkpoint at the first record", func() bool { return loadCP(t, store, parent).SequenceNumber == seqs[0] })
	time.Sleep(50 * time.Millisecond)
	if cp := loadCP(t, store, parent); cp.ShardEnded || d.count() != 2 {
		t.Fatalf("parent checkpoint %+v and %d records handled with an ack pending; want not ended, the child unread", cp, d.count())
	}
	d.ack(t, seqs[1], 0, nil)
	waitUntil(t, 5*time.Second, "the parent ended", func() bool { return loadCP(t, store, parent).ShardEnded })
	waitUntil(t, 5*time.Second, "the child's record", func() bool { return d.count() == 3 })
	d.mu.Lock()
	child := d.seen[2]
	d.mu.Unlock()
	d.ack(t, child.SequenceNumber, 0, nil)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestDeferThenErrorVoidsTheAck(t *testing.T) {
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	seqs := putEntries(t, f, "s", []entry{{"k", testEvent("a", event.TypeOpen, "")}})
	store := NewMemoryStore()
	var first Ack
	attempts := 0
	rec := newRecorder(1)
	consume(t, f, "s", rec, 5*time.Second, WithCheckpointStore(store), OnRecord(func(ctx context.Context, r Record) error {
		attempts++
		if attempts == 1 {
			first, _ = Defer(ctx)
			return errors.New("failed after deferring")
		}
		return rec.record(ctx, r) // handled at once on the retry
	}))
	first.Done() // void: does nothing
	if cp := loadCP(t, store, f.Records("s")[0].ShardID); cp.SequenceNumber != seqs[0] || attempts != 2 {
		t.Errorf("checkpoint %+v after %d attempts; want %s after 2", cp, attempts, seqs[0])
	}
}

func TestWithMaxPendingAcksRejectsLessThanOne(t *testing.T) {
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	if _, err := NewConsumer(f, "s", OnRecord(func(context.Context, Record) error { return nil }), WithMaxPendingAcks(0)); err == nil {
		t.Error("NewConsumer accepted WithMaxPendingAcks(0)")
	}
}
