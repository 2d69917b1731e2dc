package kinesislambda

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/rtdskit/rtds/batch"
	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis"
	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// put writes datas, in order, with partition key pk.
func put(t *testing.T, c kinesis.PutRecordsAPI, stream, pk string, datas ...[]byte) {
	t.Helper()
	for len(datas) > 0 {
		n := min(len(datas), 100)
		var in sdkkinesis.PutRecordsInput
		in.StreamName = aws.String(stream)
		for _, d := range datas[:n] {
			in.Records = append(in.Records, sdktypes.PutRecordsRequestEntry{PartitionKey: aws.String(pk), Data: d})
		}
		out, err := c.PutRecords(context.Background(), &in)
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToInt32(out.FailedRecordCount) != 0 {
			t.Fatalf("%d records not put", aws.ToInt32(out.FailedRecordCount))
		}
		datas = datas[n:]
	}
}

// tally counts, safely for the concurrent shard readers, every event id
// handled and every event id given to the on-failure callback.
type tally struct {
	mu       sync.Mutex
	handled  map[string]int
	failed   map[string]bool
	failures []Failure
}

func newTally() *tally { return &tally{handled: map[string]int{}, failed: map[string]bool{}} }

func (c *tally) handle(id string) {
	c.mu.Lock()
	c.handled[id]++
	c.mu.Unlock()
}

// onFailure records the event ids inside the failed records.
func (c *tally) onFailure(t *testing.T) func(context.Context, Failure) error {
	return func(_ context.Context, f Failure) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.failures = append(c.failures, f)
		for _, r := range f.Records {
			users, err := batch.Deaggregate(batch.KinesisRecord{SequenceNumber: r.Kinesis.SequenceNumber, Data: r.Kinesis.Data})
			if err != nil {
				t.Errorf("on-failure record: %v", err)
			}
			for _, u := range users {
				ev, err := event.Decode(u.Data)
				if err != nil {
					t.Errorf("on-failure record: %v", err)
					continue
				}
				c.failed[ev.Base().ID] = true
			}
		}
		return nil
	}
}

// accounted reports how many of ids were handled or failed.
func (c *tally) accounted(ids []string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, id := range ids {
		if c.handled[id] > 0 || c.failed[id] {
			n++
		}
	}
	return n
}

// serveUntil runs Serve until done reports true, and returns Serve's error.
func serveUntil(t *testing.T, client kinesis.ConsumerAPI, stream string, handler any, done func() bool, opts ...ServeOption) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- Serve(ctx, client, stream, handler, opts...) }()
	deadline := time.After(60 * time.Second)
	for !done() {
		select {
		case err := <-errc:
			cancel()
			t.Fatalf("Serve returned early: %v", err)
		case <-deadline:
			cancel()
			<-errc
			t.Fatal("timed out")
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

// The drain test: a poison record that always fails, and a
// handler that fails intermittently (the first attempt of every 10th
// event); with bisect and a retry limit, Serve drains the stream (plain
// and KPL-aggregated records, two shards) with every event handled or
// given to the on-failure callback, and only the poison record given up
// on.
func TestServeDrainsAStreamWithAPoisonRecordAndAnIntermittentHandlerLosingNothing(t *testing.T) {
	client := kinesalite(t)
	stream := createStream(t, client, 2)
	var all []string
	flaky := map[string]bool{} // ids whose first attempt fails
	var mu sync.Mutex
	intermittent := 0
	c := newTally()
	h, err := New(kinesis.OnUninstall(func(_ context.Context, e *event.Uninstall) error {
		if e.ID == "poison" {
			return errors.New("poison")
		}
		mu.Lock()
		fail := flaky[e.ID]
		if fail {
			delete(flaky, e.ID)
			intermittent++
		}
		mu.Unlock()
		if fail {
			return errors.New("intermittent")
		}
		c.handle(e.ID)
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	h.Logger = quiet
	// newEvents returns n events with ids prefix0, prefix1, ...; the first
	// attempt of every 10th one fails.
	newEvents := func(prefix string, n int) [][]byte {
		var datas [][]byte
		for i := range n {
			id := fmt.Sprint(prefix, i)
			all = append(all, id)
			flaky[id] = i%10 == 3
			datas = append(datas, testEvent(id, event.TypeUninstall, "u-"+id))
		}
		return datas
	}
	for _, pk := range []string{"a", "b", "c", "d"} {
		datas := append(newEvents(pk, 60), aggregate(t, newEvents(pk+"-agg", 25)...))
		if pk == "b" {
			datas = slices.Insert(datas, 30, testEvent("poison", event.TypeUninstall, "u"))
			all = append(all, "poison")
		}
		put(t, client, stream, pk, datas...)
	}

	wantIntermittent := 0
	for _, f := range flaky {
		if f {
			wantIntermittent++
		}
	}
	serveUntil(t, client, stream, h.Handle, func() bool { return c.accounted(all) == len(all) },
		WithBatchSize(16), WithBisectBatchOnFunctionError(true), WithMaximumRetryAttempts(3),
		WithPollInterval(20*time.Millisecond), WithOnFailure(c.onFailure(t)), WithServeLogger(quiet))

	if got := c.accounted(all); got != len(all) {
		t.Fatalf("%d of %d events accounted for", got, len(all))
	}
	if intermittent != wantIntermittent {
		t.Errorf("%d intermittent failures, want %d", intermittent, wantIntermittent)
	}
	if len(c.failures) != 1 || !c.failed["poison"] {
		t.Fatalf("%d failures (%v), want only the poison record", len(c.failures), c.failed)
	}
	if f := c.failures[0]; f.BatchSize != 1 || f.Condition != RetryAttemptsExhausted || f.StartSequenceNumber != f.EndSequenceNumber ||
		f.ShardID == "" || f.RetryAttempts != 3 {
		t.Errorf("failure %s %s %s..%s, %d records after %d retries; want the poison record alone, isolated by bisection, after 3",
			f.Condition, f.ShardID, f.StartSequenceNumber, f.EndSequenceNumber, f.BatchSize, f.RetryAttempts)
	}
	t.Logf("%d events: %d handled, %d given up on, %d intermittent failures", len(all), len(c.handled), len(c.failed), intermittent)
}

// Without bisection, the records after a poison record in its batch are
// given up on with it once the retries are used up; nothing is lost.
func TestServeWithoutBisectGivesUpTheRestOfTheBatch(t *testing.T) {
	fake := kinesistest.New(kinesistest.WithStream("s", 1))
	c := newTally()
	ids, datas := uninstalls("e", 10)
	put(t, fake, "s", "pk", datas...)
	invocations := 0
	fn := func(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
		invocations++
		var resp events.KinesisEventResponse
		for _, r := range ev.Records {
			e, _ := event.Decode(r.Kinesis.Data)
			if e.Base().ID == "e4" {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: r.Kinesis.SequenceNumber})
				break
			}
			c.handle(e.Base().ID)
		}
		return resp, nil
	}
	store := kinesis.NewMemoryStore()
	serveUntil(t, fake, "s", fn, func() bool { return c.accounted(ids) == len(ids) },
		WithMaximumRetryAttempts(3), WithPollInterval(time.Millisecond), WithOnFailure(c.onFailure(t)),
		WithCheckpointStore(store), WithServeLogger(quiet))
	if len(c.failures) != 1 || c.failures[0].BatchSize != 6 || c.failures[0].RetryAttempts != 3 {
		t.Fatalf("%d failures (%v), want e4..e9 after 3 retries", len(c.failures), c.failed)
	}
	if invocations != 1+3 {
		t.Errorf("%d invocations, want 4 (1 + 3 retries)", invocations)
	}
	cp, ok, _ := store.Load(context.Background(), "s", "shardId-000000000000")
	if last := fake.Records("s")[9].SequenceNumber; !ok || cp.SequenceNumber != last {
		t.Errorf("checkpoint %v, want the last record %s", cp, last)
	}
}

func TestServeGivesUpRecordsOlderThanTheMaximumAge(t *testing.T) {
	fake := kinesistest.New(kinesistest.WithStream("s", 1), kinesistest.WithClock(func() time.Time { return time.Now().Add(-time.Hour) }))
	put(t, fake, "s", "pk", testEvent("old", event.TypeUninstall, "u"))
	c := newTally()
	called := false
	fn := func(context.Context, events.KinesisEvent) error { called = true; return nil }
	serveUntil(t, fake, "s", fn, func() bool { return c.accounted([]string{"old"}) == 1 },
		WithMaximumRecordAge(time.Minute), WithPollInterval(time.Millisecond), WithOnFailure(c.onFailure(t)), WithServeLogger(quiet))
	if called || len(c.failures) != 1 || c.failures[0].Condition != RecordAgeExceeded {
		t.Errorf("called %v, %d failures; want RecordAgeExceeded without an invocation", called, len(c.failures))
	}
}

func TestServeResumesAfterTheCheckpoint(t *testing.T) {
	fake := kinesistest.New(kinesistest.WithStream("s", 1))
	put(t, fake, "s", "pk", testEvent("e0", event.TypeUninstall, "u"), testEvent("e1", event.TypeUninstall, "u"))
	store := kinesis.NewMemoryStore()
	var mu sync.Mutex
	var seen []string
	fn := func(_ context.Context, ev events.KinesisEvent) error {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range ev.Records {
			e, _ := event.Decode(r.Kinesis.Data)
			seen = append(seen, e.Base().ID)
		}
		return nil
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(seen) }
	opts := []ServeOption{WithCheckpointStore(store), WithPollInterval(time.Millisecond), WithServeLogger(quiet)}
	serveUntil(t, fake, "s", fn, func() bool { return count() == 2 }, opts...)
	put(t, fake, "s", "pk", testEvent("e2", event.TypeUninstall, "u"))
	serveUntil(t, fake, "s", fn, func() bool { return count() == 3 }, opts...)
	if !slices.Equal(seen, []string{"e0", "e1", "e2"}) {
		t.Errorf("invoked with %v, want each record once", seen)
	}
}

func TestServeBatchesUpToBatchSizeWithinTheWindow(t *testing.T) {
	fake := kinesistest.New(kinesistest.WithStream("s", 1))
	_, datas := uninstalls("e", 7)
	put(t, fake, "s", "pk", datas...)
	var mu sync.Mutex
	var sizes []int
	fn := func(_ context.Context, ev events.KinesisEvent) error {
		mu.Lock()
		sizes = append(sizes, len(ev.Records))
		mu.Unlock()
		return nil
	}
	total := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, s := range sizes {
			n += s
		}
		return n
	}
	serveUntil(t, fake, "s", fn, func() bool { return total() == 7 },
		WithBatchSize(3), WithBatchingWindow(50*time.Millisecond), WithPollInterval(time.Millisecond), WithServeLogger(quiet))
	if !slices.Equal(sizes, []int{3, 3, 1}) {
		t.Errorf("batch sizes %v, want [3 3 1]", sizes)
	}
}

func TestPartialBatchResponseRules(t *testing.T) {
	recs := kinesisEvent("shardId-0", []byte("a"), []byte("b"), []byte("c")).Records
	tests := []struct {
		resp string
		want int // index of the first failed record; 3 = none
	}{
		{``, 3},
		{`null`, 3},
		{`{}`, 3},
		{`{"batchItemFailures":null}`, 3},
		{`{"batchItemFailures":[]}`, 3},
		{`{"batchItemFailures":[{"itemIdentifier":"` + seqNum(2) + `"},{"itemIdentifier":"` + seqNum(1) + `"}]}`, 1},
		{`{"batchItemFailures":[{"itemIdentifier":""}]}`, 0},
		{`{"batchItemFailures":[{"itemIdentifier":null}]}`, 0},
		{`{"batchItemFailures":[{"itemId":"` + seqNum(2) + `"}]}`, 0},
		{`{"batchItemFailures":[{"itemIdentifier":"123"}]}`, 0},
		{`{"batchItemFailures":"x"}`, 0},
	}
	for _, tt := range tests {
		got, err := firstFailure([]byte(tt.resp), recs)
		if got != tt.want || (err != nil) != (tt.want < 3) {
			t.Errorf("firstFailure(%s) = %d, %v; want %d", tt.resp, got, err, tt.want)
		}
	}
}

func TestServeRejectsInvalidOptions(t *testing.T) {
	fake := kinesistest.New(kinesistest.WithStream("s", 1))
	for _, o := range []ServeOption{WithBatchSize(0), WithBatchSize(10001), WithBatchingWindow(301 * time.Second),
		WithMaximumRetryAttempts(-2), WithMaximumRecordAge(0), WithOnFailure(nil), WithCheckpointStore(nil),
		WithStartingPosition("AT_TIMESTAMP"), WithFunctionTimeout(0), WithPollInterval(0), WithServeLogger(nil)} {
		if err := Serve(context.Background(), fake, "s", func() {}, o); err == nil {
			t.Errorf("option accepted, want an error")
		}
	}
	if err := Serve(context.Background(), fake, "s", nil); err == nil {
		t.Errorf("nil handler accepted, want an error")
	}
}

// A function error fails the whole batch, which is delivered again whole;
// with ReportBatchItemFailures off, a partial batch response is ignored.
func TestServeRetriesTheWholeBatchOnAFunctionError(t *testing.T) {
	for _, report := range []bool{true, false} {
		fake := kinesistest.New(kinesistest.WithStream("s", 1))
		_, datas := uninstalls("e", 3)
		put(t, fake, "s", "pk", datas...)
		var mu sync.Mutex
		var sizes []int
		fn := func(_ context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
			mu.Lock()
			defer mu.Unlock()
			sizes = append(sizes, len(ev.Records))
			switch len(sizes) {
			case 1:
				return events.KinesisEventResponse{}, errors.New("boom")
			case 2:
				return events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{{ItemIdentifier: ev.Records[1].Kinesis.SequenceNumber}}}, nil
			}
			return events.KinesisEventResponse{}, nil
		}
		want := []int{3, 3, 2}
		if !report {
			want = []int{3, 3}
		}
		serveUntil(t, fake, "s", fn, func() bool { mu.Lock(); defer mu.Unlock(); return len(sizes) == len(want) },
			WithReportBatchItemFailures(report), WithPollInterval(time.Millisecond), WithServeLogger(quiet))
		mu.Lock()
		if !slices.Equal(sizes, want) {
			t.Errorf("report %v: invocations of %v records, want %v", report, sizes, want)
		}
		mu.Unlock()
	}
}
