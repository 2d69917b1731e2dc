package kinesis

import (
	"fmt"

	"github.com/rtdskit/rtds/batch"
)

// aggRecordOverhead bounds the bytes one user record adds to an aggregate
// beyond its data and partition key (protobuf tags, lengths and indexes):
// at most 15 with batch.Aggregator's encoding, for records up to 10 MiB.
const aggRecordOverhead = 24

// aggHeader bounds an aggregate's bytes beyond its records, not counting
// its partition key: batch.Magic and the MD5 trailer.
const aggHeader = 4 + 16 + 48

// encodeAggregate appends u's records to dst as one KPL aggregated record
// built by a (the request's batch.Aggregator, reused). The user records
// carry no explicit hash key: the Kinesis record's own explicit hash key
// routes the aggregate to the shard its records' keys hash to.
//
// The dispatcher bounds each aggregate's size from above before taking its
// records, and Put validated their keys with the same rules, so Add cannot
// fail; if it ever did, the unit's records are failed with the error rather
// than sent incomplete.
func encodeAggregate(a *batch.Aggregator, dst []byte, u *unit) ([]byte, error) {
	a.Reset()
	for i := range u.recs {
		r := &u.recs[i]
		if err := a.Add(batch.Record{PartitionKey: r.pk, Data: r.data}); err != nil {
			return dst, fmt.Errorf("kinesis: aggregating record %d of %d: %w", i, len(u.recs), err)
		}
	}
	return a.AppendTo(dst), nil
}
