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

// waitFor polls cond until it holds or fails the test after d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(2 * time.Millisecond)
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
	store *MemoryCheckpointStore
	seqs  []string
	shard string
	d     *deferrer
	c     *Consumer
}

func newAckFixture(t *testing.T, n int, opts ...ConsumerOption) *ackFixture {
	t.Helper()
	fx := &ackFixture{f: kinesistest.New(kinesistest.WithStream("s", 1)), store: NewMemoryCheckpointStore(), d: newDeferrer()}
	es, _ := eventEntries("a", n, 1)
	fx.seqs = putEntries(t, fx.f, "s", es)
	fx.shard = fx.f.Records("s")[0].ShardID
	var err error
	fx.c, err = NewConsumer(fx.f, "s", append(append(fastConsumer(), WithCheckpointStore(fx.store), OnRecord(fx.d.handle)), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return fx
}

func (fx *ackFixture) waitCheckpoint(t *testing.T, seq string) {
	t.Helper()
	waitFor(t, 5*time.Second, "checkpoint at "+seq, func() bool { return loadCP(t, fx.store, fx.shard).SequenceNumber == seq })
}

func TestAckedRecordsAreCheckpointedInOrder(t *testing.T) {
	fx := newAckFixture(t, 20)
	stop := startConsumer(t, fx.c)
	waitFor(t, 5*time.Second, "all records deferred", func() bool { return fx.d.count() == 20 })
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
	waitFor(t, 5*time.Second, "all records deferred", func() bool { return fx.d.count() == 10 })
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
	waitFor(t, 5*time.Second, "all records deferred", func() bool { return fx.d.count() == 10 })
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
			waitFor(t, 5*time.Second, "all records deferred", func() bool { return fx.d.count() == 6 })
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
	waitFor(t, 5*time.Second, "3 records deferred", func() bool { return fx.d.count() == 3 })
	time.Sleep(30 * time.Millisecond)
	if n := fx.d.count(); n != 3 {
		t.Fatalf("%d records handled with 3 pending acks allowed", n)
	}
	fx.d.ack(t, fx.seqs[1], 0, nil) // out of order still frees a slot
	waitFor(t, 5*time.Second, "a 4th record", func() bool { return fx.d.count() == 4 })
	for i, seq := range fx.seqs {
		waitFor(t, 5*time.Second, "the record", func() bool { return fx.d.count() > i })
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
	store := NewMemoryCheckpointStore()
	d := newDeferrer()
	c, err := NewConsumer(f, "s", append(fastConsumer(), WithCheckpointStore(store), OnRecord(d.handle))...)
	if err != nil {
		t.Fatal(err)
	}
	stop := startConsumer(t, c)
	waitFor(t, 5*time.Second, "all sub-records deferred", func() bool { return d.count() == 6 })
	for _, sub := range []uint64{5, 0, 4, 1, 3} {
		d.ack(t, seq, sub, nil)
	}
	waitFor(t, 5*time.Second, "checkpoint at sub-record 1", func() bool {
		return loadCP(t, store, shard) == Checkpoint{SequenceNumber: seq, SubSequenceNumber: 1}
	})
	d.ack(t, seq, 2, nil)
	waitFor(t, 5*time.Second, "checkpoint at sub-record 5", func() bool {
		return loadCP(t, store, shard) == Checkpoint{SequenceNumber: seq, SubSequenceNumber: 5}
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestShardEndedCheckpointWaitsForAcks(t *testing.T) {
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	seqs := putEntries(t, f, "s", []entry{{"k", testEvent("p1", event.TypeOpen, "")}, {"k", testEvent("p2", event.TypeOpen, "")}})
	parent := f.Records("s")[0].ShardID
	if _, err := f.SplitShard(context.Background(), &sdkkinesis.SplitShardInput{
		StreamName: aws.String("s"), ShardToSplit: aws.String(parent),
		NewStartingHashKey: aws.String(new(big.Int).Lsh(big.NewInt(1), 127).String()),
	}); err != nil {
		t.Fatal(err)
	}
	putEntries(t, f, "s", []entry{{"k", testEvent("c1", event.TypeOpen, "")}})
	store := NewMemoryCheckpointStore()
	d := newDeferrer()
	c, err := NewConsumer(f, "s", append(fastConsumer(), WithCheckpointStore(store), OnRecord(d.handle))...)
	if err != nil {
		t.Fatal(err)
	}
	stop := startConsumer(t, c)
	waitFor(t, 5*time.Second, "the parent's records deferred", func() bool { return d.count() == 2 })
	d.ack(t, seqs[0], 0, nil)
	waitFor(t, 5*time.Second, "checkpoint at the first record", func() bool { return loadCP(t, store, parent).SequenceNumber == seqs[0] })
	time.Sleep(50 * time.Millisecond)
	if cp := loadCP(t, store, parent); cp.ShardEnded || d.count() != 2 {
		t.Fatalf("parent checkpoint %+v and %d records handled with an ack pending; want not ended, the child unread", cp, d.count())
	}
	d.ack(t, seqs[1], 0, nil)
	waitFor(t, 5*time.Second, "the parent ended", func() bool { return loadCP(t, store, parent).ShardEnded })
	waitFor(t, 5*time.Second, "the child's record", func() bool { return d.count() == 3 })
	d.mu.Lock()
	child := d.seen[2]
	d.mu.Unlock()
	d.ack(t, child.SequenceNumber, 0, nil)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
