package reliability

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/internal/faultproxy"
	"github.com/rtdskit/rtds/internal/testenv"
	"github.com/rtdskit/rtds/kinesis"
	"github.com/rtdskit/rtds/kinesis/dynamodbstore"
)

// Environment of a crash-test child process (see TestMain).
const (
	envCrashChild  = "RTDS_RELIABILITY_CRASH_CHILD" // set to "consumer"
	envCrashStream = "RTDS_RELIABILITY_CRASH_STREAM"
	envCrashTable  = "RTDS_RELIABILITY_CRASH_TABLE"
	envCrashOut    = "RTDS_RELIABILITY_CRASH_OUT"
)

// runCrashChild is the consumer process that TestConsumerCrashRecovery
// kills: it consumes the stream with DynamoDB checkpoints and appends each
// handled event's id to a file, one write per id, before its handler
// returns (so every checkpointed event is in the file). It stops cleanly
// on SIGINT or SIGTERM.
func runCrashChild() int {
	return runChild(func(out *os.File) kinesis.ConsumerOption {
		return kinesis.OnEvent(func(_ context.Context, e event.Event) error {
			_, err := out.Write([]byte(e.Base().ID + "\n"))
			return err
		})
	}, kinesis.WithCheckpointInterval(50*time.Millisecond))
}

// runChild is a child process's main: a consumer of the stream with
// DynamoDB checkpoints, the handler that handler makes for the output
// file, and opts, run until SIGINT or SIGTERM. It returns the exit status.
func runChild(handler func(out *os.File) kinesis.ConsumerOption, opts ...kinesis.ConsumerOption) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	out, kc, store, err := childSetup()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer out.Close()
	c, err := kinesis.NewConsumer(kc, os.Getenv(envCrashStream), append([]kinesis.ConsumerOption{
		handler(out),
		kinesis.WithCheckpointStore(store),
		kinesis.WithGetRecordsLimit(200),
		kinesis.WithGetRecordsRate(10),
		kinesis.WithIdleWait(50 * time.Millisecond),
	}, opts...)...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := c.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "run:", err)
		return 1
	}
	return 0
}

// childFixture is what the tests with child processes share: a kinesalite
// stream, a DynamoDB checkpoint table in dynalite (deleted at the end),
// and pass-through proxies for the children: a SIGKILL in the middle of a
// request would otherwise crash kinesalite or dynalite, which throw on an
// aborted request.
type childFixture struct {
	kc                        *sdkkinesis.Client
	stream, table             string
	store                     *dynamodbstore.Store
	kinesisProxy, dynamoProxy *faultproxy.Proxy
}

func newChildFixture(t *testing.T, shards int32, tablePrefix string) *childFixture {
	t.Helper()
	kep := testenv.Lookup(t, testenv.EnvKinesalite)
	hc := testenv.LoopbackHTTPClient()
	t.Cleanup(hc.CloseIdleConnections)
	ddbCfg := testenv.Config()
	ddbCfg.HTTPClient = hc
	ddbEndpoint := testenv.Lookup(t, testenv.EnvDynalite)
	ddb := dynamodb.NewFromConfig(ddbCfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(ddbEndpoint) })
	fx := &childFixture{kc: client(t, kep, 3), table: testenv.UniqueName(tablePrefix)}
	fx.stream, _ = testenv.CreateStream(t, fx.kc, shards)
	var err error
	if fx.store, err = dynamodbstore.New(ddb, fx.table); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := fx.store.EnsureTable(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = ddb.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(fx.table)})
	})
	fx.kinesisProxy = startProxy(t, kep, 1, faultproxy.Config{})
	fx.dynamoProxy = startProxy(t, ddbEndpoint, 1, faultproxy.Config{})
	return fx
}

// start runs this test binary as a child of kind (see TestMain) writing to
// out, with the extra environment variables env.
func (fx *childFixture) start(t *testing.T, kind, out string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		envCrashChild+"="+kind, envCrashStream+"="+fx.stream, envCrashTable+"="+fx.table, envCrashOut+"="+out,
		testenv.EnvKinesalite+"="+fx.kinesisProxy.URL(), testenv.EnvDynalite+"="+fx.dynamoProxy.URL())
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// childSetup opens a child's output file (envCrashOut) for appending and
// makes its Kinesis client and DynamoDB checkpoint store from the
// environment.
func childSetup() (*os.File, *sdkkinesis.Client, *dynamodbstore.Store, error) {
	out, err := os.OpenFile(os.Getenv(envCrashOut), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, nil, err
	}
	kc := testenv.KinesisClient(os.Getenv(testenv.EnvKinesalite))
	ddb := dynamodb.NewFromConfig(testenv.Config(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(os.Getenv(testenv.EnvDynalite))
	})
	store, err := dynamodbstore.New(ddb, os.Getenv(envCrashTable))
	if err != nil {
		out.Close()
		return nil, nil, nil, err
	}
	return out, kc, store, nil
}

// handledIDs reads the ids the children wrote.
func handledIDs(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var ids []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		ids = append(ids, sc.Text())
	}
	return ids
}

func uniqueCount(ids []string) int {
	m := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		m[id] = struct{}{}
	}
	return len(m)
}

// TestConsumerCrashRecovery is scenario 3: a consumer process with
// DynamoDB checkpoints is killed with SIGKILL at random points of its
// progress, five times, over a 20,000-event stream, then run to the end and
// stopped with SIGINT. Every event must have been handled at least once;
// the duplicates (events handled again after a crash) are reported.
func TestConsumerCrashRecovery(t *testing.T) {
	t.Parallel()
	const (
		n     = 20000
		kills = 5
	)
	fx := newChildFixture(t, 4, "rtds-crash")
	kc, stream := fx.kc, fx.stream
	ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout)
	defer cancel()
	events := makeEvents("s3", n)
	if _, err := putAtLeastOnce(ctx, kc, stream, events, 500); err != nil {
		t.Fatal(err)
	}
	outPath := filepath.Join(t.TempDir(), "handled.txt")
	start := func() *exec.Cmd { return fx.start(t, "consumer", outPath) }
	// waitFor polls the output until cond holds or the deadline passes.
	waitFor := func(cmd *exec.Cmd, what string, cond func(lines, unique int) bool) {
		t.Helper()
		for {
			ids := handledIDs(t, outPath)
			if cond(len(ids), uniqueCount(ids)) {
				return
			}
			if ctx.Err() != nil {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				t.Fatalf("%s: deadline passed with %d lines (%d unique)", what, len(ids), uniqueCount(ids))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	rng := rand.New(rand.NewPCG(3, 3))
	var progress []int
	for k := range kills {
		before := len(handledIDs(t, outPath))
		target := before + 500 + rng.IntN(2500) // kill after this many more handled events
		cmd := start()
		waitFor(cmd, fmt.Sprintf("run %d", k+1), func(lines, unique int) bool { return lines >= target || unique == n })
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		progress = append(progress, uniqueCount(handledIDs(t, outPath)))
	}
	cmd := start()
	waitFor(cmd, "final run", func(_, unique int) bool { return unique == n })
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("final consumer after SIGINT: %v", err)
	}
	eventIDs := ids(events)
	handled := handledIDs(t, outPath)
	res, err := compareIDs(eventIDs, handled)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("reliability: scenario=consumer-crash kills=%d unique_after_each_kill=%v %s", kills, progress, res)
	if res.Lost != 0 || res.Unique != n {
		t.Errorf("after %d SIGKILLs: %s", kills, res)
	}
	if progress[len(progress)-1] >= n {
		t.Errorf("the consumer finished before the last kill (%v): the kills did not interrupt it", progress)
	}
}
