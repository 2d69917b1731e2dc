// Command e2e runs complete producer and consumer programs against a
// Kinesis emulator (kinesalite, started by scripts/emulators.sh) and
// compares rtds with github.com/a8m/kinesis-producer,
// github.com/harlow/kinesis-consumer and a plain aws-sdk-go-v2 baseline.
//
// Each contender runs as a child process (this binary, re-executed with a
// hidden subcommand), so its CPU time is the process's user plus system
// time, from its rusage: every goroutine, the GC, the SDK and process start
// included. Rounds are interleaved: round r runs every contender once, in
// an order rotated by r, so load from other processes hits all alike.
// Every producer writes a fresh 4-shard stream, which is then read back and
// checked (every event exactly once, each record's partition key, record
// sizes); consumers read two streams written once (plain and KPL-aggregated)
// and report the ids they handled.
//
//	make bench-e2e
//	cd bench && go run ./cmd/e2e -endpoint $RTDS_KINESALITE_ENDPOINT -events 20000 -rounds 1
//
// See docs/BENCHMARKS.md.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/event/eventgen"
	"github.com/rtdskit/rtds/kinesis"
)

// runFunc is a contender's work inside its child process.
type runFunc func(ctx context.Context, client *sdkkinesis.Client, stream string, in *input, rec *recorder, res *childResult) error

// contender is one program compared.
type contender struct {
	name     string // short name, unique
	workload string // what it is compared on; the first of a workload is rtds
	source   string // consumers: "plain" or "agg", the stream they read
	produce  bool
	keys     bool // the input gives each event's key
	external bool // `rtds put`, the command (not a child of this binary)
	peer     string
	about    string
	run      runFunc
}

const (
	wlNDJSON = "produce from NDJSON, key = channel id"
	wlKeys   = "produce, keys given"
	wlPlain  = "consume plain records"
	wlAgg    = "consume KPL-aggregated records"
)

var contenders = []contender{
	{name: "rtds", workload: wlNDJSON, produce: true, peer: "a8m", run: produceRTDS(false),
		about: "kinesis.Producer, aggregation on; PutEventJSON(line): event.PeekKeys finds the channel id without decoding the event"},
	{name: "rtds-put", workload: wlNDJSON, produce: true, external: true, peer: "a8m",
		about: "the `rtds put --aggregate` command reading the NDJSON file"},
	{name: "a8m", workload: wlNDJSON, produce: true, run: produceA8M(false),
		about: "a8m/kinesis-producer, its defaults (aggregation on); encoding/json finds the channel id"},
	{name: "sdk", workload: wlNDJSON, produce: true, run: produceSDK,
		about: "aws-sdk-go-v2 PutRecords of 500, one at a time, no aggregation; encoding/json finds the channel id"},
	{name: "rtds-keys", workload: wlKeys, produce: true, keys: true, peer: "a8m-keys", run: produceRTDS(true),
		about: "kinesis.Producer, aggregation on, Put(key, line) with the keys given"},
	{name: "a8m-keys", workload: wlKeys, produce: true, keys: true, run: produceA8M(true),
		about: "a8m/kinesis-producer, its defaults, Put(line, key) with the keys given"},
	{name: "rtds-plain", workload: wlPlain, source: "plain", peer: "harlow-plain", run: consumeRTDS,
		about: "kinesis.Consumer from the trim horizon, typed handlers (OnOpen, OnSend, OnCustom, OnUninstall, OnTagChange, OnEvent), memory checkpoints"},
	{name: "harlow-plain", workload: wlPlain, source: "plain", run: consumeHarlow(false),
		about: "harlow/kinesis-consumer Scan from the trim horizon, its defaults; encoding/json into structs per type"},
	{name: "sdk-plain", workload: wlPlain, source: "plain", run: consumeSDK,
		about: "aws-sdk-go-v2 GetRecords loop per shard (limit 10,000); encoding/json into structs per type"},
	{name: "rtds-agg", workload: wlAgg, source: "agg", peer: "harlow-agg", run: consumeRTDS,
		about: "as rtds-plain, on the aggregated stream"},
	{name: "harlow-agg", workload: wlAgg, source: "agg", run: consumeHarlow(true),
		about: "as harlow-plain, WithAggregation(true)"},
}

func contenderByName(name string) (contender, bool) {
	for _, c := range contenders {
		if c.name == name {
			return c, true
		}
	}
	return contender{}, false
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		os.Exit(runChild(os.Args[2:]))
	}
	os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command's flags.
type options struct {
	endpoint string
	events   int
	rounds   int
	rtds     string
	svg      string
	md       string
	json     string
	only     string
	timeout  time.Duration
	dir      string
}

func runMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("e2e", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.endpoint, "endpoint", os.Getenv("RTDS_KINESALITE_ENDPOINT"), "kinesalite's `URL` (default $RTDS_KINESALITE_ENDPOINT)")
	fs.IntVar(&o.events, "events", 200000, "events per run")
	fs.IntVar(&o.rounds, "rounds", 5, "rounds; each runs every contender once")
	fs.StringVar(&o.rtds, "rtds", "", "the rtds command's `binary`, for the rtds-put contender (skipped when empty)")
	fs.StringVar(&o.svg, "svg", "", "write the CPU chart to this SVG `file`")
	fs.StringVar(&o.md, "md", "", "write the results as markdown to this `file`; a file holding the markers <!-- bench-e2e:begin --> and <!-- bench-e2e:end --> gets only the text between them replaced")
	fs.StringVar(&o.json, "json", "", "write every run's numbers as JSON to this `file`")
	fs.StringVar(&o.only, "only", "", "run only the contenders whose name matches this `regexp`")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "give up on a run after this long")
	fs.StringVar(&o.dir, "dir", "", "working `directory` for the input and ids (default: a temporary one, removed)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.endpoint == "" {
		fmt.Fprintln(stderr, "e2e: no endpoint: start the emulators (scripts/emulators.sh start; . .emulators/env) or pass -endpoint")
		return 2
	}
	if o.events < 1 || o.rounds < 1 {
		fmt.Fprintln(stderr, "e2e: -events and -rounds must be at least 1")
		return 2
	}
	res, err := run(context.Background(), o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "e2e: %v\n", err)
		return 1
	}
	md := markdown(res)
	fmt.Fprint(stdout, md)
	if err := writeOutputs(o, res, md); err != nil {
		fmt.Fprintf(stderr, "e2e: %v\n", err)
		return 1
	}
	if !res.correct() {
		fmt.Fprintln(stderr, "e2e: some runs failed or lost events: see the table")
		return 1
	}
	return 0
}

func writeOutputs(o options, res *results, md string) error {
	if o.svg != "" {
		if err := os.WriteFile(o.svg, []byte(svgChart(res)), 0o644); err != nil {
			return err
		}
	}
	if o.md != "" {
		if err := writeMarkdown(o.md, md); err != nil {
			return err
		}
	}
	if o.json != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.json, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

const (
	beginMarker = "<!-- bench-e2e:begin -->"
	endMarker   = "<!-- bench-e2e:end -->"
)

// writeMarkdown writes md to path, or between the markers if path has them.
func writeMarkdown(path, md string) error {
	old, err := os.ReadFile(path)
	if err == nil {
		s := string(old)
		b, e := strings.Index(s, beginMarker), strings.Index(s, endMarker)
		if b >= 0 && e > b {
			s = s[:b+len(beginMarker)] + "\n" + md + s[e:]
			return os.WriteFile(path, []byte(s), 0o644)
		}
	}
	return os.WriteFile(path, []byte(md), 0o644)
}

// run prepares the input and the consumers' streams, then runs the rounds.
func run(ctx context.Context, o options, log io.Writer) (*results, error) {
	var only *regexp.Regexp
	if o.only != "" {
		var err error
		if only, err = regexp.Compile(o.only); err != nil {
			return nil, err
		}
	}
	var cs []contender
	for _, c := range contenders {
		if c.external && o.rtds == "" {
			continue
		}
		if only != nil && !only.MatchString(c.name) {
			continue
		}
		cs = append(cs, c)
	}
	dir := o.dir
	if dir == "" {
		d, err := os.MkdirTemp("", "rtds-e2e-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	in, err := writeInput(dir, o.events)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "e2e: %d events, %.0f bytes each on average, %d rounds, %d contenders\n",
		o.events, float64(in.bytes)/float64(o.events), o.rounds, len(cs))
	client, _ := newClient(o.endpoint)
	res := newResults(o, in, cs)

	prefix := fmt.Sprintf("e2e-%d-%d", os.Getpid(), time.Now().Unix()%100000)
	sources := map[string]string{}
	for _, c := range cs {
		if c.produce || sources[c.source] != "" {
			continue
		}
		name := prefix + "-" + c.source
		if err := fill(ctx, client, name, in, c.source == "agg"); err != nil {
			return nil, fmt.Errorf("writing the %s stream: %w", c.source, err)
		}
		defer deleteStream(context.Background(), client, name)
		sc, err := readBack(ctx, client, name)
		if err != nil {
			return nil, err
		}
		if set := compareIDs(in.ids, sc.ids); !set.exact(o.events) || sc.KeyMismatch > 0 {
			return nil, fmt.Errorf("the %s stream for the consumers is not right: %+v, %d keys wrong", c.source, set, sc.KeyMismatch)
		}
		sc.ids = nil
		res.Sources[c.source] = sc
		sources[c.source] = name
		fmt.Fprintf(log, "e2e: %s stream: %d records, %.0f bytes per record\n", c.source, sc.Records, float64(sc.Bytes)/float64(sc.Records))
	}

	for r := range o.rounds {
		order := slices.Clone(cs)
		k := r % len(order)
		order = append(order[k:], order[:k]...)
		for _, c := range order {
			stream := sources[c.source]
			if c.produce {
				stream = fmt.Sprintf("%s-r%d-%s", prefix, r, c.name)
				if err := createStream(ctx, client, stream); err != nil {
					return nil, err
				}
			}
			rr := runOne(ctx, o, self, dir, stream, c, in)
			if c.produce {
				if rr.Err == "" {
					sc, err := readBack(ctx, client, stream)
					if err != nil {
						rr.Err = "reading back: " + err.Error()
					} else {
						rr.check(sc, in)
					}
				}
				deleteStream(ctx, client, stream)
			}
			res.add(c.name, rr)
			fmt.Fprintf(log, "e2e: round %d/%d %-13s %6.2f µs/event CPU, %8.0f events/s, %5.1f allocs/event, %d/%d events%s\n",
				r+1, o.rounds, c.name, rr.cpuPerEvent(o.events), rr.eventsPerSec(), rr.allocsPerEvent(o.events),
				rr.Set.Read, o.events, errSuffix(rr.Err))
		}
	}
	return res, nil
}

func errSuffix(err string) string {
	if err == "" {
		return ""
	}
	return ", error: " + err
}

// inputSet is the generated input.
type inputSet struct {
	events, keys string   // files
	ids          []uint64 // sorted
	bytes        int64    // event bytes
	lines        [][]byte
	keyList      []string
}

// writeInput writes n `rtds gen` events (seed 1, every type) that have a
// channel id, one per line, and their channel ids, one per line. Events
// without a channel (PUSH_BODY and a few others without a device, about 3%)
// are left out, so that key = channel id holds for every event and
// `rtds put` sends them all.
func writeInput(dir string, n int) (*inputSet, error) {
	in := &inputSet{events: filepath.Join(dir, "events.ndjson"), keys: filepath.Join(dir, "keys.txt")}
	g := eventgen.New(1)
	var ev, ks bytes.Buffer
	for len(in.ids) < n {
		line := g.AppendNext(nil)
		e, err := event.Decode(line)
		if err != nil {
			return nil, err
		}
		key := e.Base().ChannelID()
		if key == "" {
			continue
		}
		ev.Write(line)
		ev.WriteByte('\n')
		ks.WriteString(key)
		ks.WriteByte('\n')
		in.bytes += int64(len(line))
		in.ids = append(in.ids, idHash(e.Base().ID))
		in.lines = append(in.lines, line)
		in.keyList = append(in.keyList, key)
	}
	slices.Sort(in.ids)
	if err := os.WriteFile(in.events, ev.Bytes(), 0o644); err != nil {
		return nil, err
	}
	return in, os.WriteFile(in.keys, ks.Bytes(), 0o644)
}

// fill writes the input to a new stream with rtds's producer, each event
// under its channel id, aggregated or not (for the consumers).
func fill(ctx context.Context, client *sdkkinesis.Client, stream string, in *inputSet, agg bool) error {
	if err := createStream(ctx, client, stream); err != nil {
		return err
	}
	p, err := kinesis.NewProducer(client, stream, kinesis.WithAggregation(agg))
	if err != nil {
		return err
	}
	for i, line := range in.lines {
		if err := p.Put(ctx, in.keyList[i], line); err != nil {
			return err
		}
	}
	if err := p.Close(ctx); err != nil {
		return err
	}
	if s := p.Stats(); s.Failed > 0 {
		return fmt.Errorf("%d records failed", s.Failed)
	}
	return nil
}

// runOne runs contender c once as a child process.
func runOne(ctx context.Context, o options, self, dir, stream string, c contender, in *inputSet) *runResult {
	rr := &runResult{}
	idsFile := filepath.Join(dir, "ids-"+c.name)
	var cmd *exec.Cmd
	if c.external {
		cmd = exec.CommandContext(ctx, o.rtds, "put", "--aggregate", "--stream", stream, in.events)
		cmd.Env = append(os.Environ(),
			"AWS_ENDPOINT_URL_KINESIS="+o.endpoint, "AWS_REGION=us-east-1",
			"AWS_ACCESS_KEY_ID=AKIDBENCH", "AWS_SECRET_ACCESS_KEY=secret",
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	} else {
		args := []string{"child", "-contender", c.name, "-endpoint", o.endpoint, "-stream", stream,
			"-events", fmt.Sprint(o.events), "-timeout", o.timeout.String()}
		if c.produce {
			args = append(args, "-input", in.events)
			if c.keys {
				args = append(args, "-keys", in.keys)
			}
		} else {
			args = append(args, "-ids", idsFile)
		}
		cmd = exec.CommandContext(ctx, self, args...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if cmd.ProcessState != nil {
		rr.CPUNS = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Nanoseconds()
	}
	if c.external {
		rr.WorkNS = wall.Nanoseconds()
		rr.Events = int64(o.events)
		rr.Mallocs = -1
		if err != nil {
			rr.Err = fmt.Sprintf("%v: %s", err, lastLine(stderr.String()))
		}
		return rr
	}
	var cr childResult
	if jerr := json.Unmarshal(stdout.Bytes(), &cr); jerr != nil {
		rr.Err = fmt.Sprintf("%v: %s", err, lastLine(stderr.String()))
		return rr
	}
	rr.Events, rr.Mallocs, rr.Requests, rr.Entries, rr.Failed, rr.WorkNS, rr.Err =
		cr.Events, int64(cr.Mallocs), cr.Requests, cr.Entries, cr.Failed, cr.WorkNS, cr.Err
	if err != nil && rr.Err == "" {
		// For example the race detector's exit status.
		rr.Err = fmt.Sprintf("%v: %s", err, lastLine(stderr.String()))
	}
	if !c.produce && rr.Err == "" {
		ids, err := readIDs(idsFile)
		if err != nil {
			rr.Err = err.Error()
		} else {
			rr.Set = compareIDs(in.ids, ids)
		}
		os.Remove(idsFile)
	}
	return rr
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}
