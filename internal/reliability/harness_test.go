package reliability

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/cenkalti/backoff/v4"
	"go.uber.org/goleak"

	"github.com/rtdskit/rtds/internal/faultproxy"
	"github.com/rtdskit/rtds/internal/testenv"
)

func TestMain(m *testing.M) {
	switch os.Getenv(envCrashChild) {
	case "consumer":
		os.Exit(runCrashChild()) // a consumer process for TestConsumerCrashRecovery
	case "worker":
		os.Exit(runWorkerChild()) // a worker process for TestMultiWorker
	case "slow-consumer":
		os.Exit(runSlowChild()) // a consumer process for TestConsumerKilledMoreOftenThanABatch
	}
	goleak.VerifyTestMain(m)
}

// client returns an SDK client for endpoint making at most attempts
// attempts per call, whose connections close when the test ends.
func client(t *testing.T, endpoint string, attempts int) *sdkkinesis.Client {
	t.Helper()
	hc := testenv.LoopbackHTTPClient()
	t.Cleanup(hc.CloseIdleConnections)
	cfg := testenv.Config()
	cfg.HTTPClient = hc
	cfg.RetryMaxAttempts = attempts
	return sdkkinesis.NewFromConfig(cfg, func(o *sdkkinesis.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

// startProxy starts a fault proxy in front of endpoint, closed when the test
// ends.
func startProxy(t *testing.T, endpoint string, seed int64, cfg faultproxy.Config) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.New(endpoint, faultproxy.WithSeed(seed), faultproxy.WithConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("close proxy: %v", err)
		}
	})
	return p
}

// testEvent is an RTDS-shaped event with a unique id.
type testEvent struct {
	ID, PartitionKey string
	Data             []byte
}

func makeEvents(prefix string, n int) []testEvent {
	out := make([]testEvent, n)
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range out {
		id := fmt.Sprintf("%s-%07d", prefix, i)
		ch := fmt.Sprintf("channel-%03d", i%97)
		out[i] = testEvent{ID: id, PartitionKey: ch, Data: fmt.Appendf(nil,
			`{"id":%q,"offset":"%d","occurred":%q,"processed":%q,"type":"OPEN","device":{"channel":%q,"ios_channel":%q},"body":{"session_id":"s-%d"}}`,
			id, i+1, base.Add(time.Duration(i)*time.Millisecond).Format(time.RFC3339Nano),
			base.Add(time.Duration(i)*time.Millisecond+time.Second).Format(time.RFC3339Nano), ch, ch, i)}
	}
	return out
}

func ids(es []testEvent) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

// putAtLeastOnce is the simplest correct producer: it retries every call
// that fails and every entry that comes back failed, until all are
// acknowledged. It is the harness's control: with it, any fault mix must
// lose nothing, so a loss in a library scenario is the library's.
func putAtLeastOnce(ctx context.Context, c *sdkkinesis.Client, stream string, events []testEvent, batch int) (calls int, err error) {
	pending := events
	for len(pending) > 0 {
		if calls > 100*len(events)/batch+1000 {
			return calls, errors.New("no progress")
		}
		n := min(batch, len(pending))
		chunk, rest := pending[:n], pending[n:]
		in := &sdkkinesis.PutRecordsInput{StreamName: aws.String(stream)}
		for _, e := range chunk {
			in.Records = append(in.Records, sdktypes.PutRecordsRequestEntry{PartitionKey: aws.String(e.PartitionKey), Data: e.Data})
		}
		calls++
		out, err := c.PutRecords(ctx, in)
		if err != nil {
			if ctx.Err() != nil {
				return calls, ctx.Err()
			}
			continue // retry the whole chunk
		}
		var retry []testEvent
		for i, r := range out.Records {
			if r.ErrorCode != nil {
				retry = append(retry, chunk[i])
			}
		}
		pending = append(retry, rest...)
	}
	return calls, nil
}

// TestHarnessAtLeastOnceUnderFaults proves the harness: a correct
// at-least-once producer under every write fault loses nothing, every fault
// really happened, and connections dropped after forwarding show up as
// duplicates in the ground truth.
func TestHarnessAtLeastOnceUnderFaults(t *testing.T) {
	t.Parallel()
	ep := testenv.Lookup(t, testenv.EnvKinesalite)
	direct := client(t, ep, 3)
	stream, _ := testenv.CreateStream(t, direct, 4)
	p := startProxy(t, ep, 1, faultproxy.Config{Throttle: 0.10, FailEntries: 0.05, DropBefore: 0.03, DropAfter: 0.03, InternalError: 0.02})
	via := client(t, p.URL(), 1)
	events := makeEvents("harness", 10000)
	ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout)
	defer cancel()
	if _, err := putAtLeastOnce(ctx, via, stream, events, 100); err != nil {
		t.Fatal(err)
	}
	res := readAndCompare(t, direct, stream, "harness-at-least-once", ids(events), nil)
	s := p.Stats()
	t.Logf("proxy: %+v", s)
	if s.Throttled == 0 || s.FailedEntries == 0 || s.DroppedBefore == 0 || s.DroppedAfter == 0 || s.InternalErrors == 0 {
		t.Errorf("a fault never happened: %+v", s)
	}
	// Each entry stored in a call whose answer was dropped is sent again,
	// so the duplicates are exactly those entries.
	if res.Unique != len(events) || int64(res.Duplicated) != s.StoredThenDropped || res.Duplicated == 0 {
		t.Errorf("unique=%d duplicated=%d: want all %d events and %d duplicates from %d drops after forwarding",
			res.Unique, res.Duplicated, len(events), s.StoredThenDropped, s.DroppedAfter)
	}
}

// TestHarnessReaderUnderFaults proves the read side of the harness: a
// reader that re-creates its iterator after the last sequence number it saw
// survives expired iterators, throttling and 500s and reads exactly the
// ground truth.
func TestHarnessReaderUnderFaults(t *testing.T) {
	t.Parallel()
	ep := testenv.Lookup(t, testenv.EnvKinesalite)
	direct := client(t, ep, 3)
	stream, _ := testenv.CreateStream(t, direct, 2)
	events := makeEvents("reader", 2000)
	ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout)
	defer cancel()
	if _, err := putAtLeastOnce(ctx, direct, stream, events, 500); err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, ep, 2, faultproxy.Config{Ops: []string{"GetRecords", "GetShardIterator"}, ExpireIterator: 0.3, Throttle: 0.1, InternalError: 0.05})
	via := client(t, p.URL(), 1)
	ls, err := direct.ListShards(ctx, &sdkkinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	var got []userRecord
	for _, sh := range ls.Shards {
		last := ""
		var it *string
		for pages := 0; pages < 10000; pages++ {
			if it == nil {
				in := &sdkkinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: sh.ShardId, ShardIteratorType: sdktypes.ShardIteratorTypeTrimHorizon}
				if last != "" {
					in.ShardIteratorType, in.StartingSequenceNumber = sdktypes.ShardIteratorTypeAfterSequenceNumber, aws.String(last)
				}
				out, err := via.GetShardIterator(ctx, in)
				if err != nil {
					continue
				}
				it = out.ShardIterator
			}
			out, err := via.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: it, Limit: aws.Int32(100)})
			var expired *sdktypes.ExpiredIteratorException
			switch {
			case errors.As(err, &expired):
				it = nil
				continue
			case err != nil:
				continue // throttled or 500: retry the same iterator
			}
			for _, r := range out.Records {
				got = append(got, userRecord{Shard: aws.ToString(sh.ShardId), Seq: aws.ToString(r.SequenceNumber), Data: r.Data})
				last = aws.ToString(r.SequenceNumber)
			}
			if len(out.Records) == 0 && aws.ToInt64(out.MillisBehindLatest) == 0 {
				break
			}
			it = out.NextShardIterator
		}
	}
	res, err := compare(ids(events), got, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := p.Stats()
	t.Logf("reliability: scenario=harness-reader %s expired=%d throttled=%d 500s=%d", res, s.Expired, s.Throttled, s.InternalErrors)
	if res.Lost != 0 || res.Duplicated != 0 || res.Unique != len(events) {
		t.Errorf("reader under faults: %s", res)
	}
	if s.Expired == 0 || s.Throttled == 0 || s.InternalErrors == 0 {
		t.Errorf("a fault never happened: %+v", s)
	}
}

// TestGroundTruthFollowsResharding checks that the ground-truth reader
// finds records in closed parents and in children after a split and a
// merge (kinesalite reports no ChildShards, so it relies on ListShards).
func TestGroundTruthFollowsResharding(t *testing.T) {
	t.Parallel()
	ep := testenv.Lookup(t, testenv.EnvKinesalite)
	c := client(t, ep, 3)
	stream, _ := testenv.CreateStream(t, c, 2)
	ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout)
	defer cancel()
	events := makeEvents("reshard", 900)
	put := func(es []testEvent) {
		t.Helper()
		if _, err := putAtLeastOnce(ctx, c, stream, es, 300); err != nil {
			t.Fatal(err)
		}
	}
	put(events[:300])
	ls, err := c.ListShards(ctx, &sdkkinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	sh := ls.Shards[0]
	lo, _ := new(big.Int).SetString(aws.ToString(sh.HashKeyRange.StartingHashKey), 10)
	hi, _ := new(big.Int).SetString(aws.ToString(sh.HashKeyRange.EndingHashKey), 10)
	mid := new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1)
	if _, err := c.SplitShard(ctx, &sdkkinesis.SplitShardInput{StreamName: aws.String(stream), ShardToSplit: sh.ShardId, NewStartingHashKey: aws.String(mid.String())}); err != nil {
		t.Fatal(err)
	}
	if _, err := testenv.WaitActive(ctx, c, stream); err != nil {
		t.Fatal(err)
	}
	put(events[300:600])
	if _, err := c.MergeShards(ctx, &sdkkinesis.MergeShardsInput{StreamName: aws.String(stream), ShardToMerge: aws.String("shardId-000000000002"), AdjacentShardToMerge: aws.String("shardId-000000000003")}); err != nil {
		t.Fatal(err)
	}
	if _, err := testenv.WaitActive(ctx, c, stream); err != nil {
		t.Fatal(err)
	}
	put(events[600:])
	res := readAndCompare(t, c, stream, "groundtruth-resharding", ids(events), nil)
	if res.Unique != len(events) || res.Duplicated != 0 {
		t.Errorf("ground truth after resharding: %s", res)
	}
}

// fastBackoff keeps producer retries quick in the scenarios: 10 ms doubling
// to 200 ms, with jitter and no elapsed-time limit.
func fastBackoff() backoff.BackOff {
	return backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(10*time.Millisecond),
		backoff.WithMaxInterval(200*time.Millisecond),
		backoff.WithMaxElapsedTime(0),
	)
}

// scenarioTimeout bounds each scenario. It is generous: under make test the
// suite shares two cores with every other package's tests (and the race
// detector), where scenario 1 has taken 80 s.
const scenarioTimeout = 6 * time.Minute
