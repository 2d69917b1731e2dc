package kinesis

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

// consumerHookLog records every consumer hook call.
type consumerHookLog struct {
	mu          sync.Mutex
	fetched     int
	fetchedRecs int
	bytes       int
	handler     map[event.Type]int
	handlerErrs int
	checkpoints []Checkpoint
	started     []string
}

func (h *consumerHookLog) OnRecordsFetched(m RecordsFetchedMetrics) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fetched++
	h.fetchedRecs += m.Records
	h.bytes += m.Bytes
}

func (h *consumerHookLog) OnHandlerDone(m HandlerDoneMetrics) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.handler == nil {
		h.handler = map[event.Type]int{}
	}
	h.handler[m.Type]++
	if m.Err != nil {
		h.handlerErrs++
	}
}

func (h *consumerHookLog) OnCheckpoint(m CheckpointMetrics) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if m.Err == nil {
		h.checkpoints = append(h.checkpoints, m.Checkpoint)
	}
}

func (h *consumerHookLog) OnShardStarted(m ShardStartedMetrics) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.started = append(h.started, m.ShardID)
}

func TestConsumerHooks(t *testing.T) {
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	entries := []entry{
		{"k", testEvent("u1", event.TypeUninstall, "bob")},
		{"k", testEvent("o1", event.TypeOpen, "")},
		{"k", testEvent("o2", event.TypeOpen, "")},
	}
	seqs := putEntries(t, f, "s", entries)
	var hooks consumerHookLog
	rec := newRecorder(3)
	failed := false
	c, err := NewConsumer(f, "s", append(fastConsumer(), WithHooks(&hooks),
		OnUninstall(func(ctx context.Context, e *event.Uninstall) error { return rec.add(handled{ID: e.ID}) }),
		OnOpen(func(ctx context.Context, e *event.Open) error {
			if e.ID == "o1" && !failed {
				failed = true
				return errors.New("transient")
			}
			return rec.add(handled{ID: e.ID})
		}))...)
	if err != nil {
		t.Fatal(err)
	}
	stop := startConsumer(t, c)
	rec.wait(t, 5*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	hooks.mu.Lock()
	defer hooks.mu.Unlock()
	size := 0
	for _, e := range entries {
		size += len(e.data)
	}
	if hooks.fetchedRecs != 3 || hooks.bytes != size || hooks.fetched == 0 {
		t.Errorf("fetched hooks: %d calls, %d records, %d bytes; want 3 records, %d bytes", hooks.fetched, hooks.fetchedRecs, hooks.bytes, size)
	}
	if diff := cmp.Diff(map[event.Type]int{event.TypeUninstall: 1, event.TypeOpen: 3}, hooks.handler); diff != "" || hooks.handlerErrs != 1 {
		t.Errorf("handler hooks (-want +got):\n%s (errors %d, want 1)", diff, hooks.handlerErrs)
	}
	if n := len(hooks.checkpoints); n == 0 || hooks.checkpoints[n-1] != (Checkpoint{SequenceNumber: seqs[2]}) {
		t.Errorf("checkpoint hooks %+v, want the last one at %s", hooks.checkpoints, seqs[2])
	}
	if len(hooks.started) != 1 {
		t.Errorf("shard started hooks: %v", hooks.started)
	}
}

func TestConsumerShutdownTimeoutCancelsHandler(t *testing.T) {
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	putEntries(t, f, "s", []entry{{"k", testEvent("stuck", event.TypeOpen, "")}})
	store := NewMemoryStore()
	inHandler := make(chan struct{})
	var handlerErr error
	c, err := NewConsumer(f, "s", append(fastConsumer(), WithCheckpointStore(store), WithShutdownTimeout(20*time.Millisecond),
		OnEvent(func(ctx context.Context, e event.Event) error {
			close(inHandler)
			<-ctx.Done() // a handler that only stops when told to
			handlerErr = ctx.Err()
			return ctx.Err()
		}))...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- c.Run(ctx) }()
	<-inHandler
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !errors.Is(handlerErr, context.Canceled) {
		t.Errorf("handler ctx error = %v, want Canceled after the shutdown timeout", handlerErr)
	}
	// The record was not handled: it must not be checkpointed, so it is
	// read again after a restart.
	if _, ok, _ := store.Load(context.Background(), "s", f.Records("s")[0].ShardID); ok {
		t.Error("an unfinished record was checkpointed")
	}
	if st := c.Stats(); st.DeadLettered != 0 || st.Handled != 0 {
		t.Errorf("Stats = %+v, want nothing handled or dead-lettered", st)
	}
}
