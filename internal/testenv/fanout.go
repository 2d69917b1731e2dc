package testenv

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// FanOutShim is an http.RoundTripper for tests against kinesis-local,
// which omits the initial-response event that the SDK expects first in a
// SubscribeToShard response. The shim prepends one (message type event,
// event type initial-response, payload {}); the library itself needs no
// such help against AWS.
//
// It also tears subscriptions down on demand (CutNext), like a dropped
// connection, and counts them (Subscriptions).
type FanOutShim struct {
	Base http.RoundTripper

	subs     atomic.Int64
	cuts     atomic.Int64
	mu       sync.Mutex
	cut      int64 // CutNext: bytes of the next subscription's events to pass
	every    int64 // CutEvery: every this many subscriptions ...
	everyCut int64 // ... is cut after this many bytes
}

// ErrCut is the read error of a subscription torn down by CutNext.
var ErrCut = errors.New("testenv: subscription torn down by the test")

// Cuts returns how many subscriptions CutNext tore down.
func (s *FanOutShim) Cuts() int64 { return s.cuts.Load() }

// Subscriptions returns how many SubscribeToShard calls the shim saw.
func (s *FanOutShim) Subscriptions() int64 { return s.subs.Load() }

// CutNext makes the next subscription fail with a broken connection after
// n bytes of its event stream (after the initial response).
func (s *FanOutShim) CutNext(n int64) {
	s.mu.Lock()
	s.cut = n
	s.mu.Unlock()
}

// CutEvery makes every k-th subscription from now on fail with a broken
// connection after n bytes of its event stream; the others run normally,
// so reading progresses whatever the size of an event.
func (s *FanOutShim) CutEvery(k int, n int64) {
	s.mu.Lock()
	s.every, s.everyCut = int64(k), n
	s.mu.Unlock()
}

// RoundTrip implements http.RoundTripper.
func (s *FanOutShim) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.Base.RoundTrip(req)
	if err != nil || req.Header.Get("X-Amz-Target") != "Kinesis_20131202.SubscribeToShard" || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	nsub := s.subs.Add(1)
	var initial bytes.Buffer
	if err := eventstream.NewEncoder().Encode(&initial, eventstream.Message{
		Headers: eventstream.Headers{
			{Name: ":message-type", Value: eventstream.StringValue("event")},
			{Name: ":event-type", Value: eventstream.StringValue("initial-response")},
			{Name: ":content-type", Value: eventstream.StringValue("application/json")},
		},
		Payload: []byte("{}"),
	}); err != nil {
		resp.Body.Close()
		return nil, err
	}
	s.mu.Lock()
	cut := s.cut
	s.cut = 0
	if cut == 0 && s.every > 0 && nsub%s.every == 0 {
		cut = s.everyCut
	}
	s.mu.Unlock()
	var body io.Reader = resp.Body
	if cut > 0 {
		body = io.MultiReader(io.LimitReader(resp.Body, cut), &errReader{s: s})
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(&initial, body), resp.Body}
	return resp, nil
}

// errReader fails every read with ErrCut, counting the first.
type errReader struct {
	s    *FanOutShim
	once sync.Once
}

func (r *errReader) Read([]byte) (int, error) {
	r.once.Do(func() { r.s.cuts.Add(1) })
	return 0, ErrCut
}

// KinesisLocalFanOut returns a client for kinesis-local whose HTTP client
// goes through a FanOutShim, and the shim.
func KinesisLocalFanOut(t testing.TB) (*sdkkinesis.Client, *FanOutShim) {
	t.Helper()
	ep, hc, shim := KinesisLocalFanOutHTTP(t)
	return KinesisClient(ep, func(o *sdkkinesis.Options) { o.HTTPClient = hc }), shim
}

// KinesisLocalFanOutHTTP returns kinesis-local's endpoint and an HTTP
// client for it through a new FanOutShim. The client has no overall
// timeout: enhanced fan-out needs one longer than a subscription's 5
// minutes, or none.
func KinesisLocalFanOutHTTP(t testing.TB) (string, *http.Client, *FanOutShim) {
	t.Helper()
	ep := Lookup(t, EnvKinesisLocal)
	hc := LoopbackHTTPClient()
	shim := &FanOutShim{Base: hc.Transport}
	hc.Transport = shim
	hc.Timeout = 0
	t.Cleanup(hc.CloseIdleConnections)
	return ep, hc, shim
}
