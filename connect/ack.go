package connect

import "sync"

// acker tracks the events handed to the application, in arrival order, and
// the highest contiguous acknowledged offset: the offset never passes an
// event that is not acknowledged.
type acker struct {
	mu       sync.Mutex
	base     uint64  // sequence number of pending[0]
	pending  []entry // events from the first unacknowledged one on
	acked    string  // offset of the last event of the acknowledged prefix
	received string  // offset of the last event handed over
	unacked  int     // events in pending not acknowledged
}

type entry struct {
	offset string
	done   bool
}

func newAcker(resumeOffset string) *acker {
	return &acker{acked: resumeOffset, received: resumeOffset}
}

// add records an event handed to the application and returns its sequence
// number; done is true for events the client acknowledges itself
// (OFFSET_UPDATE).
func (a *acker) add(offset string, done bool) uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.received = offset
	seq := a.base + uint64(len(a.pending))
	a.pending = append(a.pending, entry{offset: offset, done: done})
	if !done {
		a.unacked++
	}
	a.advanceLocked()
	return seq
}

// ack acknowledges the event with sequence number seq; acknowledging twice
// does nothing.
func (a *acker) ack(seq uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if seq < a.base || seq-a.base >= uint64(len(a.pending)) {
		return
	}
	e := &a.pending[seq-a.base]
	if e.done {
		return
	}
	e.done = true
	a.unacked--
	a.advanceLocked()
}

func (a *acker) advanceLocked() {
	i := 0
	for i < len(a.pending) && a.pending[i].done {
		a.acked = a.pending[i].offset
		i++
	}
	if i == 0 {
		return
	}
	a.base += uint64(i)
	a.pending = a.pending[i:]
	if len(a.pending) == 0 {
		a.pending = a.pending[:0:0] // release the array
	} else if cap(a.pending) > 1024 && len(a.pending) < cap(a.pending)/4 {
		a.pending = append([]entry(nil), a.pending...)
	}
}

// state returns the acknowledged offset, the resume point of a reconnect
// (the last event handed over) and the number of unacknowledged events.
func (a *acker) state() (acked, received string, pending int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.acked, a.received, a.unacked
}
