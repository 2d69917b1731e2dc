package reliability

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"google.golang.org/protobuf/encoding/protowire"
)

// userRecord is one record read back, after KPL deaggregation.
type userRecord struct {
	Shard, Seq   string
	Sub          int // position inside an aggregated record, 0 for plain ones
	PartitionKey string
	Data         []byte
}

// readStream reads every record of stream straight from the emulator:
// every shard ListShards reports (closed parents and children), from
// TRIM_HORIZON to its end (a nil NextShardIterator) or its tip (an empty
// page with MillisBehindLatest 0), deaggregating KPL records.
func readStream(ctx context.Context, client *sdkkinesis.Client, stream string) ([]userRecord, error) {
	var shards []sdktypes.Shard
	in := &sdkkinesis.ListShardsInput{StreamName: aws.String(stream)}
	for {
		out, err := client.ListShards(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list shards: %w", err)
		}
		shards = append(shards, out.Shards...)
		if out.NextToken == nil {
			break
		}
		in = &sdkkinesis.ListShardsInput{NextToken: out.NextToken}
	}
	var all []userRecord
	for _, sh := range shards {
		it, err := client.GetShardIterator(ctx, &sdkkinesis.GetShardIteratorInput{
			StreamName: aws.String(stream), ShardId: sh.ShardId, ShardIteratorType: sdktypes.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			return nil, fmt.Errorf("iterator for %s: %w", aws.ToString(sh.ShardId), err)
		}
		next := it.ShardIterator
		for next != nil {
			out, err := client.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: next})
			if err != nil {
				return nil, fmt.Errorf("get records from %s: %w", aws.ToString(sh.ShardId), err)
			}
			for _, r := range out.Records {
				urs, err := deaggregate(aws.ToString(sh.ShardId), r)
				if err != nil {
					return nil, err
				}
				all = append(all, urs...)
			}
			if len(out.Records) == 0 && aws.ToInt64(out.MillisBehindLatest) == 0 {
				break
			}
			next = out.NextShardIterator
		}
	}
	return all, nil
}

// kplMagic starts every KPL aggregated record.
var kplMagic = []byte{0xf3, 0x89, 0x9a, 0xc2}

// deaggregate expands a KPL aggregated record into its user records, or
// returns a plain record as is. It is a small decoder independent of the
// library's, so the ground truth does not share the library's bugs. A
// record with the magic prefix but a bad checksum or body is an error: the
// suite's producers never write one.
func deaggregate(shard string, r sdktypes.Record) ([]userRecord, error) {
	seq := aws.ToString(r.SequenceNumber)
	plain := []userRecord{{Shard: shard, Seq: seq, PartitionKey: aws.ToString(r.PartitionKey), Data: r.Data}}
	if len(r.Data) < len(kplMagic)+md5.Size || !bytes.HasPrefix(r.Data, kplMagic) {
		return plain, nil
	}
	body := r.Data[len(kplMagic) : len(r.Data)-md5.Size]
	if sum := md5.Sum(body); !bytes.Equal(sum[:], r.Data[len(r.Data)-md5.Size:]) {
		return nil, fmt.Errorf("record %s: aggregated record with a bad MD5", seq)
	}
	var keys []string
	var datas [][]byte
	var pkIdx []uint64
	for len(body) > 0 {
		num, typ, n := protowire.ConsumeTag(body)
		if n < 0 {
			return nil, fmt.Errorf("record %s: %w", seq, protowire.ParseError(n))
		}
		body = body[n:]
		if typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, body)
			if n < 0 {
				return nil, fmt.Errorf("record %s: %w", seq, protowire.ParseError(n))
			}
			body = body[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(body)
		if n < 0 {
			return nil, fmt.Errorf("record %s: %w", seq, protowire.ParseError(n))
		}
		body = body[n:]
		switch num {
		case 1: // partition_key_table
			keys = append(keys, string(v))
		case 3: // records
			idx, data, err := decodeInner(v)
			if err != nil {
				return nil, fmt.Errorf("record %s: %w", seq, err)
			}
			pkIdx = append(pkIdx, idx)
			datas = append(datas, data)
		}
	}
	out := make([]userRecord, len(datas))
	for i := range datas {
		if pkIdx[i] >= uint64(len(keys)) {
			return nil, fmt.Errorf("record %s: partition key index %d out of range", seq, pkIdx[i])
		}
		out[i] = userRecord{Shard: shard, Seq: seq, Sub: i, PartitionKey: keys[pkIdx[i]], Data: datas[i]}
	}
	return out, nil
}

func decodeInner(b []byte) (pk uint64, data []byte, err error) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, nil, protowire.ParseError(n)
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return 0, nil, protowire.ParseError(n)
			}
			pk, b = v, b[n:]
		case num == 3 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return 0, nil, protowire.ParseError(n)
			}
			data, b = v, b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return 0, nil, protowire.ParseError(n)
			}
			b = b[n:]
		}
	}
	return pk, data, nil
}

// eventID returns the "id" of an event's JSON.
func eventID(data []byte) (string, error) {
	var v struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return "", err
	}
	if v.ID == "" {
		return "", errors.New("event without an id")
	}
	return v.ID, nil
}

// tally compares what a scenario sent with what it read back and what the
// producer reported failed.
type tally struct {
	Sent, Read, Unique, Lost, Duplicated, Failed, FailedButStored, Unexpected int
	LostIDs                                                                   []string // the first few
}

func (t tally) String() string {
	return fmt.Sprintf("sent=%d read=%d unique=%d lost=%d duplicated=%d failed=%d failed_but_stored=%d unexpected=%d",
		t.Sent, t.Read, t.Unique, t.Lost, t.Duplicated, t.Failed, t.FailedButStored, t.Unexpected)
}

func compare(sent []string, read []userRecord, failed []string) (tally, error) {
	t := tally{Sent: len(sent), Read: len(read), Failed: len(failed)}
	counts := make(map[string]int, len(read))
	for _, r := range read {
		id, err := eventID(r.Data)
		if err != nil {
			return t, fmt.Errorf("record %s/%d: %w", r.Seq, r.Sub, err)
		}
		counts[id]++
	}
	isSent := make(map[string]bool, len(sent))
	for _, id := range sent {
		isSent[id] = true
	}
	isFailed := make(map[string]bool, len(failed))
	for _, id := range failed {
		isFailed[id] = true
	}
	for id, n := range counts {
		if !isSent[id] {
			t.Unexpected++
			continue
		}
		t.Unique++
		t.Duplicated += n - 1
		if isFailed[id] {
			t.FailedButStored++
		}
	}
	for _, id := range sent {
		if counts[id] == 0 && !isFailed[id] {
			t.Lost++
			if len(t.LostIDs) < 10 {
				t.LostIDs = append(t.LostIDs, id)
			}
		}
	}
	slices.Sort(t.LostIDs)
	return t, nil
}

// readAndCompare reads stream back from the emulator and compares it with
// what was sent, logging the scenario's result line.
func readAndCompare(t *testing.T, client *sdkkinesis.Client, stream, scenario string, sent, failed []string) tally {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout)
	defer cancel()
	read, err := readStream(ctx, client, stream)
	if err != nil {
		t.Fatalf("ground truth: %v", err)
	}
	res, err := compare(sent, read, failed)
	if err != nil {
		t.Fatalf("ground truth: %v", err)
	}
	t.Logf("reliability: scenario=%s %s", scenario, res)
	if res.Lost > 0 {
		t.Errorf("%s: %d events lost, e.g. %s", scenario, res.Lost, strings.Join(res.LostIDs, ", "))
	}
	if res.Unexpected > 0 {
		t.Errorf("%s: %d events read back that were never sent", scenario, res.Unexpected)
	}
	return res
}
