package main

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/rtdskit/rtds/batch"
	"github.com/rtdskit/rtds/event"
)

// maxRecordBytes is Kinesis's limit on a record: data plus partition key.
const maxRecordBytes = 1 << 20

// shards is how many shards every stream of the benchmark has.
const shards = 4

// counter counts the HTTP requests of a client by operation (the
// X-Amz-Target header's operation name). It sits under the SDK, so it sees
// every request whatever codec or middleware the library installs.
type counter struct {
	base http.RoundTripper
	mu   sync.Mutex
	n    map[string]int64
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	op := r.Header.Get("X-Amz-Target")
	if i := strings.LastIndexByte(op, '.'); i >= 0 {
		op = op[i+1:]
	}
	c.mu.Lock()
	c.n[op]++
	c.mu.Unlock()
	return c.base.RoundTrip(r)
}

func (c *counter) counts() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.n)
}

// newClient is a Kinesis client for endpoint with static credentials and no
// shared configuration, counting its requests in the returned counter.
func newClient(endpoint string) (*sdkkinesis.Client, *counter) {
	c := &counter{base: &http.Transport{
		MaxIdleConns:        64,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
	}, n: map[string]int64{}}
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: aws.CredentialsProviderFunc(staticCreds),
		HTTPClient:  &http.Client{Transport: c},
	}
	client := sdkkinesis.NewFromConfig(cfg, func(o *sdkkinesis.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	})
	return client, c
}

func staticCreds(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "AKIDBENCH", SecretAccessKey: "secret", Source: "bench"}, nil
}

// createStream creates a stream of 4 shards and waits until it is ACTIVE.
func createStream(ctx context.Context, c *sdkkinesis.Client, name string) error {
	_, err := c.CreateStream(ctx, &sdkkinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)})
	if err != nil {
		return fmt.Errorf("creating stream %s: %w", name, err)
	}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		out, err := c.DescribeStreamSummary(ctx, &sdkkinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err == nil && out.StreamDescriptionSummary.StreamStatus == sdktypes.StreamStatusActive {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("stream %s not ACTIVE after a minute", name)
}

// deleteStream deletes a stream (kinesalite keeps streams in memory).
func deleteStream(ctx context.Context, c *sdkkinesis.Client, name string) {
	_, _ = c.DeleteStream(ctx, &sdkkinesis.DeleteStreamInput{StreamName: aws.String(name), EnforceConsumerDeletion: aws.Bool(true)})
}

// idHash is the 64-bit FNV-1a hash of an event id, without allocating: the
// sets of events are compared by these (a collision among 200,000 ids has a
// chance of ~1e-9).
func idHash(id string) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= prime
	}
	return h
}

// streamCheck is what reading a stream back found.
type streamCheck struct {
	Records     int64 // Kinesis records
	UserRecords int64 // user records (events)
	Bytes       int64 // data plus partition key of every Kinesis record
	MaxRecord   int64 // the largest Kinesis record, data plus key
	OverLimit   int64 // Kinesis records over 1 MiB, data plus key
	KeyMismatch int64 // user records whose key is not their event's channel id
	BadRecords  int64 // user records that are not events, or aggregates that do not open
	ids         []uint64
}

// readBack reads every record of stream from the trim horizon (the parent
// does this after a producer, outside the measured process) and checks it.
func readBack(ctx context.Context, c *sdkkinesis.Client, stream string) (*streamCheck, error) {
	ls, err := c.ListShards(ctx, &sdkkinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		return nil, err
	}
	sc := &streamCheck{}
	for _, sh := range ls.Shards {
		it, err := c.GetShardIterator(ctx, &sdkkinesis.GetShardIteratorInput{
			StreamName: aws.String(stream), ShardId: sh.ShardId, ShardIteratorType: sdktypes.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			return nil, err
		}
		iter := it.ShardIterator
		for iter != nil {
			out, err := c.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
			if err != nil {
				return nil, err
			}
			for _, r := range out.Records {
				sc.add(r)
			}
			iter = out.NextShardIterator
			if len(out.Records) == 0 && aws.ToInt64(out.MillisBehindLatest) == 0 {
				break
			}
		}
	}
	return sc, nil
}

func (sc *streamCheck) add(r sdktypes.Record) {
	size := int64(len(r.Data) + len(aws.ToString(r.PartitionKey)))
	sc.Records++
	sc.Bytes += size
	sc.MaxRecord = max(sc.MaxRecord, size)
	if size > maxRecordBytes {
		sc.OverLimit++
	}
	urs, err := batch.Deaggregate(batch.KinesisRecord{
		SequenceNumber: aws.ToString(r.SequenceNumber), PartitionKey: aws.ToString(r.PartitionKey), Data: r.Data,
	})
	if err != nil {
		sc.BadRecords++
		return
	}
	for _, ur := range urs {
		sc.UserRecords++
		e, err := event.Decode(ur.Data)
		if err != nil {
			sc.BadRecords++
			continue
		}
		sc.ids = append(sc.ids, idHash(e.Base().ID))
		if ur.PartitionKey != e.Base().ChannelID() {
			sc.KeyMismatch++
		}
	}
}

// setCheck compares the ids read (hashes, any order) with the ids expected
// (sorted): how many expected were missing and how many read were not
// expected or read more than once.
type setCheck struct {
	Read       int64
	Missing    int64
	Duplicates int64
	Unexpected int64
}

func (s setCheck) exact(n int) bool {
	return s.Read == int64(n) && s.Missing == 0 && s.Duplicates == 0 && s.Unexpected == 0
}

func compareIDs(want []uint64, got []uint64) setCheck {
	got = slices.Clone(got)
	slices.Sort(got)
	sc := setCheck{Read: int64(len(got))}
	i, j := 0, 0
	for i < len(want) || j < len(got) {
		switch {
		case j < len(got) && j > 0 && got[j] == got[j-1]:
			sc.Duplicates++
			j++
		case i < len(want) && (j == len(got) || want[i] < got[j]):
			sc.Missing++
			i++
		case i == len(want) || got[j] < want[i]:
			sc.Unexpected++
			j++
		default:
			i++
			j++
		}
	}
	return sc
}
