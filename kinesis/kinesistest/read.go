package kinesistest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Read limits, as on AWS.
const (
	DefaultListShardsMax = 1000 // ListShards MaxResults when unset
	MaxListShardsMax     = 10000
	MaxGetRecordsLimit   = 10000    // GetRecords Limit when unset, and its maximum
	MaxGetRecordsBytes   = 10 << 20 // GetRecords returns at most this much data (at least one record)
)

// ListShards lists a stream's shards in ascending shard id order, with
// paging (MaxResults, NextToken; NextToken must not be combined with
// StreamName), ExclusiveStartShardId and ShardFilter (AFTER_SHARD_ID,
// AT_TRIM_HORIZON, FROM_TRIM_HORIZON, AT_LATEST, AT_TIMESTAMP,
// FROM_TIMESTAMP). The fake never trims records, so its trim horizon is the
// stream's creation.
func (f *Fake) ListShards(ctx context.Context, params *sdkkinesis.ListShardsInput, optFns ...func(*sdkkinesis.Options)) (*sdkkinesis.ListShardsOutput, error) {
	const op = OpListShards
	if err := f.begin(ctx, op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if params == nil {
		params = &sdkkinesis.ListShardsInput{}
	}
	var tok listToken
	if params.NextToken != nil {
		if params.StreamName != nil || params.ExclusiveStartShardId != nil || params.ShardFilter != nil {
			return nil, opError(op, invalidArg("NextToken cannot be combined with StreamName, ExclusiveStartShardId or ShardFilter"))
		}
		if err := decodeToken(*params.NextToken, &tok); err != nil {
			return nil, opError(op, invalidArg("invalid NextToken"))
		}
	} else {
		tok.Stream = aws.ToString(params.StreamName)
		if params.StreamARN != nil {
			tok.Stream = nameFromARN(*params.StreamARN)
		}
		tok.After = aws.ToString(params.ExclusiveStartShardId)
		if sf := params.ShardFilter; sf != nil {
			tok.Filter = sf.Type
			tok.FilterShard = aws.ToString(sf.ShardId)
			if sf.Timestamp != nil {
				tok.FilterTime = sf.Timestamp.UnixNano()
			}
			switch sf.Type {
			case sdktypes.ShardFilterTypeAfterShardId:
				if sf.ShardId == nil {
					return nil, opError(op, invalidArg("ShardFilter AFTER_SHARD_ID needs ShardId"))
				}
			case sdktypes.ShardFilterTypeAtTimestamp, sdktypes.ShardFilterTypeFromTimestamp:
				if sf.Timestamp == nil {
					return nil, opError(op, invalidArg("ShardFilter %s needs Timestamp", sf.Type))
				}
			case sdktypes.ShardFilterTypeAtTrimHorizon, sdktypes.ShardFilterTypeFromTrimHorizon, sdktypes.ShardFilterTypeAtLatest:
			default:
				return nil, opError(op, invalidArg("unknown ShardFilter type %q", sf.Type))
			}
		}
	}
	var s *stream
	var err error
	if params.NextToken != nil {
		s, err = f.lookup(&tok.Stream, nil)
		if err == nil && s.created.UnixNano() != tok.Created {
			err = &sdktypes.ExpiredNextTokenException{Message: aws.String("NextToken refers to a deleted stream")}
		}
	} else {
		s, err = f.lookup(params.StreamName, params.StreamARN)
		if s != nil {
			tok.Created = s.created.UnixNano()
		}
	}
	if err != nil {
		return nil, opError(op, err)
	}
	max := DefaultListShardsMax
	if params.MaxResults != nil {
		max = int(*params.MaxResults)
		if max < 1 || max > MaxListShardsMax {
			return nil, opError(op, invalidArg("MaxResults %d must be between 1 and %d", max, MaxListShardsMax))
		}
	}
	out := &sdkkinesis.ListShardsOutput{Shards: []sdktypes.Shard{}}
	for _, sh := range s.shards {
		if sh.id <= tok.After || !tok.matches(s, sh) {
			continue
		}
		if len(out.Shards) == max {
			next := tok
			next.After = aws.ToString(out.Shards[max-1].ShardId)
			out.NextToken = aws.String(encodeToken(next))
			break
		}
		out.Shards = append(out.Shards, sh.sdkShard())
	}
	return out, nil
}

type listToken struct {
	Stream      string                   `json:"s"`
	Created     int64                    `json:"c"`
	After       string                   `json:"a,omitempty"`
	Filter      sdktypes.ShardFilterType `json:"f,omitempty"`
	FilterShard string                   `json:"fs,omitempty"`
	FilterTime  int64                    `json:"ft,omitempty"`
}

func (t listToken) matches(s *stream, sh *shard) bool {
	openAt := func(ts time.Time) bool {
		return !sh.created.After(ts) && (sh.open() || sh.closed.After(ts))
	}
	switch t.Filter {
	case sdktypes.ShardFilterTypeAfterShardId:
		return sh.id > t.FilterShard
	case sdktypes.ShardFilterTypeAtTrimHorizon:
		return openAt(s.created)
	case sdktypes.ShardFilterTypeAtLatest:
		return sh.open()
	case sdktypes.ShardFilterTypeAtTimestamp:
		return openAt(time.Unix(0, t.FilterTime))
	case sdktypes.ShardFilterTypeFromTimestamp:
		return sh.open() || sh.closed.After(time.Unix(0, t.FilterTime))
	}
	return true // none, FROM_TRIM_HORIZON
}

// iterator is the state a shard iterator string encodes.
type iterator struct {
	Stream  string `json:"s"`
	Created int64  `json:"c"` // stream creation, to reject iterators of a deleted stream
	Shard   string `json:"h"`
	Pos     int    `json:"p"` // index of the next record in the shard
	Serial  uint64 `json:"n"`
	Issued  int64  `json:"t"`
}

func encodeToken(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func (f *Fake) issue(s *stream, sh *shard, pos int) string {
	it := iterator{Stream: s.name, Created: s.created.UnixNano(), Shard: sh.id, Pos: pos, Serial: f.nextIter, Issued: f.now().UnixNano()}
	f.nextIter++
	return encodeToken(it)
}

// GetShardIterator returns an iterator for TRIM_HORIZON, LATEST,
// AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER or AT_TIMESTAMP. A sequence
// number positions the iterator at the first record of the shard at (or
// after) it; a timestamp at the first record that arrived at or after it.
// Iterators expire after the iterator TTL (WithIteratorTTL) or when
// ExpireIterators is called.
func (f *Fake) GetShardIterator(ctx context.Context, params *sdkkinesis.GetShardIteratorInput, optFns ...func(*sdkkinesis.Options)) (*sdkkinesis.GetShardIteratorOutput, error) {
	const op = OpGetShardIterator
	if err := f.begin(ctx, op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if params == nil {
		params = &sdkkinesis.GetShardIteratorInput{}
	}
	s, err := f.lookup(params.StreamName, params.StreamARN)
	if err != nil {
		return nil, opError(op, err)
	}
	id := aws.ToString(params.ShardId)
	sh := s.shard(id)
	if sh == nil {
		return nil, opError(op, &sdktypes.ResourceNotFoundException{Message: aws.String("Shard " + id + " in stream " + s.name + " under account " + AccountID + " does not exist")})
	}
	var pos int
	switch params.ShardIteratorType {
	case sdktypes.ShardIteratorTypeTrimHorizon:
		pos = 0
	case sdktypes.ShardIteratorTypeLatest:
		pos = len(sh.records)
	case sdktypes.ShardIteratorTypeAtSequenceNumber, sdktypes.ShardIteratorTypeAfterSequenceNumber:
		seq, ok := normSeq(aws.ToString(params.StartingSequenceNumber))
		if !ok {
			return nil, opError(op, invalidArg("StartingSequenceNumber %q must be a decimal sequence number", aws.ToString(params.StartingSequenceNumber)))
		}
		after := params.ShardIteratorType == sdktypes.ShardIteratorTypeAfterSequenceNumber
		pos = len(sh.records)
		for i, r := range sh.records {
			if seqLess(seq, r.SequenceNumber) || (!after && seq == r.SequenceNumber) {
				pos = i
				break
			}
		}
	case sdktypes.ShardIteratorTypeAtTimestamp:
		if params.Timestamp == nil {
			return nil, opError(op, invalidArg("Timestamp is required for AT_TIMESTAMP"))
		}
		pos = len(sh.records)
		for i, r := range sh.records {
			if !r.ArrivalTime.Before(*params.Timestamp) {
				pos = i
				break
			}
		}
	default:
		return nil, opError(op, invalidArg("unknown ShardIteratorType %q", params.ShardIteratorType))
	}
	return &sdkkinesis.GetShardIteratorOutput{ShardIterator: aws.String(f.issue(s, sh, pos))}, nil
}

// GetRecords returns up to Limit records (default and maximum 10000, at
// most 10 MiB) from an iterator's position. At the end of a closed shard
// NextShardIterator is nil and ChildShards lists the shard's children.
// MillisBehindLatest is 0 when the response reaches the tip of the shard,
// else the age of the oldest record not yet returned.
func (f *Fake) GetRecords(ctx context.Context, params *sdkkinesis.GetRecordsInput, optFns ...func(*sdkkinesis.Options)) (*sdkkinesis.GetRecordsOutput, error) {
	const op = OpGetRecords
	if err := f.begin(ctx, op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if params == nil {
		params = &sdkkinesis.GetRecordsInput{}
	}
	limit := MaxGetRecordsLimit
	if params.Limit != nil {
		limit = int(*params.Limit)
		if limit < 1 || limit > MaxGetRecordsLimit {
			return nil, opError(op, invalidArg("Limit %d must be between 1 and %d", limit, MaxGetRecordsLimit))
		}
	}
	var it iterator
	if err := decodeToken(aws.ToString(params.ShardIterator), &it); err != nil || it.Stream == "" {
		return nil, opError(op, invalidArg("invalid ShardIterator"))
	}
	s := f.streams[it.Stream]
	if s == nil || s.created.UnixNano() != it.Created {
		return nil, opError(op, notFound(it.Stream))
	}
	sh := s.shard(it.Shard)
	if sh == nil || it.Pos < 0 || it.Pos > len(sh.records) {
		return nil, opError(op, invalidArg("invalid ShardIterator"))
	}
	now := f.now()
	if it.Serial < f.expireBefore || now.Sub(time.Unix(0, it.Issued)) > f.iteratorTTL {
		return nil, opError(op, &sdktypes.ExpiredIteratorException{Message: aws.String("Iterator expired. The iterator was created at time " + time.Unix(0, it.Issued).UTC().Format(time.RFC3339Nano) + " while right now it is " + now.UTC().Format(time.RFC3339Nano) + " which is further in the future than the tolerated delay")})
	}
	out := &sdkkinesis.GetRecordsOutput{Records: []sdktypes.Record{}}
	pos, size := it.Pos, 0
	for pos < len(sh.records) && len(out.Records) < limit {
		r := sh.records[pos]
		size += len(r.Data) + len(r.PartitionKey)
		if size > MaxGetRecordsBytes && len(out.Records) > 0 {
			break
		}
		out.Records = append(out.Records, sdktypes.Record{
			Data:                        append([]byte(nil), r.Data...),
			PartitionKey:                aws.String(r.PartitionKey),
			SequenceNumber:              aws.String(r.SequenceNumber),
			ApproximateArrivalTimestamp: aws.Time(r.ArrivalTime),
		})
		pos++
	}
	behind := int64(0)
	if pos < len(sh.records) {
		behind = max(now.Sub(sh.records[pos].ArrivalTime).Milliseconds(), 0)
	}
	out.MillisBehindLatest = aws.Int64(behind)
	if !sh.open() && pos == len(sh.records) {
		out.ChildShards = s.childShards(sh)
		return out, nil
	}
	out.NextShardIterator = aws.String(f.issue(s, sh, pos))
	return out, nil
}
