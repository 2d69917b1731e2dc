package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/rtdskit/rtds/kinesis"
	"github.com/rtdskit/rtds/kinesis/dynamodbstore"
	"github.com/rtdskit/rtds/s3export"
)

func init() {
	register(command{
		name:    "export",
		summary: "write a stream's events into Airship's S3 layout (CSV or JSON files per hour)",
		run:     runExport,
	})
}

const exportUsage = `usage: rtds export --stream NAME --to s3://BUCKET[/PREFIX] | file://DIR --app-key KEY
                   --integration-id ID [--format csv|json] [--gzip] [--sse AES256|aws:kms [--kms-key-id ID]]
                   [--checkpoint dynamodb://TABLE | file://PATH] [--from trim_horizon|latest|RFC3339-TIME]
                   [--idle-exit DURATION] [--grace DURATION] [--error-prefix PREFIX] [--debug]

Reads every shard of the Kinesis stream NAME and writes its events as
Airship's S3 integration does, below KEY/ID/ on the destination:

  csv:  S3_CSV/EVENT_TYPE/YYYY_MM_DD/YYYY_MM_DD_HH_MM_SS.csv (a header row, then rows)
  json: S3_JSON/YYYY_MM_DD/YYYY_MM_DD_HH_MM_SS.json (each event as received, one per line)

An event belongs to the hour of its processed time (UTC); a file is named
after its first event. With several open shards each shard writes its own
files, named with the shard's number (..._05_3.csv); an hour above 15 GB
continues in _part2, _part3, ... --gzip appends .gz. Events of types that
have no CSV layout are counted and reported at the end. Records that are
not events are reported (and stored under --error-prefix if given).

A record is checkpointed only once the file holding it is completely
uploaded; after a crash, the next run writes the unfinished files again
under the same names with the same content. Without --checkpoint, a run
starts again at --from.

On SIGINT or SIGTERM, or with --idle-exit D once every shard reached the
tip and no record came for D, rtds export closes and uploads its open
files, checkpoints and exits 0. A file closed this way is final: the next
run continues its hour in a new file named after its own first event.

AWS configuration as for rtds tail; the S3 endpoint comes from
AWS_ENDPOINT_URL_S3 (path-style addressing when set), DynamoDB's from
AWS_ENDPOINT_URL_DYNAMODB.

Flags:
`

func runExport(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "export", exportUsage)
	stream := fs.String("stream", "", "the stream's `NAME` or ARN (required)")
	to := fs.String("to", "", "the `DESTINATION`: s3://bucket[/prefix] or file://dir (required)")
	appKey := fs.String("app-key", "", "the Airship app `KEY` of the layout (required)")
	integ := fs.String("integration-id", "", "the integration `ID` of the layout (required)")
	format := fs.String("format", "json", "`FORMAT`: csv or json")
	gz := fs.Bool("gzip", false, "compress every file with gzip")
	sse := fs.String("sse", "", "server-side encryption `ALGORITHM`: AES256 or aws:kms")
	kmsKey := fs.String("kms-key-id", "", "the KMS key `ID` for --sse aws:kms")
	cpFlag := fs.String("checkpoint", "", "checkpoint `STORE`: dynamodb://table or file://path")
	from := fs.String("from", "trim_horizon", "start `POSITION` without a checkpoint: trim_horizon, latest or an RFC 3339 time")
	idleExit := fs.Duration("idle-exit", 0, "exit once every shard reached the tip and no record came for this `DURATION`")
	grace := fs.Duration("grace", s3export.DefaultGracePeriod, "how long after its hour, in record time, a file takes late events (`DURATION`)")
	errPrefix := fs.String("error-prefix", "", "store records that are not events below this `PREFIX` of the destination")
	debug := fs.Bool("debug", false, "log the library's and the AWS SDK's messages to standard error")
	if ok, code := fs.parse(args); !ok {
		return code
	}
	switch {
	case *stream == "":
		return fs.usageError("--stream is required")
	case *to == "":
		return fs.usageError("--to is required")
	case *appKey == "" || *integ == "":
		return fs.usageError("--app-key and --integration-id are required")
	case fs.NArg() > 0:
		return fs.usageError("unexpected arguments %q", fs.Args())
	case *idleExit < 0:
		return fs.usageError("--idle-exit must not be negative")
	case *format != "csv" && *format != "json":
		return fs.usageError("unknown --format %q (want csv or json)", *format)
	case *kmsKey != "" && *sse != s3export.SSEKMS:
		return fs.usageError("--kms-key-id needs --sse aws:kms")
	case *sse != "" && *sse != s3export.SSEAES256 && *sse != s3export.SSEKMS:
		return fs.usageError("unknown --sse %q (want AES256 or aws:kms)", *sse)
	}
	start, err := parseStart(*from)
	if err != nil {
		return fs.usageError("%v", err)
	}
	dest, ok := parseLocation(*to)
	if !ok {
		return fs.usageError("--to %q: want s3://bucket[/prefix] or file://dir", *to)
	}

	fail := func(err error) int { return exportFailure(ctx, env, "export", *stream, err) }
	aw, err := newAWS(ctx, env, *debug)
	if err == nil {
		err = aw.preflight(ctx, *stream)
	}
	if err != nil {
		return fail(err)
	}
	var sseOpts []s3export.S3Option
	if *sse != "" {
		sseOpts = append(sseOpts, s3export.WithSSE(*sse, *kmsKey))
	}
	target, where, err := exportTarget(ctx, env, aw, dest, sseOpts)
	if err != nil {
		return fail(err)
	}
	store, err := checkpointStore(ctx, env, aw, *cpFlag)
	if err != nil {
		return fail(err)
	}
	e, err := s3export.New(target, *appKey, *integ,
		s3export.WithFormat(s3export.Format(*format)), s3export.WithGzip(*gz),
		s3export.WithGracePeriod(*grace), s3export.WithErrorPrefix(*errPrefix),
		s3export.WithDeduplication(100000), s3export.WithLogger(aw.log))
	if err != nil {
		return fs.usageError("%v", err)
	}
	x := &exportRun{env: env, e: e}
	code := x.run(ctx, aw, *stream, start, store, *idleExit)
	x.summary(where + *appKey + "/" + *integ + "/")
	return code
}

// exportTarget makes the destination's target and a printable form of its
// root, after checking that it can be written.
func exportTarget(ctx context.Context, env *cmdEnv, aw *awsSetup, dest *url.URL, opts []s3export.S3Option) (s3export.Target, string, error) {
	if dest.Scheme == "file" {
		dir := dest.Host + dest.Path
		t, err := s3export.NewDirTarget(dir)
		return t, filepath.Clean(dir) + "/", err
	}
	client := s3Client(env, aw)
	prefix := strings.Trim(dest.Path, "/")
	t, err := s3export.NewS3Target(client, dest.Host, prefix, opts...)
	if err != nil {
		return nil, "", err
	}
	if err := t.Check(ctx); err != nil {
		return nil, "", err
	}
	where := "s3://" + dest.Host + "/"
	if prefix != "" {
		where += prefix + "/"
	}
	return t, where, nil
}

// s3Client is an S3 client from the same AWS configuration; with a custom
// endpoint (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL), path-style
// addressing, as S3-compatible servers expect.
func s3Client(env *cmdEnv, aw *awsSetup) *s3.Client {
	endpoint := firstEnv(env, "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
	return s3.NewFromConfig(aw.cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.UsePathStyle = true
		}
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
}

// checkpointStore parses --checkpoint: none, dynamodb://table (created if
// missing) or file://path.
func checkpointStore(ctx context.Context, env *cmdEnv, aw *awsSetup, s string) (kinesis.CheckpointStore, error) {
	if s == "" {
		return nil, nil
	}
	scheme, rest, err := parseCheckpoint(s)
	if err != nil {
		return nil, err
	}
	if scheme == "file" {
		return newFileCheckpointStore(rest)
	}
	ddb, err := aw.dynamoDB(env)
	if err != nil {
		return nil, err
	}
	st, err := dynamodbstore.New(ddb, rest)
	if err != nil {
		return nil, err
	}
	return st, st.EnsureTable(ctx)
}

// exportRun is one run of rtds export: the consumer, the sink, progress.
type exportRun struct {
	env   *cmdEnv
	e     *s3export.Exporter
	start time.Time
	dead  sync.Map // dead-lettered records, reported as they come
}

func (x *exportRun) run(ctx context.Context, aw *awsSetup, stream string, start kinesis.StartPosition, store kinesis.CheckpointStore, idleExit time.Duration) int {
	x.start = time.Now()
	sink, err := s3export.NewSink(x.e, aw.client, stream)
	if err != nil {
		x.env.errorf("export", "%v", err)
		return 1
	}
	runCtx, stop := context.WithCancel(context.Background())
	defer stop()
	idle := newIdleWatch(idleExit)
	opts := append(sink.ConsumerOptions(),
		kinesis.WithStartPosition(start),
		kinesis.WithIdleWait(250*time.Millisecond),
		kinesis.WithLogger(aw.log),
		kinesis.WithHooks(idle),
		kinesis.WithDeadLetter(x.deadLetter))
	if store != nil {
		opts = append(opts, kinesis.WithCheckpointStore(store), kinesis.WithCheckpointInterval(time.Second))
	}
	c, err := kinesis.NewConsumer(aw.client, stream, opts...)
	if err != nil {
		x.env.errorf("export", "%v", err)
		return 1
	}
	idle.shards = consumerShards(c)
	done := make(chan error, 1)
	go func() { done <- c.Run(runCtx) }()
	go idle.watch(runCtx, stop)
	var tick <-chan time.Time
	if x.env.stderrIsTerminal {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		tick = t.C
	}
	var runErr error
	interrupted := ctx.Done()
wait:
	for {
		select {
		case runErr = <-done:
			break wait
		case <-interrupted:
			interrupted = nil
			stop()
		case <-runCtx.Done():
			// Interrupted or idle: close and upload the open files while
			// the consumer drains, so their records get checkpointed.
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			closeErr := sink.Close(cctx)
			cancel()
			runErr = <-done
			// A record dispatched while the sink closed is failed with
			// ErrClosed: not stored, not checkpointed, read again by the
			// next run. That is a clean stop.
			if runErr == nil || errors.Is(runErr, context.Canceled) || errors.Is(runErr, s3export.ErrClosed) {
				runErr = closeErr
			}
			break wait
		case <-tick:
			x.progress()
		}
	}
	if x.env.stderrIsTerminal {
		fmt.Fprint(x.env.stderr, "\r\033[K")
	}
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		x.env.errorf("export", "%v", describeExportError(runErr, stream))
		return 1
	}
	return 0
}

func (x *exportRun) deadLetter(_ context.Context, d kinesis.DeadLetter) error {
	x.env.errorf("export", "shard %s, sequence number %s: not exported: %v", d.ShardID, d.SequenceNumber, d.Err)
	return nil
}

// progress rewrites the terminal's progress line.
func (x *exportRun) progress() {
	st := x.e.Stats()
	secs := time.Since(x.start).Seconds()
	fmt.Fprintf(x.env.stderr, "\r\033[Krtds export: %s (%.0f/s), %d open files, %s uploaded in %s",
		plural(st.Events, "event"), float64(st.Events)/max(secs, 1e-9), st.OpenFiles,
		byteCount(st.BytesUploaded), plural(st.FilesCompleted, "file"))
}

// summary writes the final counts to standard error.
func (x *exportRun) summary(root string) {
	st := x.e.Stats()
	env := x.env
	env.errorf("export", "%s in %s (%s) below %s", plural(st.Uploaded, "event"), plural(st.FilesCompleted, "file"),
		byteCount(st.BytesUploaded), root)
	if st.Skipped > 0 {
		env.errorf("export", "%s already stored by an earlier run", plural(st.Skipped, "event"))
	}
	if st.Duplicates > 0 {
		env.errorf("export", "%s dropped as duplicates", plural(st.Duplicates, "event"))
	}
	if len(st.NoLayout) > 0 {
		types := make([]string, 0, len(st.NoLayout))
		for t, n := range st.NoLayout {
			types = append(types, fmt.Sprintf("%s %d", t, n))
		}
		sort.Strings(types)
		env.errorf("export", "not written (no CSV layout): %s", strings.Join(types, ", "))
	}
	if st.BadRecords > 0 {
		env.errorf("export", "%s not events or without a processed time", plural(st.BadRecords, "record"))
	}
}

// parseLocation parses an export's location: s3://bucket[/prefix] or
// file://dir.
func parseLocation(s string) (*url.URL, bool) {
	u, err := url.Parse(s)
	ok := err == nil && (u.Scheme == "s3" && u.Host != "" || u.Scheme == "file" && u.Host+u.Path != "")
	return u, ok
}

// exportFailure reports err for cmd and returns the exit status: 130 when
// interrupted, else 1.
func exportFailure(ctx context.Context, env *cmdEnv, cmd, stream string, err error) int {
	if ctx.Err() != nil && errors.Is(context.Cause(ctx), errInterrupted) {
		return 130
	}
	env.errorf(cmd, "%v", describeExportError(err, stream))
	return 1
}

// describeExportError is err as one line: for a failed S3 call, what the
// exporter was doing and S3's answer; else as describeAWSError.
func describeExportError(err error, stream string) error {
	var oe *smithy.OperationError
	var ae smithy.APIError
	if errors.As(err, &oe) && oe.ServiceID == "S3" && errors.As(err, &ae) {
		what := strings.ReplaceAll(err.Error(), "s3export: ", "")
		if i := strings.Index(what, ": operation error"); i >= 0 {
			what = what[:i]
		}
		cause := ae.ErrorCode()
		if m := ae.ErrorMessage(); m != "" && m != cause {
			cause += ": " + m
		}
		return fmt.Errorf("%s: %s", what, cause)
	}
	return describeAWSError(err, stream)
}

func byteCount(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return plural(n, "byte")
}
