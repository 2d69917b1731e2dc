package reliability

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis"
)

// polledPrefix starts the line a latest child writes when it first polled
// a shard.
const polledPrefix = "polled "

// runLatestChild is a consumer process of TestConsumerLatestKilledBeforeFirstRecord:
// StartLatest, DynamoDB checkpoints, with leases when envWorkerID is set.
// It appends each handled event's id to its output file, and
// "polled <shard>" once it polled a shard with GetRecords (it has
// positioned itself there). It stops cleanly on SIGINT or SIGTERM.
func runLatestChild() int {
	var mu sync.Mutex
	var out *os.File
	opts := []kinesis.ConsumerOption{
		kinesis.WithStartPosition(kinesis.StartLatest),
		kinesis.WithCheckpointInterval(50 * time.Millisecond),
		kinesis.WithHooks(polledHook(func(shard string) {
			mu.Lock()
			defer mu.Unlock()
			_, _ = out.Write([]byte(polledPrefix + shard + "\n"))
		})),
	}
	if id := os.Getenv(envWorkerID); id != "" {
		opts = append(opts, kinesis.WithLeases(kinesis.Leases{WorkerID: id, Duration: workerLeaseDuration}),
			kinesis.WithShardSyncInterval(time.Second))
	}
	return runChild(func(f *os.File) kinesis.ConsumerOption {
		mu.Lock()
		out = f
		mu.Unlock()
		return kinesis.OnEvent(func(_ context.Context, e event.Event) error {
			mu.Lock()
			defer mu.Unlock()
			_, err := out.Write([]byte(e.Base().ID + "\n"))
			return err
		})
	}, opts...)
}

// polledHook calls its func the first time each shard was polled.
type polledHook func(shard string)

var polledOnce sync.Map

func (h polledHook) OnRecordsFetched(m kinesis.RecordsFetchedMetrics) {
	if _, seen := polledOnce.LoadOrStore(m.ShardID, true); !seen {
		h(m.ShardID)
	}
}

// TestConsumerLatestKilledBeforeFirstRecord is scenario 3b: a consumer
// process with StartLatest and DynamoDB checkpoints positions itself on
// every shard of a quiet stream and is SIGKILLed before it handled a
// record; events are put; then a consumer restarts ("restart"), or another
// worker takes the shards over once the dead worker's leases expired
// ("takeover"). Every event put after the first consumer started must be
// handled, and none put before it.
func TestConsumerLatestKilledBeforeFirstRecord(t *testing.T) {
	t.Parallel()
	for _, leased := range []bool{false, true} {
		name, first, second := "restart", "", ""
		if leased {
			name, first, second = "takeover", "w1", "w2"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			const shards, n = 2, 60
			fx := newChildFixture(t, shards, "rtds-latest")
			ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout)
			defer cancel()
			before, events := makeEvents("s3b-before-"+name, 20), makeEvents("s3b-"+name, n)
			if _, err := putAtLeastOnce(ctx, fx.kc, fx.stream, before, 500); err != nil {
				t.Fatal(err)
			}
			time.Sleep(5 * time.Millisecond) // arrival timestamps have milliseconds
			outPath := filepath.Join(t.TempDir(), "handled.txt")
			lines := func() (polled int, handled []string) {
				for _, l := range handledIDs(t, outPath) {
					if strings.HasPrefix(l, polledPrefix) {
						polled++
					} else {
						handled = append(handled, l)
					}
				}
				return polled, handled
			}
			env := func(worker string) []string {
				if worker == "" {
					return nil
				}
				return []string{envWorkerID + "=" + worker}
			}

			cmd := fx.start(t, "latest", outPath, env(first)...)
			for polled, _ := lines(); polled < shards; polled, _ = lines() {
				if ctx.Err() != nil {
					_ = cmd.Process.Kill()
					_ = cmd.Wait()
					t.Fatalf("the first consumer polled %d of %d shards", polled, shards)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			if _, err := putAtLeastOnce(ctx, fx.kc, fx.stream, events, 500); err != nil {
				t.Fatal(err)
			}

			start := time.Now()
			cmd = fx.start(t, "latest", outPath, env(second)...)
			want := ids(events)
			deadline := time.Now().Add(4*workerLeaseDuration + 10*time.Second)
			for {
				_, handled := lines()
				if res, err := compareIDs(want, handled); err == nil && res.Lost == 0 || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			took := time.Since(start)
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				t.Errorf("second consumer after SIGINT: %v", err)
			}
			_, handled := lines()
			res, err := compareIDs(want, handled)
			if err != nil {
				t.Fatal(err)
			}
			early := 0
			for _, id := range handled {
				if strings.HasPrefix(id, "s3b-before-") {
					early++
				}
			}
			t.Logf("reliability: scenario=latest-%s %s handled_before_start=%d resumed_in=%v", name, res, early, took.Round(10*time.Millisecond))
			if res.Lost != 0 {
				t.Errorf("%d of the %d events put after the first consumer started were never handled, e.g. %v", res.Lost, n, res.LostIDs)
			}
			if early != 0 {
				t.Errorf("%d events put before the first consumer started were handled", early)
			}
		})
	}
}
