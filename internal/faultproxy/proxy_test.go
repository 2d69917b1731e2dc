package faultproxy_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/rtdskit/rtds/internal/faultproxy"
	"github.com/rtdskit/rtds/internal/testenv"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// client returns an SDK client for endpoint that makes one attempt per
// call (so faults surface unretried) and closes its connections when the
// test ends.
func client(t *testing.T, endpoint string) *sdkkinesis.Client {
	t.Helper()
	hc := testenv.LoopbackHTTPClient()
	t.Cleanup(hc.CloseIdleConnections)
	cfg := testenv.Config()
	cfg.HTTPClient = hc
	cfg.RetryMaxAttempts = 1
	return sdkkinesis.NewFromConfig(cfg, func(o *sdkkinesis.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

// setup starts a proxy with cfg in front of kinesalite and creates a
// stream with shards shards. It returns a client through the proxy and one
// straight to the emulator (ground truth).
func setup(t *testing.T, shards int32, cfg faultproxy.Config, opts ...faultproxy.Option) (p *faultproxy.Proxy, via, direct *sdkkinesis.Client, stream string) {
	t.Helper()
	ep := testenv.Lookup(t, testenv.EnvKinesalite)
	direct = client(t, ep)
	stream, _ = testenv.CreateStream(t, direct, shards)
	p, err := faultproxy.New(ep, append([]faultproxy.Option{faultproxy.WithConfig(cfg)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return p, client(t, p.URL()), direct, stream
}

func entries(prefix string, n int) []sdktypes.PutRecordsRequestEntry {
	out := make([]sdktypes.PutRecordsRequestEntry, n)
	for i := range out {
		out[i] = sdktypes.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprintf("pk-%d", i)), Data: []byte(fmt.Sprintf("%s-%03d", prefix, i))}
	}
	return out
}

// readAll returns the data of every record in stream, read straight from
// the emulator, sorted.
func readAll(t *testing.T, c *sdkkinesis.Client, stream string) []string {
	t.Helper()
	ctx := context.Background()
	ls, err := c.ListShards(ctx, &sdkkinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, sh := range ls.Shards {
		it, err := c.GetShardIterator(ctx, &sdkkinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: sh.ShardId, ShardIteratorType: sdktypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		next := it.ShardIterator
		for next != nil {
			out, err := c.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: next})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range out.Records {
				got = append(got, string(r.Data))
			}
			if len(out.Records) == 0 {
				break
			}
			next = out.NextShardIterator
		}
	}
	slices.Sort(got)
	return got
}

func putRecords(c *sdkkinesis.Client, stream string, es []sdktypes.PutRecordsRequestEntry) (*sdkkinesis.PutRecordsOutput, error) {
	return c.PutRecords(context.Background(), &sdkkinesis.PutRecordsInput{StreamName: aws.String(stream), Records: es})
}

func isNetworkError(err error) bool {
	var api smithy.APIError
	return err != nil && !errors.As(err, &api)
}

func TestPassThrough(t *testing.T) {
	t.Parallel()
	p, via, direct, stream := setup(t, 2, faultproxy.Config{})
	out, err := putRecords(via, stream, entries("a", 10))
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(out.FailedRecordCount) != 0 || len(out.Records) != 10 {
		t.Fatalf("FailedRecordCount=%d, %d results", aws.ToInt32(out.FailedRecordCount), len(out.Records))
	}
	if got := readAll(t, via, stream); len(got) != 10 {
		t.Errorf("read %d records through the proxy, want 10", len(got))
	}
	if d := cmp.Diff(readAll(t, via, stream), readAll(t, direct, stream)); d != "" {
		t.Errorf("proxy and emulator disagree (-via +direct):\n%s", d)
	}
	s := p.Stats()
	if s.Calls["PutRecords"] != 1 || s.Calls["ListShards"] != 2 || s.Forwarded != s.TotalCalls() {
		t.Errorf("stats %+v: want 1 PutRecords, 2 ListShards, all forwarded", s)
	}
}

func TestThrottle(t *testing.T) {
	t.Parallel()
	p, via, direct, stream := setup(t, 1, faultproxy.Config{Throttle: 1})
	_, err := putRecords(via, stream, entries("a", 3))
	var pt *sdktypes.ProvisionedThroughputExceededException
	if !errors.As(err, &pt) {
		t.Fatalf("err = %v, want *sdktypes.ProvisionedThroughputExceededException", err)
	}
	if got := readAll(t, direct, stream); len(got) != 0 {
		t.Errorf("throttled call stored %v", got)
	}
	_, err = via.ListShards(context.Background(), &sdkkinesis.ListShardsInput{StreamName: aws.String(stream)})
	if !errors.As(err, &pt) {
		t.Errorf("ListShards err = %v, want throttling", err)
	}
	if s := p.Stats(); s.Throttled != 2 || s.Forwarded != 0 {
		t.Errorf("stats %+v: want 2 throttled, 0 forwarded", s)
	}
}

func TestInternalError(t *testing.T) {
	t.Parallel()
	p, via, direct, stream := setup(t, 1, faultproxy.Config{InternalError: 1})
	_, err := putRecords(via, stream, entries("a", 3))
	var api smithy.APIError
	var re *smithyhttp.ResponseError
	if !errors.As(err, &api) || api.ErrorCode() != faultproxy.CodeInternalFailure || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusInternalServerError {
		t.Fatalf("err = %v, want HTTP 500 InternalFailure", err)
	}
	if got := readAll(t, direct, stream); len(got) != 0 {
		t.Errorf("failed call stored %v", got)
	}
	if s := p.Stats(); s.InternalErrors != 1 {
		t.Errorf("InternalErrors = %d, want 1", s.InternalErrors)
	}
}

func TestExpireIterator(t *testing.T) {
	t.Parallel()
	p, via, _, stream := setup(t, 1, faultproxy.Config{ExpireIterator: 1})
	ctx := context.Background()
	ls, err := via.ListShards(ctx, &sdkkinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatalf("ListShards is not a GetRecords call and must pass: %v", err)
	}
	it, err := via.GetShardIterator(ctx, &sdkkinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: ls.Shards[0].ShardId, ShardIteratorType: sdktypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	_, err = via.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	var ex *sdktypes.ExpiredIteratorException
	if !errors.As(err, &ex) {
		t.Fatalf("err = %v, want *sdktypes.ExpiredIteratorException", err)
	}
	if s := p.Stats(); s.Expired != 1 {
		t.Errorf("Expired = %d, want 1", s.Expired)
	}
	if err := p.SetConfig(faultproxy.Config{}); err != nil {
		t.Fatal(err)
	}
	if _, err = via.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: it.ShardIterator}); err != nil {
		t.Errorf("after SetConfig(Config{}) the same iterator must work: %v", err)
	}
}

func TestFailEntries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, reason string
		frac         float64
		code         string
		n            int
	}{
		{"some", "a third of entries fail, the rest are stored", 0.3, "", 200},
		{"internal", "EntryErrorCode changes the spliced code", 0.5, faultproxy.CodeInternalFailure, 50},
		{"all", "when every entry fails nothing is forwarded", 1, "", 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, via, direct, stream := setup(t, 3, faultproxy.Config{FailEntries: tt.frac, EntryErrorCode: tt.code}, faultproxy.WithSeed(42))
			es := entries(tt.name, tt.n)
			out, err := putRecords(via, stream, es)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Records) != tt.n {
				t.Fatalf("%d results for %d entries", len(out.Records), tt.n)
			}
			wantCode := tt.code
			if wantCode == "" {
				wantCode = faultproxy.CodeThrottled
			}
			var stored []string
			failed := 0
			for i, r := range out.Records {
				switch {
				case r.ErrorCode != nil:
					failed++
					if aws.ToString(r.ErrorCode) != wantCode || aws.ToString(r.ErrorMessage) == "" || r.SequenceNumber != nil {
						t.Errorf("entry %d: %+v, want ErrorCode %s with a message", i, r, wantCode)
					}
				case r.SequenceNumber == nil || r.ShardId == nil:
					t.Errorf("entry %d: neither an error nor a sequence number", i)
				default:
					stored = append(stored, string(es[i].Data))
				}
			}
			if got := int(aws.ToInt32(out.FailedRecordCount)); got != failed {
				t.Errorf("FailedRecordCount = %d, but %d entries carry an ErrorCode", got, failed)
			}
			if failed == 0 || (tt.frac < 1 && failed == tt.n) {
				t.Fatalf("%s: %d of %d failed", tt.reason, failed, tt.n)
			}
			slices.Sort(stored)
			if stored == nil {
				stored = []string{}
			}
			if d := cmp.Diff(stored, readAll(t, direct, stream)); d != "" {
				t.Errorf("%s: the emulator must hold exactly the non-failed entries (-want +got):\n%s", tt.reason, d)
			}
			s := p.Stats()
			if s.FailedEntries != int64(failed) {
				t.Errorf("Stats.FailedEntries = %d, want %d", s.FailedEntries, failed)
			}
			if tt.frac == 1 && s.Calls["PutRecords"] != 1 {
				t.Errorf("PutRecords calls = %d", s.Calls["PutRecords"])
			}
		})
	}
}

func TestDropBefore(t *testing.T) {
	t.Parallel()
	p, via, direct, stream := setup(t, 1, faultproxy.Config{DropBefore: 1, Ops: []string{"PutRecords"}})
	_, err := putRecords(via, stream, entries("a", 5))
	if !isNetworkError(err) {
		t.Fatalf("err = %v, want a network error", err)
	}
	if got := readAll(t, direct, stream); len(got) != 0 {
		t.Errorf("a call dropped before forwarding stored %v", got)
	}
	if s := p.Stats(); s.DroppedBefore != 1 || s.Forwarded != 0 {
		t.Errorf("stats %+v: want 1 dropped before, 0 forwarded", s)
	}
}

func TestDropAfterCreatesDuplicates(t *testing.T) {
	t.Parallel()
	p, via, direct, stream := setup(t, 2, faultproxy.Config{DropAfter: 1, Ops: []string{"PutRecords"}})
	es := entries("dup", 5)
	_, err := putRecords(via, stream, es)
	if !isNetworkError(err) {
		t.Fatalf("err = %v, want a network error", err)
	}
	want := []string{"dup-000", "dup-001", "dup-002", "dup-003", "dup-004"}
	if d := cmp.Diff(want, readAll(t, direct, stream)); d != "" {
		t.Errorf("the emulator must have stored the call it answered (-want +got):\n%s", d)
	}
	// The client retries what it believes failed: real duplicates.
	if err := p.SetConfig(faultproxy.Config{}); err != nil {
		t.Fatal(err)
	}
	if _, err := putRecords(via, stream, es); err != nil {
		t.Fatal(err)
	}
	dups := []string{"dup-000", "dup-000", "dup-001", "dup-001", "dup-002", "dup-002", "dup-003", "dup-003", "dup-004", "dup-004"}
	if d := cmp.Diff(dups, readAll(t, direct, stream)); d != "" {
		t.Errorf("after the retry (-want +got):\n%s", d)
	}
	if s := p.Stats(); s.DroppedAfter != 1 || s.StoredThenDropped != 5 || s.Calls["PutRecords"] != 2 {
		t.Errorf("stats %+v: want 1 dropped after (5 entries stored) of 2 PutRecords", s)
	}
}

func TestDropAfterWithFailedEntries(t *testing.T) {
	t.Parallel()
	p, via, direct, stream := setup(t, 1, faultproxy.Config{DropAfter: 1, FailEntries: 0.5}, faultproxy.WithSeed(3))
	_, err := putRecords(via, stream, entries("x", 40))
	if !isNetworkError(err) {
		t.Fatalf("err = %v, want a network error", err)
	}
	s := p.Stats()
	got := readAll(t, direct, stream)
	if int64(len(got))+s.FailedEntries != 40 || s.DroppedAfter != 1 || len(got) == 0 || s.StoredThenDropped != int64(len(got)) {
		t.Errorf("stored %d, failed %d, dropped after %d: the forwarded half must be stored", len(got), s.FailedEntries, s.DroppedAfter)
	}
}

func TestUnreachableAndTargeting(t *testing.T) {
	t.Parallel()
	p, via, _, stream := setup(t, 1, faultproxy.Config{Unreachable: true})
	ctx := context.Background()
	if _, err := via.ListShards(ctx, &sdkkinesis.ListShardsInput{StreamName: aws.String(stream)}); !isNetworkError(err) {
		t.Errorf("unreachable: err = %v, want a network error", err)
	}
	if _, err := putRecords(via, stream, entries("a", 1)); !isNetworkError(err) {
		t.Errorf("unreachable: err = %v, want a network error", err)
	}
	if err := p.SetConfig(faultproxy.Config{Throttle: 1, Ops: []string{"PutRecords"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := via.ListShards(ctx, &sdkkinesis.ListShardsInput{StreamName: aws.String(stream)}); err != nil {
		t.Errorf("ListShards is not targeted: %v", err)
	}
	var pt *sdktypes.ProvisionedThroughputExceededException
	if _, err := putRecords(via, stream, entries("a", 1)); !errors.As(err, &pt) {
		t.Errorf("targeted PutRecords: err = %v, want throttling", err)
	}
	s := p.Stats()
	if s.Unreachable != 2 || s.Throttled != 1 || s.Calls["ListShards"] != 2 || s.Calls["PutRecords"] != 2 {
		t.Errorf("stats %+v", s)
	}
	if got := p.Config(); !slices.Equal(got.Ops, []string{"PutRecords"}) || got.Throttle != 1 {
		t.Errorf("Config() = %+v", got)
	}
}

func TestLatencyAndCloseAbortsDelays(t *testing.T) {
	t.Parallel()
	p, via, _, stream := setup(t, 1, faultproxy.Config{Latency: time.Millisecond})
	if _, err := putRecords(via, stream, entries("a", 1)); err != nil {
		t.Fatal(err)
	}
	if s := p.Stats(); s.Delayed != 1 {
		t.Errorf("Delayed = %d, want 1", s.Delayed)
	}
	// A call stuck in a long delay ends when the proxy closes.
	if err := p.SetConfig(faultproxy.Config{Latency: time.Hour}); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := putRecords(via, stream, entries("b", 1))
		errc <- err
	}()
	for p.Stats().Delayed < 2 {
		time.Sleep(time.Millisecond)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !isNetworkError(err) {
		t.Errorf("delayed call after Close: err = %v, want a network error", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestSeedIsDeterministic(t *testing.T) {
	t.Parallel()
	ep := testenv.Lookup(t, testenv.EnvKinesalite)
	direct := client(t, ep)
	stream, _ := testenv.CreateStream(t, direct, 1)
	pattern := func(seed int64) string {
		p, err := faultproxy.New(ep, faultproxy.WithSeed(seed), faultproxy.WithConfig(faultproxy.Config{Throttle: 0.5}))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		c := client(t, p.URL())
		var b []byte
		for range 40 {
			_, err := c.ListShards(context.Background(), &sdkkinesis.ListShardsInput{StreamName: aws.String(stream)})
			if err != nil {
				b = append(b, 'T')
			} else {
				b = append(b, '.')
			}
		}
		return string(b)
	}
	a, b, c := pattern(7), pattern(7), pattern(8)
	if a != b {
		t.Errorf("same seed, different faults:\n%s\n%s", a, b)
	}
	if a == c {
		t.Errorf("seeds 7 and 8 gave the same 40 decisions %s", a)
	}
	if !slices.Contains([]byte(a), 'T') || !slices.Contains([]byte(a), '.') {
		t.Errorf("Throttle 0.5 over 40 calls gave %s", a)
	}
}

func TestEntryFilter(t *testing.T) {
	t.Parallel()
	hot := func(pk, _ string) bool { return len(pk) > 3 && pk[:3] == "hot" }
	p, via, direct, stream := setup(t, 2, faultproxy.Config{FailEntries: 1, EntryFilter: hot})
	es := []sdktypes.PutRecordsRequestEntry{
		{PartitionKey: aws.String("hot-1"), Data: []byte("h1")},
		{PartitionKey: aws.String("cold-1"), Data: []byte("c1")},
		{PartitionKey: aws.String("hot-2"), Data: []byte("h2")},
		{PartitionKey: aws.String("cold-2"), Data: []byte("c2")},
	}
	out, err := putRecords(via, stream, es)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, r := range out.Records {
		codes = append(codes, aws.ToString(r.ErrorCode))
	}
	want := []string{faultproxy.CodeThrottled, "", faultproxy.CodeThrottled, ""}
	if d := cmp.Diff(want, codes); d != "" || aws.ToInt32(out.FailedRecordCount) != 2 {
		t.Errorf("only the filtered entries fail; FailedRecordCount=%d (-want +got):\n%s", aws.ToInt32(out.FailedRecordCount), d)
	}
	if d := cmp.Diff([]string{"c1", "c2"}, readAll(t, direct, stream)); d != "" {
		t.Errorf("stored (-want +got):\n%s", d)
	}
	if s := p.Stats(); s.FailedEntries != 2 {
		t.Errorf("FailedEntries = %d, want 2", s.FailedEntries)
	}
}
