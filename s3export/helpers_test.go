package s3export

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rtdskit/rtds/internal/testenv"
)

const (
	testApp   = "APPKEY"
	testInteg = "INTEG-1"
	testShard = "shardId-000000000000"
)

// ackState is what happened to one record's acknowledgement.
type ackState int

const (
	ackNone ackState = iota
	ackDone
	ackFailed
)

// acks records the acknowledgements of a test's records by index.
type acks struct {
	mu    sync.Mutex
	state map[int]ackState
	errs  []error
}

func newAcks() *acks { return &acks{state: map[int]ackState{}} }

type testAck struct {
	a *acks
	i int
}

func (t testAck) Done() { t.a.set(t.i, ackDone, nil) }

func (t testAck) Fail(err error) { t.a.set(t.i, ackFailed, err) }

func (a *acks) set(i int, s ackState, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if prev := a.state[i]; prev != ackNone {
		panic(fmt.Sprintf("record %d acknowledged twice", i))
	}
	a.state[i] = s
	if err != nil {
		a.errs = append(a.errs, err)
	}
}

func (a *acks) get(i int) ackState {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state[i]
}

// firstNotDone returns the index of the first record that is not done:
// where a checkpoint-driven source would start again.
func (a *acks) firstNotDone(n int) int {
	for i := range n {
		if a.get(i) != ackDone {
			return i
		}
	}
	return n
}

// ev returns an RTDS event of type typ processed at processed (RFC 3339).
func ev(id, typ, processed string) []byte {
	body := `{}`
	switch typ {
	case "CUSTOM":
		body = `{"name":"purchase","value":12.5,"transaction":"tx-` + id + `","customer_id":"cust \"7\""}`
	case "LOCATION":
		body = `{"latitude":"45.52","longitude":"-122.68","foreground":true,"session_id":"s-1"}`
	case "TAG_CHANGE":
		body = `{"add":{"crm":["vip","gold"]},"current":{"crm":["vip","gold"]}}`
	case "SEND":
		body = `{"push_id":"p-1","group_id":"g-1","variant_id":2}`
	case "OPEN":
		body = `{"session_id":"s-` + id + `","last_delivered":{"push_id":"p-0","time":"2026-03-08T15:00:00.000Z"}}`
	}
	return []byte(`{"id":"` + id + `","type":"` + typ + `","offset":"1","occurred":"` + processed +
		`","processed":"` + processed + `","device":{"channel":"ch-` + id + `","device_type":"IOS","named_user_id":"nu, 1"},"body":` + body + `}`)
}

// seq returns the sequence number of record i: fixed width, increasing.
func seq(i int) string { return fmt.Sprintf("4959%026d", 1000+i) }

func rec(shard string, i int, data []byte) Record {
	return Record{ShardID: shard, SequenceNumber: seq(i), Data: data}
}

// s3Bucket returns a client, a fresh bucket and an S3 target on it.
func s3Bucket(t *testing.T, opts ...S3Option) (*s3.Client, string, *S3Target) {
	t.Helper()
	c, _ := testenv.S3(t)
	b := testenv.CreateBucket(t, c)
	tg, err := NewS3Target(c, b, "", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c, b, tg
}

// bucketObjects returns every object in bucket below prefix, keys relative
// to prefix, without the .rtds manifests unless withManifests.
func bucketObjects(t *testing.T, c *s3.Client, bucket, prefix string, withManifests bool) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	out := map[string][]byte{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			k := strings.TrimPrefix(aws.ToString(o.Key), prefix)
			if !withManifests && strings.Contains(k, "/"+manifestDir+"/") {
				continue
			}
			g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(g.Body)
			g.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			out[k] = b
		}
	}
	return out
}

// dirObjects returns every file below dir like bucketObjects.
func dirObjects(t *testing.T, dir string, withManifests bool) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		k, _ := filepath.Rel(dir, p)
		k = filepath.ToSlash(k)
		if !withManifests && strings.Contains(k, "/"+manifestDir+"/") {
			return nil
		}
		b, err := os.ReadFile(p)
		out[k] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func keys(m map[string][]byte) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func newExporter(t *testing.T, tg Target, opts ...Option) *Exporter {
	t.Helper()
	e, err := New(tg, testApp, testInteg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func closeWriter(t *testing.T, w *ShardWriter) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// lowerPartSize lets a test use multipart parts smaller than S3's minimum
// (gofakes3 accepts them).
func lowerPartSize(t *testing.T, n int64) {
	old := minPartSize
	minPartSize = n
	t.Cleanup(func() { minPartSize = old })
}
