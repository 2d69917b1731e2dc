package kinesislambda

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/rtdskit/rtds/kinesis"
)

// Condition says why records went to the on-failure destination, with the
// values Lambda uses in requestContext.condition.
type Condition string

// The conditions of a Failure.
const (
	// RetryAttemptsExhausted: the records kept failing after
	// MaximumRetryAttempts retries.
	RetryAttemptsExhausted Condition = "RetryAttemptsExhausted"
	// RecordAgeExceeded: the records were older than
	// MaximumRecordAgeInSeconds when they were about to be (re)invoked.
	RecordAgeExceeded Condition = "RecordAgeExceeded"
)

// Failure is what Serve gives the on-failure callback (WithOnFailure): the
// records it gave up on, as Lambda describes them to an on-failure
// destination (shard and sequence number range), plus the records
// themselves, which the real service does not send.
type Failure struct {
	Condition           Condition
	ShardID             string
	StartSequenceNumber string
	EndSequenceNumber   string
	// ApproximateArrivalOfFirstRecord and ApproximateArrivalOfLastRecord
	// are the records' arrival times.
	ApproximateArrivalOfFirstRecord time.Time
	ApproximateArrivalOfLastRecord  time.Time
	// BatchSize is len(Records).
	BatchSize int
	// RetryAttempts is how many times the records were retried.
	RetryAttempts int
	// Err is the last invocation's error: the function's error, or the
	// partial batch response; nil for RecordAgeExceeded.
	Err error
	// Records are the records given up on, in order.
	Records []events.KinesisEventRecord
}

// ServeOption configures Serve, after the event source mapping's
// parameters of the same names.
type ServeOption func(*serveConfig)

type serveConfig struct {
	batchSize      int
	window         time.Duration
	reportFailures bool
	bisect         bool
	maxRetries     int
	maxAge         time.Duration
	onFailure      func(context.Context, Failure) error
	store          kinesis.CheckpointStore
	start          sdktypes.ShardIteratorType
	timeout        time.Duration
	poll           time.Duration
	log            *slog.Logger
	err            error
}

// Defaults of Serve, those of an event source mapping and a function,
// except where noted.
const (
	DefaultBatchSize       = 100
	DefaultFunctionTimeout = 3 * time.Second
	// DefaultPollInterval is how often Serve polls a shard that had no
	// new records, and how long it waits before retrying a failed batch.
	DefaultPollInterval = time.Second
)

func (c *serveConfig) setErr(err error) {
	if c.err == nil {
		c.err = err
	}
}

// WithBatchSize sets BatchSize: the most records per invocation, 1 to
// 10,000. Default DefaultBatchSize.
func WithBatchSize(n int) ServeOption {
	return func(c *serveConfig) {
		if n < 1 || n > 10000 {
			c.setErr(fmt.Errorf("kinesislambda: WithBatchSize(%d): want 1 to 10000", n))
		}
		c.batchSize = n
	}
}

// WithBatchingWindow sets MaximumBatchingWindowInSeconds: how long Serve
// gathers records before invoking the function with fewer than BatchSize,
// 0 to 300 s. Default 0: invoke as soon as records are read.
func WithBatchingWindow(d time.Duration) ServeOption {
	return func(c *serveConfig) {
		if d < 0 || d > 300*time.Second {
			c.setErr(fmt.Errorf("kinesislambda: WithBatchingWindow(%v): want 0 to 300s", d))
		}
		c.window = d
	}
}

// WithReportBatchItemFailures sets whether the function's partial batch
// response is honoured (ReportBatchItemFailures in FunctionResponseTypes).
// Default true, unlike the real service, because a Handler relies on it.
func WithReportBatchItemFailures(on bool) ServeOption {
	return func(c *serveConfig) { c.reportFailures = on }
}

// WithBisectBatchOnFunctionError sets BisectBatchOnFunctionError: a batch
// that fails as a whole is split in two halves, retried separately;
// splitting does not use up retries. Default false.
func WithBisectBatchOnFunctionError(on bool) ServeOption {
	return func(c *serveConfig) { c.bisect = on }
}

// WithMaximumRetryAttempts sets MaximumRetryAttempts: how many times a
// failing batch is retried before its records go to the on-failure
// callback, -1 (no limit, the default) to 10,000.
func WithMaximumRetryAttempts(n int) ServeOption {
	return func(c *serveConfig) {
		if n < -1 || n > 10000 {
			c.setErr(fmt.Errorf("kinesislambda: WithMaximumRetryAttempts(%d): want -1 to 10000", n))
		}
		c.maxRetries = n
	}
}

// WithMaximumRecordAge sets MaximumRecordAgeInSeconds: records older than
// d are not invoked (again) and go to the on-failure callback. A negative
// d (the default) means no limit; the real service accepts 60 s to 7 days,
// Serve any positive duration, so tests can use short ones.
func WithMaximumRecordAge(d time.Duration) ServeOption {
	return func(c *serveConfig) {
		if d == 0 {
			c.setErr(errors.New("kinesislambda: WithMaximumRecordAge(0): want a positive age, or negative for none"))
		}
		c.maxAge = d
	}
}

// WithOnFailure sets the on-failure destination: fn receives the records
// Serve gives up on. If fn returns an error, Serve stops with it, without
// checkpointing past those records. Default: log them at Error.
func WithOnFailure(fn func(ctx context.Context, f Failure) error) ServeOption {
	return func(c *serveConfig) {
		if fn == nil {
			c.setErr(errors.New("kinesislambda: nil WithOnFailure function"))
		}
		c.onFailure = fn
	}
}

// WithCheckpointStore sets where Serve keeps each shard's position: after
// each invocation, the last Kinesis record done. Default: a
// kinesis.NewMemoryStore, so a new Serve starts again.
func WithCheckpointStore(s kinesis.CheckpointStore) ServeOption {
	return func(c *serveConfig) {
		if s == nil {
			c.setErr(errors.New("kinesislambda: nil checkpoint store"))
		}
		c.store = s
	}
}

// WithStartingPosition sets where a shard without a checkpoint starts:
// sdktypes.ShardIteratorTypeTrimHorizon (the default) or
// sdktypes.ShardIteratorTypeLatest.
func WithStartingPosition(p sdktypes.ShardIteratorType) ServeOption {
	return func(c *serveConfig) {
		if p != sdktypes.ShardIteratorTypeTrimHorizon && p != sdktypes.ShardIteratorTypeLatest {
			c.setErr(fmt.Errorf("kinesislambda: WithStartingPosition(%q): want TRIM_HORIZON or LATEST", p))
		}
		c.start = p
	}
}

// WithFunctionTimeout sets the function's timeout: the deadline of each
// invocation's ctx. An invocation that returns after it counts as failed.
// Default DefaultFunctionTimeout (Lambda's default).
func WithFunctionTimeout(d time.Duration) ServeOption {
	return func(c *serveConfig) {
		if d <= 0 {
			c.setErr(fmt.Errorf("kinesislambda: WithFunctionTimeout(%v): want a positive timeout", d))
		}
		c.timeout = d
	}
}

// WithPollInterval sets how often an idle shard is polled and how long a
// failed batch waits before its retry. Default DefaultPollInterval.
func WithPollInterval(d time.Duration) ServeOption {
	return func(c *serveConfig) {
		if d <= 0 {
			c.setErr(fmt.Errorf("kinesislambda: WithPollInterval(%v): want a positive interval", d))
		}
		c.poll = d
	}
}

// WithServeLogger sets Serve's logger. Default slog.Default().
func WithServeLogger(l *slog.Logger) ServeOption {
	return func(c *serveConfig) {
		if l == nil {
			c.setErr(errors.New("kinesislambda: nil logger"))
		}
		c.log = l
	}
}

// Serve runs handler on a Kinesis stream as Lambda's event source mapping
// would, against any Kinesis endpoint (a local emulator, a real stream):
// for testing and running a function without deploying it. handler is
// anything lambda.Start accepts, for example (*Handler).Handle; it is
// called through aws-lambda-go's lambda.NewHandler with the JSON Lambda
// sends (data in base64) and a ctx carrying the invocation's deadline and
// a lambdacontext.LambdaContext. stream is a stream name or ARN.
//
// Each shard is polled on its own goroutine and invoked one batch at a
// time, in order (ParallelizationFactor 1), so handler is called
// concurrently for different shards, as Lambda runs one instance per
// shard, and must be safe for that (a Handler is); child shards start once their
// parents are done. A batch is up to BatchSize records, gathered for up to
// the batching window. When an invocation fails (the function returned an
// error, timed out, or reported batch item failures), the records before
// the lowest failed sequence number are checkpointed and the rest is
// retried: bisected first with BisectBatchOnFunctionError when the whole
// batch failed, and given to the on-failure callback once
// MaximumRetryAttempts retries are used up (per failing record: progress
// resets the count) or when older than MaximumRecordAgeInSeconds; then
// Serve checkpoints past them and goes on. The rules for a partial batch
// response are the service's: an empty or null list, or an empty or null
// response, is a success; an item with an empty, null or missing
// itemIdentifier, or one that is not in the batch, fails the whole batch.
//
// Serve returns nil when ctx is done (an invocation in flight finishes
// first), or an error: an invalid option, a stream it cannot list, a
// checkpoint store or on-failure callback error.
//
// Differences from the real service: the shard list is read again every
// 10 poll intervals; polling is GetRecords (no enhanced fan-out); there is
// no ParallelizationFactor, tumbling window, filter, or retry backoff other
// than the poll interval; the function runs in this process, so a panic is
// an invocation error and a timeout does not stop it (Serve waits for it,
// then counts the invocation as failed); the checkpoint names the last
// Kinesis record done (sub-sequence number 0), so do not share a
// checkpoint store's stream with a kinesis.Consumer; and
// MaximumRecordAgeInSeconds accepts any positive duration.
func Serve(ctx context.Context, client kinesis.ConsumerAPI, stream string, handler any, opts ...ServeOption) error {
	cfg := serveConfig{
		batchSize: DefaultBatchSize, reportFailures: true, maxRetries: -1, maxAge: -1,
		start: sdktypes.ShardIteratorTypeTrimHorizon, timeout: DefaultFunctionTimeout, poll: DefaultPollInterval,
		log: slog.Default(),
	}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.err != nil {
		return cfg.err
	}
	if handler == nil {
		return errors.New("kinesislambda: nil handler")
	}
	if cfg.store == nil {
		cfg.store = kinesis.NewMemoryStore()
	}
	s := &server{cfg: cfg, client: client, stream: stream, handler: handler, started: map[string]bool{}}
	s.arn = stream
	if !strings.HasPrefix(stream, "arn:") {
		s.arn = "arn:aws:kinesis:local:000000000000:stream/" + stream
	}
	return s.run(ctx)
}

// server is one Serve call.
type server struct {
	cfg    serveConfig
	client kinesis.ConsumerAPI
	stream string
	arn    string
	// handler is the function; each shard calls it through its own
	// lambda.Handler, which is not safe for concurrent use.
	handler any

	started map[string]bool // shards with a reader, on run's goroutine only
}

func (s *server) streamParams() (name, arn *string) {
	if strings.HasPrefix(s.stream, "arn:") {
		return nil, aws.String(s.stream)
	}
	return aws.String(s.stream), nil
}

func (s *server) run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	defer wg.Wait()
	for tick := 0; ; tick++ {
		shards, err := s.listShards(ctx)
		switch {
		case ctx.Err() != nil:
		case err != nil && tick == 0:
			return fmt.Errorf("kinesislambda: list shards of %s: %w", s.stream, err)
		case err != nil:
			s.cfg.log.Warn("kinesislambda: list shards failed; trying again", "stream", s.stream, "err", err)
		}
		listed := map[string]bool{}
		for _, sh := range shards {
			listed[aws.ToString(sh.ShardId)] = true
		}
		for _, sh := range shards {
			id := aws.ToString(sh.ShardId)
			if s.started[id] {
				continue
			}
			s.started[id] = true
			var parents []string
			for _, p := range []*string{sh.ParentShardId, sh.AdjacentParentShardId} {
				if p != nil && listed[*p] {
					parents = append(parents, *p)
				}
			}
			wg.Go(func() {
				if err := s.readShard(ctx, id, parents); err != nil {
					cancel(err)
				}
			})
		}
		if !sleep(ctx, 10*s.cfg.poll) {
			if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				wg.Wait()
				return err
			}
			return nil
		}
	}
}

func (s *server) listShards(ctx context.Context) ([]sdktypes.Shard, error) {
	name, arn := s.streamParams()
	in := &sdkkinesis.ListShardsInput{StreamName: name, StreamARN: arn}
	var shards []sdktypes.Shard
	for {
		out, err := s.client.ListShards(ctx, in)
		if err != nil {
			return nil, err
		}
		shards = append(shards, out.Shards...)
		if out.NextToken == nil {
			return shards, nil
		}
		in = &sdkkinesis.ListShardsInput{NextToken: out.NextToken}
	}
}

// readShard polls one shard and invokes the function on its batches.
func (s *server) readShard(ctx context.Context, shard string, parents []string) error {
	for _, p := range parents {
		for {
			cp, ok, err := s.cfg.store.Load(ctx, s.stream, p)
			if err != nil && ctx.Err() == nil {
				return fmt.Errorf("kinesislambda: load checkpoint of %s: %w", p, err)
			}
			if ok && cp.ShardEnded {
				break
			}
			if !sleep(ctx, s.cfg.poll) {
				return nil
			}
		}
	}
	cp, ok, err := s.cfg.store.Load(ctx, s.stream, shard)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("kinesislambda: load checkpoint of %s: %w", shard, err)
	}
	if ok && cp.ShardEnded {
		return nil
	}
	after := ""
	if ok {
		after = cp.SequenceNumber
	}
	r := &shardRun{s: s, shard: shard, done: after, fn: lambda.NewHandler(s.handler)}
	iter, err := r.iterator(ctx, after)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	var pending []events.KinesisEventRecord
	var firstAt time.Time // when the oldest pending record was read
	for ctx.Err() == nil {
		fetched := 0
		if iter != "" && len(pending) < s.cfg.batchSize {
			out, err := s.client.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: aws.String(iter), Limit: aws.Int32(int32(s.cfg.batchSize - len(pending)))})
			var expired *sdktypes.ExpiredIteratorException
			switch {
			case ctx.Err() != nil:
				return nil
			case errors.As(err, &expired):
				from := r.done
				if n := len(pending); n > 0 {
					from = pending[n-1].Kinesis.SequenceNumber
				}
				if iter, err = r.iterator(ctx, from); err != nil {
					if ctx.Err() != nil {
						return nil
					}
					return err
				}
				continue
			case err != nil:
				s.cfg.log.Warn("kinesislambda: GetRecords failed; trying again", "shard", shard, "err", err)
				sleep(ctx, s.cfg.poll)
				continue
			}
			iter = aws.ToString(out.NextShardIterator)
			if len(pending) == 0 && len(out.Records) > 0 {
				firstAt = time.Now()
			}
			for _, rec := range out.Records {
				pending = append(pending, s.eventRecord(shard, rec))
			}
			fetched = len(out.Records)
		}
		if len(pending) > 0 && (len(pending) >= s.cfg.batchSize || iter == "" || time.Since(firstAt) >= s.cfg.window) {
			n := min(len(pending), s.cfg.batchSize)
			if err := r.deliver(ctx, pending[:n]); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			pending = append(pending[:0], pending[n:]...)
			firstAt = time.Now()
			continue
		}
		if iter == "" {
			return r.save(ctx, kinesis.Checkpoint{SequenceNumber: r.done, ShardEnded: true})
		}
		if fetched == 0 {
			wait := s.cfg.poll
			if len(pending) > 0 {
				wait = min(wait, s.cfg.window-time.Since(firstAt))
			}
			sleep(ctx, wait)
		}
	}
	return nil
}

// eventRecord is rec as Lambda delivers it.
func (s *server) eventRecord(shard string, rec sdktypes.Record) events.KinesisEventRecord {
	seq := aws.ToString(rec.SequenceNumber)
	return events.KinesisEventRecord{
		AwsRegion:      "local",
		EventID:        shard + ":" + seq,
		EventName:      "aws:kinesis:record",
		EventSource:    "aws:kinesis",
		EventSourceArn: s.arn,
		EventVersion:   "1.0",
		Kinesis: events.KinesisRecord{
			ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: aws.ToTime(rec.ApproximateArrivalTimestamp)},
			Data:                        rec.Data,
			EncryptionType:              string(rec.EncryptionType),
			PartitionKey:                aws.ToString(rec.PartitionKey),
			SequenceNumber:              seq,
			KinesisSchemaVersion:        "1.0",
		},
	}
}

// shardRun is the state of one shard's reader.
type shardRun struct {
	s     *server
	shard string
	done  string // sequence number of the last record done, "" before the first
	fn    lambda.Handler
}

// iterator returns a shard iterator after the record after, or at the
// starting position when after is "".
func (r *shardRun) iterator(ctx context.Context, after string) (string, error) {
	name, arn := r.s.streamParams()
	in := &sdkkinesis.GetShardIteratorInput{StreamName: name, StreamARN: arn, ShardId: aws.String(r.shard), ShardIteratorType: r.s.cfg.start}
	if after != "" {
		in.ShardIteratorType, in.StartingSequenceNumber = sdktypes.ShardIteratorTypeAfterSequenceNumber, aws.String(after)
	}
	for {
		out, err := r.s.client.GetShardIterator(ctx, in)
		if err == nil {
			return aws.ToString(out.ShardIterator), nil
		}
		var nf *sdktypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			return "", fmt.Errorf("kinesislambda: shard iterator for %s: %w", r.shard, err)
		}
		r.s.cfg.log.Warn("kinesislambda: GetShardIterator failed; trying again", "shard", r.shard, "err", err)
		if !sleep(ctx, r.s.cfg.poll) {
			return "", ctx.Err()
		}
	}
}

// deliver invokes the function on batch until every record is done or
// given to the on-failure callback, checkpointing as it goes. It returns
// ctx's error when ctx is done first.
func (r *shardRun) deliver(ctx context.Context, batch []events.KinesisEventRecord) error {
	cfg := &r.s.cfg
	queue := [][]events.KinesisEventRecord{batch}
	retries := 0
	for len(queue) > 0 {
		cur := queue[0]
		if cfg.maxAge > 0 {
			old := 0
			for old < len(cur) && time.Since(cur[old].Kinesis.ApproximateArrivalTimestamp.Time) > cfg.maxAge {
				old++
			}
			if old > 0 {
				if err := r.giveUp(ctx, cur[:old], RecordAgeExceeded, retries, nil); err != nil {
					return err
				}
				cur = cur[old:]
				if len(cur) == 0 {
					queue, retries = queue[1:], 0
					continue
				}
			}
		}
		n, err := r.invoke(ctx, cur)
		if n > 0 {
			if err := r.save(ctx, kinesis.Checkpoint{SequenceNumber: cur[n-1].Kinesis.SequenceNumber}); err != nil {
				return err
			}
			retries = 0
		}
		if n == len(cur) {
			queue = queue[1:]
			continue
		}
		cur = cur[n:]
		if cfg.bisect && n == 0 && len(cur) > 1 {
			h := len(cur) / 2
			queue = append([][]events.KinesisEventRecord{cur[:h], cur[h:]}, queue[1:]...)
			retries = 0
			continue
		}
		if cfg.maxRetries >= 0 && retries >= cfg.maxRetries {
			if err := r.giveUp(ctx, cur, RetryAttemptsExhausted, retries, err); err != nil {
				return err
			}
			queue, retries = queue[1:], 0
			continue
		}
		retries++
		queue[0] = cur
		cfg.log.Warn("kinesislambda: invocation failed; retrying", "shard", r.shard,
			"seq", cur[0].Kinesis.SequenceNumber, "records", len(cur), "retry", retries, "err", err)
		if !sleep(ctx, cfg.poll) {
			return ctx.Err()
		}
	}
	return ctx.Err()
}

// giveUp sends recs to the on-failure callback and checkpoints past them.
func (r *shardRun) giveUp(ctx context.Context, recs []events.KinesisEventRecord, cond Condition, retries int, err error) error {
	first, last := recs[0].Kinesis, recs[len(recs)-1].Kinesis
	f := Failure{
		Condition: cond, ShardID: r.shard,
		StartSequenceNumber: first.SequenceNumber, EndSequenceNumber: last.SequenceNumber,
		ApproximateArrivalOfFirstRecord: first.ApproximateArrivalTimestamp.Time,
		ApproximateArrivalOfLastRecord:  last.ApproximateArrivalTimestamp.Time,
		BatchSize:                       len(recs), RetryAttempts: retries, Err: err, Records: recs,
	}
	if r.s.cfg.onFailure == nil {
		r.s.cfg.log.Error("kinesislambda: records given up on (no on-failure callback)", "condition", cond, "shard", r.shard,
			"start", f.StartSequenceNumber, "end", f.EndSequenceNumber, "records", len(recs), "err", err)
	} else if err := r.s.cfg.onFailure(context.WithoutCancel(ctx), f); err != nil {
		return fmt.Errorf("kinesislambda: on-failure callback for %s %s..%s: %w", r.shard, f.StartSequenceNumber, f.EndSequenceNumber, err)
	}
	return r.save(ctx, kinesis.Checkpoint{SequenceNumber: last.SequenceNumber})
}

func (r *shardRun) save(ctx context.Context, cp kinesis.Checkpoint) error {
	if err := r.s.cfg.store.Save(context.WithoutCancel(ctx), r.s.stream, r.shard, cp); err != nil {
		return fmt.Errorf("kinesislambda: save checkpoint of %s: %w", r.shard, err)
	}
	r.done = cp.SequenceNumber
	return nil
}

// invoke calls the function on recs and returns how many of them are done
// (len(recs) on success) and, if not all, why.
func (r *shardRun) invoke(ctx context.Context, recs []events.KinesisEventRecord) (done int, err error) {
	payload, err := json.Marshal(events.KinesisEvent{Records: recs})
	if err != nil {
		return 0, err
	}
	deadline := time.Now().Add(r.s.cfg.timeout)
	ictx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	defer cancel()
	var id [16]byte
	_, _ = rand.Read(id[:])
	ictx = lambdacontext.NewContext(ictx, &lambdacontext.LambdaContext{AwsRequestID: hex.EncodeToString(id[:])})
	out, err := r.invokeRecovering(ictx, payload)
	switch {
	case err != nil:
		return 0, fmt.Errorf("function error: %w", err)
	case time.Now().After(deadline):
		return 0, fmt.Errorf("function timed out after %v", r.s.cfg.timeout)
	case !r.s.cfg.reportFailures:
		return len(recs), nil
	}
	return firstFailure(out, recs)
}

func (r *shardRun) invokeRecovering(ctx context.Context, payload []byte) (out []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return r.fn.Invoke(ctx, payload)
}

// firstFailure reads a partial batch response: it returns the index of the
// lowest failed record of recs (len(recs) when none), by the service's
// rules.
func firstFailure(out []byte, recs []events.KinesisEventRecord) (int, error) {
	out = bytes.TrimSpace(out)
	var top map[string]json.RawMessage
	if len(out) == 0 || json.Unmarshal(out, &top) != nil || top == nil {
		return len(recs), nil // empty, null or not an object: no failures reported
	}
	raw, ok := top["batchItemFailures"]
	if !ok {
		return len(recs), nil
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return 0, fmt.Errorf("malformed batchItemFailures %s: the whole batch failed", raw)
	}
	low := len(recs)
	for _, it := range items {
		var id *string
		if v, ok := it["itemIdentifier"]; ok {
			_ = json.Unmarshal(v, &id)
		}
		if id == nil || *id == "" {
			return 0, fmt.Errorf("batch item failure without an itemIdentifier: the whole batch failed")
		}
		i := indexOf(recs, *id)
		if i < 0 {
			return 0, fmt.Errorf("batch item failure %s is not in the batch: the whole batch failed", *id)
		}
		low = min(low, i)
	}
	if low == len(recs) {
		return low, nil
	}
	return low, fmt.Errorf("partial batch response: failed at %s", recs[low].Kinesis.SequenceNumber)
}

func indexOf(recs []events.KinesisEventRecord, seq string) int {
	for i := range recs {
		if recs[i].Kinesis.SequenceNumber == seq {
			return i
		}
	}
	return -1
}

// sleep waits d or until ctx is done; it reports whether ctx is still
// live.
func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-time.After(d):
		return true
	case <-ctx.Done():
		return false
	}
}
