package main

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis"
)

func init() {
	register(command{
		name:    "stats",
		summary: "summarize events from NDJSON files or a stream: types, times, lag, duplicates, schema drift",
		run:     runStats,
	})
}

const statsUsage = `usage: rtds stats [--type T ...] [--format text|json] [FILE...]
       rtds stats --stream NAME [--from trim_horizon|latest|RFC3339-TIME]
                  [--duration D] [--idle-exit D] [--type T ...] [--format text|json]

Reads RTDS events and writes a summary to standard output: events per type
(count, share, size p50/p99), the time range of occurred and processed,
delivery lag (processed - occurred) percentiles, duplicate ids, unknown
types, and the schema drift this version of rtds sees: per event type, each
member it does not model and each member whose JSON type differs from the
one it knows (see event.AppendDrift), with a count and where it was first
seen. --examples adds each member's first value (at most 80 bytes of that
member, never the whole event); values are event data, possibly personal,
so they are left out unless asked for.

Without --stream it reads newline-delimited event JSON from the files, or
from standard input when there are none ("-" is standard input too);
gzip-compressed files are recognised by their content. With --stream it
reads every shard of the Kinesis stream NAME, splitting KPL aggregates, and
adds per-shard record counts (aggregated and plain) and MillisBehindLatest;
it stops when every shard has reached the tip and no record came for
--idle-exit, or when --duration has passed, whichever comes first.

Lines or records that are not events are reported on standard error with
their position (file:line:, or shard and sequence number), counted in the
report, and make the exit status 1. Progress goes to standard error when it
is a terminal.

Flags:
`

func runStats(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "stats", statsUsage)
	stream := fs.String("stream", "", "read the stream `NAME` (a name or ARN) instead of files")
	from := fs.String("from", "trim_horizon", "with --stream, the start `POSITION`: trim_horizon, latest or an RFC 3339 time")
	duration := fs.Duration("duration", 0, "with --stream, stop after this `DURATION` (0: no limit)")
	idleExit := fs.Duration("idle-exit", time.Second, "with --stream, stop once every shard reached the tip and no record came for this `DURATION`")
	types := newTypeList(knownEventTypes())
	fs.Var(types, "type", "count only events of this `TYPE` (repeatable, or comma-separated)")
	format := fs.String("format", "text", "report `FORMAT`: text or json")
	examples := fs.Bool("examples", false, "show an example value of each drifted member (event data)")
	debug := fs.Bool("debug", false, "with --stream, log the library's and the AWS SDK's messages to standard error")
	if ok, code := fs.parse(args); !ok {
		return code
	}
	if *format != "text" && *format != "json" {
		return fs.usageError("unknown --format %q (want text or json)", *format)
	}
	s := newStatsRun(env)
	if len(types.types) > 0 {
		s.types = map[event.Type]bool{}
		for _, t := range types.types {
			s.types[t] = true
		}
	}
	stop := s.progress(ctx)
	var code int
	if *stream != "" {
		if fs.NArg() > 0 {
			return fs.usageError("--stream reads no files; unexpected arguments %q", fs.Args())
		}
		if *duration < 0 || *idleExit <= 0 {
			return fs.usageError("--duration must not be negative and --idle-exit must be positive")
		}
		start, err := parseStart(*from)
		if err != nil {
			return fs.usageError("%v", err)
		}
		code = s.readStream(ctx, *stream, start, *duration, *idleExit, *debug)
	} else {
		code = s.readFiles(ctx, fs.Args())
	}
	stop()
	if code > 1 {
		return code
	}
	rep := s.report()
	if !*examples {
		for i := range rep.Drift {
			rep.Drift[i].Example = ""
		}
	}
	var err error
	if *format == "json" {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.writeText(env.stdout, *examples)
	}
	if err != nil {
		env.errorf("stats", "writing the report: %v", err)
		return 1
	}
	if code != 0 || rep.Malformed > 0 {
		return 1
	}
	return 0
}

// statsRun collects one run's events. Stream handlers call add from one
// goroutine per shard, so it is guarded by mu.
type statsRun struct {
	env   *cmdEnv
	types map[event.Type]bool // nil: every type

	mu          sync.Mutex
	events      int64
	bytes       map[event.Type][]int
	lag         []time.Duration
	occ, proc   timeRange
	ids         map[string]int
	unknown     map[event.Type]int64
	malformed   int64
	drift       event.DriftReport
	shards      map[string]*ShardCounts
	millisBehid map[string]int64
}

type timeRange struct{ first, last time.Time }

func (r *timeRange) add(t time.Time) {
	if t.IsZero() {
		return
	}
	if r.first.IsZero() || t.Before(r.first) {
		r.first = t
	}
	if t.After(r.last) {
		r.last = t
	}
}

func newStatsRun(env *cmdEnv) *statsRun {
	return &statsRun{env: env, bytes: map[event.Type][]int{}, ids: map[string]int{}, unknown: map[event.Type]int64{}}
}

// add counts one input; where is its position for messages and the drift
// report. It reports whether data was an event.
func (s *statsRun) add(data []byte, where string) bool {
	e, err := event.Decode(data)
	if err != nil {
		s.mu.Lock()
		s.malformed++
		s.mu.Unlock()
		s.env.errorf("stats", "%s: %v", where, err)
		return false
	}
	t := e.EventType()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.types != nil && !s.types[t] {
		return true
	}
	s.events++
	s.bytes[t] = append(s.bytes[t], len(data))
	if _, ok := e.(*event.Unknown); ok {
		s.unknown[t]++
	}
	b := e.Base()
	s.occ.add(b.Occurred)
	s.proc.add(b.Processed)
	if !b.Occurred.IsZero() && !b.Processed.IsZero() {
		s.lag = append(s.lag, b.Processed.Sub(b.Occurred))
	}
	s.ids[b.ID]++
	s.drift.Observe(e, where)
	return true
}

// progress writes the count so far to standard error every half second when
// it is a terminal; the returned func stops it and clears the line.
func (s *statsRun) progress(ctx context.Context) (stop func()) {
	if !s.env.stderrIsTerminal {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(s.env.stderr, "\r\033[K")
				return
			case <-ctx.Done():
				return
			case <-t.C:
				s.mu.Lock()
				n := s.events + s.malformed
				s.mu.Unlock()
				fmt.Fprintf(s.env.stderr, "\rrtds stats: %d records read...", n)
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// readFiles reads NDJSON from names (stdin if none); it returns 1 if an
// input could not be read.
func (s *statsRun) readFiles(ctx context.Context, names []string) int {
	if len(names) == 0 {
		names = []string{"-"}
	}
	code := 0
	for _, name := range names {
		if ctx.Err() != nil {
			s.env.errorf("stats", "stopped: %v", context.Cause(ctx))
			return 1
		}
		var in io.Reader = s.env.stdin
		label := "stdin"
		if name != "-" {
			f, err := os.Open(name)
			if err != nil {
				s.env.errorf("stats", "%v", err)
				code = 1
				continue
			}
			in, label = f, name
			defer f.Close()
		}
		if err := s.readNDJSON(ctx, label, in); err != nil {
			s.env.errorf("stats", "%v", err)
			code = 1
		}
	}
	return code
}

func (s *statsRun) readNDJSON(ctx context.Context, label string, in io.Reader) error {
	br := bufio.NewReaderSize(in, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%s: %w", label, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 64<<10), csvMaxLine)
	line := 0
	for sc.Scan() {
		line++
		data := bytes.TrimSpace(sc.Bytes())
		if len(data) == 0 {
			continue // keep-alive
		}
		if line%1024 == 0 && ctx.Err() != nil {
			return fmt.Errorf("stopped at %s:%d: %w", label, line, context.Cause(ctx))
		}
		s.add(data, fmt.Sprintf("%s:%d", label, line))
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s:%d: %w", label, line+1, err)
	}
	return nil
}

// readStream reads the stream until it is idle or d has passed.
func (s *statsRun) readStream(ctx context.Context, stream string, start kinesis.StartPosition, d, idleExit time.Duration, debug bool) int {
	aw, err := newAWS(ctx, s.env, debug)
	if err == nil {
		err = aw.preflight(ctx, stream)
	}
	if err != nil {
		if ctx.Err() != nil {
			return 130
		}
		s.env.errorf("stats", "%v", err)
		return 1
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if d > 0 {
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	s.shards = map[string]*ShardCounts{}
	idle := newIdleWatch(idleExit)
	c, err := kinesis.NewConsumer(aw.client, stream,
		kinesis.WithStartPosition(start),
		kinesis.WithIdleWait(250*time.Millisecond),
		kinesis.WithLogger(aw.log),
		kinesis.WithHooks(idle),
		kinesis.OnRecord(func(_ context.Context, r kinesis.Record) error {
			s.addRecord(r)
			return nil
		}),
		kinesis.WithDeadLetter(func(_ context.Context, dl kinesis.DeadLetter) error {
			s.mu.Lock()
			s.malformed++
			s.mu.Unlock()
			s.env.errorf("stats", "shard %s sequence number %s: %v", dl.ShardID, dl.SequenceNumber, dl.Err)
			return nil
		}),
	)
	if err != nil {
		s.env.errorf("stats", "%v", err)
		return 1
	}
	idle.shards = consumerShards(c)
	go idle.watch(ctx, cancel)
	runErr := c.Run(ctx)
	s.millisBehid = map[string]int64{}
	for _, sh := range c.Stats().Shards {
		s.millisBehid[sh.ShardID] = sh.MillisBehindLatest
		s.shard(sh.ShardID)
	}
	if runErr != nil {
		s.env.errorf("stats", "%v", describeAWSError(runErr, stream))
		return 1
	}
	return 0
}

func (s *statsRun) shard(id string) *ShardCounts {
	sc := s.shards[id]
	if sc == nil {
		sc = &ShardCounts{Shard: id}
		s.shards[id] = sc
	}
	return sc
}

func (s *statsRun) addRecord(r kinesis.Record) {
	s.mu.Lock()
	sc := s.shard(r.ShardID)
	sc.Records++
	if r.Aggregated {
		sc.Aggregated++
	} else {
		sc.Plain++
	}
	s.mu.Unlock()
	where := fmt.Sprintf("shard %s sequence number %s", r.ShardID, r.SequenceNumber)
	if r.Aggregated {
		where += fmt.Sprintf(" (sub-record %d)", r.SubSequenceNumber)
	}
	s.add(r.Data, where)
}

// StatsReport is rtds stats' report; --format json writes it as is.
type StatsReport struct {
	Events     int64             `json:"events"`
	Malformed  int64             `json:"malformed"`
	Types      []TypeCounts      `json:"types"`
	Occurred   *TimeSpan         `json:"occurred,omitempty"`
	Processed  *TimeSpan         `json:"processed,omitempty"`
	Lag        *LagPercentiles   `json:"delivery_lag,omitempty"`
	Duplicates DuplicateCounts   `json:"duplicates"`
	Unknown    []UnknownCount    `json:"unknown_types"`
	Drift      []event.DriftStat `json:"drift"`
	Shards     []ShardCounts     `json:"shards,omitempty"`
}

// TypeCounts is one event type's line.
type TypeCounts struct {
	Type     event.Type `json:"type"`
	Count    int64      `json:"count"`
	Share    float64    `json:"share"` // of all events, 0..1
	BytesP50 int        `json:"bytes_p50"`
	BytesP99 int        `json:"bytes_p99"`
}

// TimeSpan is the first and last time seen.
type TimeSpan struct {
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
}

// LagPercentiles summarizes processed - occurred over the events with both.
type LagPercentiles struct {
	Events int64         `json:"events"`
	P50    time.Duration `json:"p50_ns"`
	P90    time.Duration `json:"p90_ns"`
	P99    time.Duration `json:"p99_ns"`
	Max    time.Duration `json:"max_ns"`
}

// DuplicateCounts counts events whose id was seen before.
type DuplicateCounts struct {
	Events int64 `json:"events"` // repeats beyond each id's first event
	IDs    int64 `json:"ids"`    // ids seen more than once
}

// UnknownCount is one type this version does not know.
type UnknownCount struct {
	Type  event.Type `json:"type"`
	Count int64      `json:"count"`
}

// ShardCounts is one shard's line (--stream).
type ShardCounts struct {
	Shard              string `json:"shard"`
	Records            int64  `json:"records"`
	Aggregated         int64  `json:"aggregated"`
	Plain              int64  `json:"plain"`
	MillisBehindLatest int64  `json:"millis_behind_latest"`
}

func (s *statsRun) report() StatsReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := StatsReport{Events: s.events, Malformed: s.malformed, Drift: s.drift.Stats(),
		Types: []TypeCounts{}, Unknown: []UnknownCount{}}
	for t, sizes := range s.bytes {
		slices.Sort(sizes)
		r.Types = append(r.Types, TypeCounts{Type: t, Count: int64(len(sizes)),
			Share: float64(len(sizes)) / float64(max(s.events, 1)), BytesP50: pct(sizes, 50), BytesP99: pct(sizes, 99)})
	}
	slices.SortFunc(r.Types, func(a, b TypeCounts) int { return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Type, b.Type)) })
	if !s.occ.first.IsZero() {
		r.Occurred = &TimeSpan{s.occ.first.UTC(), s.occ.last.UTC()}
	}
	if !s.proc.first.IsZero() {
		r.Processed = &TimeSpan{s.proc.first.UTC(), s.proc.last.UTC()}
	}
	if len(s.lag) > 0 {
		slices.Sort(s.lag)
		r.Lag = &LagPercentiles{Events: int64(len(s.lag)), P50: pct(s.lag, 50), P90: pct(s.lag, 90), P99: pct(s.lag, 99), Max: s.lag[len(s.lag)-1]}
	}
	for _, n := range s.ids {
		if n > 1 {
			r.Duplicates.IDs++
			r.Duplicates.Events += int64(n - 1)
		}
	}
	for t, n := range s.unknown {
		r.Unknown = append(r.Unknown, UnknownCount{t, n})
	}
	slices.SortFunc(r.Unknown, func(a, b UnknownCount) int { return cmp.Compare(a.Type, b.Type) })
	for id, sc := range s.shards {
		c := *sc
		c.MillisBehindLatest = s.millisBehid[id]
		r.Shards = append(r.Shards, c)
	}
	slices.SortFunc(r.Shards, func(a, b ShardCounts) int { return cmp.Compare(a.Shard, b.Shard) })
	return r
}

// pct is the nearest-rank percentile p of sorted.
func pct[T any](sorted []T, p int) T {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(i-1, 0)]
}

func (r StatsReport) writeText(w io.Writer, examples bool) error {
	bw := bufio.NewWriter(w)
	tw := tabwriter.NewWriter(bw, 0, 8, 2, ' ', 0)
	fmt.Fprintf(bw, "%s, %s\n\n", plural(r.Events, "event"), plural(r.Malformed, "malformed record"))
	if len(r.Types) > 0 {
		fmt.Fprintln(tw, "TYPE\tCOUNT\tSHARE\tBYTES P50\tBYTES P99")
		for _, t := range r.Types {
			fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%d\t%d\n", t.Type, t.Count, 100*t.Share, t.BytesP50, t.BytesP99)
		}
		tw.Flush()
		fmt.Fprintln(bw)
	}
	span := func(name string, s *TimeSpan) {
		if s != nil {
			fmt.Fprintf(bw, "%-10s %s .. %s\n", name, s.First.Format(time.RFC3339Nano), s.Last.Format(time.RFC3339Nano))
		}
	}
	span("occurred", r.Occurred)
	span("processed", r.Processed)
	if l := r.Lag; l != nil {
		fmt.Fprintf(bw, "delivery lag (processed - occurred, %s): p50 %v  p90 %v  p99 %v  max %v\n",
			plural(l.Events, "event"), l.P50, l.P90, l.P99, l.Max)
	}
	fmt.Fprintf(bw, "duplicate ids: %s repeated %s\n", plural(r.Duplicates.IDs, "id"), plural(r.Duplicates.Events, "time"))
	if len(r.Unknown) > 0 {
		fmt.Fprint(bw, "unknown types:")
		for _, u := range r.Unknown {
			fmt.Fprintf(bw, " %s (%d)", u.Type, u.Count)
		}
		fmt.Fprintln(bw)
	}
	fmt.Fprintln(bw)
	if len(r.Drift) == 0 {
		fmt.Fprintln(bw, "schema drift: none")
	} else {
		fmt.Fprintln(bw, "schema drift:")
		dw := tabwriter.NewWriter(bw, 0, 8, 2, ' ', 0)
		head := "TYPE\tPATH\tKIND\tJSON\tCOUNT\tFIRST SEEN"
		if examples {
			head += "\tEXAMPLE"
		}
		fmt.Fprintln(dw, head)
		for _, d := range r.Drift {
			fmt.Fprintf(dw, "%s\t%s\t%s\t%s\t%d\t%s", d.Type, d.Path, d.Kind, d.JSONType, d.Count, d.FirstSeen)
			if examples {
				fmt.Fprintf(dw, "\t%s", d.Example)
			}
			fmt.Fprintln(dw)
		}
		dw.Flush()
	}
	if len(r.Shards) > 0 {
		fmt.Fprintln(bw)
		fmt.Fprintln(tw, "SHARD\tRECORDS\tAGGREGATED\tPLAIN\tMILLIS BEHIND")
		for _, sh := range r.Shards {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\n", sh.Shard, sh.Records, sh.Aggregated, sh.Plain, sh.MillisBehindLatest)
		}
		tw.Flush()
	}
	return bw.Flush()
}
