package faultproxy_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/rtdskit/rtds/internal/faultproxy"
)

// TestSpliceKeepsUpstreamFailures checks the splice against a scripted
// upstream that fails one of the entries it receives: both kinds of
// failure must appear at their original indexes and add up in
// FailedRecordCount.
func TestSpliceKeepsUpstreamFailures(t *testing.T) {
	t.Parallel()
	var forwarded []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Records []struct{ Data []byte }
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		type res struct {
			SequenceNumber, ShardId, ErrorCode, ErrorMessage string `json:",omitempty"`
		}
		var out struct {
			FailedRecordCount int
			Records           []res
			EncryptionType    string
		}
		out.EncryptionType = "NONE"
		for i, e := range req.Records {
			forwarded = append(forwarded, string(e.Data))
			if i == 0 { // the emulator itself fails the first entry it gets
				out.Records = append(out.Records, res{ErrorCode: "InternalFailure", ErrorMessage: "upstream"})
				out.FailedRecordCount++
				continue
			}
			out.Records = append(out.Records, res{SequenceNumber: "49" + string(e.Data), ShardId: "shardId-000000000000"})
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(out)
	}))
	defer up.Close()
	p, err := faultproxy.New(up.URL, faultproxy.WithSeed(5), faultproxy.WithConfig(faultproxy.Config{FailEntries: 0.5}))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c := client(t, p.URL())
	es := entries("e", 30)
	for i := range es {
		es[i].Data = []byte{byte('0' + i/10), byte('0' + i%10)}
	}
	out, err := c.PutRecords(context.Background(), &sdkkinesis.PutRecordsInput{StreamName: aws.String("s"), Records: es})
	if err != nil {
		t.Fatal(err)
	}
	fwd := map[string]bool{}
	for _, d := range forwarded {
		fwd[d] = true
	}
	failed := 0
	for i, r := range out.Records {
		d := string(es[i].Data)
		switch {
		case !fwd[d]:
			failed++
			if aws.ToString(r.ErrorCode) != faultproxy.CodeThrottled {
				t.Errorf("entry %d was not forwarded but has %+v", i, r)
			}
		case d == forwarded[0]:
			failed++
			if aws.ToString(r.ErrorCode) != "InternalFailure" || aws.ToString(r.ErrorMessage) != "upstream" {
				t.Errorf("entry %d: upstream failure lost: %+v", i, r)
			}
		default:
			if aws.ToString(r.SequenceNumber) != "49"+d {
				t.Errorf("entry %d (%s) got sequence number %s: results spliced at the wrong index", i, d, aws.ToString(r.SequenceNumber))
			}
		}
	}
	if got := int(aws.ToInt32(out.FailedRecordCount)); got != failed || failed < 2 || len(forwarded) == 30 {
		t.Errorf("FailedRecordCount = %d, counted %d failures, %d forwarded", got, failed, len(forwarded))
	}
	if s := p.Stats(); s.FailedEntries != int64(30-len(forwarded)) {
		t.Errorf("Stats.FailedEntries = %d, want %d", s.FailedEntries, 30-len(forwarded))
	}
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, reason string
		cfg          faultproxy.Config
	}{
		{"negative", "fractions are probabilities", faultproxy.Config{Throttle: -0.1}},
		{"above-one", "fractions are probabilities", faultproxy.Config{DropAfter: 1.5}},
		{"nan", "NaN is not a fraction", faultproxy.Config{FailEntries: nan()}},
		{"latency", "latency cannot be negative", faultproxy.Config{Latency: -time.Second}},
		{"code", "only Kinesis's per-entry codes", faultproxy.Config{EntryErrorCode: "Nope"}},
	}
	p, err := faultproxy.New("http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := faultproxy.New("http://127.0.0.1:1", faultproxy.WithConfig(tt.cfg)); err == nil {
				t.Errorf("New: %s, but %+v was accepted", tt.reason, tt.cfg)
			}
			if err := p.SetConfig(tt.cfg); err == nil {
				t.Errorf("SetConfig: %s, but %+v was accepted", tt.reason, tt.cfg)
			}
		})
	}
	for _, target := range []string{"http://example.com:4567", "ftp://127.0.0.1:1", "http://10.0.0.1:80", "::"} {
		if _, err := faultproxy.New(target); err == nil {
			t.Errorf("New(%q) accepted a non-loopback or non-HTTP target", target)
		}
	}
}

func nan() float64 {
	var zero float64
	return zero / zero
}

// TestForwardedCallOutlivesClient pins the behaviour that keeps kinesalite
// and dynalite alive when a test kills a client process: once the proxy
// forwards a call, the upstream request completes even if the client goes
// away.
func TestForwardedCallOutlivesClient(t *testing.T) {
	t.Parallel()
	got, release := make(chan struct{}), make(chan struct{})
	upstreamErr := make(chan error, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		close(got)
		select {
		case <-r.Context().Done(): // the proxy cut the request off
			upstreamErr <- r.Context().Err()
		case <-release:
			upstreamErr <- nil
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write([]byte(`{"Shards":[]}`))
	}))
	defer up.Close()
	p, err := faultproxy.New(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c := client(t, p.URL())
	ctx, cancel := context.WithCancel(context.Background())
	callErr := make(chan error, 1)
	go func() {
		_, err := c.ListShards(ctx, &sdkkinesis.ListShardsInput{StreamName: aws.String("s")})
		callErr <- err
	}()
	<-got
	cancel() // the client goes away while the emulator works on its call
	if err := <-callErr; !errors.Is(err, context.Canceled) {
		t.Errorf("client call: err = %v, want context.Canceled", err)
	}
	// Give a cancellation time to travel client -> proxy -> upstream
	// (it takes well under a millisecond when it happens).
	time.AfterFunc(300*time.Millisecond, func() { close(release) })
	if err := <-upstreamErr; err != nil {
		t.Errorf("the upstream request was cut off when the client left: %v", err)
	}
}
