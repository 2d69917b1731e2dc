package s3export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/google/go-cmp/cmp"

	"github.com/rtdskit/rtds/internal/faultproxy"
	"github.com/rtdskit/rtds/internal/testenv"
	"github.com/rtdskit/rtds/kinesis"
)

// Environment of an exporter child process (see TestMain).
const (
	envChild      = "RTDS_S3EXPORT_CHILD" // "export"
	envChildState = "RTDS_S3EXPORT_STATE" // directory: checkpoints, progress
	envChildStrm  = "RTDS_S3EXPORT_STREAM"
	envChildBkt   = "RTDS_S3EXPORT_BUCKET"
)

func TestMain(m *testing.M) {
	if os.Getenv(envChild) == "export" {
		os.Exit(runExportChild())
	}
	os.Exit(m.Run())
}

// fileStore is a checkpoint store in a directory, one file per shard
// written by rename, so a SIGKILL leaves the last saved checkpoint.
type fileStore struct {
	dir string
	mu  sync.Mutex
}

func (s *fileStore) path(stream, shard string) string {
	return filepath.Join(s.dir, "cp-"+stream+"-"+shard+".json")
}

func (s *fileStore) Load(_ context.Context, stream, shard string) (kinesis.Checkpoint, bool, error) {
	b, err := os.ReadFile(s.path(stream, shard))
	if errors.Is(err, os.ErrNotExist) {
		return kinesis.Checkpoint{}, false, nil
	}
	if err != nil {
		return kinesis.Checkpoint{}, false, err
	}
	var cp kinesis.Checkpoint
	return cp, true, json.Unmarshal(b, &cp)
}

func (s *fileStore) Save(_ context.Context, stream, shard string, cp kinesis.Checkpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, _ := json.Marshal(cp)
	tmp := s.path(stream, shard) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, s.path(stream, shard))
}

// runExportChild exports the stream to the bucket as JSON with gzip,
// checkpoints in files, until SIGINT or SIGTERM; it writes the last
// sequence number handled per shard to progress.json every 20 ms.
func runExportChild() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	state, stream := os.Getenv(envChildState), os.Getenv(envChildStrm)
	minPartSize = 32 << 10
	tg, err := NewS3Target(testenv.S3Client(os.Getenv(testenv.EnvS3)), os.Getenv(envChildBkt), "exports", WithPartSize(32<<10))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	e, err := New(tg, testApp, testInteg, WithFormat(FormatJSON), WithGzip(true), WithMaxFileSize(1<<20))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	kc := testenv.KinesisClient(os.Getenv(testenv.EnvKinesalite))
	sink, err := NewSink(e, kc, stream, SinkIdleClose(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var mu sync.Mutex
	last := map[string]string{}
	handle := func(ctx context.Context, r kinesis.Record) error {
		err := sink.handle(ctx, r)
		mu.Lock()
		last[r.ShardID] = r.SequenceNumber
		mu.Unlock()
		return err
	}
	opts := append(sink.ConsumerOptions(), kinesis.OnRecord(handle),
		kinesis.WithCheckpointStore(&fileStore{dir: state}),
		kinesis.WithCheckpointInterval(200*time.Millisecond),
		kinesis.WithGetRecordsLimit(10000),
		kinesis.WithGetRecordsRate(50),
		kinesis.WithIdleWait(20*time.Millisecond))
	c, err := kinesis.NewConsumer(kc, stream, opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	go func() {
		for {
			mu.Lock()
			b, _ := json.Marshal(last)
			mu.Unlock()
			_ = os.WriteFile(filepath.Join(state, "progress.tmp"), b, 0o600)
			_ = os.Rename(filepath.Join(state, "progress.tmp"), filepath.Join(state, "progress.json"))
			select {
			case <-ctx.Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var runErr error
	select {
	case runErr = <-done:
	case <-ctx.Done():
		cctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		if err := sink.Close(cctx); err != nil {
			fmt.Fprintln(os.Stderr, "close:", err)
			cancel()
			return 1
		}
		cancel()
		runErr = <-done
	}
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		fmt.Fprintln(os.Stderr, "run:", runErr)
		return 1
	}
	return 0
}

// putEvents puts recs on the stream in batches, in order, and returns the
// last sequence number per shard.
func putEvents(t testing.TB, kc *sdkkinesis.Client, stream string, recs [][]byte) map[string]string {
	t.Helper()
	last := map[string]string{}
	for i := 0; i < len(recs); i += 500 {
		var entries []sdktypes.PutRecordsRequestEntry
		for j := i; j < min(i+500, len(recs)); j++ {
			entries = append(entries, sdktypes.PutRecordsRequestEntry{Data: recs[j], PartitionKey: aws.String(fmt.Sprint("pk-", j%31))})
		}
		out, err := kc.PutRecords(context.Background(), &sdkkinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToInt32(out.FailedRecordCount) != 0 {
			t.Fatalf("%d records failed", aws.ToInt32(out.FailedRecordCount))
		}
		for _, r := range out.Records {
			last[aws.ToString(r.ShardId)] = aws.ToString(r.SequenceNumber)
		}
	}
	return last
}

// exportChild is one exporter process.
type exportChild struct {
	cmd   *exec.Cmd
	state string
}

func startChild(t *testing.T, kinesisURL, stream, bucket, state string) *exportChild {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"=export", envChildState+"="+state, envChildStrm+"="+stream,
		envChildBkt+"="+bucket, testenv.EnvKinesalite+"="+kinesisURL)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return &exportChild{cmd: cmd, state: state}
}

// progress returns how many shards the child has read to want's last
// sequence numbers, and whether it handled anything.
func (c *exportChild) progress(want map[string]string) (atEnd int, any bool) {
	b, err := os.ReadFile(filepath.Join(c.state, "progress.json"))
	if err != nil {
		return 0, false
	}
	var got map[string]string
	if json.Unmarshal(b, &got) != nil {
		return 0, false
	}
	for sh, seq := range want {
		if got[sh] == seq {
			atEnd++
		}
	}
	return atEnd, len(got) > 0
}

// exportToEnd runs a child until it handled every record, then stops it
// with SIGTERM (it closes its files, uploads them and checkpoints).
func exportToEnd(t *testing.T, kinesisURL, stream, bucket, state string, last map[string]string) {
	t.Helper()
	c := startChild(t, kinesisURL, stream, bucket, state)
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if n, _ := c.progress(last); n == len(last) {
			break
		}
		if time.Now().After(deadline) {
			_ = c.cmd.Process.Kill()
			_ = c.cmd.Wait()
			t.Fatal("the exporter did not reach the end of the stream")
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("exporter: %v", err)
	}
}

// TestCrashedExportsEndWithTheSameObjects: an exporter process (JSON,
// gzip, multipart parts, size splits, two shards) is killed with SIGKILL
// at random points five times and restarted from its checkpoints; then it
// runs to the end and stops. (cmd/rtds does the same with rtds export
// built without the race detector over 100,000 events.) The objects equal, key for key and byte for
// byte, those of an uninterrupted export of the same stream, and every
// event is in exactly one file.
func TestCrashedExportsEndWithTheSameObjects(t *testing.T) {
	kep := testenv.Lookup(t, testenv.EnvKinesalite)
	s3c, _ := testenv.S3(t)
	kc := testenv.KinesisClient(kep)
	stream, _ := testenv.CreateStream(t, kc, 2)
	n := crashEvents
	recs := eventSet(n, 2000, 10)
	last := putEvents(t, kc, stream, recs)
	// A SIGKILL in the middle of a request would crash kinesalite, which
	// throws on an aborted request: the children go through a proxy.
	px, err := faultproxy.New(kep, faultproxy.WithSeed(1), faultproxy.WithConfig(faultproxy.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = px.Close() })

	refBucket := testenv.CreateBucket(t, s3c)
	start := time.Now()
	exportToEnd(t, px.URL(), stream, refBucket, t.TempDir(), last)
	t.Logf("uninterrupted export of %d events: %v", n, time.Since(start))

	bucket := testenv.CreateBucket(t, s3c)
	state := t.TempDir()
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	for kill := range 5 {
		c := startChild(t, px.URL(), stream, bucket, state)
		// Kill it at a random point after it handled something.
		for {
			if _, any := c.progress(last); any {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(time.Duration(r.IntN(2500)) * time.Millisecond)
		_ = c.cmd.Process.Kill()
		_ = c.cmd.Wait()
		done, _ := c.progress(last)
		t.Logf("kill %d: %d of %d shards read to the end", kill+1, done, len(last))
		_ = os.Remove(filepath.Join(state, "progress.json"))
	}
	exportToEnd(t, px.URL(), stream, bucket, state, last)

	want := bucketObjects(t, s3c, refBucket, "exports/", false)
	got := bucketObjects(t, s3c, bucket, "exports/", false)
	if diff := cmp.Diff(keys(want), keys(got)); diff != "" {
		t.Fatalf("keys (-uninterrupted +crashed):\n%s", diff)
	}
	seen := map[string]int{}
	for k := range want {
		if string(want[k]) != string(got[k]) {
			t.Errorf("%s differs", k)
		}
		for _, line := range strings.Split(strings.TrimSuffix(string(gunzip(t, got[k])), "\n"), "\n") {
			var id struct{ ID string }
			if err := json.Unmarshal([]byte(line), &id); err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			seen[id.ID]++
		}
	}
	if len(seen) != n {
		t.Errorf("%d distinct events in the files, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("event %s is in %d places", id, c)
		}
	}
	t.Logf("%d files", len(want))
}
