package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/rtdskit/rtds/connect"
	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis"
)

func init() {
	register(command{
		name:    "bridge",
		summary: "forward Airship's Data Streaming API into a Kinesis stream",
		run:     runBridge,
	})
}

const bridgeUsage = `usage: rtds bridge --app-key KEY --token-file FILE --stream NAME
                   [--connect-region na|eu | --connect-url URL] [--type T ...]
                   [--partition-key channel|named_user|id]
                   [--checkpoint dynamodb://TABLE | file://PATH]
                   [--start earliest|latest] [--checkpoint-interval DURATION]
                   [--aggregate=false] [--debug]

Reads the app's events from Airship's Data Streaming API (POST /api/events,
with the RTDS access token in FILE) and puts each event's JSON, unchanged,
as one record into the Kinesis stream NAME (KPL aggregation on by default).
OFFSET_UPDATE events are never forwarded; they only advance the offset.

The offset is stored in --checkpoint only once every event up to it is
delivered to Kinesis, so a bridge that crashes or is killed resumes after
it and sends again what may not have been delivered (duplicates, never
gaps). Without a stored offset the stream starts at --start. Without
--checkpoint the offset is kept in memory only. A DynamoDB table is
created when missing (the layout of the kinesis/dynamodbstore tables, so
one table can hold both).

Dropped connections, 429 and 5xx answers are retried, resuming after the
last event read, and reported at the first attempt and every tenth; 402
(another reader holds the app's stream) is retried every 30s to 5m and
reported each time; 401/403 stop the bridge (what was read is still
delivered and its offset stored).

Progress (events/s, delivered, the stored offset and the lag: the
processed time of the last event vs now) is redrawn on a terminal and
written every 30s otherwise; a summary is written at exit. On SIGINT or
SIGTERM the bridge stops reading, delivers what it read, stores the final
offset and exits 130; a second one exits at once (the stored offset is
still safe).

AWS configuration as for rtds put (AWS_ENDPOINT_URL_KINESIS, AWS_REGION,
...); DynamoDB checkpoints use AWS_ENDPOINT_URL_DYNAMODB or
AWS_ENDPOINT_URL.

Exit status: 130 when interrupted, 1 when the bridge stopped on an error,
2 for a usage error.

Flags:
`

const (
	// bridgeLogEvery is how often it writes a progress line when standard
	// error is not a terminal.
	bridgeLogEvery = 30 * time.Second
)

func runBridge(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "bridge", bridgeUsage)
	appKey := fs.String("app-key", "", "the Airship app `KEY` (required)")
	tokenFile := fs.String("token-file", "", "`FILE` holding the RTDS access token (required)")
	stream := fs.String("stream", "", "the Kinesis stream's `NAME` or ARN (required)")
	region := fs.String("connect-region", "na", "Airship's data center, `REGION`: na or eu")
	connectURL := fs.String("connect-url", "", "the Data Streaming API's base `URL` (instead of --connect-region)")
	types := newTypeList(knownEventTypes())
	fs.Var(types, "type", "forward only events of this `TYPE` (repeatable, or comma-separated)")
	keyName := fs.String("partition-key", "channel", "partition `KEY`: channel, named_user or id")
	checkpoint := fs.String("checkpoint", "", "store the offset at `URL`: dynamodb://TABLE or file://PATH")
	start := fs.String("start", "earliest", "`POSITION` to start at without a stored offset: earliest or latest")
	saveEvery := fs.Duration("checkpoint-interval", time.Second, "store the offset at most once per `DURATION`")
	aggregate := fs.Bool("aggregate", true, "pack events into KPL aggregated records")
	debug := fs.Bool("debug", false, "log the library's and the AWS SDK's messages to standard error")
	if ok, code := fs.parse(args); !ok {
		return code
	}
	switch {
	case *appKey == "":
		return fs.usageError("--app-key is required")
	case *tokenFile == "":
		return fs.usageError("--token-file is required")
	case *stream == "":
		return fs.usageError("--stream is required")
	case fs.NArg() > 0:
		return fs.usageError("unexpected arguments %q", fs.Args())
	}
	opts := []connect.Option{connect.WithOffsetUpdates(true)}
	regionSet := false
	fs.Visit(func(f *flag.Flag) { regionSet = regionSet || f.Name == "connect-region" })
	switch {
	case *connectURL != "" && regionSet:
		return fs.usageError("--connect-region and --connect-url are exclusive")
	case *connectURL != "":
		opts = append(opts, connect.WithBaseURL(*connectURL))
	case *region == "na" || *region == "eu":
		opts = append(opts, connect.WithRegion(connect.Region(*region)))
	default:
		return fs.usageError("--connect-region %q: want na or eu", *region)
	}
	keyFn, ok := partitionKeyFunc(*keyName)
	if !ok {
		return fs.usageError("--partition-key %q: want channel, named_user or id", *keyName)
	}
	startAt := connect.StartEarliest
	switch *start {
	case "earliest":
	case "latest":
		startAt = connect.StartLatest
	default:
		return fs.usageError("--start %q: want earliest or latest", *start)
	}
	if *saveEvery <= 0 {
		return fs.usageError("--checkpoint-interval %v: must be positive", *saveEvery)
	}
	if *checkpoint != "" {
		if _, _, err := parseCheckpoint(*checkpoint); err != nil {
			return fs.usageError("%v", err)
		}
	}
	if len(types.types) > 0 {
		opts = append(opts, connect.WithFilters(connect.Filter{Types: types.types}))
	}
	tok, err := os.ReadFile(*tokenFile)
	if err != nil {
		env.errorf("bridge", "--token-file: %v", err)
		return 1
	}
	token := strings.TrimSpace(string(tok))
	if token == "" {
		env.errorf("bridge", "--token-file %s is empty", *tokenFile)
		return 1
	}

	aw, err := newAWS(ctx, env, *debug)
	if err == nil {
		err = aw.preflight(ctx, *stream)
	}
	var store offsetStore
	resume := ""
	if err == nil && *checkpoint != "" {
		store, err = openOffsetStore(ctx, env, aw, *checkpoint, *appKey, *stream)
		if err == nil {
			resume, _, err = store.load(ctx)
			if err != nil {
				err = fmt.Errorf("--checkpoint %s: %w", store, err)
			}
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			env.errorf("bridge", "interrupted before reading; nothing sent")
			return 130
		}
		env.errorf("bridge", "%v", err)
		return 1
	}
	b := &bridgeRun{env: env, stream: *stream, store: store, saved: resume, pending: map[*byte]*connect.Event{}}
	if resume != "" {
		opts = append(opts, connect.WithResumeOffset(resume))
		env.errorf("bridge", "resuming after offset %s (%s)", resume, store)
	} else {
		opts = append(opts, connect.WithStart(startAt))
		if store == nil {
			env.errorf("bridge", "no --checkpoint: the offset is kept in memory only; a restart begins at --start %s", *start)
		}
	}
	opts = append(opts, connect.WithLogger(aw.log), connect.WithHooks(b))
	opts = append(opts, env.connectOptions...)
	client, err := connect.New(*appKey, token, opts...)
	if err != nil {
		env.errorf("bridge", "%v", err)
		return 1
	}
	b.client = client
	readCtx, stopReading := context.WithCancelCause(ctx)
	defer stopReading(nil)
	b.stopReading = stopReading
	popts := []kinesis.ProducerOption{
		kinesis.WithAggregation(*aggregate),
		kinesis.WithRecordTTL(noTTL),
		kinesis.WithLogger(aw.log),
		kinesis.WithHooks(bridgeHooks{b}),
		kinesis.WithResultHandler(b.result),
	}
	p, err := kinesis.NewProducer(aw.client, *stream, append(popts, env.putOptions...)...)
	if err != nil {
		env.errorf("bridge", "%v", err)
		return 1
	}
	b.p = p
	b.start = time.Now()
	stopSaving := b.saveLoop(*saveEvery)
	stopProgress := b.progress()

	b.forward(readCtx, keyFn)

	b.mu.Lock()
	b.draining = true
	b.mu.Unlock()
	env.setLastWords(b.lastWords)
	defer env.setLastWords(nil)
	closeCtx := context.WithoutCancel(ctx)
	b.mu.Lock()
	abort := b.abort
	b.mu.Unlock()
	if abort {
		c, cancel := context.WithCancel(closeCtx)
		cancel() // Kinesis takes nothing more: fail what is buffered
		closeCtx = c
	}
	closeErr := p.Close(closeCtx)
	stopProgress()
	stopSaving()
	return b.report(ctx, closeErr)
}

// bridgeRun is one run of rtds bridge.
type bridgeRun struct {
	env         *cmdEnv
	stream      string
	store       offsetStore
	client      *connect.Client
	p           *kinesis.Producer
	stopReading context.CancelCauseFunc
	start       time.Time

	mu        sync.Mutex
	pending   map[*byte]*connect.Event // put and without an outcome yet
	saved     string                   // the offset last stored
	saveErr   error                    // the last failed store, until one succeeds
	fatal     error                    // why the bridge stops: the API refused it, or Kinesis an event
	abort     bool                     // fatal came from Kinesis: what is buffered cannot be delivered
	apiErr    error                    // the last retried API error, until a connection succeeds
	putErr    error                    // the last retried Kinesis error, until a request succeeds
	skipped   int64                    // events Kinesis cannot hold (over 1 MiB)
	draining  bool
	failShown int
}

// forward reads the stream and puts each event until ctx is done or the
// stream ends with an error.
func (b *bridgeRun) forward(ctx context.Context, keyFn partitionKeyFn) {
	for e, err := range b.client.Events(ctx) {
		if err != nil {
			if ctx.Err() == nil {
				// What was read is still delivered, and its offset stored.
				b.setFatal(fmt.Errorf("Data Streaming API: %w", err), false)
			}
			return
		}
		if e.Type == event.TypeOffsetUpdate {
			continue // acknowledged by the client; never forwarded
		}
		pk := keyFn(e.Event)
		if pk == "" {
			pk = e.ID
		}
		if pk == "" {
			pk = e.Offset
		}
		key := &e.Data[0]
		b.mu.Lock()
		b.pending[key] = e
		b.mu.Unlock()
		if err := b.p.Put(ctx, pk, e.Data); err != nil {
			b.mu.Lock()
			delete(b.pending, key)
			b.mu.Unlock()
			if ctx.Err() != nil {
				return // not put, not acknowledged: read again after a restart
			}
			if isRecordTooLarge(err) {
				b.env.errorf("bridge", "offset %s: event %s is over the %d-byte Kinesis record limit; skipped", e.Offset, e.ID, maxLine)
				b.mu.Lock()
				b.skipped++
				b.mu.Unlock()
				e.Ack()
				continue
			}
			b.setFatal(err, true)
			return
		}
	}
}

// result receives each record's outcome: a delivered event is
// acknowledged; a failed one stops the bridge, and the offset never
// passes it.
func (b *bridgeRun) result(res kinesis.Result) {
	b.mu.Lock()
	var e *connect.Event
	if len(res.Data) > 0 {
		e = b.pending[&res.Data[0]]
		delete(b.pending, &res.Data[0])
	}
	b.mu.Unlock()
	if res.Err == nil {
		e.Ack()
		return
	}
	if e == nil {
		e = &connect.Event{}
	}
	b.mu.Lock()
	show := b.failShown < maxFailureLines && b.fatal == nil
	if show {
		b.failShown++
	}
	b.mu.Unlock()
	if show {
		b.env.errorf("bridge", "offset %s: event %s not delivered: %v", e.Offset, e.ID, describeUndelivered(res.Err))
	}
	if permanent(res.Err) {
		b.setFatal(describeAWSError(res.Err, b.stream), true)
	} else {
		b.setFatal(fmt.Errorf("an event was not delivered: %v", describeUndelivered(res.Err)), true)
	}
}

// describeUndelivered is a record's failure as one line: the cause and the
// attempts made (the bridge's records have no TTL).
func describeUndelivered(err error) error {
	var re *kinesis.RecordError
	if errors.As(err, &re) && re.Attempts > 0 {
		return fmt.Errorf("%v (%s)", errorCause(err), plural(int64(re.Attempts), "attempt"))
	}
	return errorCause(err)
}

// setFatal stops reading with err (the first one counts); abort means
// Kinesis refused events, so what is buffered is not delivered either.
func (b *bridgeRun) setFatal(err error, abort bool) {
	b.mu.Lock()
	first := b.fatal == nil
	if first {
		b.fatal, b.abort = err, abort
	}
	b.mu.Unlock()
	if first {
		b.stopReading(err)
	}
}

// OnRetry reports the Data Streaming API's retries: 402 every time (it
// needs a person: another reader holds the stream), others at the first
// attempt and every tenth, and on the progress line.
func (b *bridgeRun) OnRetry(m connect.RetryMetrics) {
	b.mu.Lock()
	b.apiErr = m.Err
	b.mu.Unlock()
	wait := m.Wait.Round(time.Second)
	if m.Wait < time.Second {
		wait = m.Wait.Round(time.Millisecond)
	}
	switch {
	case errors.Is(m.Err, connect.ErrConnectionLimit):
		b.env.errorf("bridge", "the app key's connection limit is reached (HTTP 402): is another reader holding the stream? attempt %d, retrying in %v", m.Attempt, wait)
	case m.Attempt == 1 || m.Attempt%10 == 0:
		b.env.errorf("bridge", "Data Streaming API: %v; attempt %d, reconnecting in %v", m.Err, m.Attempt, wait)
	}
}

func (b *bridgeRun) OnConnect(connect.ConnectMetrics) {
	b.mu.Lock()
	b.apiErr = nil
	b.mu.Unlock()
}

// bridgeHooks passes the producer's retries and successes to the
// progress line.
type bridgeHooks struct{ b *bridgeRun }

func (h bridgeHooks) OnPutRetried(m kinesis.PutRetryMetrics) {
	h.b.mu.Lock()
	h.b.putErr = m.Err
	h.b.mu.Unlock()
}

func (h bridgeHooks) OnPutBatch(m kinesis.PutBatchMetrics) {
	if m.Err == nil && m.Failed == 0 {
		h.b.mu.Lock()
		h.b.putErr = nil
		h.b.mu.Unlock()
	}
}

// saveLoop stores the acknowledged offset every interval while it moves;
// the returned function stops it and stores the final offset.
func (b *bridgeRun) saveLoop(every time.Duration) (stop func()) {
	stopTicks := tick(every, func() { b.save(context.Background()) })
	return func() {
		stopTicks()
		b.save(context.Background())
	}
}

// tick calls fn every d on a goroutine of its own until the returned
// function is called; that function returns once fn is no longer running.
func tick(d time.Duration, fn func()) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fn()
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// save stores the acknowledged offset if it moved.
func (b *bridgeRun) save(ctx context.Context) {
	off := b.client.Acknowledged()
	b.mu.Lock()
	same := off == b.saved || off == ""
	b.mu.Unlock()
	if same {
		return
	}
	if b.store == nil {
		b.mu.Lock()
		b.saved = off
		b.mu.Unlock()
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := b.store.save(ctx, off)
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil {
		if b.saveErr == nil {
			b.env.errorf("bridge", "storing offset %s in %s: %v (retrying)", off, b.store, err)
		}
		b.saveErr = err
		return
	}
	if b.saveErr != nil {
		b.env.errorf("bridge", "offset %s stored in %s again", off, b.store)
	}
	b.saved, b.saveErr = off, nil
}

// line is the progress line.
func (b *bridgeRun) line() string {
	st := b.p.Stats()
	cs := b.client.Stats()
	b.mu.Lock()
	saved, apiErr, putErr, draining := b.saved, b.apiErr, b.putErr, b.draining
	b.mu.Unlock()
	var s string
	if draining {
		s = fmt.Sprintf("rtds bridge: delivering: %d of %d events delivered", st.Delivered, st.Records)
	} else {
		s = fmt.Sprintf("rtds bridge: %.0f events/s, %d read, %d delivered",
			float64(st.Delivered)/time.Since(b.start).Seconds(), cs.Events-cs.OffsetUpdates, st.Delivered)
	}
	if saved != "" {
		s += ", offset " + saved
	}
	if !cs.LastProcessed.IsZero() {
		s += fmt.Sprintf(", lag %v", time.Since(cs.LastProcessed).Round(time.Second))
	}
	if apiErr != nil {
		s += "; reconnecting: " + apiErr.Error()
	}
	if putErr != nil {
		s += "; retrying puts: " + errorCause(putErr).Error()
	}
	return s
}

// progress redraws the progress line every 200 ms on a terminal, or
// writes one every bridgeLogEvery (and every 2s while draining) otherwise.
func (b *bridgeRun) progress() (stop func()) {
	tty := b.env.stderrIsTerminal
	every := 200 * time.Millisecond
	if !tty {
		every = drainProgressEvery
	}
	drew := false
	last := time.Now()
	stopTicks := tick(every, func() {
		b.mu.Lock()
		draining := b.draining
		b.mu.Unlock()
		if tty {
			fmt.Fprintf(b.env.stderr, "\r%s\x1b[K", b.line())
			drew = true
		} else if draining || time.Since(last) >= bridgeLogEvery {
			fmt.Fprintln(b.env.stderr, b.line())
			last = time.Now()
		}
	})
	return func() {
		stopTicks()
		if drew {
			fmt.Fprint(b.env.stderr, "\r\x1b[K")
		}
	}
}

// lastWords is what the bridge says when a second interrupt ends it while
// it drains.
func (b *bridgeRun) lastWords(w io.Writer) {
	b.mu.Lock()
	saved, n := b.saved, len(b.pending)
	b.mu.Unlock()
	where := "no offset stored yet: a restart begins at --start"
	if saved != "" {
		where = "offset " + saved + " is stored: a restart resumes after it"
	}
	fmt.Fprintf(w, "\nrtds bridge: interrupted again: exiting with %s not yet delivered; %s\n", plural(int64(n), "event"), where)
}

// report writes the summary and returns the exit status.
func (b *bridgeRun) report(ctx context.Context, closeErr error) int {
	st := b.p.Stats()
	cs := b.client.Stats()
	b.mu.Lock()
	saved, fatal, saveErr, skipped := b.saved, b.fatal, b.saveErr, b.skipped
	b.mu.Unlock()
	summary := fmt.Sprintf("%s, %s, %s, %s, %s, %s, %s",
		plural(st.Records, "event"), plural(st.KinesisRecords, "Kinesis record"), plural(st.Requests, "request"),
		plural(st.Retried, "retry"), plural(st.Failed, "failure"), plural(cs.OffsetUpdates, "offset update"),
		plural(cs.Retries, "reconnect"))
	summary = strings.Replace(summary, "retrys", "retries", 1)
	if skipped > 0 {
		summary += ", " + plural(skipped, "event") + " over the record limit skipped"
	}
	if cs.Malformed > 0 {
		summary += ", " + plural(cs.Malformed, "malformed line")
	}
	switch {
	case saved == "":
		summary += "; no offset stored"
	case b.store == nil:
		summary += "; delivered up to offset " + saved + " (not stored: no --checkpoint)"
	default:
		summary += "; offset " + saved + " stored in " + b.store.String()
	}
	b.env.errorf("bridge", "%s", summary)
	if saveErr != nil {
		b.env.errorf("bridge", "the last offset could not be stored: %v", saveErr)
	}
	if fatal != nil {
		b.env.errorf("bridge", "%v", fatal)
		return 1
	}
	if closeErr != nil {
		b.env.errorf("bridge", "%v", closeErr)
		return 1
	}
	if ctx.Err() != nil {
		return 130
	}
	return 1 // not reached: the stream has no end
}
