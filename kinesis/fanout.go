package kinesis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/schemas"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go/transport/http/protocol/awsjson"
	"golang.org/x/time/rate"

	"github.com/rtdskit/rtds/kinesis/internal/wire"
)

// FanOutAPI is what a Consumer calls with WithEnhancedFanOut, besides
// ConsumerAPI: a *sdkkinesis.Client has all of it.
type FanOutAPI interface {
	DescribeStreamSummary(ctx context.Context, params *sdkkinesis.DescribeStreamSummaryInput, optFns ...func(*sdkkinesis.Options)) (*sdkkinesis.DescribeStreamSummaryOutput, error)
	RegisterStreamConsumer(ctx context.Context, params *sdkkinesis.RegisterStreamConsumerInput, optFns ...func(*sdkkinesis.Options)) (*sdkkinesis.RegisterStreamConsumerOutput, error)
	DescribeStreamConsumer(ctx context.Context, params *sdkkinesis.DescribeStreamConsumerInput, optFns ...func(*sdkkinesis.Options)) (*sdkkinesis.DescribeStreamConsumerOutput, error)
	DeregisterStreamConsumer(ctx context.Context, params *sdkkinesis.DeregisterStreamConsumerInput, optFns ...func(*sdkkinesis.Options)) (*sdkkinesis.DeregisterStreamConsumerOutput, error)
	SubscribeToShard(ctx context.Context, params *sdkkinesis.SubscribeToShardInput, optFns ...func(*sdkkinesis.Options)) (*sdkkinesis.SubscribeToShardOutput, error)
}

var _ FanOutAPI = (*sdkkinesis.Client)(nil)

// fanOutRenewal is when a subscription is renewed: before the service
// ends it at 5 minutes, so the renewal happens on this side's schedule.
const fanOutRenewal = 4*time.Minute + 30*time.Second

// fanOutActiveRetry paces the DescribeStreamConsumer polls while a
// registered consumer becomes ACTIVE, and the retries of throttled
// registration calls (the SDK has no waiter for it).
var fanOutActiveRetry = Retry{InitialInterval: 250 * time.Millisecond, MaxInterval: 2 * time.Second, Multiplier: 1.5, Jitter: 0.3}

// WithEnhancedFanOut reads the stream with enhanced fan-out
// (SubscribeToShard) as the stream consumer named consumerName: each
// shard pushes its records to this application at up to 2 MiB/s of its
// own, about every 70 ms, instead of sharing 2 MiB/s and 5 GetRecords
// calls per second with every other polling application. Handlers,
// acknowledgements, checkpoints, leases, resharding (parents first) and
// dead letters work exactly as with polling; WithGetRecordsLimit,
// WithGetRecordsRate and WithIdleWait do not apply.
//
// The client must also implement FanOutAPI (a *sdkkinesis.Client does).
// Run registers the stream consumer, or reuses it when it exists
// (DescribeStreamConsumer first; ResourceInUseException on register means
// another worker registered it meanwhile), and waits until it is ACTIVE,
// polling with jittered backoff. With WithFanOutDeregister, Run
// deregisters it when it returns. Workers of one application (WithLeases)
// use the same consumer name; different applications use different names.
//
// Each shard's subscription is renewed before the service ends it at 5
// minutes and after any error, from the last continuation sequence number
// (AFTER_SEQUENCE_NUMBER), at most once per second per shard, so no record
// is delivered twice or skipped across renewals. ResourceInUseException
// (another subscription to the shard within 5 s: a previous incarnation of
// this worker, or another worker using the same consumer name),
// LimitExceededException and errors delivered inside the event stream are
// retried with backoff. An idle shard's checkpoint follows the
// continuation sequence number of the empty events the service sends every
// few seconds, so an idle shard that changes hands resumes exactly where
// it was. (Such a position need not be a record's: a polling consumer of
// the same application resuming from it, without WithEnhancedFanOut,
// reports an iterator reset with ResetTrimmed though nothing was lost.) At the end of a closed shard, the last event names the child
// shards; should a subscription to a closed shard stay open past its last
// record (kinesis-local does), one GetRecords call after an empty event
// confirms the end once ListShards shows the shard closed. A
// ResourceNotFoundException (the stream consumer was deregistered) stops
// Run with a *ShardError.
//
// The SDK client's HTTP transport must keep HTTP/2 (the SDK's default
// transport does), and its http.Client.Timeout, if any, must be longer
// than 5 minutes: the timeout covers the whole response body, which is
// the subscription. consumerName is 1 to 128 characters of a-z, A-Z,
// 0-9, '_', '.', '-'.
func WithEnhancedFanOut(consumerName string) ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) {
		if !validConsumerName(consumerName) {
			c.setErr(fmt.Errorf("kinesis: invalid stream consumer name %q (1 to 128 characters of a-z, A-Z, 0-9, '_', '.', '-')", consumerName))
			return
		}
		c.fanOutName = consumerName
	})
}

// WithFanOutDeregister makes Run deregister the WithEnhancedFanOut stream
// consumer when it returns. Use it for a consumer name used by one worker
// alone (a tail, a test): deregistering ends the subscriptions of every
// worker using the name. By default the consumer stays registered (AWS
// bills registered consumers by the hour).
func WithFanOutDeregister() ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) { c.fanOutDeregister = true })
}

func validConsumerName(s string) bool {
	if len(s) < 1 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_' || ch == '.' || ch == '-') {
			return false
		}
	}
	return true
}

// registerFanOut returns the ARN of the stream consumer, registering it
// if needed, once it is ACTIVE.
func (c *Consumer) registerFanOut(runCtx, callCtx context.Context) (string, error) {
	api := c.client.(FanOutAPI)
	streamARN := aws.ToString(c.streamARN)
	if streamARN == "" {
		var out *sdkkinesis.DescribeStreamSummaryOutput
		err := retryCall(runCtx, c, "", OpRegisterStreamConsumer, func() error {
			var err error
			out, err = api.DescribeStreamSummary(callCtx, &sdkkinesis.DescribeStreamSummaryInput{StreamName: c.streamName})
			return err
		})
		if err != nil {
			return "", errorf("stream %s: describe stream: %w", c.stream, err)
		}
		streamARN = aws.ToString(out.StreamDescriptionSummary.StreamARN)
	}
	name := aws.String(c.cfg.fanOutName)
	policy := fanOutActiveRetry.Start()
	registered := false
	for {
		out, err := api.DescribeStreamConsumer(callCtx, &sdkkinesis.DescribeStreamConsumerInput{StreamARN: aws.String(streamARN), ConsumerName: name})
		var notFound *sdktypes.ResourceNotFoundException
		switch {
		case err == nil && out.ConsumerDescription.ConsumerStatus == sdktypes.ConsumerStatusActive:
			arn := aws.ToString(out.ConsumerDescription.ConsumerARN)
			c.log.Info("kinesis: enhanced fan-out consumer active", "stream", c.stream, "consumer", c.cfg.fanOutName, "arn", arn)
			return arn, nil
		case errors.As(err, &notFound) && !registered:
			_, rerr := api.RegisterStreamConsumer(callCtx, &sdkkinesis.RegisterStreamConsumerInput{StreamARN: aws.String(streamARN), ConsumerName: name})
			var inUse *sdktypes.ResourceInUseException
			switch {
			case rerr == nil || errors.As(rerr, &inUse): // in use: another worker registered it
				registered = true
				c.log.Info("kinesis: enhanced fan-out consumer registered", "stream", c.stream, "consumer", c.cfg.fanOutName)
				continue
			default:
				if retry, _ := classify(rerr); !retry || runCtx.Err() != nil {
					return "", errorf("stream %s: register stream consumer %s: %w", c.stream, c.cfg.fanOutName, rerr)
				}
				err = rerr
			}
		case err != nil && !errors.As(err, &notFound):
			if retry, _ := classify(err); !retry || runCtx.Err() != nil {
				return "", errorf("stream %s: describe stream consumer %s: %w", c.stream, c.cfg.fanOutName, err)
			}
		}
		// CREATING, DELETING (registered again once gone), a consumer
		// not visible yet, or a throttled call.
		if err == nil && out.ConsumerDescription.ConsumerStatus == sdktypes.ConsumerStatusDeleting {
			registered = false
		}
		d, _ := policy.Next()
		if err != nil {
			if _, throttle := classify(err); throttle {
				c.hooks.readThrottled(ReadThrottleMetrics{Op: OpRegisterStreamConsumer, Delay: d, Err: err})
			}
		}
		if !sleepCtx(runCtx, d) {
			return "", errorf("stream %s: waiting for stream consumer %s to become ACTIVE: %w", c.stream, c.cfg.fanOutName, context.Cause(runCtx))
		}
	}
}

// deregisterFanOut deregisters the stream consumer (WithFanOutDeregister).
func (c *Consumer) deregisterFanOut(ctx context.Context, arn string) error {
	api := c.client.(FanOutAPI)
	_, err := api.DeregisterStreamConsumer(ctx, &sdkkinesis.DeregisterStreamConsumerInput{ConsumerARN: aws.String(arn)})
	var notFound *sdktypes.ResourceNotFoundException
	if err != nil && !errors.As(err, &notFound) {
		return errorf("stream %s: deregister stream consumer %s: %w", c.stream, c.cfg.fanOutName, err)
	}
	c.log.Info("kinesis: enhanced fan-out consumer deregistered", "stream", c.stream, "consumer", c.cfg.fanOutName)
	return nil
}

// fanOutSource reads a shard through SubscribeToShard subscriptions,
// renewed from the last continuation sequence number.
type fanOutSource struct {
	r       *shardReader
	api     FanOutAPI
	stream  *sdkkinesis.SubscribeToShardEventStream
	cancel  context.CancelFunc // the subscription's request context
	renewAt time.Time          // when the subscription is renewed
	// after is the last continuation sequence number: the next
	// subscription starts AFTER_SEQUENCE_NUMBER there.
	after string
	// fromStart: the first subscription of a shard without a checkpoint
	// starts at the configured position (after storeStart).
	fromStart bool
	// trimHorizon: the checkpoint's records are gone (see acquire).
	trimHorizon bool
	limiter     *rate.Limiter // at most one subscription per second
	policy      *Retrier
	lastEvent   time.Time
	probed      time.Time // the last probeEnd
}

// probeEvery bounds how often probeEnd calls GetRecords.
const probeEvery = time.Second

func newFanOutSource(r *shardReader) *fanOutSource {
	return &fanOutSource{
		r:       r,
		api:     r.c.client.(FanOutAPI),
		limiter: rate.NewLimiter(1, 1),
		policy:  DefaultCallRetry.Start(),
	}
}

// close ends the subscription: always, or the SDK's reader goroutine
// leaks.
func (s *fanOutSource) close() {
	if s.stream != nil {
		_ = s.stream.Close()
		s.stream = nil
	}
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
}

// position is where the next subscription starts: after the last
// continuation, at the last processed record (process skips what was
// handled), at the stored start time, or at the configured position.
func (s *fanOutSource) position(runCtx, callCtx context.Context) (*sdktypes.StartingPosition, error) {
	r := s.r
	switch {
	case s.trimHorizon:
		return &sdktypes.StartingPosition{Type: sdktypes.ShardIteratorTypeTrimHorizon}, nil
	case s.after != "":
		return &sdktypes.StartingPosition{Type: sdktypes.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: aws.String(s.after)}, nil
	case r.processed:
		return &sdktypes.StartingPosition{Type: sdktypes.ShardIteratorTypeAtSequenceNumber, SequenceNumber: aws.String(r.pos.SequenceNumber)}, nil
	case !r.pos.Timestamp.IsZero() && !s.fromStart:
		return &sdktypes.StartingPosition{Type: sdktypes.ShardIteratorTypeAtTimestamp, Timestamp: aws.Time(r.pos.Timestamp)}, nil
	}
	if !s.fromStart {
		if err := r.storeStart(runCtx, callCtx); err != nil {
			return nil, err
		}
		s.fromStart = true
	}
	p := &sdktypes.StartingPosition{Type: r.start.typ}
	if r.start.typ == sdktypes.ShardIteratorTypeAtTimestamp {
		p.Timestamp = aws.Time(r.pos.Timestamp)
	}
	return p, nil
}

// ownCodec gives a subscription a protocol of its own. The SDK's default
// protocol (service/kinesis v1.56.13, smithy-go v1.28.9) keeps one event
// stream decoder and payload buffer per client, which every subscription
// of the client then shares from its own reader goroutine: concurrent
// subscriptions race on it (the race detector reports it, and one
// subscription's decode can overwrite the payload another is reading). A
// protocol per subscription gives each stream its own decoder. A protocol
// the user set is kept, and so is the fast wire codec's wrapper (of a new
// SDK protocol).
func ownCodec(o *sdkkinesis.Options) {
	switch p := o.Protocol.(type) {
	case *awsjson.Protocol:
		o.Protocol = awsjson.New11(schemas.Kinesis_20131202)
	case *wire.Protocol:
		if _, ok := p.Inner().(*awsjson.Protocol); ok {
			o.Protocol = wire.Wrap(awsjson.New11(schemas.Kinesis_20131202))
		}
	}
}

// subscribe opens a subscription, retrying. It returns with s.stream nil
// when runCtx is done first.
func (s *fanOutSource) subscribe(runCtx, drainCtx context.Context) error {
	r, c := s.r, s.r.c
	for {
		if err := s.limiter.Wait(runCtx); err != nil {
			return nil
		}
		pos, err := s.position(runCtx, drainCtx)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithCancel(drainCtx)
		out, err := s.api.SubscribeToShard(ctx, &sdkkinesis.SubscribeToShardInput{
			ConsumerARN:      aws.String(c.fanOutARN),
			ShardId:          aws.String(r.id),
			StartingPosition: pos,
		}, ownCodec)
		if err == nil {
			s.stream, s.cancel = out.GetStream(), cancel
			s.renewAt = time.Now().Add(c.cfg.fanOutRenew)
			s.lastEvent = time.Now()
			s.fromStart = false
			c.log.Debug("kinesis: subscribed to shard", "shard", r.id, "from", pos.Type, "seq", aws.ToString(pos.SequenceNumber))
			return nil
		}
		cancel()
		if runCtx.Err() != nil {
			return nil
		}
		var invalid *sdktypes.InvalidArgumentException
		var notFound *sdktypes.ResourceNotFoundException
		if pos.Type == sdktypes.ShardIteratorTypeAtSequenceNumber && (errors.As(err, &invalid) || errors.As(err, &notFound)) {
			// The checkpoint's record is gone, as in acquire.
			r.trimmed()
			s.trimHorizon = true
			continue
		}
		if !s.retry(runCtx, err) {
			return fmt.Errorf("subscribe to shard: %w", err)
		}
	}
}

// retry waits before the next subscription after err, and reports false
// when err is not worth retrying. Another subscription to the shard
// (ResourceInUseException: at most one per consumer and shard, and
// a new one within 5 s of the last is refused) and LimitExceededException
// are retried.
func (s *fanOutSource) retry(runCtx context.Context, err error) bool {
	r, c := s.r, s.r.c
	var inUse *sdktypes.ResourceInUseException
	var limit *sdktypes.LimitExceededException
	retry, throttle := classify(err)
	if errors.As(err, &inUse) || errors.As(err, &limit) {
		retry, throttle = true, true
	}
	if !retry {
		return false
	}
	d, _ := s.policy.Next()
	if throttle {
		c.hooks.readThrottled(ReadThrottleMetrics{ShardID: r.id, Op: OpSubscribeToShard, Delay: d, Err: err})
	}
	c.log.Warn("kinesis: subscription failed, renewing", "shard", r.id, "delay", d, "err", err)
	sleepCtx(runCtx, d)
	return true
}

func (s *fanOutSource) next(runCtx, drainCtx context.Context) (*fetched, error) {
	r, c := s.r, s.r.c
	for runCtx.Err() == nil {
		if s.stream == nil {
			if err := s.subscribe(runCtx, drainCtx); err != nil {
				return nil, err
			}
			if s.stream == nil {
				return nil, nil
			}
		}
		timer := time.NewTimer(time.Until(s.renewAt))
		var ev sdktypes.SubscribeToShardEventStream
		var ok bool
		select {
		case <-runCtx.Done():
			timer.Stop()
			return nil, nil
		case <-timer.C:
			c.log.Debug("kinesis: renewing subscription", "shard", r.id, "after", s.after)
			s.close()
			continue
		case ev, ok = <-s.stream.Events():
			timer.Stop()
		}
		if !ok {
			// The subscription ended: normally at 5 minutes (Err is nil),
			// or with an error delivered inside the stream.
			err := s.stream.Err()
			s.close()
			if runCtx.Err() != nil {
				return nil, nil
			}
			if err != nil && !s.retry(runCtx, err) {
				return nil, fmt.Errorf("subscription: %w", err)
			}
			continue
		}
		e, isEvent := ev.(*sdktypes.SubscribeToShardEventStreamMemberSubscribeToShardEvent)
		if !isEvent {
			c.log.Debug("kinesis: unknown event in subscription", "shard", r.id, "event", fmt.Sprintf("%T", ev))
			continue
		}
		s.policy.Reset()
		v := e.Value
		now := time.Now()
		b := &fetched{
			records: v.Records,
			behind:  aws.ToInt64(v.MillisBehindLatest),
			latency: now.Sub(s.lastEvent),
			ahead:   now.Sub(s.lastEvent),
		}
		s.lastEvent = now
		if v.ContinuationSequenceNumber == nil {
			b.ended, b.children = true, v.ChildShards
			s.close()
		} else if len(v.Records) == 0 && s.r.closed.Load() && now.Sub(s.probed) >= probeEvery {
			s.probed = now
			if ended, children := s.probeEnd(runCtx, drainCtx, aws.ToString(v.ContinuationSequenceNumber)); ended {
				b.ended, b.children = true, children
				s.close()
				return b, nil
			}
		}
		if !b.ended {
			s.after, b.after = aws.ToString(v.ContinuationSequenceNumber), aws.ToString(v.ContinuationSequenceNumber)
			s.trimHorizon = false
		}
		return b, nil
	}
	return nil, nil
}

// probeEnd reports whether a closed shard was read to its end, with its
// child shards, by reading after the continuation sequence number after
// with GetRecords: nothing, and no next iterator. AWS ends the
// subscription of a closed shard with an event without a continuation
// (and with the child shards); a service that keeps it open past the last
// record (kinesis-local) is caught here. Called only for an empty event on
// a shard ListShards showed closed, at most once per probeEvery.
func (s *fanOutSource) probeEnd(runCtx, drainCtx context.Context, after string) (bool, []sdktypes.ChildShard) {
	r, c := s.r, s.r.c
	in := &sdkkinesis.GetShardIteratorInput{
		ShardId: aws.String(r.id), StreamName: c.streamName, StreamARN: c.streamARN,
		ShardIteratorType: sdktypes.ShardIteratorTypeAfterSequenceNumber, StartingSequenceNumber: aws.String(after),
	}
	if after == "" || s.trimHorizon {
		in.ShardIteratorType, in.StartingSequenceNumber = sdktypes.ShardIteratorTypeTrimHorizon, nil
	}
	it, err := c.client.GetShardIterator(drainCtx, in)
	if err != nil {
		c.log.Debug("kinesis: probing the end of a closed shard failed", "shard", r.id, "err", err)
		return false, nil
	}
	out, err := c.client.GetRecords(drainCtx, &sdkkinesis.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: aws.Int32(1), StreamARN: c.streamARN}, c.cfg.getRecordsOpts()...)
	if err != nil || runCtx.Err() != nil {
		return false, nil
	}
	return len(out.Records) == 0 && out.NextShardIterator == nil, out.ChildShards
}
