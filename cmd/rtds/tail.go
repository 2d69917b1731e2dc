package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis"
)

func init() {
	register(command{
		name:    "tail",
		summary: "print the events of a Kinesis stream",
		run:     runTail,
	})
}

const tailUsage = `usage: rtds tail --stream NAME [--from trim_horizon|latest|RFC3339-TIME] [--type T ...]
                 [--limit N] [--idle-exit DURATION] [--format pretty|ndjson|csv]
                 [--fan-out CONSUMER] [--debug]

Reads every shard of the Kinesis stream NAME (a name or an ARN), splitting
KPL aggregates, and prints its events: pretty is one readable line per
event; ndjson prints each event's JSON exactly as it was in the record, one
per line; csv prints Airship's S3 CSV layout and needs exactly one --type.
Shards are read concurrently, so events of different shards interleave;
within a shard they are in stream order.

Records that are not events, or are malformed, are reported on standard
error with their shard and sequence number and counted in the summary
(standard error); the exit status is then 1.

--idle-exit D stops once every shard has reached the tip of the stream
(its backlog is read, however long that takes) and no new record came for
D since.

--fan-out CONSUMER reads with enhanced fan-out (SubscribeToShard) as the
stream consumer CONSUMER, registering it unless it exists: records are
pushed to tail with 2 MiB/s per shard of its own, without taking from the
GetRecords share of the stream's other readers. tail leaves the consumer
registered (AWS bills registered consumers by the hour; remove it with
aws kinesis deregister-stream-consumer), since the name may be another
application's.

The endpoint, region and credentials come from the standard AWS
configuration (AWS_ENDPOINT_URL_KINESIS, AWS_REGION, ...). A missing
region or credentials, an invalid endpoint URL, a missing stream or denied
access fail at once (exit status 1) with the cause; so does an endpoint
that gives no answer within 5s.

Flags:
`

func runTail(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "tail", tailUsage)
	stream := fs.String("stream", "", "the stream's `NAME` or ARN (required)")
	from := fs.String("from", "trim_horizon", "start `POSITION`: trim_horizon, latest or an RFC 3339 time")
	types := newTypeList(knownEventTypes())
	fs.Var(types, "type", "print only events of this `TYPE` (repeatable, or comma-separated)")
	limit := fs.Int("limit", 0, "exit after printing `N` events (0: no limit)")
	idleExit := fs.Duration("idle-exit", 0, "exit once every shard reached the tip and no record came for this `DURATION` (0: run until interrupted)")
	format := fs.String("format", "pretty", "output `FORMAT`: pretty, ndjson or csv")
	fanOut := fs.String("fan-out", "", "read with enhanced fan-out as the stream consumer `CONSUMER` (registered unless it exists)")
	debug := fs.Bool("debug", false, "log the library's and the AWS SDK's messages to standard error")
	if ok, code := fs.parse(args); !ok {
		return code
	}
	if *stream == "" {
		return fs.usageError("--stream is required")
	}
	if fs.NArg() > 0 {
		return fs.usageError("unexpected arguments %q", fs.Args())
	}
	if *limit < 0 {
		return fs.usageError("--limit must not be negative")
	}
	if *idleExit < 0 {
		return fs.usageError("--idle-exit must not be negative")
	}
	start, err := parseStart(*from)
	if err != nil {
		return fs.usageError("%v", err)
	}
	t := &tailer{out: bufio.NewWriter(env.stdout), stderr: env.stderr, format: *format, limit: int64(*limit)}
	switch *format {
	case "pretty", "ndjson":
	case "csv":
		if len(types.types) != 1 {
			return fs.usageError("--format csv needs exactly one --type")
		}
		w, err := event.NewCSVWriter(t.out, types.types[0])
		if err != nil {
			return fs.usageError("%v", err)
		}
		t.csv = w
		noteCSVType(env, "tail", types.types[0])
	default:
		return fs.usageError("unknown --format %q (want pretty, ndjson or csv)", *format)
	}
	if len(types.types) > 0 {
		t.types = map[event.Type]bool{}
		for _, ty := range types.types {
			t.types[ty] = true
		}
	}

	aw, err := newAWS(ctx, env, *debug)
	if err == nil {
		err = aw.preflight(ctx, *stream)
	}
	if err != nil {
		if ctx.Err() != nil {
			return 130
		}
		env.errorf("tail", "%v", err)
		return 1
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t.cancel = cancel
	idle := newIdleWatch(*idleExit)
	var opts []kinesis.ConsumerOption
	if *fanOut != "" {
		opts = append(opts, kinesis.WithEnhancedFanOut(*fanOut))
	}
	c, err := startConsumer(aw, *stream, start, t, idle, opts...)
	if err != nil {
		env.errorf("tail", "%v", err)
		return 1
	}
	go idle.watch(ctx, cancel)
	runErr := c.Run(ctx)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.csv != nil {
		if err := t.csv.Flush(); err != nil && runErr == nil {
			runErr = err
		}
	}
	if err := t.out.Flush(); err != nil && runErr == nil {
		runErr = err
	}
	if runErr == nil {
		runErr = t.writeErr
	}
	env.errorf("tail", "%s, %s", plural(t.printed, "event"), plural(t.malformed, "malformed record"))
	if runErr != nil {
		env.errorf("tail", "%v", describeAWSError(runErr, *stream))
		return 1
	}
	if t.malformed > 0 {
		return 1
	}
	return 0
}

// startConsumer builds tail's consumer (the kinesis consumer API tail uses
// is here and in idle.go).
func startConsumer(aw *awsSetup, stream string, start kinesis.StartPosition, t *tailer, idle *idleWatch, opts ...kinesis.ConsumerOption) (*kinesis.Consumer, error) {
	c, err := kinesis.NewConsumer(aw.client, stream, append([]kinesis.ConsumerOption{
		kinesis.WithStartPosition(start),
		kinesis.WithIdleWait(250 * time.Millisecond),
		kinesis.WithLogger(aw.log),
		kinesis.OnRecord(t.handle),
		kinesis.WithDeadLetter(t.deadLetter),
		kinesis.WithHooks(idle),
	}, opts...)...)
	if err != nil {
		return nil, err
	}
	idle.shards = consumerShards(c)
	return c, nil
}

// tailer prints records. Its handler runs on one goroutine per shard, so
// output is serialized by mu.
type tailer struct {
	format string
	types  map[event.Type]bool
	limit  int64
	cancel context.CancelFunc

	mu        sync.Mutex
	out       *bufio.Writer
	stderr    io.Writer
	csv       *event.CSVWriter
	printed   int64
	malformed int64
	writeErr  error
}

func (t *tailer) handle(ctx context.Context, r kinesis.Record) error {
	ty, err := event.PeekType(r.Data)
	if err != nil {
		t.report(r, err)
		return nil
	}
	if t.types != nil && !t.types[ty] {
		return nil // not decoded: only its type was read
	}
	ev, err := event.Decode(r.Data)
	if err != nil {
		t.report(r, err)
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.limit > 0 && t.printed >= t.limit {
		return nil
	}
	switch {
	case t.csv != nil:
		err = t.csv.Write(ev)
	case t.format == "ndjson":
		t.out.Write(r.Data)
		err = t.out.WriteByte('\n')
	default:
		err = writePretty(t.out, ev, r)
	}
	if err != nil {
		t.fail(err)
		return nil
	}
	t.printed++
	if t.limit > 0 && t.printed == t.limit {
		t.cancel()
	}
	// Flush what is complete, so a pipe reader sees events as they come.
	if t.csv != nil {
		err = t.csv.Flush()
	}
	if err == nil {
		err = t.out.Flush()
	}
	if err != nil {
		t.fail(err)
	}
	return nil
}

// fail records a write error (stdout is gone) and stops. Called with mu
// held.
func (t *tailer) fail(err error) {
	if t.writeErr == nil {
		t.writeErr = fmt.Errorf("write: %w", err)
	}
	t.cancel()
}

// deadLetter reports records the consumer could not split (a corrupt KPL
// aggregate).
func (t *tailer) deadLetter(ctx context.Context, d kinesis.DeadLetter) error {
	t.report(d.Record, d.Err)
	return nil
}

func (t *tailer) report(r kinesis.Record, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.malformed++
	where := r.SequenceNumber
	if r.Aggregated {
		where = fmt.Sprintf("%s (sub-record %d)", r.SequenceNumber, r.SubSequenceNumber)
	}
	fmt.Fprintf(t.stderr, "rtds tail: shard %s, sequence number %s: not an event: %v\n", r.ShardID, where, err)
}

// writePretty writes one summary line: time, type, id, channel, named user,
// shard.
func writePretty(w *bufio.Writer, ev event.Event, r kinesis.Record) error {
	b := ev.Base()
	occurred := "-"
	if !b.Occurred.IsZero() {
		occurred = b.Occurred.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	fmt.Fprintf(w, "%s %-24s id=%s", occurred, ev.EventType(), b.ID)
	if ch := b.ChannelID(); ch != "" {
		fmt.Fprintf(w, " channel=%s", ch)
	}
	if nu := b.NamedUserID(); nu != "" {
		fmt.Fprintf(w, " named_user=%s", nu)
	}
	_, err := fmt.Fprintf(w, " shard=%s\n", r.ShardID)
	return err
}

func parseStart(s string) (kinesis.StartPosition, error) {
	switch strings.ToLower(s) {
	case "trim_horizon":
		return kinesis.StartTrimHorizon, nil
	case "latest":
		return kinesis.StartLatest, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return kinesis.StartPosition{}, fmt.Errorf("--from %q: want trim_horizon, latest or an RFC 3339 time", s)
	}
	return kinesis.StartAtTimestamp(t), nil
}
