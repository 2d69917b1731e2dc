package batch_test

import (
	"bytes"
	"crypto/md5"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/awslabs/kinesis-aggregation/go/v2/deaggregator"
	awsrecords "github.com/awslabs/kinesis-aggregation/go/v2/records"
	"github.com/golang/protobuf/proto"

	"github.com/rtdskit/rtds/batch"
)

// crossRecords returns record sets covering many and repeated keys,
// explicit hash keys, empty data, non-ASCII keys and a single record.
func crossRecords() [][]batch.Record {
	rng := rand.New(rand.NewPCG(11, 12))
	var sets [][]batch.Record
	sets = append(sets,
		[]batch.Record{{PartitionKey: "only", Data: []byte("one record")}},
		[]batch.Record{{PartitionKey: "é-ключ-鍵", Data: []byte{}}, {PartitionKey: "x", ExplicitHashKey: "340282366920938463463374607431768211455", Data: []byte{0}}},
	)
	for _, shape := range []struct{ n, keys, data int }{{10, 1, 50}, {50, 50, 20}, {200, 7, 100}, {30, 30, 400}} {
		var rs []batch.Record
		for range shape.n {
			r := batch.Record{PartitionKey: "channel-" + strconv.Itoa(rng.IntN(shape.keys)), Data: make([]byte, rng.IntN(shape.data+1))}
			for j := range r.Data {
				r.Data[j] = byte(rng.Uint32())
			}
			if rng.IntN(3) == 0 {
				r.ExplicitHashKey = batch.HashKey{Hi: rng.Uint64(), Lo: rng.Uint64()}.String()
			}
			rs = append(rs, r)
		}
		sets = append(sets, rs)
	}
	return sets
}

func aggregate(t *testing.T, recs []batch.Record) batch.Record {
	t.Helper()
	a, err := batch.NewAggregator(batch.WithMaxAggregateBytes(1 << 20))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := a.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	b := a.Build()
	b.Data = bytes.Clone(b.Data)
	return b
}

// awsAggregate encodes recs with the generated code of
// github.com/awslabs/kinesis-aggregation/go/v2/records, deduplicating keys
// in order of first appearance like the KPL.
func awsAggregate(recs []batch.Record) ([]byte, error) {
	var m awsrecords.AggregatedRecord
	pks, ehks := map[string]uint64{}, map[string]uint64{}
	for _, r := range recs {
		i, ok := pks[r.PartitionKey]
		if !ok {
			i = uint64(len(m.PartitionKeyTable))
			pks[r.PartitionKey] = i
			m.PartitionKeyTable = append(m.PartitionKeyTable, r.PartitionKey)
		}
		rec := &awsrecords.Record{PartitionKeyIndex: proto.Uint64(i), Data: r.Data}
		if r.ExplicitHashKey != "" {
			j, ok := ehks[r.ExplicitHashKey]
			if !ok {
				j = uint64(len(m.ExplicitHashKeyTable))
				ehks[r.ExplicitHashKey] = j
				m.ExplicitHashKeyTable = append(m.ExplicitHashKeyTable, r.ExplicitHashKey)
			}
			rec.ExplicitHashKeyIndex = proto.Uint64(j)
		}
		m.Records = append(m.Records, rec)
	}
	pb, err := proto.Marshal(&m)
	if err != nil {
		return nil, err
	}
	sum := md5.Sum(pb)
	return bytes.Join([][]byte{batch.Magic[:], pb, sum[:]}, nil), nil
}

// TestCrossCheckAWSLabsGo checks both directions against the Go module
// github.com/awslabs/kinesis-aggregation/go/v2: our aggregates are byte
// for byte its generated code's encoding and its deaggregator reads them;
// we read its encoding.
func TestCrossCheckAWSLabsGo(t *testing.T) {
	for i, recs := range crossRecords() {
		t.Run(fmt.Sprintf("set %d (%d records)", i, len(recs)), func(t *testing.T) {
			ours := aggregate(t, recs)
			theirs, err := awsAggregate(recs)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ours.Data, theirs) {
				t.Fatalf("aggregates differ:\n ours   %x\n theirs %x", ours.Data, theirs)
			}

			// Ours read by theirs. Their deaggregator keeps only partition
			// key and data.
			out, err := deaggregator.DeaggregateRecords([]sdktypes.Record{{
				Data: ours.Data, PartitionKey: aws.String(ours.PartitionKey), SequenceNumber: aws.String("49590338271490256608559692538361571095921575989136588898"),
			}})
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != len(recs) {
				t.Fatalf("their deaggregator read %d records, want %d", len(out), len(recs))
			}
			for j, r := range out {
				if aws.ToString(r.PartitionKey) != recs[j].PartitionKey || !bytes.Equal(r.Data, recs[j].Data) {
					t.Fatalf("record %d: theirs read %q %x, want %q %x", j, aws.ToString(r.PartitionKey), r.Data, recs[j].PartitionKey, recs[j].Data)
				}
			}

			// Theirs read by ours.
			got, err := batch.Deaggregate(batch.KinesisRecord{SequenceNumber: "1", PartitionKey: recs[0].PartitionKey, Data: theirs})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(recs) {
				t.Fatalf("read %d records, want %d", len(got), len(recs))
			}
			for j, u := range got {
				w := recs[j]
				if u.PartitionKey != w.PartitionKey || u.ExplicitHashKey != w.ExplicitHashKey || !bytes.Equal(u.Data, w.Data) || u.SubSequenceNumber != uint64(j) {
					t.Fatalf("record %d = %+v, want %+v", j, u, w)
				}
			}
		})
	}
}

// TestCrossCheckAWSLabsGoBadMD5 documents the difference that matters: the
// awslabs deaggregator passes an aggregate with a wrong MD5 through as one
// plain record (its bytes would reach a handler as data); Deaggregate
// reports it.
func TestCrossCheckAWSLabsGoBadMD5(t *testing.T) {
	agg := aggregate(t, []batch.Record{{PartitionKey: "a", Data: []byte("1")}, {PartitionKey: "b", Data: []byte("2")}})
	agg.Data[len(agg.Data)-1] ^= 0xff
	out, err := deaggregator.DeaggregateRecords([]sdktypes.Record{{Data: agg.Data, PartitionKey: aws.String("a"), SequenceNumber: aws.String("7")}})
	if err != nil {
		t.Fatalf("awslabs deaggregator: %v", err)
	}
	if len(out) != 1 || !bytes.Equal(out[0].Data, agg.Data) {
		t.Fatalf("awslabs deaggregator returned %d records; it was expected to pass the bad aggregate through as one", len(out))
	}
	_, err = batch.Deaggregate(batch.KinesisRecord{SequenceNumber: "7", PartitionKey: "a", Data: agg.Data})
	var de *batch.DeaggregationError
	if !errors.Is(err, batch.ErrBadAggregate) || !errors.As(err, &de) || de.SequenceNumber != "7" {
		t.Fatalf("Deaggregate of a bad MD5: %v, want a DeaggregationError for sequence number 7", err)
	}
}
