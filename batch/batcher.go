package batch

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// DefaultMaxLinger is how long a [Batcher] lets the first item of a batch
// wait before it flushes the batch anyway: 100ms, like the KPL's
// RecordMaxBufferedTime.
const DefaultMaxLinger = 100 * time.Millisecond

// ErrBatcherClosed is returned by [Batcher.Add] after [Batcher.Close].
var ErrBatcherClosed = errors.New("batch: batcher closed")

type batcherConfig struct {
	limits Limits
	linger time.Duration
}

// BatcherOption configures a [Batcher].
type BatcherOption func(*batcherConfig)

// WithLimits sets the request limits a batch keeps to (default
// [DefaultLimits]): at most MaxRecordsPerRequest items and MaxRequestBytes
// bytes.
func WithLimits(l Limits) BatcherOption {
	return func(c *batcherConfig) { c.limits = l }
}

// WithMaxLinger sets how long a batch's first item may wait before the
// batch is flushed (default [DefaultMaxLinger]); d must be positive.
func WithMaxLinger(d time.Duration) BatcherOption {
	return func(c *batcherConfig) { c.linger = d }
}

// Batcher groups items into batches that fit one PutRecords request. A
// batch is flushed when it is full (no room for another record by count,
// or its bytes reach the request limit), when its first item has waited
// the maximum linger, on [Batcher.Flush] and on [Batcher.Close]. Items are
// flushed in the order they were added.
//
// The flush function runs with the Batcher locked (so batches are handed
// over one at a time, in order), either in [Batcher.Add] or in a timer's
// goroutine; it must not call the Batcher. The batch slice is reused after
// it returns: copy what it keeps. In a steady state a Batcher does not
// allocate.
//
// A Batcher is safe for concurrent use.
type Batcher[T any] struct {
	size  func(T) (int, error)
	flush func(batch []T)
	cfg   batcherConfig

	mu       sync.Mutex
	buf      []T
	bytes    int
	deadline time.Time
	timer    *time.Timer
	closed   bool
}

// NewBatcher returns a Batcher. size validates an item and returns the
// bytes it counts against the request limit; for [Record] items use
// [Limits.Size] of the same limits, which rejects records that can never
// be sent. flush receives each batch.
func NewBatcher[T any](size func(T) (int, error), flush func(batch []T), opts ...BatcherOption) (*Batcher[T], error) {
	cfg := batcherConfig{limits: DefaultLimits(), linger: DefaultMaxLinger}
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.limits.Check(); err != nil {
		return nil, err
	}
	if cfg.linger <= 0 {
		return nil, fmt.Errorf("batch: max linger %v not positive", cfg.linger)
	}
	if size == nil || flush == nil {
		return nil, errors.New("batch: NewBatcher needs a size and a flush function")
	}
	return &Batcher[T]{size: size, flush: flush, cfg: cfg, buf: make([]T, 0, cfg.limits.MaxRecordsPerRequest)}, nil
}

// Add adds item to the current batch, first flushing the batch if item
// does not fit in it. An item that size rejects, or that is larger than a
// whole request, is not added: the error says why (for [Limits.Size], a
// [*LimitError]).
func (b *Batcher[T]) Add(item T) error {
	n, err := b.size(item)
	if err != nil {
		return err
	}
	if n > b.cfg.limits.MaxRequestBytes {
		return &LimitError{Limit: "record bytes", Size: n, Max: b.cfg.limits.MaxRequestBytes, Err: ErrRecordTooLarge}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrBatcherClosed
	}
	if len(b.buf) > 0 && b.bytes+n > b.cfg.limits.MaxRequestBytes {
		b.flushLocked()
	}
	b.buf = append(b.buf, item)
	b.bytes += n
	if len(b.buf) >= b.cfg.limits.MaxRecordsPerRequest || b.bytes >= b.cfg.limits.MaxRequestBytes {
		b.flushLocked()
		return nil
	}
	if len(b.buf) == 1 {
		b.deadline = time.Now().Add(b.cfg.linger)
		if b.timer == nil {
			b.timer = time.AfterFunc(b.cfg.linger, b.expire)
		} else {
			b.timer.Reset(b.cfg.linger)
		}
	}
	return nil
}

// expire flushes the batch if its linger is over; a timer armed for an
// earlier batch re-arms for the current one instead.
func (b *Batcher[T]) expire() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf) == 0 || b.closed {
		return
	}
	if wait := time.Until(b.deadline); wait > 0 {
		b.timer.Reset(wait)
		return
	}
	b.flushLocked()
}

func (b *Batcher[T]) flushLocked() {
	if len(b.buf) == 0 {
		return
	}
	if b.timer != nil {
		b.timer.Stop()
	}
	b.flush(b.buf)
	clear(b.buf)
	b.buf = b.buf[:0]
	b.bytes = 0
}

// Flush flushes the current batch, if any, now.
func (b *Batcher[T]) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
}

// Len returns the number of items in the current batch.
func (b *Batcher[T]) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.buf)
}

// Close flushes the current batch and stops the Batcher: later Adds fail
// with [ErrBatcherClosed]. It is idempotent.
func (b *Batcher[T]) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
	b.closed = true
	if b.timer != nil {
		b.timer.Stop()
	}
}
