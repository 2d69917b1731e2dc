package reliability

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/internal/faultproxy"
	"github.com/rtdskit/rtds/internal/testenv"
	"github.com/rtdskit/rtds/kinesis"
)

// handledLog records what a consumer's handlers saw: first-seen order per
// partition key (by the event's offset, which increases in Put order),
// duplicates, and order violations.
type handledLog struct {
	mu         sync.Mutex
	seen       map[string]bool
	lastOffset map[string]int // per channel
	duplicates int
	outOfOrder []string
	want       int
	done       chan struct{}
}

func newHandledLog(want int) *handledLog {
	return &handledLog{seen: map[string]bool{}, lastOffset: map[string]int{}, want: want, done: make(chan struct{})}
}

func (h *handledLog) handle(_ context.Context, e event.Event) error {
	b := e.Base()
	off, err := strconv.Atoi(b.Offset)
	if err != nil {
		return kinesis.Permanent(fmt.Errorf("offset %q: %w", b.Offset, err))
	}
	key := b.ChannelID()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.seen[b.ID] {
		h.duplicates++
		return nil
	}
	h.seen[b.ID] = true
	if last, ok := h.lastOffset[key]; ok && off < last && len(h.outOfOrder) < 10 {
		h.outOfOrder = append(h.outOfOrder, fmt.Sprintf("%s: offset %d after %d", key, off, last))
	}
	h.lastOffset[key] = max(h.lastOffset[key], off)
	if len(h.seen) == h.want {
		close(h.done)
	}
	return nil
}

func (h *handledLog) ids() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, 0, len(h.seen))
	for id := range h.seen {
		out = append(out, id)
	}
	return out
}

// TestReshardingUnderLoad is scenario 4: a producer (with ordering on)
// and a consumer run while two shards are split and two merged. No event
// may be lost, either in the stream or by the consumer, and per partition
// key the handler must see events in the order they were put.
func TestReshardingUnderLoad(t *testing.T) {
	t.Parallel()
	const n = 20000
	ep := testenv.Lookup(t, testenv.EnvKinesalite)
	c := client(t, ep, 3)
	stream, _ := testenv.CreateStream(t, c, 2)
	ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout)
	defer cancel()

	log := newHandledLog(n)
	cons, err := kinesis.NewConsumer(c, stream,
		kinesis.OnEvent(log.handle),
		kinesis.WithCheckpointStore(kinesis.NewMemoryStore()),
		kinesis.WithShardSyncInterval(200*time.Millisecond),
		kinesis.WithIdleWait(50*time.Millisecond),
		kinesis.WithGetRecordsRate(50),
		kinesis.WithGetRecordsLimit(1000),
	)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stopConsumer := context.WithCancel(ctx)
	defer stopConsumer()
	runErr := make(chan error, 1)
	go func() { runErr <- cons.Run(runCtx) }()

	out := newOutcomes()
	prod, err := kinesis.NewProducer(c, stream,
		kinesis.WithOrdering(true),
		kinesis.WithRecordTTL(24*time.Hour),
		kinesis.WithResultHandler(out.handle),
		kinesis.WithShardRefreshInterval(200*time.Millisecond),
		kinesis.WithPutRetry(fastPutRetry),
	)
	if err != nil {
		t.Fatal(err)
	}
	events := makeEvents("s4", n)
	reshard := func(step string) {
		t.Helper()
		ls, err := c.ListShards(ctx, &sdkkinesis.ListShardsInput{StreamName: aws.String(stream), ShardFilter: &sdktypes.ShardFilter{Type: sdktypes.ShardFilterTypeAtLatest}})
		if err != nil {
			t.Fatal(err)
		}
		switch step {
		case "split":
			for _, sh := range ls.Shards { // split both open shards
				lo, _ := new(big.Int).SetString(aws.ToString(sh.HashKeyRange.StartingHashKey), 10)
				hi, _ := new(big.Int).SetString(aws.ToString(sh.HashKeyRange.EndingHashKey), 10)
				mid := new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1)
				if _, err := c.SplitShard(ctx, &sdkkinesis.SplitShardInput{StreamName: aws.String(stream), ShardToSplit: sh.ShardId, NewStartingHashKey: aws.String(mid.String())}); err != nil {
					t.Fatalf("split %s: %v", aws.ToString(sh.ShardId), err)
				}
				if _, err := testenv.WaitActive(ctx, c, stream); err != nil {
					t.Fatal(err)
				}
			}
		case "merge":
			a, b := ls.Shards[0], ls.Shards[1] // the two halves of the first parent
			if _, err := c.MergeShards(ctx, &sdkkinesis.MergeShardsInput{StreamName: aws.String(stream), ShardToMerge: a.ShardId, AdjacentShardToMerge: b.ShardId}); err != nil {
				t.Fatalf("merge %s and %s: %v", aws.ToString(a.ShardId), aws.ToString(b.ShardId), err)
			}
			if _, err := testenv.WaitActive(ctx, c, stream); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, e := range events {
		switch i {
		case n / 3:
			reshard("split")
		case 2 * n / 3:
			reshard("merge")
		}
		if err := prod.Put(ctx, e.PartitionKey, e.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := prod.Close(ctx); err != nil {
		t.Fatalf("producer Close: %v", err)
	}
	failed := out.check(t, ids(events))
	res := readAndCompare(t, c, stream, "resharding-under-load", ids(events), failed)

	select {
	case <-log.done:
	case <-ctx.Done():
		t.Errorf("the consumer handled %d of %d events before the deadline", len(log.ids()), n)
	}
	stopConsumer()
	if err := <-runErr; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v", err)
	}
	handled, err := compareIDs(ids(events), log.ids())
	if err != nil {
		t.Fatal(err)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	ls, _ := c.ListShards(context.Background(), &sdkkinesis.ListShardsInput{StreamName: aws.String(stream)})
	t.Logf("reliability: scenario=resharding-under-load-consumer shards=%d %s handler_duplicates=%d out_of_order=%d",
		len(ls.Shards), handled, log.duplicates, len(log.outOfOrder))
	if len(failed) != 0 || res.Unique != n {
		t.Errorf("producer: %d failed, %d of %d in the stream", len(failed), res.Unique, n)
	}
	if handled.Lost != 0 {
		t.Errorf("the consumer lost %d events, e.g. %v", handled.Lost, handled.LostIDs)
	}
	if len(log.outOfOrder) > 0 {
		t.Errorf("per-key order broken: %v", log.outOfOrder)
	}
	if len(ls.Shards) != 7 {
		t.Errorf("%d shards after two splits and a merge, want 7", len(ls.Shards))
	}
}

// compareIDs is compare for a set of handled ids.
func compareIDs(sent, handled []string) (tally, error) {
	read := make([]userRecord, len(handled))
	for i, id := range handled {
		read[i] = userRecord{Data: fmt.Appendf(nil, `{"id":%q}`, id)}
	}
	return compare(sent, read, nil)
}

// TestPoisonRecords is scenario 5: poison records (bad JSON, a truncated
// aggregate, an aggregate with a bad MD5, an event with no id, empty data)
// mixed into a stream of good events. Every poison record must reach the
// dead-letter handler with its shard and sequence number, an event of an
// unknown type must reach OnUnknown, and every good event must be handled.
func TestPoisonRecords(t *testing.T) {
	t.Parallel()
	const good = 2000
	ep := testenv.Lookup(t, testenv.EnvKinesalite)
	c := client(t, ep, 3)
	stream, _ := testenv.CreateStream(t, c, 2)
	ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout)
	defer cancel()

	agg := aggregate([]string{"k"}, []struct {
		key  uint64
		data string
	}{{0, `{"id":"in-agg-1","type":"OPEN"}`}, {0, `{"id":"in-agg-2","type":"OPEN"}`}})
	badMD5 := append([]byte{}, agg...)
	badMD5[len(badMD5)-1] ^= 0xff
	poison := map[string][]byte{
		"bad-json":         []byte(`{"id":"broken","type":"OPEN"`),
		"truncated-agg":    agg[:len(agg)/2],
		"bad-md5":          badMD5,
		"no-id":            []byte(`{"type":"OPEN","offset":"1"}`),
		"empty":            {},
		"not-json-at-all":  []byte("\x00\x01binary"),
		"array-not-object": []byte(`[1,2,3]`),
	}
	unknown := []byte(`{"id":"future-1","type":"FROM_THE_FUTURE","offset":"7","body":{"x":1}}`)

	events := makeEvents("s5", good)
	type put struct {
		name string
		data []byte
	}
	var puts []put
	for i, e := range events {
		puts = append(puts, put{e.ID, e.Data})
		if i%250 == 0 {
			for name, data := range poison {
				puts = append(puts, put{fmt.Sprintf("poison:%s:%d", name, i), data})
			}
			puts = append(puts, put{fmt.Sprintf("unknown:%d", i), unknown})
		}
	}
	where := map[string]string{} // shard/sequence -> put name, for poison and unknown records
	for start := 0; start < len(puts); start += 500 {
		chunk := puts[start:min(start+500, len(puts))]
		in := &sdkkinesis.PutRecordsInput{StreamName: aws.String(stream)}
		for i, p := range chunk {
			in.Records = append(in.Records, sdktypes.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint("pk-", i%13)), Data: p.data})
		}
		out, err := c.PutRecords(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToInt32(out.FailedRecordCount) != 0 {
			t.Fatalf("%d entries failed", aws.ToInt32(out.FailedRecordCount))
		}
		for i, r := range out.Records {
			if name := chunk[i].name; strings.HasPrefix(name, "poison:") || strings.HasPrefix(name, "unknown:") {
				where[aws.ToString(r.ShardId)+"/"+aws.ToString(r.SequenceNumber)] = name
			}
		}
	}

	var mu sync.Mutex
	handled := map[string]int{}
	var dead []kinesis.DeadLetter
	unknownSeen := 0
	total := len(puts) // every record ends up handled, unknown or dead-lettered
	progress := make(chan struct{}, 1)
	count := func() int { return len(handled) + len(dead) + unknownSeen }
	note := func() {
		if count() >= total {
			select {
			case progress <- struct{}{}:
			default:
			}
		}
	}
	cons, err := kinesis.NewConsumer(c, stream,
		kinesis.OnEvent(func(_ context.Context, e event.Event) error {
			mu.Lock()
			defer mu.Unlock()
			handled[e.Base().ID]++
			note()
			return nil
		}),
		kinesis.OnUnknown(func(_ context.Context, e *event.Unknown) error {
			mu.Lock()
			defer mu.Unlock()
			unknownSeen++
			note()
			return nil
		}),
		kinesis.WithDeadLetter(func(_ context.Context, d kinesis.DeadLetter) error {
			mu.Lock()
			defer mu.Unlock()
			d.Data = append([]byte(nil), d.Data...)
			dead = append(dead, d)
			note()
			return nil
		}),
		kinesis.WithIdleWait(50*time.Millisecond),
		kinesis.WithGetRecordsRate(50),
	)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	runErr := make(chan error, 1)
	go func() { runErr <- cons.Run(runCtx) }()
	select {
	case <-progress:
	case <-ctx.Done():
	}
	stop()
	if err := <-runErr; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v", err)
	}

	mu.Lock()
	defer mu.Unlock()
	wantPoison := countPrefix(where, "poison:")
	gotPoison := map[string]bool{}
	for _, d := range dead {
		name, ok := where[d.ShardID+"/"+d.SequenceNumber]
		switch {
		case !ok:
			t.Errorf("dead letter for a record that is not poison: %s/%s (%v)", d.ShardID, d.SequenceNumber, d.Err)
		case d.Err == nil:
			t.Errorf("dead letter %s without an error", name)
		default:
			gotPoison[name] = true
		}
	}
	missing := 0
	for name := range where {
		if strings.HasPrefix(name, "poison:") && !gotPoison[name] {
			if missing < 5 {
				t.Errorf("poison record %s never reached the dead-letter handler", name)
			}
			missing++
		}
	}
	lostGood := 0
	for _, e := range events {
		if handled[e.ID] == 0 {
			lostGood++
		}
	}
	t.Logf("reliability: scenario=poison-records good=%d handled=%d poison=%d dead_lettered=%d unknown=%d lost_good=%d missing_poison=%d",
		good, len(handled), wantPoison, len(dead), unknownSeen, lostGood, missing)
	if lostGood > 0 {
		t.Errorf("%d good events never handled", lostGood)
	}
	if wantUnknown := countPrefix(where, "unknown:"); unknownSeen < wantUnknown {
		t.Errorf("OnUnknown saw %d events of an unknown type, want %d", unknownSeen, wantUnknown)
	}
	if len(dead) != wantPoison {
		t.Errorf("%d dead letters for %d poison records", len(dead), wantPoison)
	}
}

func countPrefix(m map[string]string, prefix string) int {
	n := 0
	for _, v := range m {
		if strings.HasPrefix(v, prefix) {
			n++
		}
	}
	return n
}

// TestConsumerUnderReadFaults runs a consumer through the fault proxy:
// throttled, failed (500) and dropped reads, expired iterators and added
// latency on every call it makes. Every event must be handled, in order
// per partition key.
func TestConsumerUnderReadFaults(t *testing.T) {
	t.Parallel()
	const n = 10000
	ep := testenv.Lookup(t, testenv.EnvKinesalite)
	c := client(t, ep, 3)
	stream, _ := testenv.CreateStream(t, c, 4)
	ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout)
	defer cancel()
	events := makeEvents("read", n)
	if _, err := putAtLeastOnce(ctx, c, stream, events, 500); err != nil {
		t.Fatal(err)
	}
	px := startProxy(t, ep, 21, faultproxy.Config{
		Throttle: 0.10, InternalError: 0.05, ExpireIterator: 0.10, DropBefore: 0.02, DropAfter: 0.02, Latency: time.Millisecond,
	})
	via := client(t, px.URL(), 1)
	log := newHandledLog(n)
	cons, err := kinesis.NewConsumer(via, stream,
		kinesis.OnEvent(log.handle),
		kinesis.WithIdleWait(20*time.Millisecond),
		kinesis.WithGetRecordsRate(100),
		kinesis.WithGetRecordsLimit(100),
	)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	runErr := make(chan error, 1)
	go func() { runErr <- cons.Run(runCtx) }()
	select {
	case <-log.done:
	case <-ctx.Done():
	}
	stop()
	if err := <-runErr; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v", err)
	}
	res, err := compareIDs(ids(events), log.ids())
	if err != nil {
		t.Fatal(err)
	}
	s := px.Stats()
	log.mu.Lock()
	defer log.mu.Unlock()
	t.Logf("reliability: scenario=consumer-under-read-faults %s handler_duplicates=%d out_of_order=%d calls=%d throttled=%d 500s=%d expired=%d dropped_before=%d dropped_after=%d",
		res, log.duplicates, len(log.outOfOrder), s.TotalCalls(), s.Throttled, s.InternalErrors, s.Expired, s.DroppedBefore, s.DroppedAfter)
	if res.Lost != 0 || res.Unique != n {
		t.Errorf("consumer under read faults: %s", res)
	}
	if len(log.outOfOrder) > 0 {
		t.Errorf("per-key order broken: %v", log.outOfOrder)
	}
	if s.Throttled == 0 || s.InternalErrors == 0 || s.Expired == 0 || s.DroppedBefore == 0 || s.DroppedAfter == 0 {
		t.Errorf("a fault never happened: %+v", s)
	}
}
