package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/rtdskit/rtds/batch"
)

// fakeKinesis answers every PutRecords with success at once, so a benchmark
// measures a producer alone: from Put to the request the SDK would
// serialize. It serves both libraries: rtds's kinesis.ProducerAPI
// (PutRecords and ListShards) and a8m's producer.Putter (PutRecords), with
// the SDK's method signatures.
//
// Its stream has four shards. Each answer names the shard the entry's key
// maps to, as Kinesis would, so rtds sees no reshard.
//
// So that the fake allocates nothing, answers come from a ring of
// answerRing reused outputs, as kinesis's instantClient reuses one: an
// answer changes only after answerRing-1 later calls, while rtds has at
// most 8 requests in flight and a8m 24, and each reads its answer as soon
// as PutRecords returns. The race detector cannot see that, so under -race
// every answer is allocated instead.
type fakeKinesis struct {
	shards []sdktypes.Shard
	// countUsers makes PutRecords open aggregates to count user records
	// (tests only: it costs a deaggregation per entry).
	countUsers bool

	mu     sync.Mutex
	byKey  map[string]byte // partition key -> shard index
	byHash map[string]byte // explicit hash key -> shard index
	ring   [answerRing]sdkkinesis.PutRecordsOutput
	next   int

	requests atomic.Int64 // PutRecords calls
	entries  atomic.Int64 // PutRecords entries (Kinesis records)
	users    atomic.Int64 // user records, when countUsers
	badAggs  atomic.Int64 // entries that claimed to be aggregates but did not decode
}

const answerRing = 256

var (
	zero int32
	seq  = aws.String("49590338271490256608559692538361571095921575989136588898")
)

func newFakeKinesis(countUsers bool) *fakeKinesis {
	c := &fakeKinesis{
		countUsers: countUsers,
		byKey:      map[string]byte{},
		byHash:     map[string]byte{},
	}
	const step = 1 << 62
	for i := range 4 {
		start := batch.HashKey{Hi: uint64(i) * step}
		end := batch.HashKey{Hi: uint64(i+1)*step - 1, Lo: ^uint64(0)}
		c.shards = append(c.shards, sdktypes.Shard{
			ShardId:             aws.String(fmt.Sprintf("shardId-%012d", i)),
			HashKeyRange:        &sdktypes.HashKeyRange{StartingHashKey: aws.String(start.String()), EndingHashKey: aws.String(end.String())},
			SequenceNumberRange: &sdktypes.SequenceNumberRange{StartingSequenceNumber: aws.String("0")},
		})
	}
	return c
}

func (c *fakeKinesis) ListShards(ctx context.Context, in *sdkkinesis.ListShardsInput, _ ...func(*sdkkinesis.Options)) (*sdkkinesis.ListShardsOutput, error) {
	return &sdkkinesis.ListShardsOutput{Shards: c.shards}, nil
}

func (c *fakeKinesis) PutRecords(ctx context.Context, in *sdkkinesis.PutRecordsInput, _ ...func(*sdkkinesis.Options)) (*sdkkinesis.PutRecordsOutput, error) {
	c.mu.Lock()
	var out *sdkkinesis.PutRecordsOutput
	if raceEnabled {
		out = new(sdkkinesis.PutRecordsOutput)
	} else {
		out = &c.ring[c.next%answerRing]
		c.next++
	}
	out.FailedRecordCount = &zero
	out.Records = out.Records[:0]
	for i := range in.Records {
		s := c.shardLocked(&in.Records[i])
		out.Records = append(out.Records, sdktypes.PutRecordsResultEntry{SequenceNumber: seq, ShardId: c.shards[s].ShardId})
	}
	c.mu.Unlock()

	c.requests.Add(1)
	c.entries.Add(int64(len(in.Records)))
	if c.countUsers {
		for _, e := range in.Records {
			n := 0
			err := batch.DeaggregateFunc(batch.KinesisRecord{PartitionKey: aws.ToString(e.PartitionKey), Data: e.Data},
				func(batch.UserRecord) error { n++; return nil })
			if err != nil {
				c.badAggs.Add(1)
			}
			c.users.Add(int64(n))
		}
	}
	return out, nil
}

// shardLocked returns the index of e's shard, caching the hash of each key.
func (c *fakeKinesis) shardLocked(e *sdktypes.PutRecordsRequestEntry) byte {
	if e.ExplicitHashKey != nil {
		s, ok := c.byHash[*e.ExplicitHashKey]
		if !ok {
			h, _ := batch.ParseHashKey(*e.ExplicitHashKey)
			s = byte(h.Hi >> 62)
			c.byHash[strings.Clone(*e.ExplicitHashKey)] = s
		}
		return s
	}
	pk := aws.ToString(e.PartitionKey)
	s, ok := c.byKey[pk]
	if !ok {
		s = byte(batch.PartitionKeyHash(pk).Hi >> 62)
		c.byKey[strings.Clone(pk)] = s
	}
	return s
}
