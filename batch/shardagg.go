package batch

// ShardAggregator aggregates user records per predicted shard: records
// whose hash keys fall in the same shard of a [ShardMap] share an
// aggregate, whose explicit hash key (the shard's starting hash key)
// routes it to that shard. Without a shard map, or for a hash key outside
// every range, records are aggregated per partition key (and explicit hash
// key), and the aggregate is routed like its records.
//
// Each user record keeps its own partition key and explicit hash key
// inside the aggregate. Within a shard (or key), records are emitted in
// the order they were added. A record too large to aggregate is emitted on
// its own, after the aggregate before it.
//
// A ShardAggregator is not safe for concurrent use.
type ShardAggregator struct {
	cfg      aggConfig
	shards   *ShardMap
	byShard  []*Aggregator
	byKey    map[groupKey]*Aggregator
	keyOrder []groupKey
	free     []*Aggregator
	n        int
}

type groupKey struct{ pk, ehk string }

// NewShardAggregator returns a ShardAggregator for shards, which may be
// nil to aggregate by partition key.
func NewShardAggregator(shards *ShardMap, opts ...AggregatorOption) (*ShardAggregator, error) {
	cfg, err := newAggConfig(opts)
	if err != nil {
		return nil, err
	}
	s := &ShardAggregator{cfg: cfg, shards: shards, byKey: map[groupKey]*Aggregator{}}
	if shards != nil {
		s.byShard = make([]*Aggregator, shards.Len())
	}
	return s, nil
}

// Len returns the number of user records buffered in open aggregates.
func (s *ShardAggregator) Len() int { return s.n }

// Add adds r to its shard's aggregate. It first emits that aggregate if r
// does not fit in it, and emits r on its own if r is too large for any
// aggregate. An invalid record ([Limits.Validate] under the configured
// record limits) is rejected with a [*LimitError] and nothing is emitted.
// The emitted Record's Data is valid only during the emit call. If emit
// fails, the error is returned, r is not added and the aggregate stays
// open: nothing is lost.
func (s *ShardAggregator) Add(r Record, emit func(Record) error) error {
	if err := s.cfg.limits.Validate(r); err != nil {
		return err
	}
	a, ehk := s.group(r)
	if a.n > 0 {
		if ok, _ := a.add(r, false, false); ok {
			s.n++
			return nil
		}
		if err := emit(a.Build()); err != nil {
			return err
		}
		s.n -= a.n
		a.Reset()
	}
	if ok, _ := a.add(r, false, false); ok {
		a.ehk = ehk
		s.n++
		return nil
	}
	// Too large to aggregate. Data that starts with the magic bytes would
	// be read as a (bad) aggregate, so it cannot go on its own either.
	if IsAggregate(r.Data) {
		return &LimitError{Limit: "record bytes", Size: r.Size(), Max: s.cfg.maxBytes, Err: ErrRecordTooLarge}
	}
	return emit(r)
}

// group returns r's aggregate and the explicit hash key routing it.
func (s *ShardAggregator) group(r Record) (*Aggregator, string) {
	if s.shards != nil {
		h, _ := RecordHashKey(r) // r is valid
		if i := s.shards.Index(h); i >= 0 {
			if s.byShard[i] == nil {
				s.byShard[i] = s.newAggregator()
			}
			return s.byShard[i], s.shards.ExplicitHashKey(i)
		}
	}
	k := groupKey{r.PartitionKey, r.ExplicitHashKey}
	a := s.byKey[k]
	if a == nil {
		a = s.newAggregator()
		s.byKey[k] = a
		s.keyOrder = append(s.keyOrder, k)
	}
	return a, r.ExplicitHashKey
}

func (s *ShardAggregator) newAggregator() *Aggregator {
	if n := len(s.free); n > 0 {
		a := s.free[n-1]
		s.free = s.free[:n-1]
		return a
	}
	return newAggregator(s.cfg)
}

// Flush emits every open aggregate, in shard order and then in order of
// first use of each partition key, and empties them. If emit fails, Flush
// stops and returns the error; the aggregates not yet emitted stay open.
func (s *ShardAggregator) Flush(emit func(Record) error) error {
	for _, a := range s.byShard {
		if a == nil || a.n == 0 {
			continue
		}
		if err := emit(a.Build()); err != nil {
			return err
		}
		s.n -= a.n
		a.Reset()
	}
	for i, k := range s.keyOrder {
		a := s.byKey[k]
		if a.n > 0 {
			if err := emit(a.Build()); err != nil {
				s.keyOrder = s.keyOrder[:copy(s.keyOrder, s.keyOrder[i:])]
				return err
			}
			s.n -= a.n
			a.Reset()
		}
		delete(s.byKey, k)
		s.free = append(s.free, a)
	}
	clear(s.keyOrder)
	s.keyOrder = s.keyOrder[:0]
	return nil
}
