package batch

import (
	"cmp"
	"fmt"
	"slices"
)

// ShardRange is one shard's hash key range, both ends inclusive, as
// ListShards returns it (parse the decimal strings with [ParseHashKey]).
type ShardRange struct {
	ShardID         string
	StartingHashKey HashKey
	EndingHashKey   HashKey
}

// ShardMap predicts which shard a record goes to, from the hash key ranges
// of a stream's open shards. It is immutable and safe for concurrent use.
// A map built before a reshard predicts the old shards; Kinesis still
// routes every record correctly, only the grouping is off until the map is
// rebuilt.
type ShardMap struct {
	ranges []ShardRange // sorted by StartingHashKey, disjoint
	ehk    []string     // StartingHashKey of each range, in decimal
}

// NewShardMap builds a map from shard ranges in any order. Ranges must not
// overlap and each must have StartingHashKey <= EndingHashKey; gaps are
// allowed (a hash key in a gap has no shard). Closed shards should be left
// out: their ranges overlap their children's.
func NewShardMap(ranges []ShardRange) (*ShardMap, error) {
	rs := slices.Clone(ranges)
	slices.SortFunc(rs, func(a, b ShardRange) int {
		return cmp.Or(a.StartingHashKey.Compare(b.StartingHashKey), cmp.Compare(a.ShardID, b.ShardID))
	})
	m := &ShardMap{ranges: rs, ehk: make([]string, len(rs))}
	for i, r := range rs {
		if r.StartingHashKey.Compare(r.EndingHashKey) > 0 {
			return nil, fmt.Errorf("batch: shard map: shard %s: starting hash key %s after ending hash key %s", r.ShardID, r.StartingHashKey, r.EndingHashKey)
		}
		if i > 0 && rs[i-1].EndingHashKey.Compare(r.StartingHashKey) >= 0 {
			return nil, fmt.Errorf("batch: shard map: shards %s and %s overlap", rs[i-1].ShardID, r.ShardID)
		}
		m.ehk[i] = r.StartingHashKey.String()
	}
	return m, nil
}

// Len returns the number of shards.
func (m *ShardMap) Len() int { return len(m.ranges) }

// Ranges returns the shards' ranges sorted by starting hash key.
func (m *ShardMap) Ranges() []ShardRange { return slices.Clone(m.ranges) }

// Index returns the position (in [ShardMap.Ranges] order) of the shard
// whose range contains k, or -1. It is a binary search and does not
// allocate.
func (m *ShardMap) Index(k HashKey) int {
	// First range whose end is >= k.
	i, _ := slices.BinarySearchFunc(m.ranges, k, func(r ShardRange, k HashKey) int {
		return r.EndingHashKey.Compare(k)
	})
	if i < len(m.ranges) && m.ranges[i].StartingHashKey.Compare(k) <= 0 {
		return i
	}
	return -1
}

// Lookup returns the shard whose range contains k.
func (m *ShardMap) Lookup(k HashKey) (ShardRange, bool) {
	i := m.Index(k)
	if i < 0 {
		return ShardRange{}, false
	}
	return m.ranges[i], true
}

// ExplicitHashKey returns an explicit hash key, in decimal, that routes a
// record to the i-th shard: its starting hash key. It does not allocate.
func (m *ShardMap) ExplicitHashKey(i int) string { return m.ehk[i] }

// RecordHashKey returns the hash key Kinesis routes r by: its explicit hash
// key if set, else the MD5 of its partition key. It fails only on an
// invalid explicit hash key.
func RecordHashKey(r Record) (HashKey, error) {
	if r.ExplicitHashKey != "" {
		return ParseHashKey(r.ExplicitHashKey)
	}
	return PartitionKeyHash(r.PartitionKey), nil
}

// ParseShardRange builds a ShardRange from a shard's ID and its hash key
// range as ListShards returns them (HashKeyRange.StartingHashKey and
// EndingHashKey, in decimal).
func ParseShardRange(shardID, startingHashKey, endingHashKey string) (ShardRange, error) {
	start, err := ParseHashKey(startingHashKey)
	if err != nil {
		return ShardRange{}, fmt.Errorf("batch: shard %s: starting hash key: %w", shardID, err)
	}
	end, err := ParseHashKey(endingHashKey)
	if err != nil {
		return ShardRange{}, fmt.Errorf("batch: shard %s: ending hash key: %w", shardID, err)
	}
	return ShardRange{ShardID: shardID, StartingHashKey: start, EndingHashKey: end}, nil
}
