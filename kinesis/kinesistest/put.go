package kinesistest

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
)

// Kinesis request limits enforced by the fake, as on AWS.
const (
	MaxPutRecordsEntries = 500
	MaxRecordSize        = 1 << 20 // data plus partition key, bytes
	MaxPutRecordsSize    = 5 << 20 // whole PutRecords request, bytes
	MaxPartitionKeyLen   = 256     // Unicode characters
)

// PutRecords stores records, each in the open shard whose hash key range
// holds its hash key (ExplicitHashKey, else the MD5 of PartitionKey as a
// 128-bit big-endian integer). Requests over the Kinesis limits (500
// entries, 1 MiB per record, 5 MiB per request, partition keys of 1-256
// characters) fail whole with a ValidationException. The fault hook can
// fail the call or single entries; see FaultFunc.
func (f *Fake) PutRecords(ctx context.Context, params *sdkkinesis.PutRecordsInput, optFns ...func(*sdkkinesis.Options)) (*sdkkinesis.PutRecordsOutput, error) {
	const op = OpPutRecords
	if err := f.begin(ctx, op); err != nil {
		return nil, err
	}
	if params == nil {
		params = &sdkkinesis.PutRecordsInput{}
	}
	keys, fault, err := f.validatePut(params)
	if err != nil {
		return nil, opError(op, err)
	}
	// Per-entry faults, decided without the lock (the hook may block).
	entryErrs := make([]error, len(keys))
	if fault != nil {
		for i := range keys {
			entryErrs[i] = fault(op, i)
		}
		if err := ctxErr(ctx, op); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.lookup(params.StreamName, params.StreamARN) // it may have changed meanwhile
	if err != nil {
		return nil, opError(op, err)
	}
	out := &sdkkinesis.PutRecordsOutput{
		Records:           make([]sdktypes.PutRecordsResultEntry, len(keys)),
		FailedRecordCount: aws.Int32(0),
		EncryptionType:    sdktypes.EncryptionTypeNone,
	}
	for i, e := range params.Records {
		if entryErrs[i] != nil {
			code, msg := entryError(entryErrs[i])
			out.Records[i] = sdktypes.PutRecordsResultEntry{ErrorCode: aws.String(code), ErrorMessage: aws.String(msg)}
			*out.FailedRecordCount++
			continue
		}
		sh := s.route(keys[i])
		if err := f.admit(s, sh, len(aws.ToString(e.PartitionKey))+len(e.Data)); err != nil {
			code, msg := entryError(err)
			out.Records[i] = sdktypes.PutRecordsResultEntry{ErrorCode: aws.String(code), ErrorMessage: aws.String(msg)}
			*out.FailedRecordCount++
			continue
		}
		seq := f.store(sh, aws.ToString(e.PartitionKey), aws.ToString(e.ExplicitHashKey), e.Data)
		out.Records[i] = sdktypes.PutRecordsResultEntry{ShardId: aws.String(sh.id), SequenceNumber: aws.String(seq)}
	}
	return out, nil
}

// validatePut checks a PutRecords request against the stream and the
// Kinesis limits and returns each entry's hash key and the fault hook.
func (f *Fake) validatePut(params *sdkkinesis.PutRecordsInput) ([]*big.Int, FaultFunc, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.lookup(params.StreamName, params.StreamARN); err != nil {
		return nil, nil, err
	}
	n := len(params.Records)
	if n < 1 || n > MaxPutRecordsEntries {
		return nil, nil, validation("1 validation error detected: Value at 'records' failed to satisfy constraint: Member must have length between 1 and %d, got %d", MaxPutRecordsEntries, n)
	}
	total := 0
	keys := make([]*big.Int, n)
	for i, e := range params.Records {
		pk := aws.ToString(e.PartitionKey)
		if err := checkRecord(pk, e.Data); err != nil {
			return nil, nil, err
		}
		total += len(pk) + len(e.Data)
		key, err := hashKey(pk, aws.ToString(e.ExplicitHashKey))
		if err != nil {
			return nil, nil, err
		}
		keys[i] = key
	}
	if total > MaxPutRecordsSize {
		return nil, nil, validation("PutRecords request of %d bytes exceeds the %d-byte limit", total, MaxPutRecordsSize)
	}
	return keys, f.fault, nil
}

// PutRecord stores one record like a one-entry PutRecords; the fault hook
// is consulted with entry == CallEntry only.
func (f *Fake) PutRecord(ctx context.Context, params *sdkkinesis.PutRecordInput, optFns ...func(*sdkkinesis.Options)) (*sdkkinesis.PutRecordOutput, error) {
	const op = OpPutRecord
	if err := f.begin(ctx, op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if params == nil {
		params = &sdkkinesis.PutRecordInput{}
	}
	s, err := f.lookup(params.StreamName, params.StreamARN)
	if err != nil {
		return nil, opError(op, err)
	}
	pk := aws.ToString(params.PartitionKey)
	if err := checkRecord(pk, params.Data); err != nil {
		return nil, opError(op, err)
	}
	key, err := hashKey(pk, aws.ToString(params.ExplicitHashKey))
	if err != nil {
		return nil, opError(op, err)
	}
	sh := s.route(key)
	if err := f.admit(s, sh, len(pk)+len(params.Data)); err != nil {
		return nil, opError(op, err)
	}
	seq := f.store(sh, pk, aws.ToString(params.ExplicitHashKey), params.Data)
	return &sdkkinesis.PutRecordOutput{
		ShardId:        aws.String(sh.id),
		SequenceNumber: aws.String(seq),
		EncryptionType: sdktypes.EncryptionTypeNone,
	}, nil
}

func checkRecord(pk string, data []byte) error {
	if n := utf8.RuneCountInString(pk); n < 1 || n > MaxPartitionKeyLen {
		return validation("1 validation error detected: Value at 'partitionKey' failed to satisfy constraint: Member must have length between 1 and %d, got %d", MaxPartitionKeyLen, n)
	}
	if size := len(pk) + len(data); size > MaxRecordSize {
		return validation("record of %d bytes (data plus partition key) exceeds the %d-byte limit", size, MaxRecordSize)
	}
	return nil
}

// admit counts a record of size bytes against sh's write limit for the
// current second, or returns the throttling error if it is over.
func (f *Fake) admit(s *stream, sh *shard, size int) error {
	if f.limitRecords <= 0 && f.limitBytes <= 0 {
		return nil
	}
	now := f.now().Truncate(time.Second)
	if !sh.window.Equal(now) {
		sh.window, sh.windowRecords, sh.windowBytes = now, 0, 0
	}
	if (f.limitRecords > 0 && sh.windowRecords+1 > f.limitRecords) || (f.limitBytes > 0 && sh.windowBytes+size > f.limitBytes) {
		return &sdktypes.ProvisionedThroughputExceededException{Message: aws.String(fmt.Sprintf(
			"Rate exceeded for shard %s in stream %s under account %s.", sh.id, s.name, AccountID))}
	}
	sh.windowRecords++
	sh.windowBytes += size
	return nil
}

// store appends a record to sh and returns its new sequence number.
func (f *Fake) store(sh *shard, pk, explicit string, data []byte) string {
	f.nextSeq++
	seq := seqString(f.nextSeq)
	sh.records = append(sh.records, stored{Record{
		ShardID:         sh.id,
		SequenceNumber:  seq,
		PartitionKey:    pk,
		ExplicitHashKey: explicit,
		Data:            append([]byte(nil), data...),
		ArrivalTime:     f.now(),
	}})
	return seq
}

// entryError maps a fault to a PutRecords result entry's code and message.
func entryError(err error) (code, msg string) {
	var api smithy.APIError
	if errors.As(err, &api) {
		code, msg = api.ErrorCode(), api.ErrorMessage()
	} else {
		code, msg = "InternalFailure", err.Error()
	}
	if msg == "" {
		msg = code
	}
	return code, msg
}
