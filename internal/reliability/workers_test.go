package reliability

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis"
)

// Environment of a multi-worker child process (see TestMain), besides the
// crash child's stream, table and output file.
const (
	envWorkerID = "RTDS_RELIABILITY_WORKER_ID"
	// workerLeaseDuration is the children's lease duration: a killed
	// worker's shards move after about this long.
	workerLeaseDuration = 2 * time.Second
)

// runWorkerChild is one worker of TestMultiWorker: a consumer with
// DynamoDB checkpoints and leases that appends a line per handled event to
// its own file: "id shard sequence start end", the handler's start and end
// in Unix nanoseconds, written before the handler returns. It stops
// cleanly on SIGINT or SIGTERM.
func runWorkerChild() int {
	return runChild(func(out *os.File) kinesis.ConsumerOption {
		return kinesis.OnRecord(func(_ context.Context, r kinesis.Record) error {
			start := time.Now()
			e, err := event.Decode(r.Data)
			if err != nil {
				return kinesis.Permanent(err)
			}
			time.Sleep(200 * time.Microsecond) // a handler that takes time, so overlaps would show
			_, err = fmt.Fprintf(out, "%s %s %s %d %d\n", e.Base().ID, r.ShardID, r.SequenceNumber, start.UnixNano(), time.Now().UnixNano())
			return err
		})
	},
		kinesis.WithLeases(kinesis.Leases{WorkerID: os.Getenv(envWorkerID), Duration: workerLeaseDuration}),
		kinesis.WithCheckpointInterval(100*time.Millisecond),
		kinesis.WithShardSyncInterval(time.Second),
	)
}

// handling is one handler call of a worker.
type handling struct {
	worker, id, shard, seq string
	start, end             int64
}

// workerLog reads what the workers wrote: every complete line of every
// worker's file.
func workerLog(t *testing.T, dir string, workers []string) []handling {
	t.Helper()
	var all []handling
	for _, w := range workers {
		b, err := os.ReadFile(filepath.Join(dir, w+".txt"))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 5 {
				continue // a line cut by SIGKILL
			}
			start, err1 := strconv.ParseInt(f[3], 10, 64)
			end, err2 := strconv.ParseInt(f[4], 10, 64)
			if err1 != nil || err2 != nil {
				continue
			}
			all = append(all, handling{worker: w, id: f[0], shard: f[1], seq: f[2], start: start, end: end})
		}
	}
	return all
}

// overlaps returns the handler calls that ran while another worker was
// inside a handler for the same shard.
func overlaps(hs []handling) []string {
	byShard := map[string][]handling{}
	for _, h := range hs {
		byShard[h.shard] = append(byShard[h.shard], h)
	}
	var bad []string
	for shard, calls := range byShard {
		slices.SortFunc(calls, func(a, b handling) int { return int(a.start - b.start) })
		lastEnd := map[string]int64{} // worker -> latest end so far
		for _, h := range calls {
			for w, end := range lastEnd {
				if w != h.worker && end > h.start {
					bad = append(bad, fmt.Sprintf("%s: %s started %s at %d while %s was handling until %d", shard, h.worker, h.seq, h.start, w, end))
				}
			}
			lastEnd[h.worker] = max(lastEnd[h.worker], h.end)
		}
	}
	return bad
}

// TestMultiWorker is scenario 6: three worker processes share a 6-shard
// stream through DynamoDB leases while events keep arriving; one is killed
// with SIGKILL, and its shards move to the others once its leases expire;
// a fourth joins and gets its share by handoffs; all stop with SIGINT.
// Every event must be handled at least once, and no shard by two workers
// at the same time.
func TestMultiWorker(t *testing.T) {
	t.Parallel()
	const (
		shards = 6
		phase  = 4000 // events put per phase
		phases = 4
		n      = phase * phases
	)
	fx := newChildFixture(t, shards, "rtds-workers")
	kc, stream, store := fx.kc, fx.stream, fx.store
	ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout)
	defer cancel()
	dir := t.TempDir()
	events := makeEvents("s6", n)
	put := func(p int) {
		t.Helper()
		if _, err := putAtLeastOnce(ctx, kc, stream, events[p*phase:(p+1)*phase], 500); err != nil {
			t.Fatal(err)
		}
	}

	procs := map[string]*exec.Cmd{}
	var names []string
	start := func(w string) {
		procs[w] = fx.start(t, "worker", filepath.Join(dir, w+".txt"), envWorkerID+"="+w)
		names = append(names, w)
	}
	t.Cleanup(func() {
		for _, cmd := range procs {
			if cmd.ProcessState == nil {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
			}
		}
	})
	owners := func() map[string]int {
		ls, err := store.ListLeases(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]int{}
		for _, l := range ls {
			if !l.ShardEnded && l.Owner != "" {
				m[l.Owner]++
			}
		}
		return m
	}
	waitFor := func(what string, cond func() bool) time.Duration {
		t.Helper()
		begin := time.Now()
		for !cond() {
			if ctx.Err() != nil {
				t.Fatalf("%s: deadline passed; leases %v, %d unique events handled", what, owners(), uniqueHandled(workerLog(t, dir, names)))
			}
			time.Sleep(50 * time.Millisecond)
		}
		return time.Since(begin)
	}
	balanced := func(ws ...string) func() bool {
		return func() bool {
			o := owners()
			total := 0
			for _, w := range ws {
				if o[w] != shards/len(ws) {
					return false
				}
				total += o[w]
			}
			return total == shards
		}
	}

	put(0)
	for _, w := range []string{"w1", "w2", "w3"} {
		start(w)
	}
	tBalance := waitFor("three workers balanced", balanced("w1", "w2", "w3"))
	// Kill w2 in the middle of its share of the next phase.
	handledBy := func(w string) int {
		k := 0
		for _, h := range workerLog(t, dir, names) {
			if h.worker == w {
				k++
			}
		}
		return k
	}
	killAfter := handledBy("w2") + phase/shards
	put(1)
	waitFor("w2 handling", func() bool { return handledBy("w2") >= killAfter })
	if err := procs["w2"].Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = procs["w2"].Wait()
	killedAt := time.Now()
	tFailover := waitFor("w2's shards taken over", balanced("w1", "w3"))
	// w2 last renewed up to a third of the lease duration before the kill,
	// and its leases expire a lease duration after that renewal.
	if d := time.Since(killedAt); d < 2*workerLeaseDuration/3 {
		t.Errorf("w2's shards moved %v after the kill, before its leases could have expired (%v after its last renewal, at most %v before the kill)", d, workerLeaseDuration, workerLeaseDuration/3)
	}
	put(2)
	start("w4")
	tJoin := waitFor("w4 joined and balanced", balanced("w1", "w3", "w4"))
	put(3)
	waitFor("every event handled", func() bool { return uniqueHandled(workerLog(t, dir, names)) == n })
	for _, w := range []string{"w1", "w3", "w4"} {
		if err := procs[w].Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range []string{"w1", "w3", "w4"} {
		if err := procs[w].Wait(); err != nil {
			t.Errorf("worker %s after SIGINT: %v", w, err)
		}
	}
	if o := owners(); len(o) != 0 {
		t.Errorf("leases still held after every worker stopped: %v", o)
	}

	log := workerLog(t, dir, names)
	var handled []string
	perWorker := map[string]int{}
	for _, h := range log {
		handled = append(handled, h.id)
		perWorker[h.worker]++
	}
	res, err := compareIDs(ids(events), handled)
	if err != nil {
		t.Fatal(err)
	}
	bad := overlaps(log)
	t.Logf("reliability: scenario=multi-worker shards=%d workers=w1,w2,w3(+w4) killed=w2 lease=%v balance=%v failover=%v join=%v handled_per_worker=%v overlaps=%d %s",
		shards, workerLeaseDuration, tBalance.Round(time.Millisecond), tFailover.Round(time.Millisecond), tJoin.Round(time.Millisecond), perWorker, len(bad), res)
	if res.Lost != 0 || res.Unique != n {
		t.Errorf("with a killed and an added worker: %s", res)
	}
	if len(bad) > 0 {
		t.Errorf("%d handler calls overlapped another worker's on the same shard, e.g. %s", len(bad), bad[0])
	}
	if perWorker["w2"] == 0 || perWorker["w4"] == 0 {
		t.Errorf("handled per worker %v: the killed and the added worker should both have worked", perWorker)
	}
}

func uniqueHandled(hs []handling) int {
	m := make(map[string]struct{}, len(hs))
	for _, h := range hs {
		m[h.id] = struct{}{}
	}
	return len(m)
}

func TestOverlaps(t *testing.T) {
	t.Parallel()
	hs := []handling{
		{worker: "a", shard: "s1", seq: "1", start: 10, end: 20},
		{worker: "a", shard: "s1", seq: "2", start: 20, end: 30},
		{worker: "b", shard: "s1", seq: "3", start: 30, end: 40}, // after a: fine
		{worker: "a", shard: "s2", seq: "1", start: 10, end: 50},
		{worker: "b", shard: "s2", seq: "2", start: 49, end: 60}, // a still inside
		{worker: "b", shard: "s3", seq: "1", start: 0, end: 100}, // other shard: fine
	}
	bad := overlaps(hs)
	if len(bad) != 1 || !strings.HasPrefix(bad[0], "s2: b started 2") {
		t.Fatalf("overlaps = %q, want the one on s2", bad)
	}
}
