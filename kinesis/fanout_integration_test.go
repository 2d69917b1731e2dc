package kinesis

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/google/go-cmp/cmp"

	"github.com/rtdskit/rtds/internal/testenv"
	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

// Enhanced fan-out against kinesis-local, through testenv.FanOutShim (it
// adds the initial-response event kinesis-local omits, and tears
// subscriptions down on demand). Each test has a fresh stream of a few
// hundred records.

// consumerName is the test's stream consumer name: unique, since
// kinesis-local finds consumers by name across streams (deregistering one
// test's consumer ended another's subscriptions).
func consumerName(t *testing.T) string {
	return strings.ReplaceAll(t.Name(), "/", "-")
}

// withRenewal shortens the subscription renewal interval, so a test sees
// renewals without waiting minutes.
func withRenewal(d time.Duration) ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) { c.fanOutRenew = d })
}

// failureLogs returns a buffer for a consumer's logs, printed if the test
// fails.
func failureLogs(t *testing.T) *syncBuffer {
	logs := new(syncBuffer)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", logs.String())
		}
	})
	return logs
}

// checkOnceInOrder checks that rec saw the ids want, each once, every
// shard in order, and returns what it saw.
func checkOnceInOrder(t *testing.T, rec *recorder, want []string) []handled {
	t.Helper()
	got := rec.snapshot()
	checkShardOrder(t, got)
	if diff := cmp.Diff(want, ids(got)); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	return got
}

// putHalves puts es in two halves, pause apart, in the background.
func putHalves(t *testing.T, client PutRecordsAPI, stream string, es []entry, pause time.Duration) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		putEntries(t, client, stream, es[:len(es)/2])
		time.Sleep(pause)
		putEntries(t, client, stream, es[len(es)/2:])
	}()
	t.Cleanup(wg.Wait)
}

func consumerStatus(t *testing.T, client *sdkkinesis.Client, streamARN, name string) (sdktypes.ConsumerStatus, bool) {
	t.Helper()
	out, err := client.DescribeStreamConsumer(context.Background(), &sdkkinesis.DescribeStreamConsumerInput{StreamARN: aws.String(streamARN), ConsumerName: aws.String(name)})
	var nf *sdktypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		return "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	return out.ConsumerDescription.ConsumerStatus, true
}

// Every record once, in shard order, across subscription renewals; the
// consumer registered on Run and deregistered when it returned.
func TestFanOutReadsEveryRecordOnceAcrossRenewals(t *testing.T) {
	t.Parallel()
	client, shim := testenv.KinesisLocalFanOut(t)
	stream, streamARN := testenv.CreateStream(t, client, 2)
	es, want := eventEntries("f", 400, 17)
	rec := newRecorder(len(es))
	putHalves(t, client, stream, es, 4*time.Second)
	c := consume(t, client, stream, rec, 60*time.Second, OnRecord(rec.record),
		WithEnhancedFanOut(consumerName(t)), WithFanOutDeregister(), withRenewal(2*time.Second))
	checkOnceInOrder(t, rec, want)
	if n := shim.Subscriptions(); n <= 2 {
		t.Errorf("%d subscriptions for 2 shards: no renewal", n)
	}
	for _, s := range c.Stats().Shards {
		if s.Checkpoint != s.Processed || s.Checkpoint.SequenceNumber == "" {
			t.Errorf("shard %s: checkpoint %v, processed %v", s.ShardID, s.Checkpoint, s.Processed)
		}
	}
	if st, ok := consumerStatus(t, client, streamARN, consumerName(t)); ok && st != sdktypes.ConsumerStatusDeleting {
		t.Errorf("stream consumer is %s after Run with WithFanOutDeregister", st)
	}
}

// A subscription torn down in the middle of its event stream (a dropped
// connection: the error arrives through the stream's Err) is renewed from
// the last continuation sequence number: nothing lost, nothing repeated.
func TestFanOutResumesAfterSubscriptionTornDown(t *testing.T) {
	t.Parallel()
	client, shim := testenv.KinesisLocalFanOut(t)
	stream, _ := testenv.CreateStream(t, client, 1)
	es, want := eventEntries("t", 600, 13)
	putEntries(t, client, stream, es[:300])
	shim.CutNext(20000) // in the middle of the first subscription's records
	rec := newRecorder(len(es))
	logs := failureLogs(t)
	putHalves(t, client, stream, es[300:], 500*time.Millisecond)
	consume(t, client, stream, rec, 60*time.Second, OnRecord(rec.record), WithLogger(newTestLogger(logs)),
		WithEnhancedFanOut(consumerName(t)), WithFanOutDeregister())
	checkOnceInOrder(t, rec, want)
	if !logs.contains(testenv.ErrCut.Error()) {
		t.Errorf("the torn-down subscription was not reported; logs:\n%s", logs.String())
	}
	if n := shim.Subscriptions(); n < 2 {
		t.Errorf("%d subscriptions: not renewed after the fault", n)
	}
}

// Two applications with their own stream consumers each receive every
// record.
func TestFanOutTwoConsumersEachReceiveEverything(t *testing.T) {
	t.Parallel()
	client, _ := testenv.KinesisLocalFanOut(t)
	stream, _ := testenv.CreateStream(t, client, 2)
	es, want := eventEntries("two", 300, 11)
	recs := []*recorder{newRecorder(len(es)), newRecorder(len(es))}
	var stops []func() error
	for i, name := range []string{consumerName(t) + "-a", consumerName(t) + "-b"} {
		c, err := NewConsumer(client, stream, append(fastConsumer(), OnRecord(recs[i].record), WithEnhancedFanOut(name), WithFanOutDeregister())...)
		if err != nil {
			t.Fatal(err)
		}
		stops = append(stops, startConsumer(t, c))
	}
	putHalves(t, client, stream, es, 300*time.Millisecond)
	for i, rec := range recs {
		rec.wait(t, 60*time.Second)
		if err := stops[i](); err != nil {
			t.Fatalf("Run: %v", err)
		}
		checkOnceInOrder(t, rec, want)
	}
}

// A split, then a merge, while subscriptions run: each closed shard's last
// event names its children, which start after their parents ended.
func TestFanOutReshardDuringSubscription(t *testing.T) {
	t.Parallel()
	client, _ := testenv.KinesisLocalFanOut(t)
	stream, _ := testenv.CreateStream(t, client, 2)
	testReshardWhileConsuming(t, client, stream, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := testenv.WaitActive(ctx, client, stream)
		return err
	}, nil, WithEnhancedFanOut(consumerName(t)), WithFanOutDeregister())
}

// Two workers share a stream through leases while it is split and merged,
// both subscribing as the same stream consumer: a shard that changes hands
// is subscribed by its new owner (ResourceInUse, while the old
// subscription lingers, is retried), children after their parents.
func TestFanOutReshardWithLeases(t *testing.T) {
	t.Parallel()
	client, _ := testenv.KinesisLocalFanOut(t)
	stream, _ := testenv.CreateStream(t, client, 2)
	testReshardWhileConsuming(t, client, stream, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := testenv.WaitActive(ctx, client, stream)
		return err
	}, NewMemoryStore(), WithEnhancedFanOut(consumerName(t)), WithLogger(newTestLogger(failureLogs(t))),
		// A lease that moves costs a new subscription, which the service
		// refuses (ResourceInUse) while the old one lingers: leases of
		// 2 s keep shards from moving under a loaded machine.
		workerLeaseDuration(2*time.Second))
}

// An idle shard's checkpoint follows the continuation sequence number of
// the empty events, so the next reader resumes exactly there.
func TestFanOutIdleShardCheckpointsContinuation(t *testing.T) {
	t.Parallel()
	client, _ := testenv.KinesisLocalFanOut(t)
	stream, _ := testenv.CreateStream(t, client, 1)
	putEntries(t, client, stream, []entry{{pk: "k", data: testEvent("old", "OPEN", "")}})
	store := NewMemoryStore()
	c, err := NewConsumer(client, stream, append(fastConsumer(), OnRecord(func(context.Context, Record) error { return nil }),
		WithStartPosition(StartLatest), WithCheckpointStore(store), WithEnhancedFanOut(consumerName(t)), WithFanOutDeregister())...)
	if err != nil {
		t.Fatal(err)
	}
	stop := startConsumer(t, c)
	deadline := time.Now().Add(30 * time.Second)
	var cp Checkpoint
	for {
		shards := c.Stats().Shards
		if len(shards) == 1 && shards[0].Checkpoint.SequenceNumber != "" {
			cp = shards[0].Checkpoint
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no continuation checkpoint on the idle shard: %+v", shards)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// The record put before the start is not read again; one put after the
	// first reader stopped is.
	putEntries(t, client, stream, []entry{{pk: "k", data: testEvent("new", "OPEN", "")}})
	rec := newRecorder(1)
	consume(t, client, stream, rec, 30*time.Second, OnRecord(rec.record), WithStartPosition(StartLatest), WithCheckpointStore(store),
		WithEnhancedFanOut(consumerName(t)), WithFanOutDeregister())
	time.Sleep(200 * time.Millisecond)
	if got := ids(rec.snapshot()); !slices.Equal(got, []string{"new"}) {
		t.Errorf("resumed from %v and read %v, want [new]", cp, got)
	}
}

// Fan-out under faults (docs/RELIABILITY.md): every second subscription
// torn down after a few KB of its event stream, and subscriptions renewed
// every 2 s, while 1,000 events arrive on 2 shards in batches: nothing
// lost, nothing repeated, every shard in order.
func TestFanOutUnderSubscriptionFaults(t *testing.T) {
	t.Parallel()
	client, shim := testenv.KinesisLocalFanOut(t)
	stream, _ := testenv.CreateStream(t, client, 2)
	es, want := eventEntries("uf", 1000, 31)
	rec := newRecorder(len(es))
	shim.CutEvery(2, 6000)
	logs := failureLogs(t)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < len(es); i += 100 {
			putEntries(t, client, stream, es[i:min(i+100, len(es))])
			time.Sleep(200 * time.Millisecond)
		}
	}()
	consume(t, client, stream, rec, 30*time.Second, OnRecord(rec.record), withRenewal(2*time.Second),
		WithEnhancedFanOut(consumerName(t)), WithFanOutDeregister(), WithLogger(newTestLogger(logs)))
	wg.Wait()
	got := checkOnceInOrder(t, rec, want)
	if shim.Cuts() == 0 {
		t.Error("no subscription was torn down")
	}
	t.Logf("%d events handled once each; %d subscriptions, %d torn down", len(got), shim.Subscriptions(), shim.Cuts())
}

// registerFaults wraps a client: DescribeStreamConsumer is throttled once,
// then claims the consumer does not exist once (though another worker
// registered it), so that RegisterStreamConsumer answers ResourceInUse.
type registerFaults struct {
	*sdkkinesis.Client
	mu                   sync.Mutex
	describes, registers int
}

func (f *registerFaults) DescribeStreamConsumer(ctx context.Context, in *sdkkinesis.DescribeStreamConsumerInput, opts ...func(*sdkkinesis.Options)) (*sdkkinesis.DescribeStreamConsumerOutput, error) {
	f.mu.Lock()
	f.describes++
	n := f.describes
	f.mu.Unlock()
	switch n {
	case 1:
		return nil, &sdktypes.LimitExceededException{Message: aws.String("test: rate exceeded")}
	case 2:
		return nil, &sdktypes.ResourceNotFoundException{Message: aws.String("test: not found")}
	}
	return f.Client.DescribeStreamConsumer(ctx, in, opts...)
}

func (f *registerFaults) RegisterStreamConsumer(ctx context.Context, in *sdkkinesis.RegisterStreamConsumerInput, opts ...func(*sdkkinesis.Options)) (*sdkkinesis.RegisterStreamConsumerOutput, error) {
	f.mu.Lock()
	f.registers++
	f.mu.Unlock()
	return f.Client.RegisterStreamConsumer(ctx, in, opts...)
}

// A stream consumer another worker registered is reused: a throttled
// describe is retried, and ResourceInUse on register means it exists.
func TestFanOutReusesRegisteredConsumer(t *testing.T) {
	t.Parallel()
	client, _ := testenv.KinesisLocalFanOut(t)
	stream, streamARN := testenv.CreateStream(t, client, 1)
	name := consumerName(t)
	if _, err := client.RegisterStreamConsumer(context.Background(), &sdkkinesis.RegisterStreamConsumerInput{StreamARN: aws.String(streamARN), ConsumerName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	es, want := eventEntries("r", 50, 5)
	putEntries(t, client, stream, es)
	f := &registerFaults{Client: client}
	var throttled sync.Map
	rec := newRecorder(len(es))
	consume(t, f, stream, rec, 30*time.Second, OnRecord(rec.record), WithEnhancedFanOut(name), WithFanOutDeregister(),
		WithHooks(hookFunc{throttled: func(m ReadThrottleMetrics) { throttled.Store(m.Op, true) }}))
	checkOnceInOrder(t, rec, want)
	if f.registers != 1 {
		t.Errorf("RegisterStreamConsumer called %d times, want once (answered ResourceInUse)", f.registers)
	}
	if _, ok := throttled.Load(OpRegisterStreamConsumer); !ok {
		t.Error("the throttled DescribeStreamConsumer was not reported to the hooks")
	}
}

func TestFanOutOptionsAreValidated(t *testing.T) {
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	handler := OnRecord(func(context.Context, Record) error { return nil })
	for _, tc := range []struct {
		name   string
		client ConsumerAPI
		opts   []ConsumerOption
	}{
		{"client without SubscribeToShard", f, []ConsumerOption{WithEnhancedFanOut("app")}},
		{"empty name", &sdkkinesis.Client{}, []ConsumerOption{WithEnhancedFanOut("")}},
		{"name with a space", &sdkkinesis.Client{}, []ConsumerOption{WithEnhancedFanOut("my app")}},
		{"name too long", &sdkkinesis.Client{}, []ConsumerOption{WithEnhancedFanOut(strings.Repeat("a", 129))}},
		{"deregister without fan-out", &sdkkinesis.Client{}, []ConsumerOption{WithFanOutDeregister()}},
	} {
		if _, err := NewConsumer(tc.client, "s", append(tc.opts, handler)...); err == nil {
			t.Errorf("%s: NewConsumer succeeded", tc.name)
		}
	}
	if _, err := NewConsumer(&sdkkinesis.Client{}, "s", handler, WithEnhancedFanOut("my-app.v2_0")); err != nil {
		t.Errorf("valid name refused: %v", err)
	}
}
