package main

import (
	"context"
	"sync"
	"time"

	"github.com/rtdskit/rtds/kinesis"
)

// idleWatch implements --idle-exit: it ends a consumer's run once every
// shard has reached the tip of the stream and no record arrived for d
// since. A shard is at the tip when its last GetRecords answer was empty
// with MillisBehindLatest 0 (kinesalite reports 0 with records too), so a
// backlog is read in full however long it takes, and idle time counts
// from the moment the last shard caught up, not from launch.
type idleWatch struct {
	d      time.Duration
	shards func() []shardState // the consumer's shards

	mu      sync.Mutex
	atTip   map[string]bool // shard id: last answer empty and not behind
	since   time.Time       // when every shard was last seen at the tip; zero if not
	fetched bool
}

// shardState is a shard as idleWatch sees it.
type shardState struct {
	id    string
	ended bool // read to its end (split or merge)
}

func newIdleWatch(d time.Duration) *idleWatch {
	return &idleWatch{d: d, atTip: map[string]bool{}}
}

// OnRecordsFetched implements kinesis.HookRecordsFetched.
func (w *idleWatch) OnRecordsFetched(m kinesis.RecordsFetchedMetrics) {
	w.mu.Lock()
	w.atTip[m.ShardID] = m.Records == 0 && m.MillisBehindLatest == 0
	if m.Records > 0 {
		w.since = time.Time{} // a new record: idle time starts again
	}
	w.fetched = true
	w.mu.Unlock()
}

// idle reports whether every shard has been at the tip for d at now.
func (w *idleWatch) idle(now time.Time) bool {
	shards := w.shards()
	w.mu.Lock()
	defer w.mu.Unlock()
	all := len(shards) > 0 && w.fetched
	for _, s := range shards {
		if !s.ended && !w.atTip[s.id] {
			all = false
			break
		}
	}
	if !all {
		w.since = time.Time{}
		return false
	}
	if w.since.IsZero() {
		w.since = now
	}
	return now.Sub(w.since) >= w.d
}

// watch calls stop once idle; it returns when ctx is done.
func (w *idleWatch) watch(ctx context.Context, stop func()) {
	if w.d <= 0 {
		return
	}
	t := time.NewTicker(min(w.d/4, 250*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if w.idle(now) {
				stop()
				return
			}
		}
	}
}

// consumerShards lists c's shards for idleWatch.
func consumerShards(c *kinesis.Consumer) func() []shardState {
	return func() []shardState {
		st := c.Stats()
		out := make([]shardState, 0, len(st.Shards))
		for _, s := range st.Shards {
			out = append(out, shardState{id: s.ShardID, ended: s.State == "ended"})
		}
		return out
	}
}
