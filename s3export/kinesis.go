package s3export

// This file glues the exporter to kinesis.Consumer; everything else in the
// package is independent of the consumer.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/rtdskit/rtds/kinesis"
)

// ListShardsAPI is the Kinesis call a Sink uses to learn the stream's open
// shards; *sdkkinesis.Client implements it.
type ListShardsAPI interface {
	ListShards(ctx context.Context, params *sdkkinesis.ListShardsInput, optFns ...func(*sdkkinesis.Options)) (*sdkkinesis.ListShardsOutput, error)
}

// DefaultMaxPendingAcks is the consumer's bound on records waiting for
// their file's upload, per shard, that Sink.ConsumerOptions sets: an
// hour's file holds every record of the hour until it is stored, so the
// consumer's own default is too small for busy shards. Each pending record
// costs the consumer about 100 bytes.
const DefaultMaxPendingAcks = 1 << 22

// DefaultIdleClose is how long a Sink's shard may receive no record before
// its open files are closed (see SinkIdleClose).
const DefaultIdleClose = time.Minute

// Sink drives an Exporter from a kinesis.Consumer: one ShardWriter per
// shard, fed by the consumer's shard goroutine; each record is deferred
// (kinesis.Defer) and acknowledged once the object that holds it is
// completely uploaded, so the consumer's checkpoint never passes an
// unstored event. A record that is not an event is dead-lettered
// (kinesis.Permanent) after being stored under the error prefix, if any;
// a failed upload stops the consumer (Ack.Fail).
type Sink struct {
	e         *Exporter
	client    ListShardsAPI
	stream    string
	idleClose time.Duration

	mu      sync.Mutex
	shards  map[string]*sinkShard
	open    map[string]bool // open shards, as of listed
	listed  time.Time
	closed  bool
	stopIdl chan struct{}
	idleWG  sync.WaitGroup
}

type sinkShard struct {
	mu   sync.Mutex
	w    *ShardWriter
	last time.Time // wall time of the last record
}

// SinkOption configures a Sink.
type SinkOption func(*Sink) error

// SinkIdleClose closes a shard's open files once the shard delivered no
// record for d (wall clock): a shard that ended, a quiet stream, or a
// shard paused at its pending-ack bound. Closing is final (the hour goes
// on in a new file), so it is the one decision that does not depend on
// record time alone. 0 disables it. Default DefaultIdleClose.
func SinkIdleClose(d time.Duration) SinkOption {
	return func(s *Sink) error {
		if d < 0 {
			return fmt.Errorf("s3export: SinkIdleClose(%v): must not be negative", d)
		}
		s.idleClose = d
		return nil
	}
}

// NewSink returns a sink exporting stream with e. client lists the
// stream's shards to name files: a shard that is the stream's only open
// shard writes Airship's names; otherwise names carry the shard number.
// The exporter's own WithShardSuffix is replaced.
func NewSink(e *Exporter, client ListShardsAPI, stream string, opts ...SinkOption) (*Sink, error) {
	if e == nil || client == nil || stream == "" {
		return nil, errors.New("s3export: NewSink needs an exporter, a Kinesis client and a stream")
	}
	s := &Sink{e: e, client: client, stream: stream, idleClose: DefaultIdleClose,
		shards: map[string]*sinkShard{}, stopIdl: make(chan struct{})}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	e.cfg.shardSuffix = s.suffix
	if s.idleClose > 0 {
		s.idleWG.Add(1)
		go s.idleLoop()
	}
	return s, nil
}

// ConsumerOptions returns the options to give kinesis.NewConsumer: the
// record handler, a lease hook that abandons a shard's files when another
// worker takes the shard, and WithMaxPendingAcks(DefaultMaxPendingAcks).
// Options given after them win.
func (s *Sink) ConsumerOptions() []kinesis.ConsumerOption {
	return []kinesis.ConsumerOption{
		kinesis.OnRecord(s.handle),
		kinesis.WithHooks(leaseHook{s}),
		kinesis.WithMaxPendingAcks(DefaultMaxPendingAcks),
	}
}

func (s *Sink) handle(ctx context.Context, r kinesis.Record) error {
	ack, ok := kinesis.Defer(ctx)
	if !ok {
		return kinesis.Permanent(errors.New("s3export: Sink needs a kinesis.Consumer (kinesis.Defer was not available)"))
	}
	sh, err := s.shard(r.ShardID)
	if err != nil {
		ack.Fail(err)
		return nil
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.last = time.Now()
	err = sh.w.Write(ctx, Record{ShardID: r.ShardID, SequenceNumber: r.SequenceNumber,
		SubSequenceNumber: r.SubSequenceNumber, Data: r.Data}, ack)
	var bad *BadRecordError
	switch {
	case errors.As(err, &bad):
		return kinesis.Permanent(err) // dead-lettered; the deferral is void
	case err != nil:
		ack.Fail(err)
	}
	return nil
}

func (s *Sink) shard(id string) (*sinkShard, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	sh := s.shards[id]
	if sh == nil || sh.w.closed {
		sh = &sinkShard{w: s.e.NewShardWriter(id)}
		s.shards[id] = sh
	}
	return sh, nil
}

// suffix reports whether shardID's file names carry its number: unless it
// is the stream's only open shard. The shard list is cached for 10 s.
func (s *Sink) suffix(ctx context.Context, shardID string) (bool, error) {
	s.mu.Lock()
	fresh := time.Since(s.listed) < 10*time.Second && s.open != nil
	open := s.open
	s.mu.Unlock()
	if !fresh {
		m := map[string]bool{}
		in := &sdkkinesis.ListShardsInput{StreamName: aws.String(s.stream)}
		for {
			out, err := s.client.ListShards(ctx, in)
			if err != nil {
				return false, fmt.Errorf("list shards of %s: %w", s.stream, err)
			}
			for _, sh := range out.Shards {
				if sh.SequenceNumberRange == nil || sh.SequenceNumberRange.EndingSequenceNumber == nil {
					m[aws.ToString(sh.ShardId)] = true
				}
			}
			if out.NextToken == nil {
				break
			}
			in = &sdkkinesis.ListShardsInput{NextToken: out.NextToken}
		}
		s.mu.Lock()
		s.open, s.listed, open = m, time.Now(), m
		s.mu.Unlock()
	}
	return !(len(open) == 1 && open[shardID]), nil
}

// idleLoop closes the files of shards idle for s.idleClose.
func (s *Sink) idleLoop() {
	defer s.idleWG.Done()
	t := time.NewTicker(min(s.idleClose/4+time.Millisecond, time.Second))
	defer t.Stop()
	for {
		select {
		case <-s.stopIdl:
			return
		case <-t.C:
		}
		s.mu.Lock()
		var idle []*sinkShard
		for _, sh := range s.shards {
			idle = append(idle, sh)
		}
		s.mu.Unlock()
		for _, sh := range idle {
			sh.mu.Lock()
			if len(sh.w.files) > 0 && time.Since(sh.last) >= s.idleClose && !sh.w.closed {
				s.e.log.Info("s3export: closing an idle shard's files", "shard", sh.w.shard, "files", len(sh.w.files))
				for _, f := range sh.w.files {
					if err := sh.w.close(context.Background(), f, closeStop); err != nil {
						sh.w.fatal(err)
						break
					}
				}
				sh.w.deadline = time.Time{}
			}
			sh.mu.Unlock()
		}
	}
}

// Close closes every shard's open files and waits for their uploads, so
// that the consumer's drain can checkpoint them: call it when the
// consumer's context is cancelled, while Run drains (or after Run
// returned). Files closed this way are final; the next run continues their
// hours in new files. It returns the first shard writer's failure. A record
// the consumer still dispatches after Close is failed with ErrClosed (Run
// then returns an error wrapping it): it is not checkpointed, and the next
// run reads it again.
func (s *Sink) Close(ctx context.Context) error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.stopIdl)
	}
	shards := make([]*sinkShard, 0, len(s.shards))
	for _, sh := range s.shards {
		shards = append(shards, sh)
	}
	s.mu.Unlock()
	s.idleWG.Wait()
	var first error
	for _, sh := range shards {
		sh.mu.Lock()
		err := sh.w.Close(ctx)
		sh.mu.Unlock()
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

// leaseHook abandons a shard's open files when this worker stops owning
// the shard before reading it to the end: the new owner starts from the
// checkpoint and writes the same files.
type leaseHook struct{ s *Sink }

func (h leaseHook) OnLease(m kinesis.LeaseMetrics) {
	if m.Action != "lost" && m.Action != "handed-over" {
		return
	}
	h.s.mu.Lock()
	sh := h.s.shards[m.ShardID]
	delete(h.s.shards, m.ShardID)
	h.s.mu.Unlock()
	if sh != nil {
		sh.mu.Lock()
		sh.w.Abandon(context.Background())
		sh.mu.Unlock()
	}
}
