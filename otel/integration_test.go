package rtdsotel_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/internal/faultproxy"
	"github.com/rtdskit/rtds/internal/testenv"
	"github.com/rtdskit/rtds/kinesis"
	rtdsotel "github.com/rtdskit/rtds/otel"
)

// proxied returns a client for kinesalite through a fault proxy with cfg,
// without SDK retries, so every injected fault reaches the library.
func proxied(t *testing.T, endpoint string, cfg faultproxy.Config, seed int64) (*sdkkinesis.Client, *faultproxy.Proxy) {
	t.Helper()
	p, err := faultproxy.New(endpoint, faultproxy.WithConfig(cfg), faultproxy.WithSeed(seed))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return testenv.KinesisClient(p.URL(), func(o *sdkkinesis.Options) { o.RetryMaxAttempts = 1 }), p
}

// TestMetricsMatchARunAgainstKinesalite runs a producer and a consumer
// against kinesalite behind fault proxies (throttled calls, failed entries,
// throttled GetRecords) with poison and drifting records in the stream,
// then checks the instruments against what the proxies injected and what
// was put.
func TestMetricsMatchARunAgainstKinesalite(t *testing.T) {
	raw, ep := testenv.Kinesalite(t)
	stream, _ := testenv.CreateStream(t, raw, 2)
	ctx := context.Background()

	// Producer side: 150 good events through a proxy that throttles calls
	// and fails entries.
	const good = 150
	putClient, putProxy := proxied(t, ep, faultproxy.Config{Ops: []string{"PutRecords"}, Throttle: 0.2, FailEntries: 0.1}, 3)
	m, reader := newMetrics(t, stream)
	p, err := kinesis.NewProducer(putClient, stream, kinesis.WithHooks(m), kinesis.WithLinger(5*time.Millisecond),
		kinesis.WithPutRetry(kinesis.Retry{MaxAttempts: 0, InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond, Multiplier: 2}))
	if err != nil {
		t.Fatal(err)
	}
	for i := range good {
		body := "{}"
		if i%50 == 0 {
			body = `{"session_id":7,"new_member":"x"}` // drift: a misfit and an unknown member
		}
		if err := p.Put(ctx, fmt.Sprint(i), openEvent(fmt.Sprintf("o%d", i), body)); err != nil {
			t.Fatal(err)
		}
		if i%30 == 29 {
			_ = p.Flush(ctx) // several calls, so the proxy's faults spread over them
		}
	}
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	st, ps := p.Stats(), putProxy.Stats()
	if ps.Throttled == 0 || ps.FailedEntries == 0 {
		t.Fatalf("the proxy injected no faults: %+v", ps)
	}
	ms := readBack(t, reader)
	check := func(what string, got, want int64) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %d, want %d", what, got, want)
		}
	}
	delivered, _ := sum(ms, rtdsotel.MetricSentMessages, "rtds.result=delivered")
	check("sent messages delivered", delivered, good)
	failed, _ := sum(ms, rtdsotel.MetricSentMessages, "rtds.result=failed")
	check("sent messages failed", failed, 0)
	retries, _ := sum(ms, rtdsotel.MetricPutRetries)
	check("retries", retries, st.Retried)
	if retries < ps.FailedEntries {
		t.Errorf("retries %d < entries the proxy failed %d", retries, ps.FailedEntries)
	}
	throttledCalls, _ := sum(ms, rtdsotel.MetricOperationDuration, "messaging.operation.name=PutRecords", "error.type=ProvisionedThroughputExceededException")
	check("throttled PutRecords calls", throttledCalls, ps.Throttled)
	calls, _ := sum(ms, rtdsotel.MetricOperationDuration, "messaging.operation.name=PutRecords")
	check("PutRecords calls", calls, ps.Calls["PutRecords"])

	// Poison records go straight to kinesalite.
	poison := [][]byte{[]byte("not json"), []byte("{broken"), []byte(`{"type":"OPEN","body":{}}`)}
	in := &sdkkinesis.PutRecordsInput{StreamName: new(stream)}
	for i, d := range poison {
		in.Records = append(in.Records, sdktypes.PutRecordsRequestEntry{Data: d, PartitionKey: new(fmt.Sprint("poison", i))})
	}
	if out, err := raw.PutRecords(ctx, in); err != nil || out.FailedRecordCount != nil && *out.FailedRecordCount != 0 {
		t.Fatalf("put poison: %v", err)
	}

	// Consumer side, through a proxy that throttles GetRecords.
	getClient, getProxy := proxied(t, ep, faultproxy.Config{Ops: []string{"GetRecords"}, Throttle: 0.25}, 5)
	c, err := kinesis.NewConsumer(getClient, stream, kinesis.WithHooks(m),
		kinesis.WithIdleWait(20*time.Millisecond), kinesis.WithCheckpointInterval(0),
		kinesis.OnOpen(func(context.Context, *event.Open) error { return nil }))
	if err != nil {
		t.Fatal(err)
	}
	m.ObserveConsumer(c)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(runCtx) }()
	total := int64(good + len(poison))
	deadline := time.Now().Add(30 * time.Second)
	for {
		cs := c.Stats()
		if cs.Handled+cs.DeadLettered >= total && getProxy.Stats().Throttled > 0 {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("consumer did not finish: %+v, proxy %+v", cs, getProxy.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
	ms = readBack(t, reader)
	if _, pts := sum(ms, rtdsotel.MetricMillisBehind); pts != 2 {
		t.Errorf("millis_behind_latest has %d points, want 2 (one per shard)", pts)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ms = readBack(t, reader)
	consumed, _ := sum(ms, rtdsotel.MetricConsumedMessages, "rtds.event.type=OPEN")
	check("consumed OPEN", consumed, good)
	undecodable, _ := sum(ms, rtdsotel.MetricDeadLetters, "rtds.dead_letter.reason=undecodable")
	check("dead letters undecodable", undecodable, 2)
	missingID, _ := sum(ms, rtdsotel.MetricDeadLetters, "rtds.dead_letter.reason=missing_id")
	check("dead letters missing_id", missingID, 1)
	for kind, want := range map[string]int64{"type_mismatch": 3, "unknown_field": 3} {
		got, _ := sum(ms, rtdsotel.MetricSchemaDriftFields, "rtds.event.type=OPEN", "rtds.drift.kind="+kind)
		check("drift "+kind, got, want)
	}
	readThrottles, _ := sum(ms, rtdsotel.MetricReadThrottles, "rtds.operation=GetRecords")
	check("GetRecords throttles", readThrottles, getProxy.Stats().Throttled)
	fetched, _ := sum(ms, rtdsotel.MetricFetchedRecords)
	check("fetched records", fetched, total)
}
