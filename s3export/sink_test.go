package s3export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/google/go-cmp/cmp"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/internal/testenv"
	"github.com/rtdskit/rtds/kinesis"
)

// putInOrder puts records one by one (so each shard gets them in this
// order) and returns each record's shard and sequence number.
func putInOrder(t *testing.T, c *sdkkinesis.Client, stream string, keys []string, data [][]byte) (shards, seqs []string) {
	t.Helper()
	ctx := context.Background()
	for i, d := range data {
		out, err := c.PutRecord(ctx, &sdkkinesis.PutRecordInput{StreamName: aws.String(stream), PartitionKey: aws.String(keys[i]), Data: d})
		if err != nil {
			t.Fatal(err)
		}
		shards = append(shards, aws.ToString(out.ShardId))
		seqs = append(seqs, aws.ToString(out.SequenceNumber))
	}
	return shards, seqs
}

// exportRun is one consumer driving a sink until want records were
// handled; then it stops the consumer as `rtds export` does on a signal.
type exportRun struct {
	store *kinesis.MemoryStore
	e     *Exporter
	dead  []kinesis.DeadLetter
	// beforeStop is the checkpoint of each shard just before stopping.
	beforeStop map[string]string
}

func runSink(t *testing.T, kc *sdkkinesis.Client, stream string, tg Target, want int, store *kinesis.MemoryStore, opts ...Option) *exportRun {
	t.Helper()
	r := &exportRun{store: store, e: newExporter(t, tg, opts...), beforeStop: map[string]string{}}
	sink, err := NewSink(r.e, kc, stream, SinkIdleClose(0))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	copts := append(sink.ConsumerOptions(),
		kinesis.WithCheckpointStore(store),
		kinesis.WithCheckpointInterval(0),
		kinesis.WithIdleWait(20*time.Millisecond),
		kinesis.WithDeadLetter(func(_ context.Context, d kinesis.DeadLetter) error {
			mu.Lock()
			r.dead = append(r.dead, d)
			mu.Unlock()
			return nil
		}))
	cons, err := kinesis.NewConsumer(kc, stream, copts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cons.Run(ctx) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		st := r.e.Stats()
		n := st.Events + st.Skipped + st.BadRecords + st.Duplicates
		for _, c := range st.NoLayout {
			n += c
		}
		if n >= int64(want) {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("handled %d of %d records: %+v", n, want, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // let acknowledged checkpoints be saved
	shards, _ := kc.ListShards(context.Background(), &sdkkinesis.ListShardsInput{StreamName: aws.String(stream)})
	for _, s := range shards.Shards {
		if cp, ok, _ := store.Load(context.Background(), stream, aws.ToString(s.ShardId)); ok {
			r.beforeStop[aws.ToString(s.ShardId)] = cp.SequenceNumber
		}
	}
	cancel()
	cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer ccancel()
	if err := sink.Close(cctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	return r
}

// One shard: the consumer-driven export writes Airship's names and exactly
// the fixed set's files; the checkpoint waits for the upload of the files
// still open, and passes every record once they are closed.
func TestSinkExportsAOneShardStreamWithAirshipNames(t *testing.T) {
	kc, _ := testenv.Kinesalite(t)
	stream, _ := testenv.CreateStream(t, kc, 1)
	c, bucket, tg := s3Bucket(t)
	var data [][]byte
	var pks []string
	for _, f := range fixedSet {
		data = append(data, ev(f.id, f.typ, f.processed))
		pks = append(pks, "pk-"+f.id)
	}
	// A record that is not an event and one without a processed time.
	data = append(data, []byte("garbage"), []byte(`{"id":"np","type":"OPEN"}`))
	pks = append(pks, "pk-x", "pk-y")
	_, seqs := putInOrder(t, kc, stream, pks, data)

	store := kinesis.NewMemoryStore()
	r := runSink(t, kc, stream, tg, len(data), store, WithFormat(FormatCSV), WithGzip(true), WithErrorPrefix("errors"))

	got := bucketObjects(t, c, bucket, "APPKEY/", false)
	exp := map[string][]byte{}
	for k, v := range expectFiles(t, wantCSV, true) {
		exp[k[len("APPKEY/"):]] = v
	}
	if diff := cmp.Diff(keys(exp), keys(got)); diff != "" {
		t.Fatalf("keys (-want +got):\n%s", diff)
	}
	for k, b := range got {
		if string(gunzip(t, b)) != string(exp[k]) {
			t.Errorf("%s differs", k)
		}
	}
	// Before stopping, the file of 2026-03-09 00:00 (a6, record 12) was
	// still open: the checkpoint stopped at record 11.
	shard := "shardId-000000000000"
	if got := r.beforeStop[shard]; got != seqs[11] {
		t.Errorf("checkpoint before stop = record %d, want record 11", indexOf(seqs, got))
	}
	cp, _, _ := store.Load(context.Background(), stream, shard)
	if cp.SequenceNumber != seqs[len(seqs)-1] {
		t.Errorf("final checkpoint = %s, want the last record's %s", cp.SequenceNumber, seqs[len(seqs)-1])
	}
	if len(r.dead) != 2 || !errors.Is(r.dead[0].Err, ErrNotEvent) || !errors.Is(r.dead[1].Err, ErrNoProcessedTime) {
		t.Errorf("dead letters %v", r.dead)
	}
	errs := bucketObjects(t, c, bucket, "errors/", false)
	if len(errs) != 2 {
		t.Errorf("error objects %v", keys(errs))
	}
	if st := r.e.Stats(); st.NoLayout["MYSTERY"] != 2 || st.ByType[event.TypeTagChange] != 2 {
		t.Errorf("stats %+v", st)
	}
}

// Several shards: each shard writes its own files, named with its number,
// with the same content as the core writing that shard's records alone.
func TestSinkNamesFilesPerShardWhenSeveralAreOpen(t *testing.T) {
	kc, _ := testenv.Kinesalite(t)
	stream, _ := testenv.CreateStream(t, kc, 3)
	c, bucket, tg := s3Bucket(t)
	recs := recoverySet(300)
	pks := make([]string, len(recs))
	for i := range pks {
		pks[i] = fmt.Sprint("pk-", i%17)
	}
	shards, seqs := putInOrder(t, kc, stream, pks, recs)
	runSink(t, kc, stream, tg, len(recs), kinesis.NewMemoryStore(), WithFormat(FormatJSON))
	got := bucketObjects(t, c, bucket, "", false)

	// The reference: the core, one writer per shard, names with a suffix.
	dir := t.TempDir()
	dt, _ := NewDirTarget(dir)
	e := newExporter(t, dt, WithFormat(FormatJSON),
		WithShardSuffix(func(context.Context, string) (bool, error) { return true, nil }))
	ws := map[string]*ShardWriter{}
	a := newAcks()
	for i, d := range recs {
		w := ws[shards[i]]
		if w == nil {
			w = e.NewShardWriter(shards[i])
			ws[shards[i]] = w
		}
		if err := w.Write(context.Background(), Record{ShardID: shards[i], SequenceNumber: seqs[i], Data: d}, testAck{a, i}); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range ws {
		closeWriter(t, w)
	}
	want := dirObjects(t, dir, false)
	if len(ws) < 2 {
		t.Fatalf("records on %d shards", len(ws))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("objects (-core +sink):\n%s", diff)
	}
}

func indexOf(s []string, v string) int {
	for i := range s {
		if s[i] == v {
			return i
		}
	}
	return -1
}

// A shard that delivers nothing for the idle period has its files closed
// and uploaded, so the checkpoint reaches its last record without a stop:
// what lets a closed parent shard end, and a shard paused at the
// pending-ack bound go on.
func TestSinkIdleCloseUploadsAQuietShardsFiles(t *testing.T) {
	kc, _ := testenv.Kinesalite(t)
	stream, _ := testenv.CreateStream(t, kc, 1)
	_, seqs := putInOrder(t, kc, stream, []string{"a", "b", "c"}, [][]byte{
		ev("i1", "OPEN", "2026-03-08T16:00:00Z"), ev("i2", "OPEN", "2026-03-08T16:10:00Z"), ev("i3", "SEND", "2026-03-08T17:00:00Z")})
	dir := t.TempDir()
	store := kinesis.NewMemoryStore()
	runIdleSink(t, kc, stream, dir, store)
	deadline := time.Now().Add(20 * time.Second)
	for {
		cp, _, _ := store.Load(context.Background(), stream, "shardId-000000000000")
		if cp.SequenceNumber == seqs[2] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("checkpoint %s, want the last record's %s", cp.SequenceNumber, seqs[2])
		}
		time.Sleep(20 * time.Millisecond)
	}
	got := keys(dirObjects(t, dir, false))
	want := []string{"APPKEY/INTEG-1/S3_JSON/2026_03_08/2026_03_08_16_00_00.json", "APPKEY/INTEG-1/S3_JSON/2026_03_08/2026_03_08_17_00_00.json"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
}

// A split while exporting: the parent's files are closed (idle close) and
// uploaded so the parent can end, the children write their own files with
// their numbers, and every event is in exactly one file.
func TestSinkExportsThroughAShardSplit(t *testing.T) {
	kc, _ := testenv.Kinesalite(t)
	stream, _ := testenv.CreateStream(t, kc, 1)
	var before, after [][]byte
	var pks []string
	for i := range 60 {
		before = append(before, ev(fmt.Sprintf("p%02d", i), "OPEN", fmt.Sprintf("2026-03-08T16:%02d:00Z", i)))
		after = append(after, ev(fmt.Sprintf("c%02d", i), "OPEN", fmt.Sprintf("2026-03-08T17:%02d:00Z", i)))
		pks = append(pks, fmt.Sprint("pk-", i))
	}
	putInOrder(t, kc, stream, pks, before)
	dir := t.TempDir()
	e, stop := runIdleSink(t, kc, stream, dir, kinesis.NewMemoryStore())
	waitEvents := func(n int64) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for e.Stats().Events < n {
			if time.Now().After(deadline) {
				stop()
				t.Fatalf("%d events exported, want %d", e.Stats().Events, n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitEvents(60)
	mid := new(big.Int).Lsh(big.NewInt(1), 127)
	if _, err := kc.SplitShard(context.Background(), &sdkkinesis.SplitShardInput{StreamName: aws.String(stream),
		ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String(mid.String())}); err != nil {
		t.Fatal(err)
	}
	if _, err := testenv.WaitActive(context.Background(), kc, stream); err != nil {
		t.Fatal(err)
	}
	putInOrder(t, kc, stream, pks, after)
	waitEvents(120)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	objs := dirObjects(t, dir, false)
	seen := map[string]int{}
	for k, b := range objs {
		for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			var x struct{ ID string }
			if err := json.Unmarshal([]byte(line), &x); err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			seen[x.ID]++
			if strings.HasPrefix(x.ID, "c") && !strings.HasSuffix(k, "_1.json") && !strings.HasSuffix(k, "_2.json") {
				t.Errorf("child shard's event %s in %s, a name without the child's number", x.ID, k)
			}
		}
	}
	if len(seen) != 120 {
		t.Errorf("%d events in files %v, want 120", len(seen), keys(objs))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s in %d places", id, n)
		}
	}
	if _, ok := objs["APPKEY/INTEG-1/S3_JSON/2026_03_08/2026_03_08_16_00_00.json"]; !ok {
		t.Errorf("the parent's file, written while it was the only shard, lacks Airship's name: %v", keys(objs))
	}
}

// runIdleSink runs a consumer with a Sink (idle close after 300 ms)
// exporting stream to dir as JSON. stop (also called when the test ends)
// cancels it, closes the sink and returns the first error: Close's, or
// Run's other than cancellation.
func runIdleSink(t *testing.T, kc *sdkkinesis.Client, stream, dir string, store kinesis.CheckpointStore) (e *Exporter, stop func() error) {
	t.Helper()
	tg, _ := NewDirTarget(dir)
	e = newExporter(t, tg)
	sink, err := NewSink(e, kc, stream, SinkIdleClose(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	c, err := kinesis.NewConsumer(kc, stream, append(sink.ConsumerOptions(), kinesis.WithCheckpointStore(store),
		kinesis.WithCheckpointInterval(0), kinesis.WithIdleWait(20*time.Millisecond),
		kinesis.WithShardSyncInterval(200*time.Millisecond))...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- c.Run(ctx) }()
	var once sync.Once
	var stopErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			stopErr = sink.Close(context.Background())
			if err := <-runErr; stopErr == nil && err != nil && !errors.Is(err, context.Canceled) {
				stopErr = err
			}
		})
		return stopErr
	}
	t.Cleanup(func() { _ = stop() })
	return e, stop
}
