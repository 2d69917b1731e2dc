// Command uninstall-email is the scenario of Airship's Real-Time Data
// Streaming documentation, as a long-running Kinesis consumer: for every
// UNINSTALL from a device with a named user, send that user an email (here:
// log the email it would send), and count every other event by type.
//
// It is configured from the standard AWS environment (AWS_REGION,
// credentials, AWS_ENDPOINT_URL_KINESIS, AWS_ENDPOINT_URL_DYNAMODB, ...) and
// flags:
//
//	uninstall-email -stream NAME [-from trim_horizon|latest|RFC3339]
//	    [-checkpoint-table TABLE [-share [-worker-id ID]]] [-idle-exit DURATION]
//	uninstall-email -stream NAME -create-stream [-shards N]
//
// Without -checkpoint-table, checkpoints live in memory and a restart reads
// the stream from -from again. With it, checkpoints are kept in that
// DynamoDB table (created if missing) and a restart resumes where the last
// run stopped. With -share as well, several instances (on one machine or
// many) split the shards among themselves through leases in that table; an
// instance that stops or dies leaves its shards to the others, and each
// instance's summary counts the shards it read. -idle-exit stops the
// consumer once every shard it reads has reached the tip of the stream and
// no record came for that long; otherwise it runs until SIGINT or SIGTERM.
// A stream, endpoint, region or credentials that cannot work fail at start
// (exit status 1) with the cause.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil))
}

// clients are the AWS clients the program uses; tests pass fakes.
type clients struct {
	kinesis interface {
		kinesis.ConsumerAPI
		CreateStream(context.Context, *sdkkinesis.CreateStreamInput, ...func(*sdkkinesis.Options)) (*sdkkinesis.CreateStreamOutput, error)
		DescribeStreamSummary(context.Context, *sdkkinesis.DescribeStreamSummaryInput, ...func(*sdkkinesis.Options)) (*sdkkinesis.DescribeStreamSummaryOutput, error)
	}
	dynamodb kinesis.DynamoDBAPI
}

// run is the program; it returns the exit status. A nil c loads the AWS
// clients from the environment.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, c *clients) int {
	fs := flag.NewFlagSet("uninstall-email", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stream := fs.String("stream", os.Getenv("RTDS_STREAM"), "Kinesis stream name or ARN (default $RTDS_STREAM)")
	from := fs.String("from", "trim_horizon", "where to start shards without a checkpoint: trim_horizon, latest or an RFC 3339 time")
	table := fs.String("checkpoint-table", "", "DynamoDB table for checkpoints (default: in memory)")
	idleExit := fs.Duration("idle-exit", 0, "exit once every shard read reached the tip and no record came for this long (0: run until interrupted)")
	create := fs.Bool("create-stream", false, "create the stream, wait until it is ACTIVE, and exit")
	shards := fs.Int("shards", 2, "shard count for -create-stream")
	share := fs.Bool("share", false, "share the shards with the other instances that use the same -checkpoint-table (leases)")
	workerID := fs.String("worker-id", "", "this instance's name in the leases with -share (default: host, pid and a random suffix)")
	verbose := fs.Bool("v", false, "debug logging")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *stream == "" {
		fmt.Fprintln(stderr, "uninstall-email: -stream is required")
		return 2
	}
	if *share && *table == "" {
		fmt.Fprintln(stderr, "uninstall-email: -share needs -checkpoint-table, where the instances keep their leases")
		return 2
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	if c == nil {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "uninstall-email: AWS configuration: %v\n", err)
			return 1
		}
		c = &clients{kinesis: sdkkinesis.NewFromConfig(cfg), dynamodb: dynamodb.NewFromConfig(cfg)}
	}
	if *create {
		if err := createStream(ctx, c, *stream, *shards); err != nil {
			fmt.Fprintf(stderr, "uninstall-email: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "stream %s is active\n", *stream)
		return 0
	}
	start, err := parseFrom(*from)
	if err != nil {
		fmt.Fprintf(stderr, "uninstall-email: %v\n", err)
		return 2
	}
	opts := []kinesis.ConsumerOption{kinesis.WithLogger(log), kinesis.WithStartPosition(start)}
	if *table != "" {
		store, err := kinesis.NewDynamoDBCheckpointStore(c.dynamodb, *table)
		if err == nil {
			err = store.EnsureTable(ctx)
		}
		if err != nil {
			fmt.Fprintf(stderr, "uninstall-email: checkpoint table: %v\n", err)
			return 1
		}
		opts = append(opts, kinesis.WithCheckpointStore(store))
		if *share {
			opts = append(opts, kinesis.WithLeases(*workerID))
		}
	}

	// One call before reading: a stream, endpoint, region or credentials
	// that cannot work fail now, with the cause, instead of being retried
	// forever by the consumer.
	if err := checkStream(ctx, c.kinesis, *stream); err != nil {
		fmt.Fprintf(stderr, "uninstall-email: %v\n", err)
		return 1
	}

	app := &app{log: log, mailer: logMailer{log}}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	idle := newIdleWatch(*idleExit, cancel)
	opts = append(opts, app.options()...)
	opts = append(opts, kinesis.WithHooks(idle))
	consumer, err := kinesis.NewConsumer(c.kinesis, *stream, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "uninstall-email: %v\n", err)
		return 2
	}
	idle.stats = consumer.Stats
	go idle.watch(ctx)
	err = consumer.Run(ctx)
	app.summary(stdout, consumer.Stats())
	if err != nil {
		fmt.Fprintf(stderr, "uninstall-email: %v\n", err)
		return 1
	}
	return 0
}

// Mailer sends the goodbye email.
type Mailer interface {
	Send(ctx context.Context, namedUser string, e *event.Uninstall) error
}

// logMailer logs the email it would send.
type logMailer struct{ log *slog.Logger }

func (m logMailer) Send(ctx context.Context, namedUser string, e *event.Uninstall) error {
	m.log.InfoContext(ctx, "would send email", "named_user", namedUser, "channel", e.ChannelID(),
		"occurred", e.Occurred.Format(time.RFC3339), "event", e.ID)
	return nil
}

// app is the consumer's logic: handlers run concurrently for different
// shards, so its counters are safe for concurrent use.
type app struct {
	log    *slog.Logger
	mailer Mailer

	emails        atomic.Int64
	anonymous     atomic.Int64 // uninstalls without a named user
	mu            sync.Mutex
	others        map[event.Type]int64
	shardsRead    map[string]bool // shards this instance read (with -share, those it held)
	uninstallSeen atomic.Int64
}

// OnShardStarted implements kinesis.HookShardStarted: the shards this
// instance read, for the summary.
func (a *app) OnShardStarted(m kinesis.ShardStartedMetrics) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.shardsRead == nil {
		a.shardsRead = map[string]bool{}
	}
	a.shardsRead[m.ShardID] = true
}

func (a *app) options() []kinesis.ConsumerOption {
	return []kinesis.ConsumerOption{
		kinesis.OnUninstall(a.onUninstall),
		// Every other event, of every type (known or not), is counted.
		kinesis.OnEvent(a.onOther),
		kinesis.WithHooks(a),
	}
}

func (a *app) onUninstall(ctx context.Context, e *event.Uninstall) error {
	a.uninstallSeen.Add(1)
	user := e.NamedUserID()
	if user == "" {
		a.anonymous.Add(1)
		return nil
	}
	if err := a.mailer.Send(ctx, user, e); err != nil {
		return fmt.Errorf("email %s: %w", user, err) // retried, then dead-lettered
	}
	a.emails.Add(1)
	return nil
}

func (a *app) onOther(ctx context.Context, e event.Event) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.others == nil {
		a.others = map[event.Type]int64{}
	}
	a.others[e.EventType()]++
	return nil
}

// summary prints what the run did.
func (a *app) summary(w io.Writer, st kinesis.Stats) {
	fmt.Fprintf(w, "uninstalls: %d (emails: %d, without named user: %d)\n", a.uninstallSeen.Load(), a.emails.Load(), a.anonymous.Load())
	a.mu.Lock()
	types := make([]event.Type, 0, len(a.others))
	var total int64
	for t, n := range a.others {
		types = append(types, t)
		total += n
	}
	slices.Sort(types)
	parts := make([]string, 0, len(types))
	for _, t := range types {
		parts = append(parts, fmt.Sprintf("%s=%d", t, a.others[t]))
	}
	a.mu.Unlock()
	fmt.Fprintf(w, "other events: %d (%s)\n", total, strings.Join(parts, " "))
	a.mu.Lock()
	read := len(a.shardsRead)
	a.mu.Unlock()
	fmt.Fprintf(w, "poison records: %d, shards read: %d of %d\n", st.DeadLettered, read, len(st.Shards))
}

// idleWatch implements -idle-exit: it cancels the run once every shard
// this instance reads has reached the tip of the stream and no record
// arrived for d since. A shard is at the tip when its last GetRecords
// answer was empty with MillisBehindLatest 0, so a backlog is read in full
// however long it takes; idle time counts from the moment the last shard
// caught up, not from launch. With -share, shards whose lease another
// instance holds are that instance's business.
type idleWatch struct {
	d      time.Duration
	cancel context.CancelFunc
	stats  func() kinesis.Stats

	mu    sync.Mutex
	atTip map[string]bool // shard id: last answer empty and not behind
	since time.Time       // when every shard was last seen at the tip
}

func newIdleWatch(d time.Duration, cancel context.CancelFunc) *idleWatch {
	return &idleWatch{d: d, cancel: cancel, atTip: map[string]bool{}}
}

// OnRecordsFetched implements kinesis.HookRecordsFetched.
func (w *idleWatch) OnRecordsFetched(m kinesis.RecordsFetchedMetrics) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.atTip[m.ShardID] = m.Records == 0 && m.MillisBehindLatest == 0
	if m.Records > 0 {
		w.since = time.Time{}
	}
}

// idle reports whether every shard of this instance has been at the tip
// for d at now.
func (w *idleWatch) idle(now time.Time) bool {
	st := w.stats()
	w.mu.Lock()
	defer w.mu.Unlock()
	all, mine := true, 0
	for _, s := range st.Shards {
		switch {
		case s.State == "ended":
		case s.State == "waiting" && s.Owner != "" && s.Owner != st.Worker:
			// Read by another instance.
		default:
			mine++
			if !w.atTip[s.ShardID] {
				all = false
			}
		}
	}
	if !all || mine == 0 {
		w.since = time.Time{}
		return false
	}
	if w.since.IsZero() {
		w.since = now
	}
	return now.Sub(w.since) >= w.d
}

func (w *idleWatch) watch(ctx context.Context) {
	if w.d <= 0 {
		return
	}
	t := time.NewTicker(min(w.d/4, 250*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if w.idle(now) {
				w.cancel()
				return
			}
		}
	}
}

func parseFrom(s string) (kinesis.StartPosition, error) {
	switch strings.ToLower(s) {
	case "trim_horizon", "":
		return kinesis.StartTrimHorizon, nil
	case "latest":
		return kinesis.StartLatest, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return kinesis.StartPosition{}, fmt.Errorf("-from %q: want trim_horizon, latest or an RFC 3339 time", s)
	}
	return kinesis.StartAtTimestamp(t), nil
}

// checkStreamTimeout bounds checkStream.
const checkStreamTimeout = 10 * time.Second

// checkStream lists one shard of the stream.
func checkStream(ctx context.Context, client kinesis.ListShardsAPI, stream string) error {
	ctx, cancel := context.WithTimeout(ctx, checkStreamTimeout)
	defer cancel()
	in := &sdkkinesis.ListShardsInput{MaxResults: aws.Int32(1)}
	if strings.HasPrefix(stream, "arn:") {
		in.StreamARN = aws.String(stream)
	} else {
		in.StreamName = aws.String(stream)
	}
	if _, err := client.ListShards(ctx, in); err != nil {
		return fmt.Errorf("stream %s: %w", stream, err)
	}
	return nil
}

// createStream creates the stream (an existing one is fine) and waits until
// it is ACTIVE.
func createStream(ctx context.Context, c *clients, name string, shards int) error {
	_, err := c.kinesis.CreateStream(ctx, &sdkkinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(int32(shards))})
	var inUse *sdktypes.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create stream %s: %w", name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		out, err := c.kinesis.DescribeStreamSummary(ctx, &sdkkinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err == nil && out.StreamDescriptionSummary.StreamStatus == sdktypes.StreamStatusActive {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stream %s not active: %w", name, errors.Join(err, ctx.Err()))
		case <-time.After(50 * time.Millisecond):
		}
	}
}
