package kinesis

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/rtdskit/rtds/batch"
	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

// collector gathers Results; it is a WithResultHandler function.
type collector struct {
	mu      sync.Mutex
	results []Result
}

func (c *collector) handle(r Result) {
	c.mu.Lock()
	c.results = append(c.results, r)
	c.mu.Unlock()
}

func (c *collector) snapshot() []Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.results)
}

// tally splits results into delivered and failed, and checks that no
// record got two outcomes (records are identified by their data).
func (c *collector) tally(t *testing.T) (delivered, failed map[string]Result) {
	t.Helper()
	delivered, failed = map[string]Result{}, map[string]Result{}
	for _, r := range c.snapshot() {
		id := string(r.Data)
		if _, dup := delivered[id]; dup {
			t.Errorf("record %s: two outcomes", id)
		}
		if _, dup := failed[id]; dup {
			t.Errorf("record %s: two outcomes", id)
		}
		if r.Err == nil {
			if r.ShardID == "" || r.SequenceNumber == "" {
				t.Errorf("record %s delivered without shard id or sequence number: %+v", id, r)
			}
			delivered[id] = r
		} else {
			failed[id] = r
		}
	}
	return delivered, failed
}

// storedRecord is a record as a consumer sees it after deaggregation.
type storedRecord struct {
	ShardID, Seq, PartitionKey string
	Data                       string
}

// readAggregate expands a Kinesis record with batch.Deaggregate, which
// fails on a record that has the KPL magic but does not decode (bad MD5,
// truncated protobuf, index out of range), so a malformed aggregate fails
// the test instead of passing as plain data. TestProducerAggregatesReadByNodeKPL
// checks the encoding against an independent implementation as well.
func readAggregate(t testing.TB, shardID string, r sdktypes.Record) []storedRecord {
	t.Helper()
	urs, err := batch.Deaggregate(batch.KinesisRecord{SequenceNumber: aws.ToString(r.SequenceNumber),
		PartitionKey: aws.ToString(r.PartitionKey), Data: r.Data})
	if err != nil {
		t.Fatalf("deaggregate %s: %v", aws.ToString(r.SequenceNumber), err)
	}
	us := make([]storedRecord, 0, len(urs))
	for _, u := range urs {
		us = append(us, storedRecord{shardID, u.SequenceNumber, u.PartitionKey, string(u.Data)})
	}
	return us
}

// fakeRecords reads back what the fake stored, deaggregated, in stream
// order per shard.
func fakeRecords(t testing.TB, f *kinesistest.Fake, stream string) []storedRecord {
	t.Helper()
	var out []storedRecord
	for _, r := range f.Records(stream) {
		out = append(out, readAggregate(t, r.ShardID, sdktypes.Record{Data: r.Data,
			PartitionKey: aws.String(r.PartitionKey), SequenceNumber: aws.String(r.SequenceNumber)})...)
	}
	return out
}

// payload is record i's data: "<key>/<index>", so order per key and
// duplicates can be checked from the data alone.
func payload(key string, i int) []byte { return []byte(fmt.Sprintf("%s/%06d", key, i)) }

// checkStream asserts that the stream holds exactly the records in want
// (data), each once, and that per partition key they appear in Put order
// (payload indexes increase per key within each shard's stream order).
func checkStream(t *testing.T, got []storedRecord, want map[string]bool, ordered bool) {
	t.Helper()
	seen := map[string]int{}
	last := map[string]string{}
	for _, r := range got {
		seen[r.Data]++
		if !want[r.Data] {
			t.Errorf("unexpected record %q in the stream", r.Data)
		}
		key := r.PartitionKey
		if prev, ok := last[key]; ordered && ok && prev > r.Data {
			t.Errorf("key %s: %q after %q: out of Put order", key, r.Data, prev)
		}
		last[key] = r.Data
	}
	missing := 0
	for d := range want {
		switch seen[d] {
		case 0:
			missing++
		case 1:
		default:
			t.Errorf("record %q stored %d times", d, seen[d])
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d records missing from the stream", missing, len(want))
	}
}

func keyOf(data string) string { return data[:strings.IndexByte(data, '/')] }

// fakeAtShardLimits is a fake stream "s" of shards shards, each accepting
// Kinesis's 1,000 records/s and 1 MiB/s and throttling the rest.
func fakeAtShardLimits(shards int) *kinesistest.Fake {
	return kinesistest.New(kinesistest.WithStream("s", shards),
		kinesistest.WithShardWriteLimit(kinesistest.ShardRecordsPerSecond, kinesistest.ShardBytesPerSecond))
}

// fastPutRetry retries after 1 to 4 ms, so fault tests stay quick.
var fastPutRetry = Retry{InitialInterval: time.Millisecond, MaxInterval: 4 * time.Millisecond, Multiplier: 2, Jitter: 0.5}

// batchLimits returns batch.DefaultLimits() changed by set.
func batchLimits(set func(*batch.Limits)) batch.Limits {
	l := batch.DefaultLimits()
	set(&l)
	return l
}
