package kinesis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/rtdskit/rtds/batch"
	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

func TestNewProducerValidatesOptions(t *testing.T) {
	t.Parallel()
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	tests := []struct {
		name, reason string
		opts         []ProducerOption
	}{
		{"zero batch records", "a request needs at least one entry", []ProducerOption{WithBatchLimits(batchLimits(func(l *batch.Limits) { l.MaxRecordsPerRequest = -1 }))}},
		{"batch below record", "a request must fit the largest record", []ProducerOption{WithBatchLimits(batchLimits(func(l *batch.Limits) { l.MaxRequestBytes = 1000; l.MaxRecordBytes = 2000 }))}},
		{"tiny aggregate", "an aggregate needs room for its header", []ProducerOption{WithAggregation(true), WithAggregateLimits(AggregateLimits{MaxBytes: 100, MaxRecords: DefaultAggregateLimits.MaxRecords})}},
		{"too many entries", "PutRecords takes at most 500", []ProducerOption{WithBatchLimits(batchLimits(func(l *batch.Limits) { l.MaxRecordsPerRequest = 501 }))}},
		{"no concurrency", "at least one request in flight", []ProducerOption{WithMaxInFlight(0)}},
		{"zero ttl", "records need time to be delivered", []ProducerOption{WithRecordTTL(0)}},
		{"negative attempts", "attempt limit is a count", []ProducerOption{WithPutRetry(Retry{MaxAttempts: -1, InitialInterval: time.Millisecond, MaxInterval: time.Second, Multiplier: 2})}},
		{"small buffer", "the buffer must hold one record of the limit", []ProducerOption{WithBufferBytes(1000)}},
		{"negative linger", "a linger is a duration", []ProducerOption{WithLinger(-time.Second)}},
		{"zero retry", "a retry policy needs a wait", []ProducerOption{WithPutRetry(Retry{})}},
		{"zero aggregate records", "an aggregate holds at least one record", []ProducerOption{WithAggregateLimits(AggregateLimits{MaxBytes: 1000})}},
		{"zero batch limits", "no zero-means-default", []ProducerOption{WithBatchLimits(batch.Limits{})}},
		{"nil key func", "PutEvent needs a key", []ProducerOption{WithEventPartitionKey(nil)}},
		{"hook of nothing", "a hook must implement a Hook interface", []ProducerOption{WithHooks(struct{}{})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := NewProducer(f, "s", tt.opts...)
			if err == nil || !strings.HasPrefix(err.Error(), "kinesis: ") {
				if p != nil {
					p.Close(context.Background())
				}
				t.Fatalf("%s: NewProducer = %v, want a kinesis: error", tt.reason, err)
			}
		})
	}
	if _, err := NewProducer(nil, "s"); err == nil {
		t.Error("nil client accepted")
	}
	if _, err := NewProducer(f, ""); err == nil {
		t.Error("empty stream accepted")
	}
}

func TestProducerPutValidates(t *testing.T) {
	t.Parallel()
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	p, err := NewProducer(f, "s", WithBatchLimits(batchLimits(func(l *batch.Limits) { l.MaxRecordBytes = 1000 })))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	tests := []struct {
		name, reason string
		pk           string
		data         []byte
		ok           bool
	}{
		{"empty key", "Kinesis requires a partition key", "", nil, false},
		{"256 runes", "the key limit counts characters", strings.Repeat("é", 256), nil, true},
		{"257 runes", "one character over", strings.Repeat("é", 257), nil, false},
		{"at record limit", "data plus key exactly at the limit", "k", make([]byte, 999), true},
		{"over record limit", "one byte over", "k", make([]byte, 1000), false},
	}
	for _, tt := range tests {
		err := p.Put(context.Background(), tt.pk, tt.data)
		if (err == nil) != tt.ok {
			t.Errorf("%s: %s: Put = %v", tt.name, tt.reason, err)
		}
	}
	if err := p.Put(context.Background(), "", nil); !errors.Is(err, batch.ErrInvalidPartitionKey) {
		t.Errorf("empty key: %v, want batch.ErrInvalidPartitionKey", err)
	}
	if err := p.Put(context.Background(), "\xff", nil); !errors.Is(err, batch.ErrInvalidPartitionKey) {
		t.Errorf("invalid UTF-8 key: %v, want batch.ErrInvalidPartitionKey", err)
	}
	if err := p.Put(context.Background(), "k", make([]byte, 1000)); !errors.Is(err, batch.ErrRecordTooLarge) {
		t.Errorf("large record: %v, want batch.ErrRecordTooLarge", err)
	}
}

func TestPartitionKeyFuncs(t *testing.T) {
	t.Parallel()
	ev := func(js string) event.Event {
		e, err := event.Decode([]byte(js))
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	const base = `"type":"UNINSTALL","offset":"1","occurred":"2026-11-28T10:00:00Z","processed":"2026-11-28T10:00:00Z","body":{}`
	full := ev(`{"id":"e1",` + base + `,"device":{"channel":"c1","named_user_id":"u1"}}`)
	noUser := ev(`{"id":"e2",` + base + `,"device":{"channel":"c2"}}`)
	bare := ev(`{"id":"e3",` + base + `}`)
	tests := []struct {
		name, reason string
		fn           func(event.Event) string
		e            event.Event
		want         string
	}{
		{"channel", "the device's channel", PartitionKeyChannel, full, "c1"},
		{"channel fallback", "no device: the event id", PartitionKeyChannel, bare, "e3"},
		{"named user", "the named user", PartitionKeyNamedUser, full, "u1"},
		{"named user fallback", "no named user: the channel", PartitionKeyNamedUser, noUser, "c2"},
		{"id", "the event id", PartitionKeyEventID, full, "e1"},
	}
	for _, tt := range tests {
		if got := tt.fn(tt.e); got != tt.want {
			t.Errorf("%s (%s): %q, want %q", tt.name, tt.reason, got, tt.want)
		}
	}
	// PutEvent sends the event's JSON under its key.
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	p, err := NewProducer(f, "s", WithEventPartitionKey(PartitionKeyNamedUser))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.PutEvent(context.Background(), full); err != nil {
		t.Fatal(err)
	}
	if err := p.PutEvent(context.Background(), nil); err == nil {
		t.Error("nil event accepted")
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	rs := f.Records("s")
	if len(rs) != 1 || rs[0].PartitionKey != "u1" {
		t.Fatalf("records %+v", rs)
	}
	back, err := event.Decode(rs[0].Data)
	if err != nil || back.Base().ID != "e1" {
		t.Fatalf("stored data does not decode to the event: %v", err)
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	status := func(code int) error {
		return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: code}}, Err: errors.New("x")}}
	}
	tests := []struct {
		name, reason    string
		err             error
		retry, throttle bool
	}{
		{"throughput", "throttling is retried", &sdktypes.ProvisionedThroughputExceededException{}, true, true},
		{"kms throttling", "KMS throttling is retried", entryError("KMSThrottlingException", ""), true, true},
		{"limit exceeded", "control-plane throttling is retried", &sdktypes.LimitExceededException{}, true, true},
		{"internal failure", "entry InternalFailure is retried", entryError("InternalFailure", ""), true, false},
		{"500", "server errors are retried", status(500), true, false},
		{"no answer", "a failed connection is retried", status(0), true, false},
		{"network", "transport errors are retried", &net.OpError{Op: "dial", Err: errors.New("refused")}, true, false},
		{"not found", "a missing stream cannot appear by retrying", &sdktypes.ResourceNotFoundException{}, false, false},
		{"validation", "a bad request stays bad", &smithy.GenericAPIError{Code: "ValidationException"}, false, false},
		{"access denied", "permissions do not change by retrying", &smithy.GenericAPIError{Code: "AccessDeniedException"}, false, false},
		{"kms disabled", "a disabled key stays disabled", entryError("KMSDisabledException", ""), false, false},
		{"413", "a request too large stays too large", status(413), false, false},
	}
	for _, tt := range tests {
		retry, throttle := classify(fmt.Errorf("wrapped: %w", tt.err))
		if retry != tt.retry || throttle != tt.throttle {
			t.Errorf("%s (%s): retry=%v throttle=%v", tt.name, tt.reason, retry, throttle)
		}
	}
	var pt *sdktypes.ProvisionedThroughputExceededException
	if err := entryError("ProvisionedThroughputExceededException", "m"); !errors.As(err, &pt) || aws.ToString(pt.Message) != "m" {
		t.Errorf("entry error %v", err)
	}
}

// allHooks implements every producer hook.
type allHooks struct {
	mu                                sync.Mutex
	batches, records, retried, failed int
	buffer                            int
}

func (h *allHooks) OnPutBatch(m PutBatchMetrics) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.batches++
	n := 0
	for _, s := range m.Shards {
		n += s.Records
	}
	if n != m.Records {
		panic("shard breakdown does not add up")
	}
	if m.Err == nil {
		h.records += m.Records
	}
}
func (h *allHooks) OnPutRetried(m PutRetryMetrics) {
	h.mu.Lock()
	h.retried += m.Records
	h.mu.Unlock()
}
func (h *allHooks) OnPutFailed(m PutFailureMetrics) {
	h.mu.Lock()
	h.failed += m.Records
	h.mu.Unlock()
}
func (h *allHooks) OnPutBuffer(BufferMetrics) { h.mu.Lock(); h.buffer++; h.mu.Unlock() }

func TestProducerHooks(t *testing.T) {
	t.Parallel()
	f := kinesistest.New(kinesistest.WithStream("s", 2))
	var calls sync.Map
	f.SetFault(func(op string, entry int) error {
		if op != kinesistest.OpPutRecords || entry != 0 {
			return nil
		}
		if _, again := calls.LoadOrStore("first", true); !again {
			return &sdktypes.ProvisionedThroughputExceededException{Message: aws.String("slow down")}
		}
		return nil
	})
	var h allHooks
	p, err := NewProducer(f, "s", WithHooks(&h), WithPutRetry(fastPutRetry))
	if err != nil {
		t.Fatal(err)
	}
	putAll(t, p, 10, 100)
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.batches < 2 || h.retried != 1 || h.failed != 0 || h.buffer == 0 {
		t.Errorf("hooks saw %d batches, %d retried, %d failed, %d buffer calls", h.batches, h.retried, h.failed, h.buffer)
	}
}

// lastBuffer keeps the last state HookPutBuffer reported.
type lastBuffer struct {
	mu   sync.Mutex
	last BufferMetrics
	n    int
}

func (h *lastBuffer) OnPutBuffer(b BufferMetrics) { h.mu.Lock(); h.last, h.n = b, h.n+1; h.mu.Unlock() }

// A gauge fed by HookPutBuffer reads an empty buffer once Close delivered
// everything: the dispatch loop can stop before it saw the last requests
// finish, so Close reports the final state itself.
func TestProducerBufferHookEndsEmptyAfterClose(t *testing.T) {
	for i := range 20 {
		f := kinesistest.New(kinesistest.WithStream("s", 2))
		var h lastBuffer
		p, err := NewProducer(f, "s", WithHooks(&h), WithLinger(0))
		if err != nil {
			t.Fatal(err)
		}
		for j := range 300 {
			if err := p.Put(context.Background(), fmt.Sprint(j), []byte("x")); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		h.mu.Lock()
		last, n := h.last, h.n
		h.mu.Unlock()
		if n == 0 || last.Records != 0 || last.Bytes != 0 {
			t.Fatalf("run %d: last buffer state %+v after %d reports, want empty", i, last, n)
		}
	}
}
