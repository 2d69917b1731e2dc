package kinesis

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/smithy-go"
)

// fakeEndpoint is an HTTP server speaking just enough of Kinesis's JSON
// protocol: ListShards answers one shard, PutRecords answers HTTP 500
// InternalFailure (which the SDK's default retryer retries). It counts the
// PutRecords requests it receives.
func fakeEndpoint(t *testing.T) (url string, putCalls *atomic.Int64) {
	t.Helper()
	putCalls = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		switch target := r.Header.Get("X-Amz-Target"); {
		case strings.HasSuffix(target, ".ListShards"):
			_, _ = io.WriteString(w, `{"Shards":[{"ShardId":"shardId-000000000000","HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"340282366920938463463374607431768211455"},"SequenceNumberRange":{"StartingSequenceNumber":"1"}}]}`)
		case strings.HasSuffix(target, ".PutRecords"):
			putCalls.Add(1)
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"__type":"InternalFailure","message":"injected"}`)
		default:
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"__type":"UnknownOperationException"}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, putCalls
}

// putOneFailing puts one record with a producer on client (no linger) and
// closes it; the record must fail. It returns the producer and the
// record's Result.
func putOneFailing(t *testing.T, client ProducerAPI, opts ...ProducerOption) (*Producer, Result) {
	t.Helper()
	var c collector
	p, err := NewProducer(client, "s", append([]ProducerOption{WithResultHandler(c.handle), WithLinger(0)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Put(t.Context(), "k", []byte("x")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	rs := c.snapshot()
	if len(rs) != 1 || rs[0].Err == nil {
		t.Fatalf("results %+v, want one failure", rs)
	}
	return p, rs[0]
}

var testCreds = credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")

// TestProducerIsTheOnlyRetryLayer gives the producer an SDK client with the
// SDK's default retryer (3 attempts) and an endpoint that fails every
// PutRecords with a retryable HTTP 500: a retry policy of 3 attempts must
// make exactly 3 PutRecords requests, not 3 times the SDK's 3.
func TestProducerIsTheOnlyRetryLayer(t *testing.T) {
	t.Parallel()
	url, putCalls := fakeEndpoint(t)
	client := sdkkinesis.New(sdkkinesis.Options{Region: "us-east-1", Credentials: testCreds, BaseEndpoint: aws.String(url)})
	retry := fastPutRetry
	retry.MaxAttempts = 3
	p, r := putOneFailing(t, client, WithPutRetry(retry))
	if r.Attempts != 3 {
		t.Fatalf("failed after %d attempts, want 3: %v", r.Attempts, r.Err)
	}
	if n := putCalls.Load(); n != 3 {
		t.Errorf("%d PutRecords requests for 3 attempts: the SDK retried too", n)
	}
	if st := p.Stats(); st.Answered != 0 || st.LastError == nil {
		t.Errorf("stats %+v, want no answered call and the last error", st)
	}
}

// TestProducerFailsMisconfigurationAtOnce: errors of the client's setup
// (no region, credentials that cannot be had, an endpoint URL without a
// scheme or a host) cannot be fixed by retrying, so the record fails on
// its first attempt, within a second, with the SDK's operation error
// reachable through errors.As.
func TestProducerFailsMisconfigurationAtOnce(t *testing.T) {
	t.Parallel()
	url, _ := fakeEndpoint(t)
	noCreds := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, errors.New("no credentials in the environment")
	})
	for _, tc := range []struct {
		name, reason string
		opts         sdkkinesis.Options
	}{
		{"missing region", "the SDK cannot resolve an endpoint without a region",
			sdkkinesis.Options{Credentials: testCreds}},
		{"missing credentials", "the SDK cannot sign the request",
			sdkkinesis.Options{Region: "us-east-1", Credentials: noCreds, BaseEndpoint: aws.String(url)}},
		{"endpoint without scheme", "the HTTP client rejects the URL",
			sdkkinesis.Options{Region: "us-east-1", Credentials: testCreds, BaseEndpoint: aws.String("localhost:4567")}},
		{"endpoint without host", "the HTTP client rejects the URL",
			sdkkinesis.Options{Region: "us-east-1", Credentials: testCreds, BaseEndpoint: aws.String("http://")}},
		{"unparsable endpoint", "the SDK cannot resolve the endpoint",
			sdkkinesis.Options{Region: "us-east-1", Credentials: testCreds, BaseEndpoint: aws.String("http://local host:4567")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			_, r := putOneFailing(t, sdkkinesis.New(tc.opts))
			var oe *smithy.OperationError
			if !errors.As(r.Err, &oe) || r.Attempts != 1 || errors.Is(r.Err, ErrRecordExpired) {
				t.Errorf("failed after %d attempt(s) with %v; want 1 attempt and the SDK's *smithy.OperationError (%s)", r.Attempts, r.Err, tc.reason)
			}
			if el := time.Since(start); el > time.Second {
				t.Errorf("failed after %v, want at once", el)
			}
		})
	}
}

// A refused checkpoint used to read "kinesis: shard X: kinesis: save
// checkpoint: kinesis: checkpoint is behind ...": every error the package
// returns has one prefix, whatever it wraps, and still unwraps to the
// sentinel.
func TestErrorsHaveOnePrefix(t *testing.T) {
	ctx := context.Background()
	store := NewMemoryStore()
	if err := store.Save(ctx, "s", "shardId-0", Checkpoint{SequenceNumber: "20"}); err != nil {
		t.Fatal(err)
	}
	behind := store.Save(ctx, "s", "shardId-0", Checkpoint{SequenceNumber: "10"})
	for _, err := range []error{
		behind,
		&ShardError{ShardID: "shardId-0", Err: errorf("save checkpoint: %w", behind)},
		&RecordError{Attempts: 2, Err: errorf("close: %w", ErrClosed)},
		errorf("stream %s: %w", "s", &ShardError{ShardID: "shardId-0", Err: ErrLeaseChanged}),
	} {
		msg := err.Error()
		if !strings.HasPrefix(msg, "kinesis: ") || strings.Count(msg, "kinesis:") != 1 {
			t.Errorf("%q: want exactly one leading \"kinesis: \"", msg)
		}
	}
	err := &ShardError{ShardID: "shardId-0", Err: errorf("save checkpoint: %w", behind)}
	if !errors.Is(err, ErrCheckpointBehind) {
		t.Errorf("%v does not unwrap to ErrCheckpointBehind", err)
	}
	if got, want := err.Error(), "kinesis: shard shardId-0: save checkpoint: checkpoint is behind the stored one: stream s shard shardId-0: saving 10/0, stored 20/0"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
}
