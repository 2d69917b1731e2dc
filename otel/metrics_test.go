package rtdsotel_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis"
	"github.com/rtdskit/rtds/kinesis/kinesistest"
	rtdsotel "github.com/rtdskit/rtds/otel"
)

// readBack collects every metric from reader, by name.
func readBack(t *testing.T, reader *sdkmetric.ManualReader) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != rtdsotel.ScopeName {
			t.Errorf("scope %q, want %q", sm.Scope.Name, rtdsotel.ScopeName)
		}
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// match reports whether set has every attribute in want ("key=value").
func match(set attribute.Set, want []string) bool {
	for _, w := range want {
		found := false
		for _, kv := range set.ToSlice() {
			if string(kv.Key)+"="+kv.Value.Emit() == w {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// sum adds the points of counter or histogram (its count) or gauge name
// whose attributes include want; points is how many matched.
func sum(ms map[string]metricdata.Metrics, name string, want ...string) (total int64, points int) {
	switch d := ms[name].Data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			if match(p.Attributes, want) {
				total += p.Value
				points++
			}
		}
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			if match(p.Attributes, want) {
				total += p.Value
				points++
			}
		}
	case metricdata.Histogram[int64]:
		for _, p := range d.DataPoints {
			if match(p.Attributes, want) {
				total += int64(p.Count)
				points++
			}
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			if match(p.Attributes, want) {
				total += int64(p.Count)
				points++
			}
		}
	}
	return total, points
}

func newMetrics(t testing.TB, stream string) (*rtdsotel.Metrics, *sdkmetric.ManualReader) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	m, err := rtdsotel.New(stream, rtdsotel.WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m, reader
}

func openEvent(id, body string) []byte {
	return []byte(`{"id":"` + id + `","type":"OPEN","occurred":"2024-05-01T12:00:00Z","processed":"2024-05-01T12:00:01Z",` +
		`"device":{"channel":"c1","device_type":"IOS"},"body":` + body + `}`)
}

func TestProducerMetricsMatchWhatTheProducerDid(t *testing.T) {
	const n = 300
	f := kinesistest.New(kinesistest.WithStream("s", 2))
	var entries, calls atomic.Int64
	f.SetFault(func(op string, entry int) error {
		if op != kinesistest.OpPutRecords {
			return nil
		}
		if entry == kinesistest.CallEntry {
			// The second call fails for good: its records are failed.
			if calls.Add(1) == 2 {
				return &sdktypes.KMSDisabledException{Message: new("disabled")}
			}
			return nil
		}
		// The first 7 entries are throttled, then retried.
		if entries.Add(1) <= 7 {
			return &sdktypes.ProvisionedThroughputExceededException{Message: new("slow down")}
		}
		return nil
	})
	m, reader := newMetrics(t, "s")
	p, err := kinesis.NewProducer(f, "s", kinesis.WithHooks(m), kinesis.WithAggregation(true),
		kinesis.WithLinger(2*time.Millisecond),
		kinesis.WithPutRetry(kinesis.Retry{MaxAttempts: 5, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond, Multiplier: 1}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range n {
		if err := p.Put(ctx, fmt.Sprintf("pk-%d", i), openEvent(fmt.Sprint(i), "{}")); err != nil {
			t.Fatal(err)
		}
		if i == 20 {
			_ = p.Flush(ctx) // the first calls go out small, so the second is not the last
		}
	}
	_ = p.Flush(ctx)
	if err := p.Close(ctx); err != nil {
		t.Logf("Close: %v", err)
	}
	st := p.Stats()
	if st.Failed == 0 || st.Retried < 7 || st.Delivered+st.Failed != n {
		t.Fatalf("the run did not go as planned: %+v", st)
	}
	ms := readBack(t, reader)
	base := []string{"messaging.system=aws_kinesis", "messaging.destination.name=s"}
	check := func(what string, got, want int64) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %d, want %d", what, got, want)
		}
	}
	delivered, _ := sum(ms, rtdsotel.MetricSentMessages, append(base, "rtds.result=delivered")...)
	check("sent messages delivered", delivered, st.Delivered)
	failed, _ := sum(ms, rtdsotel.MetricSentMessages, "rtds.result=failed", "error.type=KMSDisabledException")
	check("sent messages failed (KMSDisabledException)", failed, st.Failed)
	retries, _ := sum(ms, rtdsotel.MetricPutRetries)
	check("retries", retries, st.Retried)
	byShard0, _ := sum(ms, rtdsotel.MetricPutRetries, "messaging.destination.partition.id=shardId-000000000000")
	byShard1, _ := sum(ms, rtdsotel.MetricPutRetries, "messaging.destination.partition.id=shardId-000000000001")
	check("retries by shard", byShard0+byShard1, st.Retried)
	calls2, _ := sum(ms, rtdsotel.MetricOperationDuration, "messaging.operation.name=PutRecords")
	check("PutRecords durations", calls2, st.Requests)
	callErr, _ := sum(ms, rtdsotel.MetricOperationDuration, "messaging.operation.name=PutRecords", "error.type=KMSDisabledException")
	check("failed PutRecords calls", callErr, 1)
	batches, _ := sum(ms, rtdsotel.MetricBatchRecords)
	check("batch.records histogram count", batches, st.Requests)
	if thr, _ := sum(ms, rtdsotel.MetricPutThrottles); thr == 0 {
		t.Error("no put throttles recorded")
	}
	if agg, _ := sum(ms, rtdsotel.MetricAggregateRecords); agg == 0 {
		t.Error("no aggregate sizes recorded")
	}
	if _, pts := sum(ms, rtdsotel.MetricBufferUsage, base...); pts != 1 {
		t.Errorf("buffer usage gauge has %d points, want 1", pts)
	}
	if got, _ := sum(ms, rtdsotel.MetricBufferRecords); got != 0 {
		t.Errorf("buffer records after Close = %d, want 0", got)
	}
}

func TestConsumerMetricsMatchWhatTheConsumerDid(t *testing.T) {
	f := kinesistest.New(kinesistest.WithStream("s", 2))
	var data [][]byte
	add := func(k int, d []byte) {
		for range k {
			data = append(data, d)
		}
	}
	for i := range 20 {
		data = append(data, openEvent(fmt.Sprintf("o%d", i), "{}"))
	}
	add(3, openEvent("drift", `{"session_id":7,"new_member":"x"}`)) // 2 drift entries each
	add(2, []byte("not json"))
	add(1, []byte(`{"type":"OPEN","body":{}}`))
	add(1, openEvent("bad", "{}"))
	add(2, []byte(`{"id":"h","type":"HOLOGRAM","body":{}}`))
	var reqs []sdktypes.PutRecordsRequestEntry
	for i, d := range data {
		reqs = append(reqs, sdktypes.PutRecordsRequestEntry{Data: d, PartitionKey: new(fmt.Sprint(i))})
	}
	if _, err := f.PutRecords(context.Background(), &sdkkinesis.PutRecordsInput{StreamName: new("s"), Records: reqs}); err != nil {
		t.Fatal(err)
	}
	var throttled atomic.Int64
	f.SetFault(func(op string, entry int) error {
		if op == kinesistest.OpGetRecords && throttled.Add(1) <= 2 {
			return &sdktypes.ProvisionedThroughputExceededException{Message: new("slow down")}
		}
		return nil
	})
	m, reader := newMetrics(t, "s")
	c, err := kinesis.NewConsumer(f, "s", kinesis.WithHooks(m),
		kinesis.WithIdleWait(5*time.Millisecond), kinesis.WithShardSyncInterval(50*time.Millisecond),
		kinesis.WithCheckpointInterval(0),
		kinesis.WithHandlerRetry(kinesis.Retry{MaxAttempts: 2, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond, Multiplier: 1}),
		kinesis.OnOpen(func(_ context.Context, e *event.Open) error {
			if e.ID == "bad" {
				return kinesis.Permanent(fmt.Errorf("bad event"))
			}
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	m.ObserveConsumer(c)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := c.Stats()
		if st.Handled+st.DeadLettered+st.Skipped == int64(len(data)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumer did not finish: %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The lag gauge is read while the shards are still being read.
	ms := readBack(t, reader)
	if _, pts := sum(ms, rtdsotel.MetricMillisBehind, "messaging.destination.name=s"); pts != 2 {
		t.Errorf("millis_behind_latest has %d points, want one per shard (2)", pts)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ms = readBack(t, reader)
	check := func(what string, got, want int64) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %d, want %d", what, got, want)
		}
	}
	consumed, _ := sum(ms, rtdsotel.MetricConsumedMessages, "rtds.event.type=OPEN")
	check("consumed OPEN", consumed, 20+3+1)
	if _, pts := sum(ms, rtdsotel.MetricConsumedMessages, "messaging.destination.partition.id=shardId-000000000001"); pts == 0 {
		t.Error("consumed messages have no points for shardId-000000000001")
	}
	for reason, want := range map[string]int64{"undecodable": 2, "missing_id": 1, "permanent": 1} {
		got, _ := sum(ms, rtdsotel.MetricDeadLetters, "rtds.dead_letter.reason="+reason)
		check("dead letters "+reason, got, want)
	}
	errs, _ := sum(ms, rtdsotel.MetricHandlerErrors, "rtds.event.type=OPEN")
	check("handler errors", errs, 1)
	procErr, _ := sum(ms, rtdsotel.MetricProcessDuration, "rtds.event.type=OPEN", "error.type=handler_error")
	check("process durations with error.type", procErr, 1)
	for kind, want := range map[string]int64{"type_mismatch": 3, "unknown_field": 3} {
		got, _ := sum(ms, rtdsotel.MetricSchemaDriftFields, "rtds.event.type=OPEN", "rtds.drift.kind="+kind)
		check("drift "+kind, got, want)
	}
	unk, _ := sum(ms, rtdsotel.MetricSchemaDriftFields, "rtds.event.type=HOLOGRAM", "rtds.drift.kind=unknown_type")
	check("drift unknown_type", unk, 2)
	fetched, _ := sum(ms, rtdsotel.MetricFetchedRecords)
	check("fetched records", fetched, int64(len(data)))
	thr, _ := sum(ms, rtdsotel.MetricReadThrottles, "rtds.operation=GetRecords")
	check("GetRecords throttles", thr, 2)
	if cps, _ := sum(ms, rtdsotel.MetricCheckpoints); cps == 0 {
		t.Error("no checkpoints recorded")
	}
	if bad, _ := sum(ms, rtdsotel.MetricCheckpoints, "error.type=_OTHER"); bad != 0 {
		t.Errorf("%d failed checkpoints", bad)
	}
}

func TestHooksAllocateNothingPerRecord(t *testing.T) {
	m, _ := newMetrics(t, "s")
	hd := kinesis.HandlerDoneMetrics{ShardID: "shardId-000000000000", Type: event.TypeOpen, Attempt: 1, Latency: time.Millisecond}
	pb := kinesis.PutBatchMetrics{Records: 500, KinesisRecords: 5, Bytes: 100000, Delivered: 500, Latency: time.Millisecond,
		Shards: []kinesis.ShardBatchMetrics{{ShardID: "shardId-000000000000", Records: 500, KinesisRecords: 5, Bytes: 100000}}}
	rf := kinesis.RecordsFetchedMetrics{ShardID: "shardId-000000000000", Records: 10, Bytes: 1000}
	m.OnHandlerDone(hd) // first sightings compute the attribute sets
	m.OnPutBatch(pb)
	m.OnRecordsFetched(rf)
	for name, fn := range map[string]func(){
		"OnHandlerDone":    func() { m.OnHandlerDone(hd) },
		"OnPutBatch":       func() { m.OnPutBatch(pb) },
		"OnRecordsFetched": func() { m.OnRecordsFetched(rf) },
		"OnPutBuffer":      func() { m.OnPutBuffer(kinesis.BufferMetrics{Records: 1, Bytes: 2}) },
	} {
		if n := testing.AllocsPerRun(200, fn); n != 0 {
			t.Errorf("%s allocates %v times per call, want 0", name, n)
		}
	}
}

func TestNewRejectsAnEmptyStream(t *testing.T) {
	if _, err := rtdsotel.New(""); err == nil {
		t.Error("New(\"\") returned no error")
	}
}

func TestReadmeTableListsEveryInstrument(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m, reader := newMetrics(t, "s")
	err1 := errors.New("x")
	m.OnPutBatch(kinesis.PutBatchMetrics{Records: 1, KinesisRecords: 1, Delivered: 1, Shards: []kinesis.ShardBatchMetrics{{Records: 1, KinesisRecords: 1}}})
	m.OnPutFailed(kinesis.PutFailureMetrics{Records: 1, Err: err1})
	m.OnPutRetried(kinesis.PutRetryMetrics{Records: 1})
	m.OnPutThrottled(kinesis.PutThrottleMetrics{})
	m.OnPutBuffer(kinesis.BufferMetrics{})
	m.OnRecordsFetched(kinesis.RecordsFetchedMetrics{Records: 1})
	m.OnHandlerDone(kinesis.HandlerDoneMetrics{Attempt: 1, Err: err1})
	m.OnDeadLettered(kinesis.DeadLetter{Reason: kinesis.ReasonPermanent})
	m.OnCheckpoint(kinesis.CheckpointMetrics{})
	m.OnReadThrottled(kinesis.ReadThrottleMetrics{Op: kinesis.OpGetRecords})
	m.OnIteratorReset(kinesis.IteratorResetMetrics{Reason: kinesis.ResetExpired})
	m.OnLease(kinesis.LeaseMetrics{Action: kinesis.LeaseTaken})
	m.OnSchemaDrift(kinesis.SchemaDriftMetrics{Drift: []event.Drift{{Kind: event.DriftUnknownField}}})
	m.ObserveConsumer(fixedStats{kinesis.ConsumerStats{Worker: "w", Shards: []kinesis.ShardStats{{ShardID: "a", State: kinesis.ShardReading, Owner: "w"}}}})
	ms := readBack(t, reader)
	documented := map[string]bool{}
	for _, line := range strings.Split(string(readme), "\n") {
		if f := strings.Split(line, "`"); strings.HasPrefix(line, "| `") && len(f) > 1 {
			documented[f[1]] = true
		}
	}
	for name, im := range ms {
		if !documented[name] {
			t.Errorf("instrument %s (%s) is missing from README.md's table", name, im.Unit)
		}
		delete(documented, name)
	}
	for name := range documented {
		t.Errorf("README.md documents %s, which Metrics does not record", name)
	}
}

type fixedStats struct{ s kinesis.ConsumerStats }

func (f fixedStats) Stats() kinesis.ConsumerStats { return f.s }
