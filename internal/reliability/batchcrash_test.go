package reliability

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis"
)

// Scenario 3b's consumer: a slow handler, a checkpoint interval much
// shorter than a GetRecords batch takes to handle, kills more often than
// a batch takes.
const (
	envSlowHandlerDelay = "RTDS_RELIABILITY_HANDLER_DELAY"
	slowCheckpointEvery = 500 * time.Millisecond
)

// runSlowChild is the consumer process of TestConsumerKilledMoreOftenThanABatch:
// a handler that takes envSlowHandlerDelay per event and appends
// "id shard unixnano" per handled event to the output file, a checkpoint
// interval of slowCheckpointEvery, and GetRecords calls as large as
// Kinesis allows (so the first batch holds the whole shard).
func runSlowChild() int {
	delay, err := time.ParseDuration(os.Getenv(envSlowHandlerDelay))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return runChild(func(out *os.File) kinesis.ConsumerOption {
		return kinesis.OnRecord(func(_ context.Context, r kinesis.Record) error {
			ev, err := event.Decode(r.Data)
			if err != nil {
				return err
			}
			time.Sleep(delay)
			_, err = fmt.Fprintf(out, "%s %s %d\n", ev.Base().ID, r.ShardID, time.Now().UnixNano())
			return err
		})
	}, kinesis.WithCheckpointInterval(slowCheckpointEvery), kinesis.WithGetRecordsLimit(10000), kinesis.WithGetRecordsRate(5))
}

// handledLine is one line of runSlowChild's output.
type handledLine struct {
	id, shard string
	at        time.Time
}

func readHandledLines(t *testing.T, path string) []handledLine {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var out []handledLine
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			t.Fatalf("bad output line %q", sc.Text())
		}
		ns, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, handledLine{id: f[0], shard: f[1], at: time.Unix(0, ns)})
	}
	return out
}

// aggregateEvents packs events into KPL aggregates of per events each.
func aggregateEvents(events []testEvent, per int) []testEvent {
	var out []testEvent
	for i := 0; i < len(events); i += per {
		chunk := events[i:min(i+per, len(events))]
		recs := make([]struct {
			key  uint64
			data string
		}, len(chunk))
		for j, e := range chunk {
			recs[j].data = string(e.Data)
		}
		out = append(out, testEvent{ID: chunk[0].ID, PartitionKey: fmt.Sprintf("agg-%d", i/per), Data: aggregate([]string{chunk[0].PartitionKey}, recs)})
	}
	return out
}

// laterPosition reports whether checkpoint a is after b (numeric sequence
// numbers, then sub-sequence numbers).
func laterPosition(a, b kinesis.Checkpoint) bool {
	if a.SequenceNumber != b.SequenceNumber {
		if len(a.SequenceNumber) != len(b.SequenceNumber) {
			return len(a.SequenceNumber) > len(b.SequenceNumber)
		}
		return a.SequenceNumber > b.SequenceNumber
	}
	return a.SubSequenceNumber > b.SubSequenceNumber
}

// testKilledMoreOftenThanABatch is scenario 3b (issue 17 §1): a consumer
// process whose first GetRecords batch takes far longer to handle than the
// time between SIGKILLs. Each lifetime must advance the checkpoint of every
// shard it read for longer than a checkpoint interval, and the events
// handled again after each kill, per shard, must stay within what the
// handler did in one checkpoint interval (plus the checkpoint write's
// latency) plus one record.
func testKilledMoreOftenThanABatch(t *testing.T, shards int32, n, perAggregate, kills int, every time.Duration) {
	const (
		delay = 2 * time.Millisecond
		// slack is the checkpoint write's latency (DynamoDB through the
		// proxy) and the handler call in flight when the interval passed.
		slack = 150 * time.Millisecond
	)
	fx := newChildFixture(t, shards, "rtds-batchcrash")
	ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout)
	defer cancel()
	events := makeEvents(fmt.Sprintf("s3b-%d", perAggregate), n)
	records, batch := events, 500
	if perAggregate > 1 {
		records, batch = aggregateEvents(events, perAggregate), 20
	}
	if _, err := putAtLeastOnce(ctx, fx.kc, fx.stream, records, batch); err != nil {
		t.Fatal(err)
	}
	ls, err := fx.kc.ListShards(ctx, &sdkkinesis.ListShardsInput{StreamName: aws.String(fx.stream)})
	if err != nil {
		t.Fatal(err)
	}
	checkpoints := func() map[string]kinesis.Checkpoint {
		m := map[string]kinesis.Checkpoint{}
		for _, s := range ls.Shards {
			cp, _, err := fx.store.Load(ctx, fx.stream, aws.ToString(s.ShardId))
			if err != nil {
				t.Fatal(err)
			}
			m[aws.ToString(s.ShardId)] = cp
		}
		return m
	}
	outPath := filepath.Join(t.TempDir(), "handled.txt")
	env := envSlowHandlerDelay + "=" + delay.String()
	var lifetimes [][]handledLine // the lines of each killed lifetime
	seen := 0
	for k := range kills {
		before := checkpoints()
		cmd := fx.start(t, "slow-consumer", outPath, env)
		time.Sleep(every)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		lines := readHandledLines(t, outPath)
		life := lines[seen:]
		seen = len(lines)
		lifetimes = append(lifetimes, life)
		after := checkpoints()
		for shard, cp := range after {
			var first, last time.Time
			for _, l := range life {
				if l.shard == shard {
					if first.IsZero() {
						first = l.at
					}
					last = l.at
				}
			}
			if last.Sub(first) > slowCheckpointEvery+slack && !laterPosition(cp, before[shard]) {
				t.Errorf("lifetime %d read shard %s for %v without advancing its checkpoint (%+v)", k+1, shard, last.Sub(first).Round(time.Millisecond), cp)
			}
		}
	}
	if uniqueCount(idsOf(readHandledLines(t, outPath))) == n {
		t.Fatalf("the consumer handled every event before the last kill: the kills came less often than a batch takes")
	}
	cmd := fx.start(t, "slow-consumer", outPath, env)
	for uniqueCount(idsOf(readHandledLines(t, outPath))) < n {
		if ctx.Err() != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("final run: deadline passed")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("final consumer after SIGINT: %v", err)
	}
	all := readHandledLines(t, outPath)
	lifetimes = append(lifetimes, all[seen:])
	res, err := compareIDs(ids(events), idsOf(all))
	if err != nil {
		t.Fatal(err)
	}

	// Duplicates after each kill, per shard, against the bound.
	handled := map[string]bool{}
	var perKill []int
	for k, life := range lifetimes {
		if k > 0 {
			dups := map[string]int{}
			for _, l := range life {
				if handled[l.id] {
					dups[l.shard]++
				}
			}
			total := 0
			for shard, d := range dups {
				total += d
				prev := lifetimes[k-1]
				var last time.Time
				for _, l := range prev {
					if l.shard == shard {
						last = l.at
					}
				}
				inInterval := 0
				for _, l := range prev {
					if l.shard == shard && l.at.After(last.Add(-slowCheckpointEvery-slack)) {
						inInterval++
					}
				}
				if d > inInterval+1 {
					t.Errorf("after kill %d, shard %s: %d events handled again; bound (one interval's work + 1): %d", k, shard, d, inInterval+1)
				}
			}
			perKill = append(perKill, total)
		}
		for _, l := range life {
			handled[l.id] = true
		}
	}
	t.Logf("reliability: scenario=consumer-killed-mid-batch shards=%d aggregate=%d kills=%d every=%v interval=%v handler=%v duplicates_per_kill=%v %s",
		shards, perAggregate, kills, every, slowCheckpointEvery, delay, perKill, res)
	if res.Lost != 0 || res.Unique != n {
		t.Errorf("after %d SIGKILLs: %s", kills, res)
	}
}

func idsOf(lines []handledLine) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l.id
	}
	return out
}

// TestConsumerKilledMoreOftenThanABatch is scenario 3b: see
// testKilledMoreOftenThanABatch. One shard of 5,000 plain events (one
// batch takes about 10 s to handle), and two shards of 6,000 events in
// aggregates of 100 (about 6 s per shard's batch), killed every 2 s.
func TestConsumerKilledMoreOftenThanABatch(t *testing.T) {
	t.Parallel()
	t.Run("plain", func(t *testing.T) {
		t.Parallel()
		testKilledMoreOftenThanABatch(t, 1, 5000, 1, 4, 2*time.Second)
	})
	t.Run("aggregated", func(t *testing.T) {
		t.Parallel()
		testKilledMoreOftenThanABatch(t, 2, 6000, 100, 3, 2*time.Second)
	})
}
