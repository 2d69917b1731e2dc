// Package testenv connects rtds's integration tests to the local emulators
// that scripts/emulators.sh starts (make test does this for you).
//
// Endpoints come from environment variables:
//
//	RTDS_KINESIS_LOCAL_ENDPOINT  kinesis-local (kinesis-mock): Kinesis conformance
//	RTDS_KINESALITE_ENDPOINT     kinesalite: Kinesis volume
//	RTDS_DYNALITE_ENDPOINT       dynalite: DynamoDB
//	RTDS_AGG_NODE_MODULES        node_modules with the npm aws-kinesis-agg package
//	RTDS_S3_ENDPOINT             gofakes3: S3 (path-style)
//
// When RTDS_INTEGRATION=required (set by make test and CI) a missing endpoint
// fails the test. Otherwise (plain `go test ./...` on a laptop) the test is
// skipped with a one-line hint.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Environment variable names.
const (
	EnvKinesisLocal = "RTDS_KINESIS_LOCAL_ENDPOINT"
	EnvKinesalite   = "RTDS_KINESALITE_ENDPOINT"
	EnvDynalite     = "RTDS_DYNALITE_ENDPOINT"
	EnvAggNode      = "RTDS_AGG_NODE_MODULES"
	EnvS3           = "RTDS_S3_ENDPOINT"
	EnvRequired     = "RTDS_INTEGRATION"
)

// Region is the region every test client uses.
const Region = "us-east-1"

// Required reports whether missing emulators must fail tests.
func Required() bool { return os.Getenv(EnvRequired) == "required" }

// Lookup returns the value of env, failing or skipping the test when unset.
func Lookup(t testing.TB, env string) string {
	t.Helper()
	v := os.Getenv(env)
	if v != "" {
		return v
	}
	if Required() {
		t.Fatalf("%s is not set: the emulators are not running (make test starts them)", env)
	}
	t.Skipf("%s not set; run `make test`, or `scripts/emulators.sh start && . .emulators/env`", env)
	return ""
}

// Config returns an AWS config for an emulator: static dummy credentials,
// Region, no shared config files, and an HTTP client that only dials loopback.
func Config() aws.Config {
	return aws.Config{
		Region:           Region,
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		HTTPClient:       LoopbackHTTPClient(),
		RetryMaxAttempts: 3,
	}
}

// LoopbackHTTPClient is an HTTP client that refuses to dial anything but
// 127.0.0.0/8 and ::1, so a mistaken endpoint can never leave the machine.
func LoopbackHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.MaxIdleConnsPerHost = 64
	orig := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host := addr
		if i := strings.LastIndex(addr, ":"); i >= 0 {
			host = strings.Trim(addr[:i], "[]")
		}
		if !(strings.HasPrefix(host, "127.") || host == "::1" || host == "localhost") {
			return nil, fmt.Errorf("testenv: refusing to dial non-loopback address %q", addr)
		}
		return orig(ctx, network, addr)
	}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// KinesisClient returns an SDK Kinesis client for endpoint.
func KinesisClient(endpoint string, optFns ...func(*sdkkinesis.Options)) *sdkkinesis.Client {
	fns := append([]func(*sdkkinesis.Options){func(o *sdkkinesis.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	}}, optFns...)
	return sdkkinesis.NewFromConfig(Config(), fns...)
}

// KinesisLocal returns a client for kinesis-local (conformance) and its endpoint.
func KinesisLocal(t testing.TB) (*sdkkinesis.Client, string) {
	t.Helper()
	ep := Lookup(t, EnvKinesisLocal)
	return KinesisClient(ep), ep
}

// Kinesalite returns a client for kinesalite (volume) and its endpoint.
func Kinesalite(t testing.TB) (*sdkkinesis.Client, string) {
	t.Helper()
	ep := Lookup(t, EnvKinesalite)
	return KinesisClient(ep), ep
}

// DynamoDB returns a client for dynalite and its endpoint. The client's idle
// connections are closed when the test ends (the kinesis tests check for
// leaked goroutines).
func DynamoDB(t testing.TB) (*dynamodb.Client, string) {
	t.Helper()
	ep := Lookup(t, EnvDynalite)
	cfg := Config()
	t.Cleanup(cfg.HTTPClient.(*http.Client).CloseIdleConnections)
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(ep)
	}), ep
}

// UniqueName returns prefix followed by a random suffix, valid as a stream or
// table name.
func UniqueName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

// CreateStream creates a provisioned stream with the given shard count,
// waits until it is ACTIVE, deletes it when the test ends, and returns its
// name and ARN.
func CreateStream(t testing.TB, client *sdkkinesis.Client, shards int32) (name, arn string) {
	t.Helper()
	name = UniqueName(strings.ReplaceAll(strings.ToLower(t.Name()), "/", "-"))
	if len(name) > 120 {
		name = name[len(name)-120:]
		name = strings.TrimLeft(name, "-_.")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, err := client.CreateStream(ctx, &sdkkinesis.CreateStreamInput{
		StreamName: aws.String(name),
		ShardCount: aws.Int32(shards),
	})
	if err != nil {
		t.Fatalf("create stream %s: %v", name, err)
	}
	arn, err = WaitActive(ctx, client, name)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = client.DeleteStream(ctx, &sdkkinesis.DeleteStreamInput{
			StreamName:              aws.String(name),
			EnforceConsumerDeletion: aws.Bool(true),
		})
	})
	return name, arn
}

// WaitActive polls DescribeStreamSummary until the stream is ACTIVE and
// returns its ARN.
func WaitActive(ctx context.Context, client *sdkkinesis.Client, name string) (string, error) {
	for {
		out, err := client.DescribeStreamSummary(ctx, &sdkkinesis.DescribeStreamSummaryInput{
			StreamName: aws.String(name),
		})
		var nf *sdktypes.ResourceNotFoundException
		switch {
		case errors.As(err, &nf):
		case err != nil:
			return "", err
		case out.StreamDescriptionSummary.StreamStatus == sdktypes.StreamStatusActive:
			return aws.ToString(out.StreamDescriptionSummary.StreamARN), nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("waiting for stream %s to become ACTIVE: %w", name, ctx.Err())
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// S3Client returns an SDK S3 client for endpoint: path-style addressing (as
// gofakes3 serves it) and checksums only where an operation requires them,
// so no trailing checksum ever becomes part of a stored object.
func S3Client(endpoint string, optFns ...func(*s3.Options)) *s3.Client {
	fns := append([]func(*s3.Options){func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}}, optFns...)
	return s3.NewFromConfig(Config(), fns...)
}

// S3 returns a client for gofakes3 and its endpoint.
func S3(t testing.TB) (*s3.Client, string) {
	t.Helper()
	ep := Lookup(t, EnvS3)
	return S3Client(ep), ep
}

// CreateBucket creates a bucket with a unique name on client and returns
// the name. Buckets live in gofakes3's memory until it stops; the test's
// objects are deleted with it when the test ends.
func CreateBucket(t testing.TB, client *s3.Client) string {
	t.Helper()
	name := UniqueName("rtds")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(name)})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return
			}
			for _, o := range out.Contents {
				_, _ = client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(name), Key: o.Key})
			}
		}
		_, _ = client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)})
	})
	return name
}

// DenyWritesProxy starts a proxy in front of the S3 endpoint that answers
// every write (PUT, POST) with S3's 403 AccessDenied and passes the rest
// through (gofakes3 checks no credentials), and returns its URL. It stops
// when the test ends.
func DenyWritesProxy(t testing.TB, endpoint string) string {
	t.Helper()
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut || r.Method == http.MethodPost {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`))
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
