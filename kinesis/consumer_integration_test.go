package kinesis

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/google/go-cmp/cmp"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/event/eventgen"
	"github.com/rtdskit/rtds/internal/faultproxy"
	"github.com/rtdskit/rtds/internal/testenv"
)

// emulators are the Kinesis emulators every consumer conformance test runs
// against.
var emulators = []struct {
	name   string
	client func(t testing.TB) (*sdkkinesis.Client, string)
}{
	{"kinesis-local", testenv.KinesisLocal},
	{"kinesalite", testenv.Kinesalite},
}

func closeIdle(t testing.TB, client *sdkkinesis.Client) {
	t.Cleanup(func() {
		if c, ok := client.Options().HTTPClient.(interface{ CloseIdleConnections() }); ok {
			c.CloseIdleConnections()
		}
	})
}

func TestConsumerIntegrationShardOrder(t *testing.T) {
	for _, em := range emulators {
		t.Run(em.name, func(t *testing.T) {
			t.Parallel()
			client, _ := em.client(t)
			closeIdle(t, client)
			stream, _ := testenv.CreateStream(t, client, 3)
			es, want := eventEntries("e", 600, 29)
			// Half the records in KPL aggregates of 10.
			var put []entry
			for i := 0; i < len(es); i += 20 {
				put = append(put, es[i:i+10]...)
				var datas [][]byte
				for _, e := range es[i+10 : i+20] {
					datas = append(datas, e.data)
				}
				put = append(put, entry{pk: es[i+10].pk, data: kplAggregate([]string{es[i+10].pk}, datas)})
			}
			putEntries(t, client, stream, put)
			rec := newRecorder(len(es))
			store := NewMemoryStore()
			c, err := NewConsumer(client, stream, append(fastConsumer(), OnRecord(rec.record), WithCheckpointStore(store), WithGetRecordsLimit(50))...)
			if err != nil {
				t.Fatal(err)
			}
			stop := startConsumer(t, c)
			rec.wait(t, 30*time.Second)
			if err := stop(); err != nil {
				t.Fatalf("Run: %v", err)
			}
			got := rec.snapshot()
			checkShardOrder(t, got)
			if diff := cmp.Diff(want, ids(got)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			for _, s := range c.Stats().Shards {
				if s.Checkpoint != s.Processed || (s.Records > 0 && s.Checkpoint.SequenceNumber == "") {
					t.Errorf("shard %s: checkpoint %+v, processed %+v", s.ShardID, s.Checkpoint, s.Processed)
				}
			}
		})
	}
}

func TestConsumerIntegrationTypedDispatch(t *testing.T) {
	for _, em := range emulators {
		t.Run(em.name, func(t *testing.T) {
			t.Parallel()
			client, _ := em.client(t)
			closeIdle(t, client)
			stream, arn := testenv.CreateStream(t, client, 2)
			if em.name == "kinesis-local" {
				// kinesis-local supports addressing a stream by ARN.
				testTypedDispatch(t, client, stream, arn)
				return
			}
			testTypedDispatch(t, client, stream, stream)
		})
	}
}

// The resharding scenario on each emulator, with one consumer, and with
// two workers sharing the stream through leases in DynamoDB (dynalite).
func TestConsumerIntegrationReshard(t *testing.T) {
	for _, em := range emulators {
		for _, leased := range []bool{false, true} {
			name := em.name
			if leased {
				name += "/leases"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				client, _ := em.client(t)
				closeIdle(t, client)
				stream, _ := testenv.CreateStream(t, client, 2)
				var store LeaseStore
				if leased {
					store = newDynamoTestStore(t, dynaliteClient(t))
				}
				testReshardWhileConsuming(t, client, stream, func() error {
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					_, err := testenv.WaitActive(ctx, client, stream)
					return err
				}, store)
			})
		}
	}
}

func TestConsumerIntegrationPoisonRecords(t *testing.T) {
	client, _ := testenv.Kinesalite(t)
	closeIdle(t, client)
	stream, _ := testenv.CreateStream(t, client, 1)
	corrupt := kplAggregate([]string{"k"}, [][]byte{testEvent("x", event.TypeOpen, "")})
	corrupt[5] ^= 0x01
	seqs := putEntries(t, client, stream, []entry{
		{"k", testEvent("ok1", event.TypeOpen, "")},
		{"k", []byte(`{"id":`)},
		{"k", corrupt},
		{"k", testEvent("fails", event.TypeOpen, "")},
		{"k", testEvent("ok2", event.TypeOpen, "")},
	})
	rec := newRecorder(2)
	rec.fail = func(h handled) error {
		if h.ID == "fails" {
			return Permanent(errors.New("handler refuses"))
		}
		return nil
	}
	var dl deadLetters
	c, err := NewConsumer(client, stream, append(fastConsumer(), WithDeadLetter(dl.add),
		OnOpen(func(ctx context.Context, e *event.Open) error { return rec.add(handled{ID: e.ID}) }))...)
	if err != nil {
		t.Fatal(err)
	}
	stop := startConsumer(t, c)
	rec.wait(t, 10*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range dl.snapshot() {
		got = append(got, fmt.Sprintf("%s/%d %d bytes %v", d.SequenceNumber, d.SubSequenceNumber, len(d.Data), d.ShardID != ""))
	}
	want := []string{
		fmt.Sprintf("%s/0 6 bytes true", seqs[1]),
		fmt.Sprintf("%s/0 %d bytes true", seqs[2], len(corrupt)),
		fmt.Sprintf("%s/0 %d bytes true", seqs[3], len(testEvent("fails", event.TypeOpen, ""))),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dead letters (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"ok1", "ok2"}, idsInOrder(rec.snapshot())); diff != "" {
		t.Errorf("handled (-want +got):\n%s", diff)
	}
}

func TestConsumerIntegrationIteratorExpiry(t *testing.T) {
	client, ep := testenv.Kinesalite(t)
	closeIdle(t, client)
	stream, _ := testenv.CreateStream(t, client, 2)
	es, want := eventEntries("x", 500, 17)
	putEntries(t, client, stream, es)
	proxy, err := faultproxy.New(ep, faultproxy.WithConfig(faultproxy.Config{Ops: []string{"GetRecords"}, ExpireIterator: 0.3}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	pc := testenv.KinesisClient(proxy.URL())
	closeIdle(t, pc)
	var resets atomic.Int32
	rec := newRecorder(len(es))
	c, err := NewConsumer(pc, stream, append(fastConsumer(), OnRecord(rec.record), WithGetRecordsLimit(20),
		WithHooks(hookFunc{reset: func(m IteratorResetMetrics) { resets.Add(1) }}))...)
	if err != nil {
		t.Fatal(err)
	}
	stop := startConsumer(t, c)
	rec.wait(t, 30*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	got := rec.snapshot()
	checkShardOrder(t, got) // also rules out repeats
	if diff := cmp.Diff(want, ids(got)); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	// Every expiry is reported, except one that answers a call in flight
	// when Run stops: that answer is dropped unprocessed.
	if st := proxy.Stats(); st.Expired == 0 || int64(resets.Load()) < st.Expired-1 || int64(resets.Load()) > st.Expired {
		t.Errorf("proxy expired %d iterators, consumer reported %d resets", st.Expired, resets.Load())
	}
}

func TestConsumerIntegrationShutdownCheckpointsDynamoDB(t *testing.T) {
	client, _ := testenv.Kinesalite(t)
	closeIdle(t, client)
	stream, _ := testenv.CreateStream(t, client, 2)
	store := newDynamoTestStore(t, dynaliteClient(t))
	es, want := eventEntries("s", 300, 13)
	putEntries(t, client, stream, es)
	rec := newRecorder(len(es))
	// A long interval: only the final checkpoint is written while records
	// flow.
	c, err := NewConsumer(client, stream, append(fastConsumer(), WithCheckpointInterval(time.Hour), WithCheckpointStore(store), OnRecord(rec.record))...)
	if err != nil {
		t.Fatal(err)
	}
	stop := startConsumer(t, c)
	rec.wait(t, 20*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, ids(rec.snapshot())); diff != "" {
		t.Fatalf("ids (-want +got):\n%s", diff)
	}
	last := map[string]Checkpoint{}
	for _, h := range rec.snapshot() {
		last[h.Shard] = Checkpoint{SequenceNumber: h.Seq, SubSequenceNumber: h.Sub}
	}
	for shard, want := range last {
		cp, ok, err := store.Load(context.Background(), stream, shard)
		if err != nil || !ok || cp != want {
			t.Errorf("shard %s: stored %+v (%v, %v), want %+v", shard, cp, ok, err, want)
		}
	}
	// A new consumer resumes after them: nothing is handled again.
	rec2 := newRecorder(1)
	c2, err := NewConsumer(client, stream, append(fastConsumer(), WithCheckpointStore(store), OnRecord(rec2.record))...)
	if err != nil {
		t.Fatal(err)
	}
	stop2 := startConsumer(t, c2)
	putEntries(t, client, stream, []entry{{"k", testEvent("late", event.TypeOpen, "")}})
	rec2.wait(t, 10*time.Second)
	if err := stop2(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"late"}, idsInOrder(rec2.snapshot())); diff != "" {
		t.Errorf("second consumer (-want +got):\n%s", diff)
	}
}

// Environment of the consumer subprocess started by
// TestConsumerIntegrationSIGKILL.
const (
	envCrashChild  = "RTDS_TEST_CONSUMER_CHILD"
	envCrashStream = "RTDS_TEST_CONSUMER_STREAM"
	envCrashTable  = "RTDS_TEST_CONSUMER_TABLE"
	envCrashBlock  = "RTDS_TEST_CONSUMER_BLOCK_AFTER"
	envCrashLast   = "RTDS_TEST_CONSUMER_LAST_ID"
)

// TestHelperConsumerProcess is not a test: it is the consumer process that
// TestConsumerIntegrationSIGKILL starts (the test binary re-executed with
// envCrashChild set) and kills. It prints "HANDLED id" for every record
// once its handler ran, and checkpoints in DynamoDB. With envCrashBlock=N
// its handler blocks after the N-th record, and with envCrashLast=ID after
// the record with that id, waiting for the SIGKILL.
func TestHelperConsumerProcess(t *testing.T) {
	if os.Getenv(envCrashChild) != "1" {
		return
	}
	client, _ := testenv.Kinesalite(t)
	ddb, _ := testenv.DynamoDB(t)
	store, err := openDynamoTestStore(ddb, os.Getenv(envCrashTable))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var n int
	blockAfter := -1
	if v := os.Getenv(envCrashBlock); v != "" {
		if _, err := fmt.Sscan(v, &blockAfter); err != nil {
			t.Fatal(err)
		}
	}
	c, err := NewConsumer(client, os.Getenv(envCrashStream), WithCheckpointStore(store), WithCheckpointInterval(0),
		WithGetRecordsLimit(25), WithGetRecordsRate(20), WithIdleWait(10*time.Millisecond),
		OnRecord(func(ctx context.Context, r Record) error {
			ev, err := event.Decode(r.Data)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			if _, err := fmt.Fprintf(os.Stdout, "HANDLED %s\n", ev.Base().ID); err != nil {
				return err
			}
			if n++; n == blockAfter || ev.Base().ID == os.Getenv(envCrashLast) {
				select {} // handled, not checkpointed: wait for the SIGKILL
			}
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Run(context.Background()) // runs until killed
}

func TestConsumerIntegrationSIGKILL(t *testing.T) {
	client, _ := testenv.Kinesalite(t)
	closeIdle(t, client)
	// One shard: the child's only reader is blocked in its handler when it
	// is killed, so no request is in flight. The emulators crash when a
	// client vanishes in the middle of a request (kinesalite and dynalite
	// throw on an aborted request), and they are shared by every test.
	stream, _ := testenv.CreateStream(t, client, 1)
	store := newDynamoTestStore(t, dynaliteClient(t))
	es, want := eventEntries("k", 1500, 31)
	putEntries(t, client, stream, es)

	seen := map[string]int{}
	// run starts a consumer process and kills it once it has printed
	// stopAfter ids, or once every id was seen.
	run := func(stopAfter int) int {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperConsumerProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), envCrashChild+"=1", envCrashStream+"="+stream, envCrashTable+"="+store.Table(),
			fmt.Sprintf("%s=%d", envCrashBlock, stopAfter), envCrashLast+"="+want[len(want)-1]) // the last record put
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		timer := time.AfterFunc(60*time.Second, func() { _ = cmd.Process.Kill() })
		defer timer.Stop()
		n := 0
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			id, ok := strings.CutPrefix(sc.Text(), "HANDLED ")
			if !ok {
				continue
			}
			seen[id]++
			n++
			if n == stopAfter || len(seen) == len(want) {
				break
			}
		}
		_ = cmd.Process.Kill() // SIGKILL: no drain, no final checkpoint
		_, _ = cmd.Process.Wait()
		return n
	}
	first := run(len(want)/3 + 10) // not at a batch boundary
	second := run(-1)
	var missing []string
	dups := 0
	for _, id := range want {
		switch seen[id] {
		case 0:
			missing = append(missing, id)
		case 1:
		default:
			dups += seen[id] - 1
		}
	}
	if len(missing) > 0 {
		t.Fatalf("%d records lost after SIGKILL, e.g. %v", len(missing), missing[:min(5, len(missing))])
	}
	// The restart resumed from the checkpoints: at most the unsaved part
	// of the batch (25 records) is handled again, and some were.
	if dups == 0 || dups > 25 || second >= len(want) {
		t.Errorf("first run %d, second run %d records, %d duplicates: the restart did not resume from the checkpoints", first, second, dups)
	}
	t.Logf("first run %d, second run %d, duplicates %d", first, second, dups)
}

func TestConsumerIntegrationFaults(t *testing.T) {
	tests := []struct {
		name   string
		reason string
		fault  faultproxy.Config
	}{
		{"throttled", "GetRecords answers ProvisionedThroughputExceededException until the fault is lifted",
			faultproxy.Config{Ops: []string{"GetRecords"}, Throttle: 1}},
		{"internal errors", "every call answers HTTP 500 until the fault is lifted", faultproxy.Config{InternalError: 1}},
		{"dropped connections", "a third of the calls lose their connection before reaching the emulator",
			faultproxy.Config{DropBefore: 0.3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			client, ep := testenv.Kinesalite(t)
			closeIdle(t, client)
			stream, _ := testenv.CreateStream(t, client, 2)
			es, want := eventEntries("f", 300, 11)
			putEntries(t, client, stream, es)
			proxy, err := faultproxy.New(ep, faultproxy.WithConfig(tt.fault))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = proxy.Close() })
			pc := testenv.KinesisClient(proxy.URL())
			closeIdle(t, pc)
			throttled := make(chan struct{}, 1)
			rec := newRecorder(len(es))
			c, err := NewConsumer(pc, stream, append(fastConsumer(), OnRecord(rec.record), WithGetRecordsLimit(25),
				WithHooks(hookFunc{throttled: func(m ReadThrottleMetrics) {
					select {
					case throttled <- struct{}{}:
					default:
					}
				}}))...)
			if err != nil {
				t.Fatal(err)
			}
			stop := startConsumer(t, c)
			if tt.fault.Throttle == 1 {
				select {
				case <-throttled: // the consumer saw the throttling (after the SDK's own retries)
				case <-time.After(20 * time.Second):
					t.Fatal("no throttle reported")
				}
			}
			if tt.fault.InternalError == 1 {
				// Wait until the consumer retried past the SDK's own three
				// attempts a few times.
				deadline := time.Now().Add(20 * time.Second)
				for proxy.Stats().InternalErrors < 9 {
					if time.Now().After(deadline) {
						t.Fatalf("only %d calls failed", proxy.Stats().InternalErrors)
					}
					time.Sleep(5 * time.Millisecond)
				}
			}
			if tt.fault.Throttle == 1 || tt.fault.InternalError == 1 {
				if n := len(rec.snapshot()); n != 0 {
					t.Fatalf("%d records handled through a failing endpoint", n)
				}
				if err := proxy.SetConfig(faultproxy.Config{}); err != nil {
					t.Fatal(err)
				}
			}
			rec.wait(t, 30*time.Second)
			if err := stop(); err != nil {
				t.Fatalf("Run: %v", err)
			}
			got := rec.snapshot()
			checkShardOrder(t, got)
			if diff := cmp.Diff(want, ids(got)); diff != "" {
				t.Errorf("%s: ids (-want +got):\n%s", tt.reason, diff)
			}
		})
	}
}

// Generated events of every known type (and one unknown type), KPL
// aggregated, reach the handler of their own type on kinesalite.
func TestConsumerIntegrationGeneratedEvents(t *testing.T) {
	client, _ := testenv.Kinesalite(t)
	closeIdle(t, client)
	stream, _ := testenv.CreateStream(t, client, 4)
	types := append(eventgen.Types(), "NOT_YET_INVENTED")
	gen := eventgen.New(7, eventgen.WithTypes(types...))
	wantType := map[string]event.Type{}
	var es []entry
	for i := 0; i < 45*len(types); i += 9 {
		var datas [][]byte
		for range 9 {
			d := gen.Next()
			ev, err := event.Decode(d)
			if err != nil {
				t.Fatalf("generated event does not decode: %v\n%s", err, d)
			}
			wantType[ev.Base().ID] = ev.EventType()
			datas = append(datas, d)
		}
		es = append(es, entry{pk: fmt.Sprint(i), data: kplAggregate([]string{fmt.Sprint(i)}, datas)})
	}
	putEntries(t, client, stream, es)
	rec := newRecorder(len(wantType))
	gotTypes := map[event.Type]string{}
	c, err := NewConsumer(client, stream, append(fastConsumer(), registerAll(rec, gotTypes)...)...)
	if err != nil {
		t.Fatal(err)
	}
	stop := startConsumer(t, c)
	rec.wait(t, 30*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	gotType := map[string]event.Type{}
	for _, h := range rec.snapshot() {
		gotType[h.ID] = h.Type
	}
	if diff := cmp.Diff(wantType, gotType); diff != "" {
		t.Errorf("event types by id (-want +got):\n%s", diff)
	}
	for _, k := range event.KnownTypes() {
		if _, ok := gotTypes[k]; !ok {
			t.Errorf("no %s event reached its handler", k)
		}
	}
	if gotTypes["NOT_YET_INVENTED"] != "*event.Unknown" {
		t.Errorf("unknown type went to %q, want OnUnknown with *event.Unknown", gotTypes["NOT_YET_INVENTED"])
	}
}

// A checkpoint at a record the stream does not hold (as after retention
// trimmed it) restarts the shard at TRIM_HORIZON and reports it.
func TestConsumerIntegrationTrimmedCheckpoint(t *testing.T) {
	for _, em := range emulators {
		t.Run(em.name, func(t *testing.T) {
			t.Parallel()
			client, _ := em.client(t)
			closeIdle(t, client)
			stream, _ := testenv.CreateStream(t, client, 1)
			es, want := eventEntries("t", 20, 3)
			seqs := putEntries(t, client, stream, es)
			shards, err := client.ListShards(context.Background(), &sdkkinesis.ListShardsInput{StreamName: &stream})
			if err != nil {
				t.Fatal(err)
			}
			shard := *shards.Shards[0].ShardId
			// A sequence number below the first record's: no such record.
			gone := seqs[0][:len(seqs[0])-6] + "000000"
			store := NewMemoryStore()
			if err := store.Save(context.Background(), stream, shard, Checkpoint{SequenceNumber: gone}); err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var resets []string
			rec := newRecorder(len(es))
			c, err := NewConsumer(client, stream, append(fastConsumer(), WithCheckpointStore(store), OnRecord(rec.record),
				WithHooks(hookFunc{reset: func(m IteratorResetMetrics) {
					mu.Lock()
					resets = append(resets, string(m.Reason)+" "+m.From.SequenceNumber)
					mu.Unlock()
				}}))...)
			if err != nil {
				t.Fatal(err)
			}
			stop := startConsumer(t, c)
			rec.wait(t, 10*time.Second)
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, ids(rec.snapshot())); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			mu.Lock()
			defer mu.Unlock()
			if diff := cmp.Diff([]string{"trimmed " + gone}, resets); diff != "" {
				t.Errorf("resets (-want +got):\n%s", diff)
			}
		})
	}
}
