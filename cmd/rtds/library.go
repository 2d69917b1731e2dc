package main

// This file holds rtds put's use of the kinesis package's producer API, so a
// change of that API is adapted here (tail's consumer use is in tail.go's
// startConsumer and idle.go).

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rtdskit/rtds/batch"
	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis"
)

type partitionKeyFn = func(event.Event) string

func partitionKeyFunc(name string) (partitionKeyFn, bool) {
	switch name {
	case "channel":
		return kinesis.PartitionKeyChannel, true
	case "id":
		return kinesis.PartitionKeyEventID, true
	case "named_user":
		return kinesis.PartitionKeyNamedUser, true
	}
	return nil, false
}

// rawPartitionKeyFn is a partition key function on the keys event.PeekKeys
// finds: rtds put keys lines without decoding them.
type rawPartitionKeyFn = func(event.Keys) string

// rawPartitionKeyFunc is partitionKeyFunc's equivalent for put: the same
// key as the kinesis.PartitionKey* function of that name gives on the
// decoded event (TestRawPartitionKeyFuncs).
func rawPartitionKeyFunc(name string) (rawPartitionKeyFn, bool) {
	channel := func(k event.Keys) string {
		if k.ChannelID != "" {
			return k.ChannelID
		}
		return k.ID
	}
	switch name {
	case "channel":
		return channel, true
	case "id":
		return func(k event.Keys) string { return k.ID }, true
	case "named_user":
		return func(k event.Keys) string {
			if k.NamedUserID != "" {
				return k.NamedUserID
			}
			return channel(k)
		}, true
	}
	return nil, false
}

// putStats are the producer's counters put reports.
type putStats struct {
	records, delivered, failed, retried, requests, kinesisRecords int64
}

// putProducer is what rtds put needs of a producer.
type putProducer interface {
	put(ctx context.Context, pk string, data []byte) error
	close(ctx context.Context) error
	stats() putStats
}

type kinesisProducer struct{ p *kinesis.Producer }

func (k kinesisProducer) put(ctx context.Context, pk string, data []byte) error {
	return k.p.Put(ctx, pk, data)
}

func (k kinesisProducer) close(ctx context.Context) error { return k.p.Close(ctx) }

func (k kinesisProducer) stats() putStats {
	st := k.p.Stats()
	return putStats{records: st.Records, delivered: st.Delivered, failed: st.Failed, retried: st.Retried,
		requests: st.Requests, kinesisRecords: st.KinesisRecords}
}

// newPutProducer is the producer of rtds put: retries without an attempt
// limit and, unless ttl is set, without a TTL (the SDK client itself does
// not retry: newAWS); outcomes and retries go to r.
func newPutProducer(aw *awsSetup, stream string, aggregate bool, ttl time.Duration, r *putRun) (putProducer, error) {
	if ttl == 0 {
		ttl = noTTL
	}
	opts := []kinesis.ProducerOption{
		kinesis.WithAggregation(aggregate),
		kinesis.WithRecordTTL(ttl),
		kinesis.WithLogger(aw.log),
		kinesis.WithHooks(putHooks{r}),
		kinesis.WithResultHandler(func(res kinesis.Result) { r.result(res.Data, res.Err) }),
	}
	opts = append(opts, r.env.putOptions...)
	p, err := kinesis.NewProducer(aw.client, stream, opts...)
	if err != nil {
		return nil, err
	}
	return kinesisProducer{p}, nil
}

// putHooks passes the producer's retries and successful requests to put's
// progress line.
type putHooks struct{ r *putRun }

func (h putHooks) OnPutRetried(m kinesis.PutRetryMetrics) { h.r.retried(m.Err) }

func (h putHooks) OnPutBatch(m kinesis.PutBatchMetrics) {
	if m.Err == nil && m.Failed == 0 {
		h.r.succeeded()
	}
}

func isRecordTooLarge(err error) bool { return errors.Is(err, batch.ErrRecordTooLarge) }

// describeRecordError is a record's failure as one line: the cause, and
// whether its TTL passed.
func describeRecordError(err error) error {
	attempts := 0
	var re *kinesis.RecordError
	if errors.As(err, &re) {
		attempts = re.Attempts
	}
	cause := errorCause(err)
	if errors.Is(err, kinesis.ErrRecordExpired) {
		return fmt.Errorf("--ttl passed after %s: %v", plural(int64(attempts), "attempt"), cause)
	}
	if attempts > 0 {
		return fmt.Errorf("%v (%s)", cause, plural(int64(attempts), "attempt"))
	}
	return cause
}
