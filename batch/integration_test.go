package batch_test

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/rtdskit/rtds/batch"
	"github.com/rtdskit/rtds/internal/testenv"
)

// TestKinesisRoundTrip puts per-shard aggregates and plain records into a
// 4-shard stream on kinesis-local through a Batcher, and checks that
// Kinesis puts every record on the shard the ShardMap predicted, and that
// reading the shards back and deaggregating returns every user record, in
// order per key, on the shard its key hashes to.
func TestKinesisRoundTrip(t *testing.T) {
	client, _ := testenv.KinesisLocal(t)
	ctx := t.Context()
	name, _ := testenv.CreateStream(t, client, 4)

	shards, err := client.ListShards(ctx, &sdkkinesis.ListShardsInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	var ranges []batch.ShardRange
	for _, s := range shards.Shards {
		r, err := batch.ParseShardRange(aws.ToString(s.ShardId), aws.ToString(s.HashKeyRange.StartingHashKey), aws.ToString(s.HashKeyRange.EndingHashKey))
		if err != nil {
			t.Fatal(err)
		}
		ranges = append(ranges, r)
	}
	m, err := batch.NewShardMap(ranges)
	if err != nil {
		t.Fatal(err)
	}
	predict := func(r batch.Record) string {
		h, err := batch.RecordHashKey(r)
		if err != nil {
			t.Fatal(err)
		}
		s, ok := m.Lookup(h)
		if !ok {
			t.Fatalf("no shard for %s", h)
		}
		return s.ShardID
	}

	var putErrs []error
	puts := 0
	limits := batch.DefaultLimits()
	requests, err := batch.NewBatcher(limits.Size, func(req []batch.Record) {
		in := &sdkkinesis.PutRecordsInput{StreamName: aws.String(name)}
		for _, r := range req {
			e := sdktypes.PutRecordsRequestEntry{PartitionKey: aws.String(r.PartitionKey), Data: r.Data}
			if r.ExplicitHashKey != "" {
				e.ExplicitHashKey = aws.String(r.ExplicitHashKey)
			}
			in.Records = append(in.Records, e)
		}
		out, err := client.PutRecords(ctx, in)
		if err != nil {
			putErrs = append(putErrs, err)
			return
		}
		for i, res := range out.Records {
			if res.ErrorCode != nil {
				putErrs = append(putErrs, fmt.Errorf("entry %d: %s", i, aws.ToString(res.ErrorMessage)))
				continue
			}
			if got, want := aws.ToString(res.ShardId), predict(req[i]); got != want {
				putErrs = append(putErrs, fmt.Errorf("entry %d (key %q, hash key %q) went to %s, predicted %s", i, req[i].PartitionKey, req[i].ExplicitHashKey, got, want))
			}
			puts++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	agg, err := batch.NewShardAggregator(m, batch.WithMaxAggregateBytes(8192))
	if err != nil {
		t.Fatal(err)
	}
	emit := func(k batch.Record) error {
		k.Data = bytes.Clone(k.Data)
		return requests.Add(k)
	}
	var in []batch.Record
	for i := range 800 {
		r := batch.Record{PartitionKey: "channel-" + strconv.Itoa(i%97), Data: fmt.Appendf(nil, `{"id":"%d","pad":"%0*d"}`, i, i%300, 0)}
		if i%10 == 0 {
			// Plain records, routed by their own partition key.
			if err := requests.Add(r); err != nil {
				t.Fatal(err)
			}
		} else if err := agg.Add(r, emit); err != nil {
			t.Fatal(err)
		}
		in = append(in, r)
	}
	if err := agg.Flush(emit); err != nil {
		t.Fatal(err)
	}
	requests.Close()
	for _, err := range putErrs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}

	// Read every shard back.
	got := map[string][]string{}
	n := 0
	for _, s := range ranges {
		it, err := client.GetShardIterator(ctx, &sdkkinesis.GetShardIteratorInput{
			StreamName: aws.String(name), ShardId: aws.String(s.ShardID), ShardIteratorType: sdktypes.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			t.Fatal(err)
		}
		iter := it.ShardIterator
		for empty := 0; iter != nil && empty < 2; {
			out, err := client.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Records) == 0 {
				empty++
			}
			for _, kr := range out.Records {
				users, err := batch.Deaggregate(batch.KinesisRecord{
					SequenceNumber: aws.ToString(kr.SequenceNumber), PartitionKey: aws.ToString(kr.PartitionKey), Data: kr.Data,
				})
				if err != nil {
					t.Fatal(err)
				}
				for _, u := range users {
					if sh := predict(batch.Record{PartitionKey: u.PartitionKey}); sh != s.ShardID {
						t.Errorf("user record of key %s (shard %s) read from %s", u.PartitionKey, sh, s.ShardID)
					}
					got[u.PartitionKey] = append(got[u.PartitionKey], string(u.Data))
					n++
				}
			}
			iter = out.NextShardIterator
		}
	}
	if n != len(in) {
		t.Fatalf("read %d user records, put %d", n, len(in))
	}
	// Every record is read back once. Per key, aggregated records keep
	// their order; plain ones were put earlier than the aggregates around
	// them (they skip the aggregator), so only their presence is checked.
	plain := map[string]bool{}
	wantAgg := map[string][]string{}
	for i, r := range in {
		if i%10 == 0 {
			plain[string(r.Data)] = true
		} else {
			wantAgg[r.PartitionKey] = append(wantAgg[r.PartitionKey], string(r.Data))
		}
	}
	for key, q := range got {
		var agg []string
		for _, d := range q {
			if plain[d] {
				delete(plain, d)
			} else {
				agg = append(agg, d)
			}
		}
		if fmt.Sprint(agg) != fmt.Sprint(wantAgg[key]) {
			t.Errorf("key %s: aggregated records read back as %q, want %q", key, agg, wantAgg[key])
		}
	}
	if len(plain) != 0 {
		t.Errorf("%d plain records not read back", len(plain))
	}
	if puts == 0 {
		t.Fatal("nothing was put")
	}
}
