package kinesis

import (
	"context"
	"sync"
	"time"
)

// Ack is the acknowledgement of a record whose handler deferred it
// (Defer). The zero Ack does nothing. An Ack is a small value: copy it
// freely, and call Done or Fail from any goroutine. Only the first call of
// Done or Fail counts; later calls do nothing.
type Ack struct {
	t   *ackTracker
	idx uint64
}

// Done marks the record as processed: the consumer may checkpoint it, once
// every record before it in its shard is processed too.
func (a Ack) Done() {
	if a.t != nil {
		a.t.settle(a.idx, nil)
	}
}

// Fail reports that the record could not be processed: the consumer's Run
// stops with an error wrapping err (a nil err is replaced by a generic
// one), and no checkpoint is written at or after the record.
func (a Ack) Fail(err error) {
	if a.t != nil {
		if err == nil {
			err = errAckFailed
		}
		a.t.settle(a.idx, err)
	}
}

// Defer, called by a handler with the ctx it was given, takes
// responsibility for the record being handled: the handler returns nil
// (the record counts as handled and is not retried), but the consumer
// checkpoints the record only after ack.Done is called, from any
// goroutine, at any later time. ack.Fail(err) instead stops the consumer's
// Run with err, and nothing at or after the record is checkpointed. A sink
// uses it to acknowledge records once they are stored (an exporter, when
// the object holding them is uploaded).
//
// The rules, for a Consumer:
//   - The checkpoint never passes a record whose Ack is pending: it stops
//     at the last record before the first unacknowledged one, whatever
//     order the acks arrive in (KPL sub-records included).
//   - Reading a shard pauses while WithMaxPendingAcks of its records are
//     pending.
//   - When a shard ends, its final (ShardEnded) checkpoint, and so its
//     children, wait for every ack.
//   - When Run stops, pending acks get three quarters of the shutdown
//     timeout (WithShutdownTimeout); then the position before the first
//     record still pending is saved, and the records after it are handled
//     again by the next run.
//   - The same holds when a shard stops because its lease moves to
//     another worker (WithLeases): the pending acks get the same time, and
//     the new owner resumes after the last acknowledged record.
//   - If the handler returns an error after calling Defer, the deferral
//     is void (its Ack does nothing) and the error is handled as usual
//     (retried, then dead-lettered).
//   - Defer must be called before the handler returns; ok is false when
//     called later, or with a context that did not come from a handler.
//
// Outside a Consumer, Dispatcher.Dispatch handles records synchronously:
// Defer returns ok false, and the handler must finish its work before it
// returns (a sink flushes the record itself). This keeps a handler that
// falls back to synchronous work when ok is false correct in both places,
// and never blocks Dispatch on an ack that may only come with later
// records.
func Defer(ctx context.Context) (ack Ack, ok bool) {
	s, _ := ctx.Value(deferKey{}).(*deferSlot)
	if s == nil {
		return Ack{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.open {
		return Ack{}, false
	}
	if !s.deferred {
		s.ack, s.deferred = s.t.push(s.pos), true
	}
	return s.ack, true
}

type deferKey struct{}

// deferSlot lets the handler of the record being dispatched on a shard
// defer it. One per shard reader, reused for every handler call: the
// reader opens it before each call and closes it after.
type deferSlot struct {
	t *ackTracker

	mu       sync.Mutex
	open     bool
	pos      Checkpoint
	deferred bool
	ack      Ack
}

// begin opens the slot for a handler call on the record at pos.
func (s *deferSlot) begin(pos Checkpoint) {
	s.mu.Lock()
	s.open, s.pos, s.deferred, s.ack = true, pos, false, Ack{}
	s.mu.Unlock()
}

// end closes the slot after a handler call that returned err. It reports
// whether the record was deferred; a deferral is voided when err != nil.
func (s *deferSlot) end(err error) bool {
	s.mu.Lock()
	deferred, ack := s.deferred, s.ack
	s.open, s.deferred, s.ack = false, false, Ack{}
	s.mu.Unlock()
	if deferred && err != nil {
		s.t.void(ack.idx)
		return false
	}
	return deferred
}

// Pending entry states.
const (
	ackPending uint8 = iota
	ackDone
	ackVoid   // deferred, then the handler failed: skipped, never checkpointed
	ackFailed // Fail: blocks the checkpoint for good
)

// ackEntry is a record of a shard that was deferred, or a record after one.
type ackEntry struct {
	seq   string
	sub   uint64
	state uint8
}

// ackTracker keeps a shard's processed position in the presence of
// deferred acknowledgements. The shard's reader adds records in order
// (complete for records done at once, push for deferred ones); Acks settle
// entries from any goroutine. safe is the last position such that it and
// every record before it are done: the checkpoint never passes it. While
// no record is pending the queue is empty and complete costs one lock.
// All fields are guarded by mu.
type ackTracker struct {
	mu      sync.Mutex
	base    uint64     // index of queue[0]; indices are never reused
	queue   []ackEntry // from the first pending record on, in order
	unacked int        // entries in state ackPending
	safe    Checkpoint
	hasSafe bool
	// movedAt is when safe first moved after the last save (saved), zero
	// while it did not: the oldest progress a crash would lose.
	movedAt time.Time
	err     error // the first Fail
	// changed gets a token whenever an entry is settled.
	changed chan struct{}
	// onFail is called once, outside mu, with the first Fail's error.
	onFail func(error)
}

func newAckTracker(safe Checkpoint, hasSafe bool, onFail func(error)) *ackTracker {
	return &ackTracker{safe: safe, hasSafe: hasSafe, changed: make(chan struct{}, 1), onFail: onFail}
}

// complete records that the record at pos, the next in order, is done. It
// returns what unsaved would return next.
func (t *ackTracker) complete(pos Checkpoint) (movedAt time.Time) {
	t.mu.Lock()
	if len(t.queue) == 0 {
		t.moved(pos)
	} else {
		t.queue = append(t.queue, ackEntry{seq: pos.SequenceNumber, sub: pos.SubSequenceNumber, state: ackDone})
	}
	movedAt = t.movedAt
	t.mu.Unlock()
	return movedAt
}

// push adds the record at pos, the next in order, as pending.
func (t *ackTracker) push(pos Checkpoint) Ack {
	t.mu.Lock()
	defer t.mu.Unlock()
	idx := t.base + uint64(len(t.queue))
	t.queue = append(t.queue, ackEntry{seq: pos.SequenceNumber, sub: pos.SubSequenceNumber})
	t.unacked++
	return Ack{t: t, idx: idx}
}

// settle marks entry idx done (err nil) or failed; only a pending entry
// changes.
func (t *ackTracker) settle(idx uint64, err error) {
	t.mu.Lock()
	if idx < t.base || idx-t.base >= uint64(len(t.queue)) || t.queue[idx-t.base].state != ackPending {
		t.mu.Unlock()
		return
	}
	e := &t.queue[idx-t.base]
	t.unacked--
	first := false
	if err == nil {
		e.state = ackDone
		t.advance()
	} else {
		e.state = ackFailed
		first = t.err == nil
		if first {
			t.err = err
		}
	}
	t.mu.Unlock()
	t.signal()
	if first && t.onFail != nil {
		t.onFail(err)
	}
}

// void marks a pending entry as never to be checkpointed: its handler
// failed after deferring, and the record is handled again (a later entry
// at the same position).
func (t *ackTracker) void(idx uint64) {
	t.mu.Lock()
	if idx >= t.base && idx-t.base < uint64(len(t.queue)) && t.queue[idx-t.base].state == ackPending {
		t.queue[idx-t.base].state = ackVoid
		t.unacked--
		t.advance()
	}
	t.mu.Unlock()
}

// advance drops the settled entries at the head of the queue, moving safe
// to the last done one. Called with mu held.
func (t *ackTracker) advance() {
	n := 0
	for n < len(t.queue) {
		e := &t.queue[n]
		if e.state == ackPending || e.state == ackFailed {
			break
		}
		if e.state == ackDone {
			t.moved(Checkpoint{SequenceNumber: e.seq, SubSequenceNumber: e.sub})
		}
		*e = ackEntry{} // release the sequence number
		n++
	}
	if n == 0 {
		return
	}
	t.base += uint64(n)
	if n == len(t.queue) {
		t.queue = t.queue[:0]
	} else {
		t.queue = t.queue[n:]
	}
}

// moved sets safe to pos. Called with mu held.
func (t *ackTracker) moved(pos Checkpoint) {
	t.safe, t.hasSafe = pos, true
	if t.movedAt.IsZero() {
		t.movedAt = time.Now()
	}
}

// unsaved returns the safe position and when it first moved after the last
// save; zero when it did not.
func (t *ackTracker) unsaved() (Checkpoint, bool, time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.safe, t.hasSafe, t.movedAt
}

// saved records that cp was saved at the time saving started.
func (t *ackTracker) saved(cp Checkpoint, started time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.safe == cp {
		t.movedAt = time.Time{}
	} else if t.movedAt.Before(started) {
		t.movedAt = started // acks moved it on during the write
	}
}

func (t *ackTracker) signal() {
	select {
	case t.changed <- struct{}{}:
	default:
	}
}

// state returns the safe position, the number of pending records and the
// first Fail's error.
func (t *ackTracker) state() (safe Checkpoint, hasSafe bool, unacked int, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.safe, t.hasSafe, t.unacked, t.err
}
