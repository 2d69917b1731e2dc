package s3export

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3API is the part of the SDK's S3 client an S3Target uses; *s3.Client
// implements it.
type S3API interface {
	PutObject(ctx context.Context, params *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, params *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	HeadBucket(ctx context.Context, params *s3.HeadBucketInput, optFns ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
	ListObjectsV2(ctx context.Context, params *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	CreateMultipartUpload(ctx context.Context, params *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(ctx context.Context, params *s3.UploadPartInput, optFns ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(ctx context.Context, params *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, params *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
	ListMultipartUploads(ctx context.Context, params *s3.ListMultipartUploadsInput, optFns ...func(*s3.Options)) (*s3.ListMultipartUploadsOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// Server-side encryption algorithms for WithSSE.
const (
	SSEAES256 = "AES256"
	SSEKMS    = "aws:kms"
)

// DefaultPartSize is the multipart part size of an S3Target: S3's minimum,
// and what one open file holds in memory at most (plus one record).
const DefaultPartSize = 5 << 20

// minPartSize is S3's smallest part (except the last); tests lower it.
var minPartSize int64 = 5 << 20

// maxParts is S3's limit of parts per multipart upload.
const maxParts = 10000

// S3Target writes objects to an S3 bucket below a key prefix. Files that
// outgrow one part stream through a multipart upload, part by part; smaller
// ones are a single PutObject. It is safe for concurrent use.
type S3Target struct {
	client   S3API
	bucket   string
	prefix   string
	sse      string
	kmsKeyID string
	partSize int64
}

// S3Option configures an S3Target.
type S3Option func(*S3Target) error

// WithSSE asks S3 to encrypt every object: SSEAES256 (S3-managed keys), or
// SSEKMS with kmsKeyID (empty: the account's default KMS key). Default:
// none (the bucket's default encryption applies).
func WithSSE(algorithm, kmsKeyID string) S3Option {
	return func(t *S3Target) error {
		switch algorithm {
		case SSEAES256:
			if kmsKeyID != "" {
				return fmt.Errorf("s3export: WithSSE: a KMS key id needs %s, not %s", SSEKMS, SSEAES256)
			}
		case SSEKMS:
		default:
			return fmt.Errorf("s3export: WithSSE: unknown algorithm %q (want %s or %s)", algorithm, SSEAES256, SSEKMS)
		}
		t.sse, t.kmsKeyID = algorithm, kmsKeyID
		return nil
	}
}

// WithPartSize sets the multipart part size. Default DefaultPartSize; at
// least 5 MiB (S3's minimum). Each open file holds up to one part in
// memory.
func WithPartSize(n int64) S3Option {
	return func(t *S3Target) error {
		if n < minPartSize {
			return fmt.Errorf("s3export: WithPartSize(%d): below S3's minimum part size %d", n, minPartSize)
		}
		t.partSize = n
		return nil
	}
}

// NewS3Target returns a target that writes to bucket, with every key below
// prefix ("" or a path such as "exports/rtds"; a trailing '/' is added).
func NewS3Target(client S3API, bucket, prefix string, opts ...S3Option) (*S3Target, error) {
	if client == nil {
		return nil, errors.New("s3export: nil S3 client")
	}
	if bucket == "" {
		return nil, errors.New("s3export: empty bucket name")
	}
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	t := &S3Target{client: client, bucket: bucket, prefix: prefix, partSize: DefaultPartSize}
	for _, o := range opts {
		if err := o(t); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Check verifies that the bucket exists and can be reached with the
// client's credentials.
func (t *S3Target) Check(ctx context.Context) error {
	if _, err := t.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(t.bucket)}); err != nil {
		// HeadBucket's answers have no body: name the common cases.
		var api smithy.APIError
		if errors.As(err, &api) {
			switch api.ErrorCode() {
			case "NotFound", "NoSuchBucket":
				return fmt.Errorf("s3export: bucket %s does not exist: %w", t.bucket, err)
			case "Forbidden", "AccessDenied":
				return fmt.Errorf("s3export: access to bucket %s denied: %w", t.bucket, err)
			}
		}
		return fmt.Errorf("s3export: bucket %s: %w", t.bucket, err)
	}
	return nil
}

func (t *S3Target) key(k string) string { return t.prefix + k }

// Put implements Target.
func (t *S3Target) Put(ctx context.Context, key string, h Header, data []byte) error {
	in := &s3.PutObjectInput{
		Bucket:        aws.String(t.bucket),
		Key:           aws.String(t.key(key)),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
	}
	setHeader(h, &in.ContentType, &in.ContentEncoding)
	in.ServerSideEncryption, in.SSEKMSKeyId = t.sseFields()
	if _, err := t.client.PutObject(ctx, in); err != nil {
		return fmt.Errorf("s3export: put s3://%s/%s: %w", t.bucket, t.key(key), err)
	}
	return nil
}

// Get implements Target.
func (t *S3Target) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := t.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(t.bucket), Key: aws.String(t.key(key))})
	if err != nil {
		return nil, fmt.Errorf("s3export: get s3://%s/%s: %w", t.bucket, t.key(key), err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("s3export: get s3://%s/%s: %w", t.bucket, t.key(key), err)
	}
	return b, nil
}

// List implements Target.
func (t *S3Target) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(t.client, &s3.ListObjectsV2Input{
		Bucket:    aws.String(t.bucket),
		Prefix:    aws.String(t.key(prefix)),
		Delimiter: aws.String("/"),
	})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("s3export: list s3://%s/%s: %w", t.bucket, t.key(prefix), err)
		}
		for _, o := range out.Contents {
			keys = append(keys, strings.TrimPrefix(aws.ToString(o.Key), t.prefix))
		}
	}
	return keys, nil
}

func (t *S3Target) sseFields() (s3types.ServerSideEncryption, *string) {
	if t.sse == "" {
		return "", nil
	}
	var id *string
	if t.kmsKeyID != "" {
		id = aws.String(t.kmsKeyID)
	}
	return s3types.ServerSideEncryption(t.sse), id
}

func setHeader(h Header, ct, ce **string) {
	if h.ContentType != "" {
		*ct = aws.String(h.ContentType)
	}
	if h.ContentEncoding != "" {
		*ce = aws.String(h.ContentEncoding)
	}
}

// Create implements Target. Multipart uploads that an earlier, crashed
// attempt left open for the same key are aborted when the first part is
// uploaded.
func (t *S3Target) Create(ctx context.Context, key string, h Header) (Object, error) {
	part := t.partSize
	if h.SizeHint > 0 {
		// Leave room for gzip's worst case and round up.
		need := (h.SizeHint+h.SizeHint/100+(1<<20))/maxParts + 1
		part = max(part, need)
	}
	return &s3Object{t: t, key: t.key(key), h: h, partSize: part}, nil
}

// s3Object is one object being written: a buffer of at most about one
// part, flushed as multipart parts once it fills.
type s3Object struct {
	t        *S3Target
	key      string
	h        Header
	partSize int64
	// buf holds what is not uploaded yet: less than a part after Flush.
	// It grows by append up to about a part and is then reused, so an
	// open file holds at most about 1.25 parts.
	buf      []byte
	uploadID string
	parts    []s3types.CompletedPart
	size     int64
}

func (o *s3Object) Write(p []byte) (int, error) {
	o.buf = append(o.buf, p...)
	return len(p), nil
}

func (o *s3Object) Flush(ctx context.Context) error {
	for int64(len(o.buf)) >= o.partSize {
		if err := o.uploadPart(ctx, o.buf[:o.partSize]); err != nil {
			return err
		}
		o.buf = o.buf[:copy(o.buf, o.buf[o.partSize:])]
	}
	return nil
}

func (o *s3Object) begin(ctx context.Context) error {
	if err := o.t.abortStale(ctx, o.key); err != nil {
		return err
	}
	in := &s3.CreateMultipartUploadInput{Bucket: aws.String(o.t.bucket), Key: aws.String(o.key)}
	setHeader(o.h, &in.ContentType, &in.ContentEncoding)
	in.ServerSideEncryption, in.SSEKMSKeyId = o.t.sseFields()
	out, err := o.t.client.CreateMultipartUpload(ctx, in)
	if err != nil {
		return fmt.Errorf("s3export: create multipart upload s3://%s/%s: %w", o.t.bucket, o.key, err)
	}
	o.uploadID = aws.ToString(out.UploadId)
	return nil
}

func (o *s3Object) uploadPart(ctx context.Context, p []byte) error {
	if o.uploadID == "" {
		if err := o.begin(ctx); err != nil {
			return err
		}
	}
	n := int32(len(o.parts) + 1)
	out, err := o.t.client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket:        aws.String(o.t.bucket),
		Key:           aws.String(o.key),
		UploadId:      aws.String(o.uploadID),
		PartNumber:    aws.Int32(n),
		Body:          bytes.NewReader(p),
		ContentLength: aws.Int64(int64(len(p))),
	})
	if err != nil {
		return fmt.Errorf("s3export: upload part %d of s3://%s/%s: %w", n, o.t.bucket, o.key, err)
	}
	o.parts = append(o.parts, s3types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)})
	o.size += int64(len(p))
	return nil
}

func (o *s3Object) Commit(ctx context.Context) (int64, error) {
	if o.uploadID == "" {
		// Never reached a full part: one PutObject. An earlier attempt may
		// have got further.
		if err := o.t.abortStale(ctx, o.key); err != nil {
			return 0, err
		}
		n := int64(len(o.buf))
		in := &s3.PutObjectInput{
			Bucket:        aws.String(o.t.bucket),
			Key:           aws.String(o.key),
			Body:          bytes.NewReader(o.buf),
			ContentLength: aws.Int64(n),
		}
		setHeader(o.h, &in.ContentType, &in.ContentEncoding)
		in.ServerSideEncryption, in.SSEKMSKeyId = o.t.sseFields()
		if _, err := o.t.client.PutObject(ctx, in); err != nil {
			return 0, fmt.Errorf("s3export: put s3://%s/%s: %w", o.t.bucket, o.key, err)
		}
		o.buf = nil
		return n, nil
	}
	if err := o.Flush(ctx); err != nil {
		return 0, err
	}
	if len(o.buf) > 0 {
		if err := o.uploadPart(ctx, o.buf); err != nil {
			return 0, err
		}
		o.buf = nil
	}
	_, err := o.t.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(o.t.bucket),
		Key:             aws.String(o.key),
		UploadId:        aws.String(o.uploadID),
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: o.parts},
	})
	if err != nil {
		return 0, fmt.Errorf("s3export: complete multipart upload s3://%s/%s: %w", o.t.bucket, o.key, err)
	}
	return o.size, nil
}

func (o *s3Object) Abort(ctx context.Context) error {
	o.buf = nil
	if o.uploadID == "" {
		return nil
	}
	_, err := o.t.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(o.t.bucket), Key: aws.String(o.key), UploadId: aws.String(o.uploadID),
	})
	if err != nil {
		return fmt.Errorf("s3export: abort multipart upload s3://%s/%s: %w", o.t.bucket, o.key, err)
	}
	return nil
}

// abortStale aborts the multipart uploads in progress for exactly key: an
// earlier attempt at the same file that crashed before completing it.
// Names are deterministic and unique per shard, so no other writer's
// upload has this key.
func (t *S3Target) abortStale(ctx context.Context, key string) error {
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(t.bucket), Prefix: aws.String(key)}
	for {
		out, err := t.client.ListMultipartUploads(ctx, in)
		var api smithy.APIError
		if errors.As(err, &api) && api.ErrorCode() == "NoSuchUpload" {
			// S3 lists an empty set; some emulators (gofakes3) answer
			// NoSuchUpload for a bucket that never had an upload.
			return nil
		}
		if err != nil {
			return fmt.Errorf("s3export: list multipart uploads s3://%s/%s: %w", t.bucket, key, err)
		}
		for _, u := range out.Uploads {
			if aws.ToString(u.Key) != key {
				continue
			}
			if _, err := t.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
				Bucket: aws.String(t.bucket), Key: u.Key, UploadId: u.UploadId,
			}); err != nil {
				return fmt.Errorf("s3export: abort stale multipart upload s3://%s/%s: %w", t.bucket, key, err)
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			return nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}
