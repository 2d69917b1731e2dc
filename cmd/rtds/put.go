package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis"
)

func init() {
	register(command{
		name:    "put",
		summary: "send newline-delimited event JSON to a Kinesis stream",
		run:     runPut,
	})
}

const putUsage = `usage: rtds put --stream NAME [--aggregate] [--partition-key channel|id|named_user] [FILE...]

Reads newline-delimited RTDS event JSON from the files (standard input when
none, or for "-"), checks that each line is an event, and sends each line
unchanged as one record to the Kinesis stream NAME (a name or an ARN).
A line that is not an event is reported on standard error with its line
number and skipped; the rest is still sent.

The endpoint, region and credentials come from the standard AWS
configuration: AWS_ENDPOINT_URL_KINESIS (or AWS_ENDPOINT_URL), AWS_REGION,
and the default credential chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
AWS_PROFILE, ...).

Ends with a one-line summary. Exit status 0 only if every line was an
event and every event was delivered.

Flags:
`

// maxLine bounds one input line: a Kinesis record holds at most 1 MiB.
const maxLine = 1 << 20

func runPut(ctx context.Context, env *cmdEnv, args []string) int {
	fs := flag.NewFlagSet("put", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	stream := fs.String("stream", "", "stream name or ARN (required)")
	aggregate := fs.Bool("aggregate", false, "pack events into KPL aggregated records")
	keyName := fs.String("partition-key", "channel", "partition key: channel, id or named_user")
	fs.Usage = func() {
		fmt.Fprint(env.stderr, putUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *stream == "" {
		fmt.Fprintln(env.stderr, "put: --stream is required")
		fs.Usage()
		return 2
	}
	var keyFn func(event.Event) string
	switch *keyName {
	case "channel":
		keyFn = kinesis.PartitionKeyChannel
	case "id":
		keyFn = kinesis.PartitionKeyEventID
	case "named_user":
		keyFn = kinesis.PartitionKeyNamedUser
	default:
		fmt.Fprintf(env.stderr, "put: --partition-key %q: want channel, id or named_user\n", *keyName)
		return 2
	}
	client, err := putClient(ctx, env)
	if err != nil {
		fmt.Fprintf(env.stderr, "put: %v\n", err)
		return 1
	}

	var failed atomic.Int64
	var errMu sync.Mutex
	shown := 0
	p, err := kinesis.NewProducer(client, *stream,
		kinesis.WithAggregation(*aggregate),
		kinesis.WithResultHandler(func(r kinesis.Result) {
			if r.Err == nil {
				return
			}
			failed.Add(1)
			errMu.Lock()
			defer errMu.Unlock()
			if shown < 10 {
				shown++
				fmt.Fprintf(env.stderr, "put: event not delivered (key %s): %v\n", r.PartitionKey, r.Err)
			}
		}))
	if err != nil {
		fmt.Fprintf(env.stderr, "put: %v\n", err)
		return 1
	}

	var events, bad int64
	stop := func() {}
	if env.stderrIsTerminal {
		stop = putProgress(env.stderr, p)
	}
	files := fs.Args()
	if len(files) == 0 {
		files = []string{"-"}
	}
	readErr := false
	for _, name := range files {
		n, b, err := putFile(ctx, env, p, keyFn, name)
		events += n
		bad += b
		if err != nil {
			fmt.Fprintf(env.stderr, "put: %v\n", err)
			readErr = true
			if ctx.Err() != nil {
				break
			}
		}
	}
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	closeErr := p.Close(closeCtx)
	stop()
	st := p.Stats()
	fmt.Fprintf(env.stdout, "put: %d events, %d Kinesis records, %d requests, %d retries, %d failures",
		st.Records, st.KinesisRecords, st.Requests, st.Retried, st.Failed)
	if bad > 0 {
		fmt.Fprintf(env.stdout, ", %d bad lines", bad)
	}
	fmt.Fprintln(env.stdout)
	if closeErr != nil {
		fmt.Fprintf(env.stderr, "put: %v\n", closeErr)
	}
	if readErr || bad > 0 || closeErr != nil || st.Failed > 0 || st.Delivered != st.Records {
		return 1
	}
	return 0
}

// putFile sends one file's events and returns how many it sent and how
// many lines were not events.
func putFile(ctx context.Context, env *cmdEnv, p *kinesis.Producer, keyFn func(event.Event) string, name string) (events, bad int64, err error) {
	var r io.Reader = env.stdin
	label := "stdin"
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return 0, 0, err
		}
		defer f.Close()
		r, label = f, name
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine+1)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(trimSpace(b)) == 0 {
			continue
		}
		e, err := event.Decode(b)
		if err != nil {
			fmt.Fprintf(env.stderr, "put: %s:%d: %v\n", label, line, err)
			bad++
			continue
		}
		pk := keyFn(e)
		if pk == "" {
			fmt.Fprintf(env.stderr, "put: %s:%d: event %s has no partition key\n", label, line, e.Base().ID)
			bad++
			continue
		}
		data := make([]byte, len(b))
		copy(data, b)
		if err := p.Put(ctx, pk, data); err != nil {
			fmt.Fprintf(env.stderr, "put: %s:%d: %v\n", label, line, err)
			bad++
			if ctx.Err() != nil {
				return events, bad, ctx.Err()
			}
			continue
		}
		events++
	}
	if err := sc.Err(); err != nil {
		return events, bad, fmt.Errorf("%s: line %d: %w", label, line+1, err)
	}
	return events, bad, nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// putClient builds a Kinesis client from the standard AWS configuration,
// reading the variables through env so tests run in-process.
func putClient(ctx context.Context, env *cmdEnv) (*sdkkinesis.Client, error) {
	var opts []func(*config.LoadOptions) error
	if r := firstEnv(env, "AWS_REGION", "AWS_DEFAULT_REGION"); r != "" {
		opts = append(opts, config.WithRegion(r))
	}
	if id, secret := env.getenv("AWS_ACCESS_KEY_ID"), env.getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(id, secret, env.getenv("AWS_SESSION_TOKEN"))))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	endpoint := firstEnv(env, "AWS_ENDPOINT_URL_KINESIS", "AWS_ENDPOINT_URL")
	return sdkkinesis.NewFromConfig(cfg, func(o *sdkkinesis.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}

func firstEnv(env *cmdEnv, names ...string) string {
	for _, n := range names {
		if v := env.getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// putProgress redraws one status line on a terminal every 200 ms until the
// returned stop function is called, which ends the line.
func putProgress(w io.Writer, p *kinesis.Producer) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			st := p.Stats()
			rate := float64(st.Records) / time.Since(start).Seconds()
			fmt.Fprintf(w, "\r%.0f events/s, %d sent, %d retried, %d failed ", rate, st.Delivered, st.Retried, st.Failed)
		}
	}()
	return func() {
		close(done)
		<-finished
		fmt.Fprintln(w)
	}
}
