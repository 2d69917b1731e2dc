package s3export

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"
)

// Every object, data and manifest, carries the SSE headers asked for.
func TestSSEHeadersOnEveryObject(t *testing.T) {
	for _, tc := range []struct {
		name, alg, key string
	}{
		{"AES256", SSEAES256, ""},
		{"aws:kms with key id", SSEKMS, "arn:aws:kms:us-east-1:111122223333:key/test-key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lowerPartSize(t, 1024)
			c, bucket, tg := s3Bucket(t, WithSSE(tc.alg, tc.key), WithPartSize(1024))
			// Big enough for a multipart upload.
			e := newExporter(t, tg, WithFormat(FormatJSON), WithMaxFileSize(1024*maxParts/2))
			w := e.NewShardWriter(testShard)
			a := newAcks()
			for i := range 60 {
				p := fmt.Sprintf("2026-03-08T16:%02d:00Z", i)
				if err := w.Write(context.Background(), rec(testShard, i, ev(fmt.Sprint("e", i), "OPEN", p)), testAck{a, i}); err != nil {
					t.Fatal(err)
				}
			}
			closeWriter(t, w)
			objs := bucketObjects(t, c, bucket, "", true)
			if len(objs) != 2 {
				t.Fatalf("objects %v, want a data file and its manifest", keys(objs))
			}
			for k := range objs {
				h, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
				if err != nil {
					t.Fatal(err)
				}
				if h.ServerSideEncryption != s3types.ServerSideEncryption(tc.alg) {
					t.Errorf("%s: ServerSideEncryption %q, want %q", k, h.ServerSideEncryption, tc.alg)
				}
				if got := aws.ToString(h.SSEKMSKeyId); got != tc.key {
					t.Errorf("%s: SSEKMSKeyId %q, want %q", k, got, tc.key)
				}
			}
		})
	}
}

func TestWithSSERejectsUnknownAlgorithms(t *testing.T) {
	c, _ := s3Client(t)
	for _, o := range []S3Option{WithSSE("DES", ""), WithSSE(SSEAES256, "key"), WithPartSize(1 << 20)} {
		if _, err := NewS3Target(c, "b", "", o); err == nil {
			t.Errorf("option accepted")
		}
	}
}

func s3Client(t *testing.T) (*s3.Client, string) {
	c, _, _ := s3Bucket(t)
	return c, ""
}

// A file larger than a part streams through a multipart upload: the object
// is the concatenation, and a part never waits in memory beyond its size.
func TestLargeFilesStreamThroughMultipartUploads(t *testing.T) {
	lowerPartSize(t, 4096)
	c, bucket, _ := s3Bucket(t)
	cc := &countingS3{S3API: c}
	tg, err := NewS3Target(cc, bucket, "", WithPartSize(4096))
	if err != nil {
		t.Fatal(err)
	}
	// Parts grow to fit the size limit in 10,000 parts: keep them at 4 KiB.
	e := newExporter(t, tg, WithFormat(FormatJSON), WithMaxFileSize(4096*maxParts/2))
	w := e.NewShardWriter(testShard)
	a := newAcks()
	var want bytes.Buffer
	for i := range 400 {
		d := ev(fmt.Sprintf("e%04d", i), "CUSTOM", fmt.Sprintf("2026-03-08T16:%02d:%02dZ", i/60, i%60))
		want.Write(d)
		want.WriteByte('\n')
		if err := w.Write(context.Background(), rec(testShard, i, d), testAck{a, i}); err != nil {
			t.Fatal(err)
		}
		// After each record the open file holds less than a part.
		for _, f := range w.files {
			if n := len(f.obj.(*s3Object).buf); n >= 4096 {
				t.Fatalf("after record %d the open file buffers %d bytes", i, n)
			}
		}
	}
	// Records are not acknowledged before their file is stored.
	for i := range 400 {
		if a.get(i) != ackNone {
			t.Fatalf("record %d acknowledged before its file was closed", i)
		}
	}
	closeWriter(t, w)
	if a.firstNotDone(400) != 400 {
		t.Fatal("not every record acknowledged")
	}
	got := bucketObjects(t, c, bucket, "", false)
	k := "APPKEY/INTEG-1/S3_JSON/2026_03_08/2026_03_08_16_00_00.json"
	if !bytes.Equal(got[k], want.Bytes()) {
		t.Fatalf("%s: %d bytes, want %d", k, len(got[k]), want.Len())
	}
	if parts := cc.parts.Load(); parts != int64(want.Len()/4096+1) {
		t.Errorf("%d parts uploaded, want %d", parts, want.Len()/4096+1)
	}
}

// countingS3 counts UploadPart calls.
type countingS3 struct {
	S3API
	parts atomic.Int64
}

func (c *countingS3) UploadPart(ctx context.Context, in *s3.UploadPartInput, o ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	c.parts.Add(1)
	return c.S3API.UploadPart(ctx, in, o...)
}

// An hour above the size limit continues in _part2, _part3, ...; each part
// is within the limit and their rows, in order, are the hour's.
func TestSizeLimitSplitsAnHourIntoParts(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			c, bucket, tg := s3Bucket(t)
			const limit = 2000
			e := newExporter(t, tg, WithFormat(FormatCSV), WithMaxFileSize(limit), WithGzip(gz))
			w := e.NewShardWriter(testShard)
			a := newAcks()
			const n = 40
			for i := range n {
				d := ev(fmt.Sprintf("e%02d", i), "CUSTOM", fmt.Sprintf("2026-03-08T16:%02d:00Z", i))
				if err := w.Write(context.Background(), rec(testShard, i, d), testAck{a, i}); err != nil {
					t.Fatal(err)
				}
			}
			closeWriter(t, w)
			got := bucketObjects(t, c, bucket, "", false)
			ext := ".csv"
			if gz {
				ext += ".gz"
			}
			base := "APPKEY/INTEG-1/S3_CSV/CUSTOM/2026_03_08/2026_03_08_16_00_00"
			var rows []string
			for i, k := range keys(got) {
				_ = i
				b := got[k]
				if gz {
					b = gunzip(t, b)
				}
				if len(b) > limit {
					t.Errorf("%s: %d bytes, above the limit %d", k, len(b), limit)
				}
				lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
				if !strings.HasPrefix(lines[0], "ID,TYPE,") {
					t.Errorf("%s: no header", k)
				}
				rows = append(rows, lines[1:]...)
			}
			var wantKeys []string
			for p := 1; p <= len(got); p++ {
				if p == 1 {
					wantKeys = append(wantKeys, base+ext)
				} else {
					wantKeys = append(wantKeys, fmt.Sprintf("%s_part%d%s", base, p, ext))
				}
			}
			if len(got) < 3 {
				t.Fatalf("%d files, want a split into at least 3", len(got))
			}
			// Keys sort _part10 before _part2; compare as sets.
			if diff := cmp.Diff(slices.Sorted(slices.Values(wantKeys)), keys(got)); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
			// Rows: in part order.
			rows = nil
			for _, k := range wantKeys {
				b := got[k]
				if gz {
					b = gunzip(t, b)
				}
				lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
				rows = append(rows, lines[1:]...)
			}
			if len(rows) != n {
				t.Fatalf("%d rows, want %d", len(rows), n)
			}
			for i, r := range rows {
				if !strings.HasPrefix(r, fmt.Sprintf("e%02d,", i)) {
					t.Errorf("row %d = %q", i, r)
				}
			}
		})
	}
}

// A multipart upload that a crashed run left open for a key is aborted
// when the key is written again.
func TestStaleMultipartUploadsAreAbortedOnRestart(t *testing.T) {
	lowerPartSize(t, 1024)
	c, bucket, tg := s3Bucket(t, WithPartSize(1024))
	ctx := context.Background()
	k := "APPKEY/INTEG-1/S3_JSON/2026_03_08/2026_03_08_16_00_00.json"
	other := "APPKEY/INTEG-1/S3_JSON/2026_03_08/2026_03_08_16_00_00_7.json"
	for _, key := range []string{k, other} {
		if _, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
			t.Fatal(err)
		}
	}
	e := newExporter(t, tg, WithMaxFileSize(1024*maxParts/2))
	w := e.NewShardWriter(testShard)
	a := newAcks()
	for i := range 30 {
		d := ev(fmt.Sprint("e", i), "OPEN", fmt.Sprintf("2026-03-08T16:00:%02dZ", i))
		if err := w.Write(ctx, rec(testShard, i, d), testAck{a, i}); err != nil {
			t.Fatal(err)
		}
	}
	closeWriter(t, w)
	out, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, u := range out.Uploads {
		left = append(left, aws.ToString(u.Key))
	}
	if diff := cmp.Diff([]string{other}, left); diff != "" {
		t.Errorf("uploads left (-want +got):\n%s", diff)
	}
}
