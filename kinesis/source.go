package kinesis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"golang.org/x/time/rate"
)

// recordSource is where a shardReader gets its records from: GetRecords
// polling (pollSource) or an enhanced fan-out subscription (fanOutSource).
// Everything after the fetch (process, acknowledgements, checkpoints, dead
// letters, the shard's end) is the reader's, shared by both.
type recordSource interface {
	// next returns the next batch of records of the shard, in order. It
	// returns nil, nil when runCtx is done first, and an error that stops
	// the shard (the reader wraps it in a *ShardError).
	next(runCtx, drainCtx context.Context) (*fetched, error)
	// close releases what the source holds (a subscription's stream).
	close()
}

// fetched is one batch of records from a recordSource.
type fetched struct {
	records []sdktypes.Record
	behind  int64         // MillisBehindLatest
	latency time.Duration // of the call or the wait for the event
	// ahead estimates how long until the next batch (see checkpointDue).
	ahead time.Duration
	// ended: the shard was read to its end; children are its child shards
	// when the service named them.
	ended    bool
	children []sdktypes.ChildShard
	// after is a fan-out event's continuation sequence number: the shard
	// holds no record up to it that was not in this or an earlier batch.
	after string
}

func (r *shardReader) newSource() recordSource {
	if r.c.cfg.fanOutName != "" {
		return newFanOutSource(r)
	}
	return &pollSource{
		r:       r,
		limiter: rate.NewLimiter(rate.Limit(r.c.cfg.getRecordsRate), 1),
		policy:  DefaultCallRetry.Start(),
	}
}

// passed moves the shard's position to the continuation sequence number
// seq of a fan-out event when that is past the last processed record: an
// idle shard's checkpoint then names where its subscription was, so a
// restart or the next owner of its lease resumes exactly there (instead of
// at a start time, or at the KCL's LATEST sentinel). A record at seq itself
// is never delivered after it (the next subscription starts
// AFTER_SEQUENCE_NUMBER), so the position is complete at sub-sequence 0.
func (r *shardReader) passed(seq string) {
	if !validSequenceNumber(seq) || r.processed && compareSequenceNumbers(seq, r.pos.SequenceNumber) <= 0 {
		return
	}
	pos := Checkpoint{SequenceNumber: seq}
	r.acks.complete(pos)
	r.pos, r.processed = pos, true
}

// pollSource reads a shard with GetShardIterator and GetRecords, at most
// WithGetRecordsRate calls per second, waiting WithIdleWait after an empty
// batch at the tip of the shard.
type pollSource struct {
	r       *shardReader
	iter    *string
	limiter *rate.Limiter
	policy  *Retrier
	idle    bool // the last batch was empty at the tip
}

func (s *pollSource) close() {}

func (s *pollSource) next(runCtx, drainCtx context.Context) (*fetched, error) {
	r, c := s.r, s.r.c
	if s.iter == nil {
		iter, err := r.acquire(runCtx, drainCtx)
		if err != nil {
			return nil, err
		}
		s.iter = iter
	}
	if s.idle {
		s.idle = false
		if !sleepCtx(runCtx, c.cfg.idleWait) {
			return nil, nil
		}
	}
	for runCtx.Err() == nil {
		if err := s.limiter.Wait(runCtx); err != nil {
			return nil, nil
		}
		start := time.Now()
		out, err := c.client.GetRecords(drainCtx, &sdkkinesis.GetRecordsInput{
			ShardIterator: s.iter,
			Limit:         aws.Int32(r.limit()),
			StreamARN:     c.streamARN,
		}, c.cfg.getRecordsOpts()...)
		if err != nil {
			if runCtx.Err() != nil {
				return nil, nil
			}
			var expired *sdktypes.ExpiredIteratorException
			if errors.As(err, &expired) {
				for _, h := range c.hooks.reset {
					h.OnIteratorReset(IteratorResetMetrics{ShardID: r.id, Reason: ResetExpired, From: r.pos})
				}
				c.log.Warn("kinesis: shard iterator expired; acquiring a new one", "shard", r.id, "after", r.pos.SequenceNumber)
				if s.iter, err = r.acquire(runCtx, drainCtx); err != nil {
					return nil, err
				}
				continue
			}
			retry, throttle := classify(err)
			if !retry {
				return nil, fmt.Errorf("get records: %w", err)
			}
			d, _ := s.policy.Next()
			if throttle {
				c.hooks.readThrottled(ReadThrottleMetrics{ShardID: r.id, Op: OpGetRecords, Delay: d, Err: err})
				c.log.Debug("kinesis: GetRecords throttled", "shard", r.id, "delay", d)
			} else {
				c.log.Warn("kinesis: GetRecords failed, retrying", "shard", r.id, "delay", d, "err", err)
			}
			sleepCtx(runCtx, d)
			continue
		}
		s.policy.Reset()
		if runCtx.Err() != nil {
			return nil, nil // stopping: the records fetched are read again later
		}
		latency := time.Since(start)
		b := &fetched{
			records:  out.Records,
			behind:   aws.ToInt64(out.MillisBehindLatest),
			latency:  latency,
			ended:    out.NextShardIterator == nil,
			children: out.ChildShards,
		}
		s.iter = out.NextShardIterator
		s.idle = len(out.Records) == 0 && b.behind == 0 && c.cfg.idleWait > 0
		b.ahead = r.nextRecordIn(latency, s.idle)
		return b, nil
	}
	return nil, nil
}
