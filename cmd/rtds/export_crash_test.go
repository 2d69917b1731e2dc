package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/rtdskit/rtds/internal/faultproxy"
	"github.com/rtdskit/rtds/internal/testenv"
)

// putBatches puts recs with PutRecords, 500 at a time, in order.
func putBatches(t *testing.T, kc *sdkkinesis.Client, stream string, recs [][]byte) {
	t.Helper()
	for i := 0; i < len(recs); i += 500 {
		var entries []sdktypes.PutRecordsRequestEntry
		for j := i; j < min(i+500, len(recs)); j++ {
			entries = append(entries, sdktypes.PutRecordsRequestEntry{Data: recs[j], PartitionKey: aws.String(fmt.Sprint("k", j%61))})
		}
		out, err := kc.PutRecords(context.Background(), &sdkkinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries})
		if err != nil || aws.ToInt32(out.FailedRecordCount) > 0 {
			t.Fatalf("put: %v (%v failed)", err, out)
		}
	}
}

// bucketFiles returns the data objects of bucket (not the manifests).
func bucketFiles(t *testing.T, c *s3.Client, bucket string) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	out := map[string][]byte{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			if strings.Contains(aws.ToString(o.Key), "/.rtds/") {
				continue
			}
			g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
			if err != nil {
				t.Fatal(err)
			}
			buf, err := io.ReadAll(g.Body)
			g.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			out[aws.ToString(o.Key)] = buf
		}
	}
	return out
}

// TestExportSIGKILLedFiveTimesWritesTheSameObjects: rtds export (built
// without the race detector) exports a 100,000-event two-shard stream as
// gzipped JSON with file checkpoints and is SIGKILLed at random points five
// times, restarting each time; the last run ends with --idle-exit. Its
// objects equal an uninterrupted run's, key for key and byte for byte, and
// every event is in exactly one file.
func TestExportSIGKILLedFiveTimesWritesTheSameObjects(t *testing.T) {
	bin := rtdsBinary(t)
	kep := testenv.Lookup(t, testenv.EnvKinesalite)
	s3ep := testenv.Lookup(t, testenv.EnvS3)
	kc := testenv.KinesisClient(kep)
	stream, _ := testenv.CreateStream(t, kc, 2)
	const n = 100000
	recs := inOrderEventsOver(n, 12*time.Hour) // hours complete, and checkpoints move, as it goes
	putBatches(t, kc, stream, recs)
	// A SIGKILL in the middle of a request would crash kinesalite, which
	// throws on an aborted request: the children go through a proxy.
	px, err := faultproxy.New(kep, faultproxy.WithSeed(1), faultproxy.WithConfig(faultproxy.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = px.Close() })
	s3c, _ := testenv.S3(t)
	dir := t.TempDir()
	child := func(bucket string, idle bool) *exec.Cmd {
		args := []string{"export", "--stream", stream, "--to", "s3://" + bucket + "/x", "--app-key", "APP",
			"--integration-id", "INT", "--format", "json", "--gzip", "--checkpoint", "file://" + filepath.Join(dir, bucket+".cp")}
		if idle {
			args = append(args, "--idle-exit", "1s")
		}
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL_KINESIS="+px.URL(), "AWS_ENDPOINT_URL_S3="+s3ep,
			"AWS_REGION="+testenv.Region, "AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=secret",
			"AWS_ENDPOINT_URL=", "AWS_PROFILE=", "AWS_CA_BUNDLE=")
		cmd.Stderr = &strings.Builder{}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	toEnd := func(bucket string) time.Duration {
		start := time.Now()
		cmd := child(bucket, true)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("export: %v\n%s", err, cmd.Stderr)
		}
		return time.Since(start)
	}

	ref := testenv.CreateBucket(t, s3c)
	full := toEnd(ref)
	t.Logf("uninterrupted export of %d events: %v", n, full)

	bucket := testenv.CreateBucket(t, s3c)
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 5))
	for kill := range 5 {
		cmd := child(bucket, false)
		// Runs resume where the last checkpoint was: kill each within a
		// quarter of a whole run, so that the kills spread over the export.
		time.Sleep(300*time.Millisecond + time.Duration(r.Int64N(int64(full/4))))
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Logf("kill %d: %s", kill+1, checkpointSummary(t, filepath.Join(dir, bucket+".cp")))
	}
	toEnd(bucket)

	want, got := bucketFiles(t, s3c, ref), bucketFiles(t, s3c, bucket)
	if diff := cmp.Diff(slices.Sorted(maps.Keys(want)), slices.Sorted(maps.Keys(got))); diff != "" {
		t.Fatalf("keys (-uninterrupted +crashed):\n%s", diff)
	}
	seen := map[string]int{}
	for k := range want {
		if string(want[k]) != string(got[k]) {
			t.Errorf("%s differs", k)
		}
		for _, line := range strings.Split(strings.TrimSuffix(gunzipString(t, string(got[k])), "\n"), "\n") {
			var e struct{ ID string }
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			seen[e.ID]++
		}
	}
	if len(seen) != n {
		t.Errorf("%d distinct events in %d files, want %d", len(seen), len(want), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("event %s is in %d files", id, c)
		}
	}
}

// checkpointSummary is the shards' checkpoints in a file store, shortened.
func checkpointSummary(t *testing.T, path string) string {
	t.Helper()
	st, err := newFileCheckpointStore(path)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, shards := range st.cps {
		for sh, cp := range shards {
			parts = append(parts, fmt.Sprintf("%s at ...%s", sh, cp.SequenceNumber[max(0, len(cp.SequenceNumber)-8):]))
		}
	}
	slices.Sort(parts)
	if len(parts) == 0 {
		return "no checkpoint yet"
	}
	return strings.Join(parts, ", ")
}
