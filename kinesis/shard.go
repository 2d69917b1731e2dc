package kinesis

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/rtdskit/rtds/batch"
)

// shardReader reads one shard on its own goroutine.
type shardReader struct {
	c       *Consumer
	id      string
	parents []string
	closed  *atomic.Bool // ListShards showed the shard closed
	// stored is the checkpoint loaded or last saved; hasCP is false while
	// the shard has none.
	stored Checkpoint
	hasCP  bool
	// pos is the last processed user record; processed is false until the
	// first one (or a loaded checkpoint). Before that, pos is the start
	// time stored (Timestamp), if any.
	pos       Checkpoint
	processed bool
	// start is where a shard without a checkpoint starts (the configured
	// position, or a child shard's; see coordinator.childStart).
	start StartPosition
	// verify is set after an iterator was acquired at a checkpoint: the
	// first record fetched must be the checkpoint's record, else the data
	// was trimmed.
	verify bool
	buf    []batch.UserRecord
	count  int64 // records processed, not yet added to the stats

	// acks keeps the position that may be checkpointed: pos, or, while
	// records are waiting for their acknowledgement (Defer), the last one
	// before the first of them. slot lets the handlers defer, through
	// hctx, the context handlers get (drainCtx with the slot).
	acks *ackTracker
	slot *deferSlot
	hctx context.Context
	// perRecord estimates how long handling one Kinesis record takes
	// (aggregates count once), to size GetRecords calls (limit).
	perRecord time.Duration
}

func (c *Consumer) newShardReader(info *shardInfo, start StartPosition) *shardReader {
	r := &shardReader{
		c:       c,
		id:      info.id,
		parents: info.parents,
		closed:  info.closed,
		start:   start,
	}
	if r.closed == nil {
		r.closed = new(atomic.Bool)
	}
	if info.cp != nil {
		r.stored, r.hasCP = *info.cp, true
		r.pos, r.processed = *info.cp, info.cp.SequenceNumber != ""
	}
	return r
}

// run reads the shard until it ends or runCtx is done. Handlers and
// checkpoint writes use drainCtx, which outlives runCtx during the drain.
// The error is fatal for the consumer, or, once runCtx is done, the final
// checkpoint's.
func (r *shardReader) run(runCtx, drainCtx context.Context) (shardDone, error) {
	c := r.c
	res := shardDone{id: r.id}
	// A failed acknowledgement stops reading, like the end of Run.
	runCtx, failed := context.WithCancelCause(runCtx)
	defer failed(nil)
	r.acks = newAckTracker(r.pos, r.processed, failed)
	r.slot = &deferSlot{t: r.acks}
	r.hctx = context.WithValue(drainCtx, deferKey{}, r.slot)
	var cpCopy *Checkpoint
	if r.hasCP {
		cp := r.stored
		cpCopy = &cp
	}
	for _, h := range c.hooks.started {
		h.OnShardStarted(ShardStartedMetrics{ShardID: r.id, Checkpoint: cpCopy, Parents: r.parents})
	}
	c.log.Info("kinesis: shard started", "stream", c.stream, "shard", r.id, "checkpoint", r.stored.SequenceNumber)

	src := r.newSource()
	defer src.close()
	for runCtx.Err() == nil {
		b, err := src.next(runCtx, drainCtx)
		if err != nil {
			if runCtx.Err() != nil {
				break
			}
			return res, &ShardError{ShardID: r.id, Err: err}
		}
		if b == nil {
			break // stopping
		}
		if len(c.hooks.fetched) > 0 {
			n := 0
			for i := range b.records {
				n += len(b.records[i].Data)
			}
			for _, h := range c.hooks.fetched {
				h.OnRecordsFetched(RecordsFetchedMetrics{ShardID: r.id, Records: len(b.records), Bytes: n, MillisBehindLatest: b.behind, Latency: b.latency})
			}
		}
		handling := time.Now()
		complete, err := r.process(runCtx, drainCtx, b.records)
		r.measure(time.Since(handling), len(b.records))
		r.publish(func(s *ShardStats) { s.MillisBehindLatest = b.behind })
		if err != nil {
			return res, err
		}
		if !complete {
			break // stopping in the middle of the batch
		}
		if b.ended {
			// The ShardEnded checkpoint waits for every acknowledgement.
			if ok, err := r.waitAcks(runCtx, drainCtx, 0); err != nil {
				return res, err
			} else if !ok {
				break
			}
			// Shard end: ChildShards on AWS and kinesis-local; kinesalite
			// gives neither, and the coordinator lists the shards.
			ended, err := r.endShard(runCtx, drainCtx)
			if err != nil {
				return res, err
			}
			if !ended {
				break // stopping: the drain saves the progress
			}
			res.ended, res.children = true, b.children
			var kids []string
			for _, ch := range b.children {
				kids = append(kids, aws.ToString(ch.ShardId))
			}
			for _, h := range c.hooks.ended {
				h.OnShardEnded(ShardEndedMetrics{ShardID: r.id, Children: kids})
			}
			return res, nil
		}
		if b.after != "" {
			r.passed(b.after)
		}
		if err := r.checkpointDue(drainCtx, c.cfg.checkpointInterval == 0, b.ahead); err != nil {
			return res, err
		}
	}
	return res, r.drain(drainCtx)
}

// drain gives the pending acknowledgements three quarters of the shutdown
// timeout, leaving the rest for the final checkpoint: the last position
// before the first record still pending. It returns the first failed
// acknowledgement's error, else the checkpoint write's.
func (r *shardReader) drain(drainCtx context.Context) error {
	if _, _, unacked, err := r.acks.state(); unacked > 0 && err == nil {
		ctx, cancel := context.WithTimeout(drainCtx, r.c.cfg.shutdownTimeout*3/4)
		_, _ = r.waitAcks(ctx, drainCtx, 0)
		cancel()
	}
	_, _, unacked, failErr := r.acks.state()
	if unacked > 0 && failErr == nil {
		r.c.log.Warn("kinesis: records still waiting for their acknowledgement at shutdown; they are read again by the next run",
			"shard", r.id, "pending", unacked)
	}
	if err := r.saveProgress(drainCtx); err != nil {
		return &ShardError{ShardID: r.id, Err: errors.Join(failErr, err)}
	}
	if failErr != nil {
		return &ShardError{ShardID: r.id, Err: failErr}
	}
	return nil
}

// saveProgress saves the acknowledged position if it is past the stored
// checkpoint.
func (r *shardReader) saveProgress(ctx context.Context) error {
	safe, ok, _ := r.acks.unsaved()
	if !ok || r.hasCP && comparePosition(safe, r.stored) <= 0 {
		return nil
	}
	start := time.Now()
	if err := r.save(ctx, safe); err != nil {
		return err
	}
	r.acks.saved(safe, start)
	return nil
}

// checkpointDue saves the progress when its oldest unsaved part is about
// to be one checkpoint interval old: when it will be by the time this
// reader handles its next record, which is ahead (expected from now) away.
// So a crash never loses more than what the handlers did in one interval.
// With interval 0 it saves only if force. A failed write is retried
// later; only a checkpoint another worker moved ahead
// (ErrCheckpointBehind) is returned, as a *ShardError.
func (r *shardReader) checkpointDue(ctx context.Context, force bool, ahead time.Duration) error {
	if !force {
		if r.c.cfg.checkpointInterval == 0 {
			return nil
		}
		_, _, movedAt := r.acks.unsaved()
		if !r.due(movedAt, ahead) {
			return nil
		}
	}
	return r.saveDue(ctx)
}

// due reports whether progress unsaved since movedAt (zero: none) is due
// to be saved, ahead from now (see checkpointDue).
func (r *shardReader) due(movedAt time.Time, ahead time.Duration) bool {
	iv := r.c.cfg.checkpointInterval
	return iv != 0 && !movedAt.IsZero() && time.Since(movedAt)+ahead >= iv
}

// saveDue is checkpointDue's write.
func (r *shardReader) saveDue(ctx context.Context) error {
	if err := r.saveProgress(ctx); err != nil && errors.Is(err, ErrCheckpointBehind) {
		return &ShardError{ShardID: r.id, Err: err}
	}
	return nil
}

// nextRecordIn estimates how long it takes until this reader handles its
// next record after a batch: the wait for the GetRecords rate limit, the
// call's latency, and the idle wait after an empty batch at the tip.
func (r *shardReader) nextRecordIn(fetchLatency time.Duration, idle bool) time.Duration {
	d := time.Duration(float64(time.Second)/r.c.cfg.getRecordsRate) + fetchLatency
	if idle {
		d += r.c.cfg.idleWait
	}
	return d
}

// publish updates the shard's stats with its progress, and f.
func (r *shardReader) publish(f func(*ShardStats)) {
	_, _, pending, _ := r.acks.state()
	r.c.updateShard(r.id, func(s *ShardStats) {
		s.Processed = r.pos
		s.Records += r.count
		s.PendingAcks = pending
		if f != nil {
			f(s)
		}
	})
	r.count = 0
}

// waitAcks waits until at most n records are waiting for their
// acknowledgement, saving the checkpoint at the interval meanwhile. It
// returns false when ctx is done or an acknowledgement failed first.
func (r *shardReader) waitAcks(ctx, drainCtx context.Context, n int) (bool, error) {
	var tick <-chan time.Time
	for published := false; ; published = true {
		_, _, unacked, failErr := r.acks.state()
		if failErr != nil {
			return false, nil
		}
		if unacked <= n {
			if published {
				r.publish(nil)
			}
			return true, nil
		}
		if !published {
			r.publish(nil) // the stats show the shard waiting
			if iv := r.c.cfg.checkpointInterval; iv > 0 {
				t := time.NewTicker(iv / 4)
				defer t.Stop()
				tick = t.C
			}
		}
		// With interval 0, progress is saved as acks arrive; else it is
		// checked every quarter interval.
		if err := r.checkpointDue(drainCtx, r.c.cfg.checkpointInterval == 0, r.c.cfg.checkpointInterval/4); err != nil {
			return false, err
		}
		select {
		case <-r.acks.changed:
		case <-tick:
		case <-ctx.Done():
			return false, nil
		}
	}
}

// limit is the Limit of the next GetRecords call: about as many records
// as the handlers took one checkpoint interval for, so that a batch takes
// about one interval (WithCheckpointInterval's bound); at least 1, at most
// WithGetRecordsLimit.
func (r *shardReader) limit() int32 {
	most := r.c.cfg.getRecordsLimit
	iv := r.c.cfg.checkpointInterval
	if iv <= 0 || r.perRecord <= 0 {
		return most
	}
	return int32(min(max(int64(iv/r.perRecord), 1), int64(most)))
}

// measure updates the per-record handling time with a batch of n Kinesis
// records handled in d (an average of the new and the previous estimate).
func (r *shardReader) measure(d time.Duration, n int) {
	if n == 0 {
		return
	}
	per := d / time.Duration(n)
	if r.perRecord > 0 {
		per = (per + r.perRecord) / 2
	}
	r.perRecord = max(per, time.Nanosecond)
}

// endShard writes the ShardEnded checkpoint, retrying until it is stored:
// the children must not start before. It reports false when Run stopped
// first; the progress is then saved and the end is found again later.
func (r *shardReader) endShard(runCtx, drainCtx context.Context) (bool, error) {
	c := r.c
	// Read from a start time without a record: the time stays, for the
	// children (see coordinator.childStart).
	cp := Checkpoint{SequenceNumber: r.pos.SequenceNumber, SubSequenceNumber: r.pos.SubSequenceNumber, ShardEnded: true, Timestamp: r.pos.Timestamp}
	err := retryCall(runCtx, c, r.id, OpCheckpointSave, func() error { return r.save(drainCtx, cp) })
	switch {
	case err == nil:
	case runCtx.Err() != nil && !errors.Is(err, ErrCheckpointBehind):
		return false, nil // run saves the progress
	default:
		return false, &ShardError{ShardID: r.id, Err: err}
	}
	c.updateShard(r.id, func(s *ShardStats) { s.State = ShardEnded })
	c.log.Info("kinesis: shard ended", "stream", c.stream, "shard", r.id)
	return true, nil
}

// save writes cp and reports it to the hooks.
func (r *shardReader) save(ctx context.Context, cp Checkpoint) error {
	c := r.c
	start := time.Now()
	err := c.cfg.store.Save(ctx, c.stream, r.id, cp)
	for _, h := range c.hooks.checkpoint {
		h.OnCheckpoint(CheckpointMetrics{ShardID: r.id, Checkpoint: cp, Latency: time.Since(start), Err: err})
	}
	if err != nil {
		c.log.Warn("kinesis: checkpoint write failed", "shard", r.id, "seq", cp.SequenceNumber, "err", err)
		return errorf("save checkpoint: %w", err)
	}
	r.stored, r.hasCP = cp, true
	c.updateShard(r.id, func(s *ShardStats) { s.Checkpoint = cp })
	return nil
}

// acquire gets an iterator at the last processed record, else at the
// start time stored, else at the start position. A checkpoint Kinesis
// rejects (its data was trimmed) restarts at TRIM_HORIZON and is reported
// to the hooks.
func (r *shardReader) acquire(runCtx, callCtx context.Context) (*string, error) {
	c := r.c
	in := &sdkkinesis.GetShardIteratorInput{ShardId: aws.String(r.id), StreamName: c.streamName, StreamARN: c.streamARN}
	switch {
	case r.processed:
		in.ShardIteratorType = sdktypes.ShardIteratorTypeAtSequenceNumber
		in.StartingSequenceNumber = aws.String(r.pos.SequenceNumber)
	case !r.pos.Timestamp.IsZero():
		in.ShardIteratorType = sdktypes.ShardIteratorTypeAtTimestamp
		in.Timestamp = aws.Time(r.pos.Timestamp)
	default:
		in.ShardIteratorType = r.start.typ
		if err := r.storeStart(runCtx, callCtx); err != nil {
			return nil, err
		}
		if r.start.typ == sdktypes.ShardIteratorTypeAtTimestamp {
			in.Timestamp = aws.Time(r.pos.Timestamp)
		}
	}
	var out *sdkkinesis.GetShardIteratorOutput
	err := retryCall(runCtx, c, r.id, OpGetShardIterator, func() error {
		var err error
		out, err = c.client.GetShardIterator(callCtx, in)
		return err
	})
	// Kinesis refuses a sequence number it no longer holds: kinesalite (and
	// AWS) with InvalidArgumentException, kinesis-local with
	// ResourceNotFoundException. If the stream itself is gone, the
	// TRIM_HORIZON retry below fails too, and the error is returned.
	var invalid *sdktypes.InvalidArgumentException
	var notFound *sdktypes.ResourceNotFoundException
	if err != nil && r.processed && (errors.As(err, &invalid) || errors.As(err, &notFound)) {
		r.trimmed()
		in.ShardIteratorType, in.StartingSequenceNumber = sdktypes.ShardIteratorTypeTrimHorizon, nil
		err = retryCall(runCtx, c, r.id, OpGetShardIterator, func() error {
			var err error
			out, err = c.client.GetShardIterator(callCtx, in)
			return err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("get shard iterator: %w", err)
	}
	r.verify = in.ShardIteratorType == sdktypes.ShardIteratorTypeAtSequenceNumber
	return out.ShardIterator, nil
}

// storeStart stores where a reader of a shard without a checkpoint starts,
// before it reads, when that is a time (StartLatest: now; StartAtTimestamp:
// its time): a restart, or the next owner of the lease, resumes there
// instead of at a later LATEST, so no record put after this reader started
// is skipped. TRIM_HORIZON needs nothing stored: the next reader starts
// there too.
func (r *shardReader) storeStart(runCtx, callCtx context.Context) error {
	var from time.Time
	switch r.start.typ {
	case sdktypes.ShardIteratorTypeLatest:
		// The iterator is taken after the write, so LATEST is at or
		// after this time: a later reader reads a few records more, not
		// fewer. Kinesis timestamps have milliseconds.
		from = time.Now().Truncate(time.Millisecond)
	case sdktypes.ShardIteratorTypeAtTimestamp:
		from = r.start.at
	default:
		return nil
	}
	cp := Checkpoint{Timestamp: from.UTC().Round(0)}
	if err := retryCall(runCtx, r.c, r.id, OpCheckpointSave, func() error { return r.save(callCtx, cp) }); err != nil {
		return err
	}
	r.pos = cp
	return nil
}

// trimmed reports that the records after the checkpoint are gone, once per
// shard and checkpoint: a reader that meets the same trimmed checkpoint
// again (its iterator is renewed, or the shard is read again before
// anything after the checkpoint was processed) does not report it twice.
func (r *shardReader) trimmed() {
	c := r.c
	c.mu.Lock()
	if c.trims == nil {
		c.trims = map[string]Checkpoint{}
	}
	last, seen := c.trims[r.id]
	c.trims[r.id] = r.pos
	c.mu.Unlock()
	if seen && last == r.pos {
		return
	}
	for _, h := range c.hooks.reset {
		h.OnIteratorReset(IteratorResetMetrics{ShardID: r.id, Reason: ResetTrimmed, From: r.pos})
	}
	c.log.Error("kinesis: checkpoint points at trimmed data; records after it were lost, restarting at TRIM_HORIZON",
		"stream", c.stream, "shard", r.id, "seq", r.pos.SequenceNumber)
}

// process handles the user records of a batch in order, skipping those at
// or before the last processed position. It returns false when it stopped
// before the end of the batch because runCtx is done (Run stops, or an
// acknowledgement failed); the error is a *ShardError.
//
// The user records of an aggregate get keys that share memory with its
// data (batch.DeaggregateFunc), unless an OnRecord handler sees them: event
// handlers never see the Record, and a dead-lettered one gets copies (see
// Dispatcher.deadLetter).
func (r *shardReader) process(runCtx, drainCtx context.Context, recs []sdktypes.Record) (bool, error) {
	d := r.c.disp
	views := d.cfg.onRecord == nil
	for i := range recs {
		kr := &recs[i]
		seq := aws.ToString(kr.SequenceNumber)
		if r.verify {
			r.verify = false
			if seq != r.pos.SequenceNumber {
				r.trimmed()
			}
		}
		if runCtx.Err() != nil {
			return false, nil
		}
		rec := Record{
			ShardID:                     r.id,
			SequenceNumber:              seq,
			PartitionKey:                aws.ToString(kr.PartitionKey),
			ApproximateArrivalTimestamp: aws.ToTime(kr.ApproximateArrivalTimestamp),
		}
		in := batch.KinesisRecord{SequenceNumber: seq, PartitionKey: rec.PartitionKey, Data: kr.Data}
		var err error
		if !batch.IsAggregate(kr.Data) {
			var ok bool
			ok, err = r.user(runCtx, drainCtx, &rec, batch.UserRecord{SequenceNumber: seq, PartitionKey: rec.PartitionKey, Data: kr.Data}, true)
			if !ok || err != nil {
				return ok, err
			}
			continue
		}
		if views {
			ok, first := true, true
			err = batch.DeaggregateFunc(in, func(u batch.UserRecord) error {
				var herr error
				ok, herr = r.user(runCtx, drainCtx, &rec, u, first)
				first = false
				if !ok || herr != nil {
					return errStopBatch{herr}
				}
				return nil
			})
			if stop, is := err.(errStopBatch); is {
				return ok, stop.err
			}
		} else {
			r.buf, err = batch.AppendDeaggregated(r.buf[:0], in)
			if err == nil {
				for j := range r.buf {
					if ok, err := r.user(runCtx, drainCtx, &rec, r.buf[j], j == 0); !ok || err != nil {
						return ok, err
					}
				}
				continue
			}
		}
		if err != nil {
			pos := Checkpoint{SequenceNumber: seq}
			if r.processed && comparePosition(pos, r.pos) <= 0 {
				continue
			}
			rec.Data = kr.Data
			if d.deadLetter(runCtx, drainCtx, DeadLetter{Record: rec, Reason: ReasonCorruptAggregate, Err: err}) != nil {
				return false, nil
			}
			if ok, err := r.done(runCtx, drainCtx, pos, false); !ok || err != nil {
				return ok, err
			}
		}
	}
	return true, nil
}

// errStopBatch stops batch.DeaggregateFunc in process.
type errStopBatch struct{ err error }

func (errStopBatch) Error() string { return "kinesis: batch stopped" }

// user dispatches one user record u of the Kinesis record rec (which it
// completes with u's fields), unless it was processed before. first is
// true for the first user record of rec. It returns process's results for
// a stop.
func (r *shardReader) user(runCtx, drainCtx context.Context, rec *Record, u batch.UserRecord, first bool) (bool, error) {
	pos := Checkpoint{SequenceNumber: rec.SequenceNumber, SubSequenceNumber: u.SubSequenceNumber}
	if r.processed && comparePosition(pos, r.pos) <= 0 {
		return true, nil // handled before the restart or the iterator reset
	}
	if !first && runCtx.Err() != nil {
		return false, nil
	}
	rec.SubSequenceNumber, rec.Aggregated = u.SubSequenceNumber, u.Aggregated
	rec.PartitionKey, rec.ExplicitHashKey, rec.Data = u.PartitionKey, u.ExplicitHashKey, u.Data
	deferred, err := r.c.disp.dispatch(runCtx, r.hctx, r.slot, *rec)
	if err != nil {
		return false, nil
	}
	return r.done(runCtx, drainCtx, pos, deferred)
}

// done records that the record at pos was dispatched (and is done, unless
// deferred), saves the checkpoint when it is due, and waits while
// WithMaxPendingAcks records are pending. It returns false when runCtx is
// done first.
func (r *shardReader) done(runCtx, drainCtx context.Context, pos Checkpoint, deferred bool) (bool, error) {
	r.pos, r.processed = pos, true
	r.count++
	if !deferred {
		// The common case, with one lock: complete tells whether the
		// checkpoint is due.
		if r.due(r.acks.complete(pos), 0) {
			if err := r.saveDue(drainCtx); err != nil {
				return false, err
			}
		}
		return true, nil
	}
	if err := r.checkpointDue(drainCtx, false, 0); err != nil {
		return false, err
	}
	return r.waitAcks(runCtx, drainCtx, r.c.cfg.maxPendingAcks-1)
}
