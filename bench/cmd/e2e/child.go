package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	producer "github.com/a8m/kinesis-producer"
	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	consumer "github.com/harlow/kinesis-consumer"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/internal/stdjson"
	"github.com/rtdskit/rtds/kinesis"
)

// childResult is what a child process reports on standard output, as JSON.
// Its CPU time is not here: the parent reads it from the process's rusage.
type childResult struct {
	Events   int64            `json:"events"`   // events put, or handled
	Mallocs  uint64           `json:"mallocs"`  // heap allocations of the whole process
	Requests map[string]int64 `json:"requests"` // HTTP requests by operation
	Entries  int64            `json:"entries"`  // PutRecords entries sent (producers)
	Failed   int64            `json:"failed"`   // records the producer reported failed
	WorkNS   int64            `json:"work_ns"`  // wall time of the work, after reading the input
	Err      string           `json:"err,omitempty"`
}

// childArgs are the hidden child subcommand's flags.
type childArgs struct {
	contender, endpoint, stream, input, keys, ids string
	events                                        int
	timeout                                       time.Duration
}

// runChild runs one contender in this process and prints its childResult.
func runChild(args []string) int {
	fs := flag.NewFlagSet("child", flag.ContinueOnError)
	var a childArgs
	fs.StringVar(&a.contender, "contender", "", "")
	fs.StringVar(&a.endpoint, "endpoint", "", "")
	fs.StringVar(&a.stream, "stream", "", "")
	fs.StringVar(&a.input, "input", "", "")
	fs.StringVar(&a.keys, "keys", "", "")
	fs.StringVar(&a.ids, "ids", "", "")
	fs.IntVar(&a.events, "events", 0, "")
	fs.DurationVar(&a.timeout, "timeout", 5*time.Minute, "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	c, ok := contenderByName(a.contender)
	if !ok || c.run == nil {
		fmt.Fprintf(os.Stderr, "e2e child: unknown contender %q\n", a.contender)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.timeout)
	defer cancel()
	client, cnt := newClient(a.endpoint)
	in := &input{}
	var err error
	if a.input != "" {
		in.lines, err = readLines(a.input)
	}
	if err == nil && a.keys != "" {
		var keys [][]byte
		keys, err = readLines(a.keys)
		in.keys = make([]string, len(keys))
		for i, k := range keys {
			in.keys[i] = string(k)
		}
	}
	res := childResult{}
	if err == nil {
		rec := newRecorder(a.events)
		stopProfile := startProfile(a.contender)
		start := time.Now()
		err = c.run(ctx, client, a.stream, in, rec, &res)
		res.WorkNS = time.Since(start).Nanoseconds()
		stopProfile()
		if err == nil && a.ids != "" {
			err = rec.write(a.ids)
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.Mallocs = ms.Mallocs
	res.Requests = cnt.counts()
	if err != nil {
		res.Err = err.Error()
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		return 1
	}
	if err != nil {
		return 1
	}
	return 0
}

// startProfile writes a CPU profile of the child's work to
// $RTDS_E2E_CPUPROFILE/<contender>-<pid>.pprof when that variable names a
// directory (for looking into a contender; not used by make bench-e2e, and
// it adds a little CPU to the contender profiled). It returns the function
// that stops it.
func startProfile(contender string) func() {
	dir := os.Getenv("RTDS_E2E_CPUPROFILE")
	if dir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%d.pprof", contender, os.Getpid())))
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e child: cpu profile:", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "e2e child: cpu profile:", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// input is a child's input: NDJSON lines and, for the keys-given
// contenders, each line's partition key.
type input struct {
	lines [][]byte
	keys  []string
}

// readLines reads a file and returns its non-empty lines, sharing the
// file's one buffer.
func readLines(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := make([][]byte, 0, bytes.Count(b, []byte{'\n'})+1)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			i = len(b)
		}
		if i > 0 {
			lines = append(lines, b[:i:i])
		}
		b = b[min(i+1, len(b)):]
	}
	return lines, nil
}

// recorder keeps the hash of every event id a consumer handled, in a
// preallocated slice, so recording allocates nothing; done is closed once
// want events were handled.
type recorder struct {
	ids  []uint64
	n    atomic.Int64
	want int64
	done chan struct{}
	once sync.Once
}

func newRecorder(want int) *recorder {
	return &recorder{ids: make([]uint64, 2*want+16), want: int64(want), done: make(chan struct{})}
}

func (r *recorder) add(id string) {
	n := r.n.Add(1)
	if int(n) <= len(r.ids) {
		r.ids[n-1] = idHash(id)
	}
	if n == r.want {
		r.once.Do(func() { close(r.done) })
	}
}

func (r *recorder) write(path string) error {
	n := min(int(r.n.Load()), len(r.ids))
	b := make([]byte, 8*n)
	for i, id := range r.ids[:n] {
		binary.LittleEndian.PutUint64(b[8*i:], id)
	}
	return os.WriteFile(path, b, 0o644)
}

func readIDs(path string) ([]uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ids := make([]uint64, len(b)/8)
	for i := range ids {
		ids[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return ids, nil
}

// keyOf is how a user of encoding/json finds an event's channel id (the
// partition key): the device's channel, or a legacy platform channel.
type keyOf struct {
	Device struct {
		Channel        string `json:"channel"`
		IOSChannel     string `json:"ios_channel"`
		AndroidChannel string `json:"android_channel"`
		AmazonChannel  string `json:"amazon_channel"`
	} `json:"device"`
}

func stdKey(line []byte) (string, error) {
	var k keyOf
	if err := json.Unmarshal(line, &k); err != nil {
		return "", err
	}
	switch d := &k.Device; {
	case d.Channel != "":
		return d.Channel, nil
	case d.IOSChannel != "":
		return d.IOSChannel, nil
	case d.AndroidChannel != "":
		return d.AndroidChannel, nil
	default:
		return d.AmazonChannel, nil
	}
}

// produceRTDS puts every line with rtds's Producer, aggregation on. With
// keysGiven the keys come from the input; otherwise putLine finds each
// line's channel id.
func produceRTDS(keysGiven bool) runFunc {
	return func(ctx context.Context, client *sdkkinesis.Client, stream string, in *input, _ *recorder, res *childResult) error {
		var failed atomic.Int64
		p, err := kinesis.NewProducer(client, stream, kinesis.WithAggregation(true),
			kinesis.WithResultHandler(func(r kinesis.Result) {
				if r.Err != nil {
					failed.Add(1)
				}
			}))
		if err != nil {
			return err
		}
		for i, line := range in.lines {
			var key string
			if keysGiven {
				key = in.keys[i]
			}
			if err := putLine(ctx, p, key, line); err != nil {
				return err
			}
			res.Events++
		}
		err = p.Close(ctx)
		res.Entries = p.Stats().Delivered
		res.Failed = failed.Load()
		return err
	}
}

// a8mLogger discards a8m's logs (it logs every PutRecords at Info).
type a8mLogger struct{}

func (a8mLogger) Info(string, ...producer.LogValue)         {}
func (a8mLogger) Error(string, error, ...producer.LogValue) {}

// produceA8M puts every line with a8m's producer, its defaults (aggregation
// on). Without keysGiven each line's key is found with encoding/json.
func produceA8M(keysGiven bool) runFunc {
	return func(ctx context.Context, client *sdkkinesis.Client, stream string, in *input, _ *recorder, res *childResult) error {
		p := producer.New(&producer.Config{StreamName: stream, Client: client, Logger: a8mLogger{}})
		var failed atomic.Int64
		var wg sync.WaitGroup
		wg.Go(func() {
			for range p.NotifyFailures() {
				failed.Add(1)
			}
		})
		p.Start()
		for i, line := range in.lines {
			var key string
			if keysGiven {
				key = in.keys[i]
			} else {
				k, err := stdKey(line)
				if err != nil {
					return err
				}
				key = k
			}
			if err := p.Put(line, key); err != nil {
				return err
			}
			res.Events++
		}
		p.Stop()
		wg.Wait()
		res.Failed = failed.Load()
		return nil
	}
}

// produceSDK is the plain SDK baseline: PutRecords of up to 500 records
// (and 5 MiB), one request at a time, no aggregation, failed entries
// retried; keys found with encoding/json.
func produceSDK(ctx context.Context, client *sdkkinesis.Client, stream string, in *input, _ *recorder, res *childResult) error {
	entries := make([]sdktypes.PutRecordsRequestEntry, 0, 500)
	size := 0
	flush := func() error {
		for attempt := 0; len(entries) > 0; attempt++ {
			if attempt == 10 {
				res.Failed += int64(len(entries))
				break
			}
			out, err := client.PutRecords(ctx, &sdkkinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries})
			if err != nil {
				return err
			}
			res.Entries += int64(len(entries))
			if aws.ToInt32(out.FailedRecordCount) == 0 {
				break
			}
			var retry []sdktypes.PutRecordsRequestEntry
			for i, r := range out.Records {
				if r.ErrorCode != nil {
					retry = append(retry, entries[i])
				}
			}
			res.Entries -= int64(len(retry))
			entries = retry
			time.Sleep(100 * time.Millisecond)
		}
		entries = entries[:0]
		size = 0
		return nil
	}
	for _, line := range in.lines {
		key, err := stdKey(line)
		if err != nil {
			return err
		}
		if len(entries) == 500 || size+len(line)+len(key) > 5<<20 {
			if err := flush(); err != nil {
				return err
			}
		}
		entries = append(entries, sdktypes.PutRecordsRequestEntry{Data: line, PartitionKey: aws.String(key)})
		size += len(line) + len(key)
		res.Events++
	}
	return flush()
}

// consumeRTDS reads the stream with rtds's Consumer from the trim horizon,
// with typed handlers: a few On<Type> handlers as an application would
// register, and OnEvent for the other types (every event is decoded).
func consumeRTDS(ctx context.Context, client *sdkkinesis.Client, stream string, _ *input, rec *recorder, res *childResult) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var dead atomic.Int64
	c, err := kinesis.NewConsumer(client, stream,
		kinesis.WithCheckpointStore(kinesis.NewMemoryStore()),
		kinesis.OnOpen(func(_ context.Context, e *event.Open) error { rec.add(e.ID); return nil }),
		kinesis.OnSend(func(_ context.Context, e *event.Send) error { rec.add(e.ID); return nil }),
		kinesis.OnCustom(func(_ context.Context, e *event.Custom) error { rec.add(e.ID); return nil }),
		kinesis.OnUninstall(func(_ context.Context, e *event.Uninstall) error { rec.add(e.ID); return nil }),
		kinesis.OnTagChange(func(_ context.Context, e *event.TagChange) error { rec.add(e.ID); return nil }),
		kinesis.OnEvent(func(_ context.Context, e event.Event) error { rec.add(e.Base().ID); return nil }),
		kinesis.WithDeadLetter(func(context.Context, kinesis.DeadLetter) error { dead.Add(1); return nil }),
	)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- c.Run(ctx) }()
	err = waitDone(ctx, rec, errc, cancel)
	res.Events = rec.n.Load()
	if n := dead.Load(); n > 0 && err == nil {
		err = fmt.Errorf("%d records dead-lettered", n)
	}
	return err
}

// waitDone waits until rec has its events, then cancels ctx and waits for
// the consumer's run to return.
func waitDone(ctx context.Context, rec *recorder, errc <-chan error, cancel func()) error {
	select {
	case <-rec.done:
		cancel()
		if err := <-errc; err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	case err := <-errc:
		if err == nil {
			err = errors.New("consumer returned before reading every event")
		}
		return err
	case <-ctx.Done():
		cancel()
		<-errc
		return fmt.Errorf("%d of %d events before the timeout", rec.n.Load(), rec.want)
	}
}

// consumeHarlow reads the stream with harlow/kinesis-consumer from the trim
// horizon (its defaults otherwise: no-op checkpoint store, 250 ms scan
// interval) and decodes each record with encoding/json.
func consumeHarlow(agg bool) runFunc {
	return func(ctx context.Context, client *sdkkinesis.Client, stream string, _ *input, rec *recorder, res *childResult) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		c, err := consumer.New(stream,
			consumer.WithClient(client),
			consumer.WithShardIteratorType(string(sdktypes.ShardIteratorTypeTrimHorizon)),
			consumer.WithAggregation(agg))
		if err != nil {
			return err
		}
		errc := make(chan error, 1)
		go func() {
			errc <- c.Scan(ctx, func(r *consumer.Record) error {
				env, _, err := stdjson.Decode(r.Data)
				if err != nil {
					return err
				}
				rec.add(env.ID)
				return nil
			})
		}()
		err = waitDone(ctx, rec, errc, cancel)
		res.Events = rec.n.Load()
		return err
	}
}

// consumeSDK is the plain SDK baseline: a goroutine per shard, a
// GetRecords loop (limit 10,000) from the trim horizon, encoding/json.
func consumeSDK(ctx context.Context, client *sdkkinesis.Client, stream string, _ *input, rec *recorder, res *childResult) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ls, err := client.ListShards(ctx, &sdkkinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	var wg sync.WaitGroup
	for _, sh := range ls.Shards {
		wg.Go(func() {
			if err := readShard(ctx, client, stream, sh.ShardId, rec); err != nil && ctx.Err() == nil {
				select {
				case errc <- err:
				default:
				}
			}
		})
	}
	go func() { wg.Wait(); close(errc) }()
	err = waitDone(ctx, rec, errc, cancel)
	res.Events = rec.n.Load()
	return err
}

func readShard(ctx context.Context, client *sdkkinesis.Client, stream string, shard *string, rec *recorder) error {
	it, err := client.GetShardIterator(ctx, &sdkkinesis.GetShardIteratorInput{
		StreamName: aws.String(stream), ShardId: shard, ShardIteratorType: sdktypes.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		return err
	}
	iter := it.ShardIterator
	for iter != nil {
		out, err := client.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
		if err != nil {
			return err
		}
		for _, r := range out.Records {
			env, _, err := stdjson.Decode(r.Data)
			if err != nil {
				return err
			}
			rec.add(env.ID)
		}
		iter = out.NextShardIterator
		if len(out.Records) == 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return nil
}

// putLine puts one NDJSON event under key, or, when key is "", under its
// channel id (the event id when it has none) with Producer.PutEventJSON,
// which finds the key without decoding the event (event.PeekKeys), as
// `rtds put` does.
func putLine(ctx context.Context, p *kinesis.Producer, key string, line []byte) error {
	if key == "" {
		return p.PutEventJSON(ctx, line)
	}
	return p.Put(ctx, key, line)
}
