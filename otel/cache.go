package rtdsotel

import (
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// opts is one precomputed attribute set as ready-made option slices, so
// recording passes them without allocating.
type opts struct {
	add []metric.AddOption
	rec []metric.RecordOption
	obs []metric.ObserveOption
	// n is the running total of an observable counter kept per set.
	n atomic.Int64
}

func newOpts(kv ...attribute.KeyValue) *opts {
	o := metric.WithAttributeSet(attribute.NewSet(kv...))
	return &opts{add: []metric.AddOption{o}, rec: []metric.RecordOption{o}, obs: []metric.ObserveOption{o}}
}

// cache maps a key to its precomputed attribute set. Lookups read an
// immutable map without locking or allocating; a new key copies the map
// (keys are few: shards, event types, reasons).
type cache[K comparable] struct {
	m        atomic.Pointer[map[K]*opts]
	mu       sync.Mutex
	attrs    func(K) []attribute.KeyValue
	overflow *opts
}

func (c *cache[K]) init(attrs func(K) []attribute.KeyValue) { c.attrs = attrs }

func (c *cache[K]) setOverflow(kv []attribute.KeyValue) { c.overflow = newOpts(kv...) }

func (c *cache[K]) get(k K) *opts {
	if m := c.m.Load(); m != nil {
		if o, ok := (*m)[k]; ok {
			return o
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	if old != nil {
		if o, ok := (*old)[k]; ok {
			return o
		}
		if len(*old) >= MaxAttributeSets {
			return c.overflow
		}
	}
	n := make(map[K]*opts, 1+lenOf(old))
	if old != nil {
		for k, v := range *old {
			n[k] = v
		}
	}
	o := newOpts(c.attrs(k)...)
	n[k] = o
	c.m.Store(&n)
	return o
}

// each calls fn for every set, the overflow set included.
func (c *cache[K]) each(fn func(*opts)) {
	if m := c.m.Load(); m != nil {
		for _, o := range *m {
			fn(o)
		}
	}
	fn(c.overflow)
}

func lenOf[K comparable](m *map[K]*opts) int {
	if m == nil {
		return 0
	}
	return len(*m)
}
