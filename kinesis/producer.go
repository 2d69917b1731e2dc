package kinesis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rtdskit/rtds/batch"
	"github.com/rtdskit/rtds/event"
)

// Result is the outcome of one record: delivered (Err is nil, ShardID and
// SequenceNumber are set) or failed (Err is a *RecordError saying why).
// Every record accepted by Put gets exactly one Result, including records
// still buffered when Close gives up.
type Result struct {
	// PartitionKey and Data are the values given to Put (Data is the
	// caller's slice, not a copy).
	PartitionKey string
	Data         []byte
	// ShardID and SequenceNumber locate the Kinesis record holding this
	// record. With aggregation, several records share a sequence number
	// and SubSequenceNumber is the record's index in the aggregate.
	ShardID           string
	SequenceNumber    string
	SubSequenceNumber uint64
	Aggregated        bool
	// Attempts is the number of PutRecords calls that carried the record.
	Attempts int
	Err      error
}

// ProducerStats is a snapshot of a producer's counters.
//
// Answered and LastError tell a producer that never reached the stream
// (Requests > 0, Answered == 0: a wrong endpoint, a network that drops
// everything) from one that reached it and meets transient errors
// (Answered > 0); LastError says why the latest attempt failed, for a
// progress line while retries go on.
type ProducerStats struct {
	Records        int64 // records accepted by Put
	Delivered      int64 // records delivered
	Failed         int64 // records reported failed
	Retried        int64 // record retries scheduled (one record retried twice counts 2)
	Requests       int64 // PutRecords calls made
	Answered       int64 // PutRecords calls the service answered (some entries may have failed)
	KinesisRecords int64 // PutRecords entries sent, retries included
	Throttled      int64 // entries or calls throttled
	Buffered       int   // records put and not yet delivered or failed
	BufferedBytes  int   // their data plus partition keys
	// LastError is the error of the latest failed PutRecords call or
	// entry (the SDK's error, as in Result.Err), nil if none failed yet.
	LastError error
}

// Producer writes records to one Kinesis stream with PutRecords. Put
// buffers a record and returns; background goroutines pack buffered
// records into requests (optionally in the KPL aggregated format), send up
// to WithMaxInFlight requests at once, retry what fails, and report each
// record's outcome to the WithResultHandler function.
//
// # Delivery
//
// Every record Put gets exactly one outcome. A record whose entry fails
// with a retryable error (throttling, KMS throttling, internal failures,
// 5xx answers and network errors) is retried on its own, ahead of newer
// records for its shard, with exponential backoff and jitter, until it is
// delivered, its TTL (WithRecordTTL) passes, or WithPutRetry's MaxAttempts is
// reached. Errors that cannot succeed on retry (validation, access denied,
// a missing stream, a disabled KMS key, ...) fail the records at once; the
// Result's error wraps the SDK's typed error, so errors.As finds for
// example a *sdktypes.ResourceNotFoundException.
//
// Delivery is at least once. When an attempt actually succeeded but its
// answer was lost (a dropped connection, a timeout), the retry writes the
// records again, and with aggregation a whole aggregate is rewritten. Make
// consumers idempotent: for RTDS events, the event's id is the
// deduplication key.
//
// # Throughput
//
// The producer reads the stream's shard map with ListShards and predicts
// each record's shard from its partition key. When a shard throttles, the
// producer limits that shard alone, to a little more (1.25 times) than the
// most it delivered in one second of the last ten, then raises the limit
// additively back to unlimited, so other shards keep their pace and
// nothing spins while waiting. Because the limit follows what the shard
// delivers rather than halving on each throttle, throttles the producer
// did not cause (another writer, a fault failing a share of entries at any
// rate) do not make it collapse. The map is re-read periodically and as
// soon as a record lands on an unexpected shard (a reshard).
//
// # Back-pressure
//
// Put admits a record only when its shard can be expected to send it
// within its TTL: see WithRecordTTL. Otherwise Put waits, so a caller
// writing faster than the stream accepts is slowed to the stream's pace
// instead of filling a buffer whose records would expire.
//
// Without WithOrdering, records of one key may be written out of Put order
// when a retry overtakes them or requests overlap; WithOrdering keeps Put
// order per key, through retries, splits and merges, at a documented cost.
//
// # Retries
//
// The producer's retry policy (WithPutRetry) is the only retry layer. Each
// PutRecords call passes the SDK a per-call option setting
// RetryMaxAttempts to 1, so the SDK's retryer makes exactly one attempt
// per producer attempt: its backoff and retry quota never multiply the
// producer's (a ProducerAPI other than *sdkkinesis.Client may ignore the
// option). Errors no retry can fix fail the records on their first
// attempt, with the SDK's error in Result.Err (errors.As finds its
// *smithy.OperationError and, where the service answered, its typed
// exception): a missing region or an endpoint that does not resolve,
// credentials that cannot be obtained, an endpoint URL without a scheme or
// host, access denied, a stream that does not exist, validation errors.
// Connection errors (refused, reset, timeouts, DNS failures) are retried
// like throttling: ProducerStats.Answered and LastError tell a producer
// that never reached the stream from one meeting transient errors.
//
// # Memory
//
// Records put and not yet delivered or failed are bounded by
// WithBufferBytes, and per shard by what it sends within half the TTL; Put
// blocks while either is reached. The producer keeps
// a reference to each record's data until its outcome is reported, so the
// caller must not modify the slice before that.
//
// A Producer is safe for concurrent use.
type Producer struct {
	// Set by NewProducer, then only read: no lock needed.
	client    ProducerAPI
	cfg       producerConfig
	hooks     producerHooks
	name      *string // exactly one of name and arn is set
	arn       *string
	t0        time.Time   // origin of rec.at and unit.born
	fullBytes int         // fresh bytes that make a request worth sending before the linger ends
	aggBufs   *aggBufPool // with aggregation: buffers for encoded aggregates (a sync.Pool per class)

	// Goroutine control: safe for concurrent use by construction.
	ctx    context.Context // cancelled by Close
	cancel context.CancelCauseFunc
	wake   chan struct{} // signal: the dispatch loop should run
	stop   chan struct{} // closed by Close: the dispatch loop returns
	wg     sync.WaitGroup

	closeOnce sync.Once
	closeErr  error // written inside closeOnce, read after it

	// mu guards every field below it, every shardQ's fields and the units
	// queued for a retry. It is never held while calling the client, a
	// hook or the result handler, nor while waiting.
	mu sync.Mutex

	// Lifecycle.
	closed   bool  // Close was called: Put and Flush return ErrClosed
	aborted  bool  // Close gave up: records still buffered were failed
	abortErr error // why records were failed by Close

	// Admission: Put waits on space while the buffer is full or its
	// shard's backlog would not drain within the TTL.
	space chan struct{} // closed when records finish; nil if nobody waits

	// The shard map and the queues dispatch visits.
	shardMap    *batch.ShardMap // the stream's open shards; nil until first read
	shards      []*shardQ       // their queues, in shardMap.Ranges order
	byID        map[string]*shardQ
	unmapped    *shardQ   // records whose shard is unknown
	draining    []*shardQ // queues of closed shards with retries or requests in flight
	all         []*shardQ // shards, draining and unmapped: what dispatch visits
	rr          int       // round-robin start in all
	mapReady    bool      // the first ListShards answered (or failed)
	refreshing  bool      // a refreshShards goroutine runs
	needRefresh bool      // an answer named an unexpected shard
	lastRefresh time.Time

	// Requests.
	inflight    int // PutRecords calls in flight
	freshRecs   int // records in the queues not yet taken into a request
	freshBytes  int
	lingerStart time.Time           // when the oldest fresh record's linger started
	urgent      int                 // Flush calls waiting: send without lingering
	keys        map[string]struct{} // with ordering: keys in the request being built
	reqPool     []*request

	// Flush accounting: records put in each epoch and not yet finished.
	epoch   uint64
	cur     int            // records of the current epoch not finished
	old     map[uint64]int // the same for earlier epochs that a Flush waits for
	waiters []flushWaiter

	stats ProducerStats
}

type flushWaiter struct {
	epoch uint64
	done  chan struct{}
}

// NewProducer returns a Producer writing to stream, given by name or by
// ARN (a value starting with "arn:"). client is usually a
// *sdkkinesis.Client; kinesistest.Fake works for tests. The producer starts
// its background goroutines at once (the first one reads the shard map);
// call Close to deliver what is buffered and stop them.
func NewProducer(client ProducerAPI, stream string, opts ...ProducerOption) (*Producer, error) {
	if client == nil {
		return nil, errors.New("kinesis: nil client")
	}
	if stream == "" {
		return nil, errors.New("kinesis: empty stream name")
	}
	cfg := defaultProducerConfig()
	for _, o := range opts {
		if o != nil {
			o.applyProducer(&cfg)
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	p := &Producer{
		client:   client,
		cfg:      cfg,
		hooks:    newProducerHooks(cfg.hooks),
		t0:       time.Now(),
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		byID:     map[string]*shardQ{},
		unmapped: newShardQ("", hashKey{}, batch.MaxHashKey, ""),
		old:      map[uint64]int{},
	}
	if strings.HasPrefix(stream, "arn:") {
		p.arn = aws.String(stream)
	} else {
		p.name = aws.String(stream)
	}
	p.unmapped.setAdmit(p.t0, cfg.ttl)
	p.all = []*shardQ{p.unmapped}
	if cfg.aggregate {
		p.aggBufs = newAggBufPool(cfg.maxAggBytes)
	}
	// Send once a request's worth is buffered, but cap it: a few smaller
	// requests in flight keep Put, encoding and the network overlapped.
	p.fullBytes = min(cfg.maxBatchBytes, fullRequestBytes)
	p.ctx, p.cancel = context.WithCancelCause(context.Background())
	p.wg.Add(1)
	go p.run()
	cfg.log().Info("kinesis: producer started", "stream", stream, "aggregation", cfg.aggregate, "ordering", cfg.ordering)
	return p, nil
}

// validate checks a record against the service limits (batch.Limits).
func (p *Producer) validate(pk string, data []byte) error {
	if _, err := p.cfg.limits.Size(batch.Record{PartitionKey: pk, Data: data}); err != nil {
		return errorf("put: %w", err)
	}
	return nil
}

// Put buffers a record for the stream and returns once it is accepted. It
// blocks while the buffer is full (WithBufferBytes) or while the record's
// shard holds as much as it can send within half the TTL (WithRecordTTL),
// and returns ctx's error if ctx ends first. It returns ErrClosed after Close, and an error for a
// record that breaks a service limit, matching batch.ErrInvalidPartitionKey
// (an empty, over-long or invalid UTF-8 key) or batch.ErrRecordTooLarge
// with errors.Is; such a record is never sent and gets no Result. The
// record's outcome is reported later to the WithResultHandler
// function. data must not be modified until then.
func (p *Producer) Put(ctx context.Context, partitionKey string, data []byte) error {
	if err := p.validate(partitionKey, data); err != nil {
		return err
	}
	size := len(partitionKey) + len(data)
	cost := p.recCost(size)
	h := batch.PartitionKeyHash(partitionKey)
	p.mu.Lock()
	var sh *shardQ
	for {
		if p.closed {
			p.mu.Unlock()
			return ErrClosed
		}
		sh = p.routeLocked(h)
		if sh == nil {
			sh = p.unmapped
		}
		// A record always fits in an empty buffer (validate bounds its
		// size) and in an empty shard backlog, so waiting only waits for
		// records to finish.
		if (p.stats.BufferedBytes+size <= p.cfg.bufferBytes || p.stats.BufferedBytes == 0) && sh.admits(cost) {
			break
		}
		if p.space == nil {
			p.space = make(chan struct{})
		}
		space := p.space
		p.mu.Unlock()
		select {
		case <-space:
		case <-ctx.Done():
			return errorf("put: waiting for buffer space: %w", context.Cause(ctx))
		}
		p.mu.Lock()
	}
	at := time.Since(p.t0)
	p.pushLocked(sh, rec{pk: partitionKey, data: data, h: h, at: at, epoch: p.epoch})
	p.cur++
	p.stats.Records++
	p.stats.Buffered++
	p.stats.BufferedBytes += size
	prevRecs, prevBytes := p.freshRecs, p.freshBytes
	p.freshRecs++
	p.freshBytes += size
	if prevRecs == 0 {
		p.lingerStart = p.t0.Add(at)
	}
	wake := prevRecs == 0 || p.urgent > 0 ||
		(!p.cfg.aggregate && prevRecs < p.cfg.maxBatchRecords && p.freshRecs >= p.cfg.maxBatchRecords) ||
		(prevBytes < p.fullBytes && p.freshBytes >= p.fullBytes)
	p.mu.Unlock()
	if wake {
		p.signal()
	}
	return nil
}

// PutEvent puts e's JSON encoding with the partition key chosen by the
// WithEventPartitionKey function (the event's channel by default). It
// returns ErrNoPartitionKey, wrapped, when that key is empty.
//
// Delivery is at least once (see Producer): a consumer that must not act
// twice on one event deduplicates on the event's id, which a retry never
// changes.
func (p *Producer) PutEvent(ctx context.Context, e event.Event) error {
	if e == nil || e.Base() == nil {
		return errors.New("kinesis: put event: nil event")
	}
	pk := p.cfg.eventKey(e)
	if pk == "" {
		return errorf("put event %s: %w", e.Base().ID, ErrNoPartitionKey)
	}
	data, err := json.Marshal(e)
	if err != nil {
		return errorf("put event %s: %w", e.Base().ID, err)
	}
	return p.Put(ctx, pk, data)
}

// PutEventJSON puts one RTDS event given as its JSON, data, sent exactly as
// given (PutEvent re-encodes its event), under the partition key PutEvent
// would choose for it. With the built-in key functions (PartitionKeyChannel,
// the default, PartitionKeyNamedUser and PartitionKeyEventID) it finds the
// key with event.PeekKeys, without decoding the event, which makes it the
// cheap way to forward events read as JSON (an NDJSON file, a queue);
// another WithEventPartitionKey function gets the event decoded.
//
// It returns an error wrapping the *event.DecodeError when data is not one
// JSON object with a non-empty string "id" and "type" (event.PeekKeys
// checks that much, not the other members' values; with a custom key
// function the whole event must decode), and ErrNoPartitionKey, wrapped,
// when the key is empty. Otherwise it is Put: data must not be modified
// until the record's outcome is reported, and the Result's PartitionKey,
// like its Data, shares data's memory.
func (p *Producer) PutEventJSON(ctx context.Context, data []byte) error {
	k, err := event.PeekKeys(data)
	if err != nil {
		return errorf("put event: %w", err)
	}
	var pk string
	if p.cfg.rawEventKey != nil {
		pk = p.cfg.rawEventKey(k)
	} else {
		e, err := event.Decode(data)
		if err != nil {
			return errorf("put event %s: %w", k.ID, err)
		}
		pk = p.cfg.eventKey(e)
	}
	if pk == "" {
		return errorf("put event %s: %w", k.ID, ErrNoPartitionKey)
	}
	return p.Put(ctx, pk, data)
}

// rawEventKey returns the equivalent, on event.PeekKeys's result, of fn
// when it is one of the built-in key functions, and nil otherwise.
func rawEventKey(fn func(event.Event) string) func(event.Keys) string {
	if fn == nil {
		return nil
	}
	switch reflect.ValueOf(fn).Pointer() {
	case reflect.ValueOf(PartitionKeyChannel).Pointer():
		return keysChannel
	case reflect.ValueOf(PartitionKeyNamedUser).Pointer():
		return keysNamedUser
	case reflect.ValueOf(PartitionKeyEventID).Pointer():
		return keysEventID
	}
	return nil
}

func keysChannel(k event.Keys) string {
	if k.ChannelID != "" {
		return k.ChannelID
	}
	return k.ID
}

func keysNamedUser(k event.Keys) string {
	if k.NamedUserID != "" {
		return k.NamedUserID
	}
	return keysChannel(k)
}

func keysEventID(k event.Keys) string { return k.ID }

// PartitionKeyChannel keys an event by its channel id, falling back to the
// event id when the event has no channel. Events of one device then keep
// their order and land on one shard.
func PartitionKeyChannel(e event.Event) string {
	b := e.Base()
	if c := b.ChannelID(); c != "" {
		return c
	}
	return b.ID
}

// PartitionKeyNamedUser keys an event by its named user id, falling back
// to PartitionKeyChannel.
func PartitionKeyNamedUser(e event.Event) string {
	if u := e.Base().NamedUserID(); u != "" {
		return u
	}
	return PartitionKeyChannel(e)
}

// PartitionKeyEventID keys an event by its id, spreading events evenly
// over shards with no ordering between them.
func PartitionKeyEventID(e event.Event) string { return e.Base().ID }

// Flush sends every buffered record at once, ignoring the linger time, and
// waits until every record put before the call is delivered or reported
// failed (its Result handled), or ctx ends. Records put while Flush waits
// are not waited for. Flush is safe to call concurrently with Put and with
// other Flush calls. It returns ErrClosed after Close.
func (p *Producer) Flush(ctx context.Context) error {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return ErrClosed
	}
	return p.flush(ctx)
}

func (p *Producer) flush(ctx context.Context) error {
	p.mu.Lock()
	if p.cur == 0 && len(p.old) == 0 {
		p.mu.Unlock()
		return nil
	}
	e := p.epoch
	if p.cur > 0 {
		p.old[e] = p.cur
		p.cur = 0
	}
	p.epoch++
	w := flushWaiter{epoch: e, done: make(chan struct{})}
	p.waiters = append(p.waiters, w)
	p.urgent++
	p.mu.Unlock()
	p.signal()
	defer func() {
		p.mu.Lock()
		p.urgent--
		for i := range p.waiters {
			if p.waiters[i].done == w.done {
				p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
				break
			}
		}
		p.mu.Unlock()
	}()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return errorf("flush: %w", context.Cause(ctx))
	}
}

// completeLocked accounts for n finished records of epoch e and releases
// Flush calls that no longer wait for anything.
func (p *Producer) completeLocked(e uint64, n int) {
	if e == p.epoch {
		p.cur -= n
		return
	}
	left := p.old[e] - n
	if left > 0 {
		p.old[e] = left
		return
	}
	delete(p.old, e)
	oldest := uint64(1<<64 - 1)
	for k := range p.old {
		oldest = min(oldest, k)
	}
	kept := p.waiters[:0]
	for _, w := range p.waiters {
		if w.epoch < oldest {
			close(w.done)
		} else {
			kept = append(kept, w)
		}
	}
	clear(p.waiters[len(kept):])
	p.waiters = kept
}

// Close stops accepting records (later Put, PutEvent, PutEventJSON and
// Flush calls return ErrClosed), delivers everything buffered within ctx, and stops the
// producer's goroutines. If ctx ends first, the records still undelivered
// are reported failed with an error wrapping ErrClosed and ctx's cause,
// and Close returns an error saying how many. Close is idempotent: later
// calls wait for the first and return its result.
func (p *Producer) Close(ctx context.Context) error {
	p.closeOnce.Do(func() { p.closeErr = p.close(ctx) })
	return p.closeErr
}

func (p *Producer) close(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	err := p.flush(ctx)
	if err != nil {
		cause := context.Cause(ctx)
		n := p.abort(cause)
		err = errorf("close: %d record(s) not delivered: %w", n, cause)
	}
	p.cancel(ErrClosed)
	close(p.stop)
	p.wg.Wait()
	// The dispatch loop may stop before it saw the last records finish:
	// the buffer's final state (empty, unless Close gave up).
	p.mu.Lock()
	buf := p.bufferLocked()
	p.mu.Unlock()
	p.reportBuffer(buf)
	st := p.Stats()
	p.cfg.log().Info("kinesis: producer closed", "records", st.Records, "delivered", st.Delivered,
		"failed", st.Failed, "retried", st.Retried, "requests", st.Requests)
	return err
}

// abort fails every buffered record and cancels in-flight requests, whose
// records then fail too unless their answer says they were delivered. It
// returns the number of records it failed directly or left to in-flight
// requests.
func (p *Producer) abort(cause error) int {
	err := fmt.Errorf("%w before the record was delivered: %w", ErrClosed, cause)
	p.mu.Lock()
	p.aborted = true
	p.abortErr = err
	n := p.stats.Buffered
	var units []unit
	for _, sh := range p.all {
		units = append(units, sh.retry...)
		clear(sh.retry)
		sh.retry = sh.retry[:0]
		for _, r := range sh.recs.drain() {
			units = append(units, unit{sh: sh, pk: r.pk, one: r, born: r.at})
		}
	}
	p.freshRecs, p.freshBytes = 0, 0
	p.mu.Unlock()
	p.cancel(err)
	for i := range units {
		units[i].state = stateFailed
		units[i].err = &RecordError{ShardID: units[i].sh.id, Attempts: units[i].attempts, Err: err}
	}
	p.finish(units, nil)
	return n
}

// Stats returns a snapshot of the producer's counters.
func (p *Producer) Stats() ProducerStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

func (p *Producer) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}
