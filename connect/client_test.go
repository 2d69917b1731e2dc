package connect_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rtdskit/rtds/connect"
	"github.com/rtdskit/rtds/connect/connecttest"
	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis"
)

const (
	appKey = "APPKEY123"
	token  = "secret-token-xyz"
)

// fastRetry keeps reconnect tests short.
var fastRetry = kinesis.Retry{InitialInterval: 5 * time.Millisecond, MaxInterval: 20 * time.Millisecond, Multiplier: 2, Jitter: 0}

// line is event i's JSON: offset 1000+i, type UNINSTALL, or OPEN when i is
// a multiple of open (0: never).
func line(i, open int) []byte {
	typ := "UNINSTALL"
	if open > 0 && i%open == 0 {
		typ = "OPEN"
	}
	return fmt.Appendf(nil, `{"id":"id-%d","type":%q,"offset":"%d","occurred":"2026-11-28T10:00:00.000Z",`+
		`"processed":"2026-11-28T10:00:01.000Z","device":{"channel":"c%d","device_type":"IOS"},"body":{}}`, i, typ, 1000+i, i)
}

func lines(n, open int) [][]byte {
	var out [][]byte
	for i := 1; i <= n; i++ {
		out = append(out, line(i, open))
	}
	return out
}

func newServer(t *testing.T, cfg connecttest.Config, events [][]byte) *connecttest.Server {
	t.Helper()
	if cfg.AppKey == "" {
		cfg.AppKey, cfg.Token = appKey, token
	}
	s, err := connecttest.NewServer(cfg, events...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func newClient(t *testing.T, s *connecttest.Server, opts ...connect.Option) *connect.Client {
	t.Helper()
	opts = append([]connect.Option{connect.WithBaseURL(s.URL), connect.WithRetry(fastRetry),
		connect.WithLimitRetry(fastRetry), connect.WithStart(connect.StartEarliest)}, opts...)
	c, err := connect.New(appKey, token, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// collect reads n events (acknowledging each) or fails after 10 s; it
// returns their offsets and the error that ended the stream, if it ended.
func collect(t *testing.T, c *connect.Client, n int) ([]string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []string
	for e, err := range c.Events(ctx) {
		if err != nil {
			return got, err
		}
		if e.Type != event.TypeOffsetUpdate {
			got = append(got, e.Offset)
		}
		e.Ack()
		if len(got) == n {
			break
		}
	}
	return got, nil
}

func offsets(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprint(1000+i))
	}
	return out
}

// Every request carries the documented headers and a JSON body with a
// Content-Length (never chunked); the body has the start, filters, subset
// and enable_offset_updates exactly as the API reads them.
func TestRequestHeadersAndBody(t *testing.T) {
	t.Parallel()
	s := newServer(t, connecttest.Config{}, lines(1, 0))
	c := newClient(t, s, connect.WithOffsetUpdates(true), connect.WithPartition(4, 1), connect.WithFilters(
		connect.Filter{Types: []event.Type{event.TypeUninstall, event.TypeOpen}, DeviceTypes: []string{"ios"}, Latency: 1500 * time.Millisecond},
		connect.Filter{Devices: []connect.Device{{Channel: "c1"}, {NamedUserID: "nu"}}, Notifications: []connect.Notification{{PushID: "p1"}, {GroupID: "g1"}}},
	))
	if _, err := collect(t, c, 1); err != nil {
		t.Fatal(err)
	}
	req := s.Requests()[0]
	for k, want := range map[string]string{
		"Accept":         "application/vnd.urbanairship+x-ndjson; version=3;",
		"Content-Type":   "application/json",
		"X-Ua-Appkey":    appKey,
		"Authorization":  "Bearer " + token,
		"Content-Length": fmt.Sprint(len(req.Body)),
	} {
		if got := req.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	want := `{"start":"EARLIEST","filters":[{"types":["UNINSTALL","OPEN"],"device_types":["ios"],"latency":1500},` +
		`{"devices":[{"channel":"c1"},{"named_user_id":"nu"}],"notifications":[{"push_id":"p1"},{"group_id":"g1"}]}],` +
		`"subset":{"type":"PARTITION","count":4,"selection":1},"enable_offset_updates":true}`
	if diff := cmp.Diff(want, string(req.Body)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

// A request sends start or resume_offset, never both; WithStart and
// WithResumeOffset together are refused, and invalid options name
// themselves.
func TestOptionsAreValidated(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, reason string
		opts         []connect.Option
		want         string
	}{
		{"start and resume", "the API refuses both", []connect.Option{connect.WithStart(connect.StartLatest), connect.WithResumeOffset("5")}, "exclusive"},
		{"empty filter", "the API refuses empty arrays", []connect.Option{connect.WithFilters(connect.Filter{})}, "WithFilters"},
		{"device with two keys", "a device object has one key", []connect.Option{connect.WithFilters(connect.Filter{Devices: []connect.Device{{Channel: "a", IOSChannel: "b"}}})}, "exactly one"},
		{"sample and partition", "one subset", []connect.Option{connect.WithSample(0.5), connect.WithPartition(2, 0)}, "subset is already set"},
		{"sample out of range", "a proportion", []connect.Option{connect.WithSample(1.5)}, "WithSample"},
		{"partition selection", "0 ≤ selection < count", []connect.Option{connect.WithPartition(2, 2)}, "WithPartition"},
		{"bad retry", "positive interval", []connect.Option{connect.WithRetry(kinesis.Retry{Multiplier: 2})}, "WithRetry"},
		{"bad region", "na or eu", []connect.Option{connect.WithRegion("mars")}, "WithRegion"},
		{"bad URL", "http or https", []connect.Option{connect.WithBaseURL("ftp://x")}, "WithBaseURL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := connect.New(appKey, token, tc.opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "connect: ") {
				t.Errorf("%s: New: %v, want an error with %q", tc.reason, err, tc.want)
			}
		})
	}
	if _, err := connect.New("", token); err == nil {
		t.Error("empty app key accepted")
	}
	if _, err := connect.New(appKey, ""); err == nil {
		t.Error("empty token accepted")
	}
}

// A client resuming from an offset sends resume_offset (a string) and no
// start, and gets the events after it.
func TestResumeOffsetStartsAfterIt(t *testing.T) {
	t.Parallel()
	s := newServer(t, connecttest.Config{}, lines(10, 0))
	c, err := connect.New(appKey, token, connect.WithBaseURL(s.URL), connect.WithResumeOffset("1004"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := collect(t, c, 6)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(offsets(5, 10), got); diff != "" {
		t.Errorf("offsets (-want +got):\n%s", diff)
	}
	if b := string(s.Requests()[0].Body); b != `{"resume_offset":"1004"}` {
		t.Errorf("body %s", b)
	}
	if a := c.Acknowledged(); a != "1010" {
		t.Errorf("Acknowledged %q, want 1010", a)
	}
}

// Without WithStart or WithResumeOffset the stream starts at LATEST.
func TestDefaultStartIsLatest(t *testing.T) {
	t.Parallel()
	s := newServer(t, connecttest.Config{}, lines(3, 0))
	c, err := connect.New(appKey, token, connect.WithBaseURL(s.URL))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for s.Open() == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		s.Append(line(4, 0))
	}()
	got, err := collect(t, c, 1)
	if err != nil || len(got) != 1 || got[0] != "1004" {
		t.Fatalf("got %v, %v; want the event added after connecting", got, err)
	}
	if b := string(s.Requests()[0].Body); b != `{"start":"LATEST"}` {
		t.Errorf("body %s", b)
	}
}

// The compliance stream is /api/events/general with Basic auth of the app
// key and master secret.
func TestComplianceUsesBasicAuth(t *testing.T) {
	t.Parallel()
	s := newServer(t, connecttest.Config{AppKey: appKey, MasterSecret: "master"}, lines(2, 0))
	c, err := connect.NewCompliance(appKey, "master", connect.WithBaseURL(s.URL), connect.WithStart(connect.StartEarliest))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := collect(t, c, 2); err != nil {
		t.Fatal(err)
	}
	req := s.Requests()[0]
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(appKey+":master"))
	if req.Path != "/api/events/general" || req.Header.Get("Authorization") != want {
		t.Errorf("path %s, Authorization %q", req.Path, req.Header.Get("Authorization"))
	}
}

// Blank lines are keep-alives: counted, never handed over. The stream is
// read gzip-compressed when the server compresses it, and plain when not.
func TestKeepAlivesAndGzip(t *testing.T) {
	t.Parallel()
	for _, noGzip := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", !noGzip), func(t *testing.T) {
			t.Parallel()
			s := newServer(t, connecttest.Config{NoGzip: noGzip, KeepAlive: 5 * time.Millisecond}, lines(5, 0))
			var h hooks
			c := newClient(t, s, connect.WithHooks(&h))
			go func() {
				time.Sleep(100 * time.Millisecond) // keep-alives meanwhile
				s.Append(lines(8, 0)[5:]...)
			}()
			got, err := collect(t, c, 8)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(offsets(1, 8), got); diff != "" {
				t.Errorf("offsets (-want +got):\n%s", diff)
			}
			st := c.Stats()
			if st.KeepAlives == 0 {
				t.Error("no keep-alive counted")
			}
			if ae := s.Requests()[0].Header.Get("Accept-Encoding"); ae != "gzip" {
				t.Errorf("Accept-Encoding %q", ae)
			}
			if cm := h.connects(); len(cm) != 1 || cm[0].Gzip == noGzip {
				t.Errorf("connects %+v, want one with Gzip %v", cm, !noGzip)
			}
		})
	}
}

// A 307 with Set-Cookie is answered by POSTing the same body again with
// the cookie, to Location when given, else to the same URL.
func TestRedirectWithCookie(t *testing.T) {
	t.Parallel()
	for _, mode := range []connecttest.Redirect{connecttest.RedirectSameURL, connecttest.RedirectLocation} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			t.Parallel()
			s := newServer(t, connecttest.Config{Redirect: mode}, lines(3, 0))
			c := newClient(t, s)
			if _, err := collect(t, c, 3); err != nil {
				t.Fatal(err)
			}
			reqs := s.Requests()
			if len(reqs) != 2 || reqs[0].Status != 307 || reqs[1].Status != 200 {
				t.Fatalf("requests %+v", reqs)
			}
			if !bytes.Equal(reqs[0].Body, reqs[1].Body) {
				t.Errorf("bodies differ: %s, %s", reqs[0].Body, reqs[1].Body)
			}
			if ck := reqs[1].Header.Get("Cookie"); ck != connecttest.AffinityCookie+"=node1" {
				t.Errorf("Cookie %q", ck)
			}
			wantPath := "/api/events"
			if mode == connecttest.RedirectLocation {
				wantPath = "/api/events/node1"
			}
			if reqs[1].Path != wantPath || reqs[1].Header.Get("Authorization") != "Bearer "+token {
				t.Errorf("redirected to %s with Authorization %q", reqs[1].Path, reqs[1].Header.Get("Authorization"))
			}
		})
	}
}

// A connection dropped in the middle of a line, or between lines, is
// reopened with resume_offset the last event handed over: every event
// arrives once, in order, and the cut line is never handed over.
func TestReconnectResumesWithoutLossOrDuplicates(t *testing.T) {
	t.Parallel()
	s := newServer(t, connecttest.Config{}, lines(20, 0))
	s.Inject(connecttest.Fault{Disconnect: true, After: 3, MidLine: true}, connecttest.Fault{Disconnect: true, After: 5},
		connecttest.Fault{Disconnect: true, After: 0})
	var h hooks
	c := newClient(t, s, connect.WithHooks(&h))
	got, err := collect(t, c, 20)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(offsets(1, 20), got); diff != "" {
		t.Errorf("offsets (-want +got):\n%s", diff)
	}
	var resumes []string
	for _, r := range s.Requests() {
		var b struct {
			ResumeOffset string `json:"resume_offset"`
		}
		json.Unmarshal(r.Body, &b)
		resumes = append(resumes, b.ResumeOffset)
	}
	if diff := cmp.Diff([]string{"", "1003", "1008", "1008"}, resumes); diff != "" {
		t.Errorf("resume offsets (-want +got):\n%s", diff)
	}
	if rs := h.retries(); len(rs) != 3 || !errors.Is(rs[0].Err, errUnexpectedEOF) {
		t.Errorf("retries %+v, want 3, the first an unexpected EOF", rs)
	}
}

// 408, 429 and 5xx answers are retried with backoff; a Retry-After is
// honoured up to the policy's MaxInterval.
func TestTransientStatusesAreRetried(t *testing.T) {
	t.Parallel()
	s := newServer(t, connecttest.Config{}, lines(2, 0))
	s.Inject(connecttest.Fault{Status: 429, RetryAfter: "1"}, connecttest.Fault{Status: 500}, connecttest.Fault{Status: 503}, connecttest.Fault{Status: 408})
	var h hooks
	c := newClient(t, s, connect.WithHooks(&h))
	if _, err := collect(t, c, 2); err != nil {
		t.Fatal(err)
	}
	rs := h.retries()
	var codes []int
	for _, r := range rs {
		var se *connect.StatusError
		if !errors.As(r.Err, &se) {
			t.Fatalf("retry error %v is not a *StatusError", r.Err)
		}
		codes = append(codes, se.StatusCode)
	}
	if diff := cmp.Diff([]int{429, 500, 503, 408}, codes); diff != "" {
		t.Errorf("retried statuses (-want +got):\n%s", diff)
	}
	if rs[0].Wait != fastRetry.MaxInterval || rs[1].Attempt != 2 {
		t.Errorf("first wait %v (Retry-After capped at %v), second attempt %d", rs[0].Wait, fastRetry.MaxInterval, rs[1].Attempt)
	}
}

// 401 and 403 are permanent: the stream ends at once with an error that
// matches ErrUnauthorized and carries the status and the body's excerpt;
// so is 400. The token is in neither the error nor the log.
func TestPermanentStatusesEndTheStream(t *testing.T) {
	t.Parallel()
	for _, code := range []int{401, 403, 400} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			t.Parallel()
			s := newServer(t, connecttest.Config{}, lines(2, 0))
			s.Inject(connecttest.Fault{Status: code})
			var logBuf syncBuffer
			c := newClient(t, s, connect.WithLogger(slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			_, err := collect(t, c, 2)
			var se *connect.StatusError
			if !errors.As(err, &se) || se.StatusCode != code {
				t.Fatalf("err %v, want a *StatusError %d", err, code)
			}
			if errors.Is(err, connect.ErrUnauthorized) != (code != 400) {
				t.Errorf("errors.Is(%v, ErrUnauthorized) wrong", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, fmt.Sprintf("HTTP %d", code)) || !strings.Contains(msg, "injected") || !strings.Contains(msg, "operation op-0") {
				t.Errorf("error %q lacks the status, body excerpt or operation id", msg)
			}
			if len(s.Requests()) != 1 {
				t.Errorf("%d requests, want 1 (no retry)", len(s.Requests()))
			}
			if strings.Contains(msg+logBuf.String(), token) {
				t.Error("the token leaked into the error or the log")
			}
		})
	}
}

// A bad token is refused by the server with 401.
func TestBadTokenIsUnauthorized(t *testing.T) {
	t.Parallel()
	s := newServer(t, connecttest.Config{}, lines(1, 0))
	c, _ := connect.New(appKey, "wrong", connect.WithBaseURL(s.URL))
	_, err := collect(t, c, 1)
	if !errors.Is(err, connect.ErrUnauthorized) || !strings.Contains(err.Error(), "bad token") {
		t.Errorf("err %v", err)
	}
}

// 402 (the connection limit) is retried under WithLimitRetry and reported
// on every attempt; once its attempts are exhausted the stream ends with
// an error matching ErrConnectionLimit.
func TestConnectionLimitIsRetriedAndReported(t *testing.T) {
	t.Parallel()
	s := newServer(t, connecttest.Config{}, lines(1, 0))
	s.Inject(connecttest.Fault{Status: 402}, connecttest.Fault{Status: 402})
	var h hooks
	c := newClient(t, s, connect.WithHooks(&h))
	if _, err := collect(t, c, 1); err != nil {
		t.Fatal(err)
	}
	rs := h.retries()
	if len(rs) != 2 || !errors.Is(rs[0].Err, connect.ErrConnectionLimit) || !errors.Is(rs[1].Err, connect.ErrConnectionLimit) {
		t.Errorf("retries %+v, want two connection-limit reports", rs)
	}

	s.Inject(connecttest.Fault{Status: 402}, connecttest.Fault{Status: 402}, connecttest.Fault{Status: 402})
	limited := fastRetry
	limited.MaxAttempts = 3
	c = newClient(t, s, connect.WithLimitRetry(limited))
	_, err := collect(t, c, 1)
	if !errors.Is(err, connect.ErrConnectionLimit) || !strings.Contains(err.Error(), "giving up after 3 attempts") {
		t.Errorf("err %v", err)
	}
}

// A connection silent for longer than WithIdleTimeout (no keep-alive) is
// dropped and reopened.
func TestSilentConnectionIsReopened(t *testing.T) {
	t.Parallel()
	s := newServer(t, connecttest.Config{KeepAlive: time.Hour}, lines(2, 0))
	var h hooks
	c := newClient(t, s, connect.WithHooks(&h), connect.WithIdleTimeout(50*time.Millisecond))
	go func() {
		for len(h.retries()) == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		s.Append(line(3, 0))
	}()
	got, err := collect(t, c, 3)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(offsets(1, 3), got); diff != "" {
		t.Errorf("offsets (-want +got):\n%s", diff)
	}
	if !strings.Contains(h.retries()[0].Err.Error(), "silent") {
		t.Errorf("retry error %v", h.retries()[0].Err)
	}
}

// Acknowledged is the last offset of the acknowledged prefix: it never
// passes an event that is not acknowledged, whatever order acks come in.
func TestAcknowledgedNeverPassesAnUnacknowledgedEvent(t *testing.T) {
	t.Parallel()
	s := newServer(t, connecttest.Config{}, lines(5, 0))
	c := newClient(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var evs []*connect.Event
	for e, err := range c.Events(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
		if len(evs) == 5 {
			break
		}
	}
	steps := []struct {
		ack  int
		want string
	}{{1, ""}, {3, ""}, {0, "1002"}, {4, "1002"}, {2, "1005"}, {2, "1005"}}
	for _, st := range steps {
		evs[st.ack].Ack()
		if got := c.Acknowledged(); got != st.want {
			t.Errorf("after acking event %d: Acknowledged %q, want %q", st.ack+1, got, st.want)
		}
	}
	if p := c.Stats().Pending; p != 0 {
		t.Errorf("Pending %d", p)
	}
}

// With offset updates, OFFSET_UPDATE events move the acknowledged offset
// past filtered-out events once every event before them is acknowledged;
// Run never passes them to OnEvent, only to OnOffsetUpdate.
func TestOffsetUpdatesAndRunHandlers(t *testing.T) {
	t.Parallel()
	s := newServer(t, connecttest.Config{OffsetUpdateEvery: 4}, lines(30, 3)) // OPEN at 3, 6, ..., 30
	c := newClient(t, s, connect.WithOffsetUpdates(true), connect.WithFilters(connect.Filter{Types: []event.Type{event.TypeOpen}}))
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var opens, updates, others int
	stop := errors.New("done")
	err := c.Run(ctx,
		kinesis.OnOpen(func(ctx context.Context, e *event.Open) error {
			opens++
			if e.Offset == "1030" {
				cancel(stop)
			}
			return nil
		}),
		kinesis.OnOffsetUpdate(func(ctx context.Context, e *event.OffsetUpdate) error { updates++; return nil }),
		kinesis.OnEvent(func(ctx context.Context, e event.Event) error { others++; return nil }),
	)
	if !errors.Is(err, stop) {
		t.Fatalf("Run: %v", err)
	}
	if opens != 10 || others != 0 {
		t.Errorf("opens %d, others %d; want 10, 0", opens, others)
	}
	if c.Acknowledged() != "1030" {
		t.Errorf("Acknowledged %q", c.Acknowledged())
	}

	// Only non-matching events at the end: the OFFSET_UPDATE moves the
	// acknowledged offset past them.
	s.Append(lines(32, 0)[30:]...)
	c2 := newClient(t, s, connect.WithOffsetUpdates(true), connect.WithFilters(connect.Filter{Types: []event.Type{event.TypeOpen}}))
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	for e, err := range c2.Events(ctx2) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Type == event.TypeOffsetUpdate && e.Offset == "1032" {
			break
		}
		e.Ack()
	}
	if c2.Acknowledged() != "1032" || c2.Stats().OffsetUpdates == 0 {
		t.Errorf("Acknowledged %q, stats %+v", c2.Acknowledged(), c2.Stats())
	}
}

// Run, without an OnOffsetUpdate handler, still keeps OFFSET_UPDATE away
// from OnEvent.
func TestRunKeepsOffsetUpdatesFromOnEvent(t *testing.T) {
	t.Parallel()
	s := newServer(t, connecttest.Config{OffsetUpdateEvery: 2}, lines(6, 3))
	c := newClient(t, s, connect.WithOffsetUpdates(true), connect.WithFilters(connect.Filter{Types: []event.Type{event.TypeOpen}}))
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var types []event.Type
	stop := errors.New("done")
	err := c.Run(ctx, kinesis.OnEvent(func(ctx context.Context, e event.Event) error {
		types = append(types, e.EventType())
		if e.Base().Offset == "1006" {
			cancel(stop)
		}
		return nil
	}))
	if !errors.Is(err, stop) {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]event.Type{event.TypeOpen, event.TypeOpen}, types); diff != "" {
		t.Errorf("types (-want +got):\n%s", diff)
	}
}

// A line that is not an event is skipped and counted; the stream goes on.
func TestMalformedLineIsSkipped(t *testing.T) {
	t.Parallel()
	s := newServer(t, connecttest.Config{}, lines(3, 0))
	c := newClient(t, s, connect.WithMaxEventBytes(len(line(1, 0))+2))
	s.AppendRaw([]byte(`{"not":"an event"`), bytes.Repeat([]byte("x"), 1000))
	s.Append(line(5, 0))
	got, err := collect(t, c, 4)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1001", "1002", "1003", "1005"}, got); diff != "" {
		t.Errorf("offsets (-want +got):\n%s", diff)
	}
	if m := c.Stats().Malformed; m != 2 {
		t.Errorf("Malformed %d", m)
	}
}

// A Client reads one stream at a time.
func TestSecondReaderIsBusy(t *testing.T) {
	t.Parallel()
	s := newServer(t, connecttest.Config{}, lines(1, 0))
	c := newClient(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, err := range c.Events(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		for _, err2 := range c.Events(ctx) {
			if !errors.Is(err2, connect.ErrBusy) {
				t.Errorf("second reader: %v", err2)
			}
			break
		}
		break
	}
}

// The iterator ends with ctx's cause when ctx is done.
func TestCancelEndsWithCause(t *testing.T) {
	t.Parallel()
	s := newServer(t, connecttest.Config{}, nil)
	c := newClient(t, s)
	ctx, cancel := context.WithCancelCause(context.Background())
	cause := errors.New("shutdown")
	time.AfterFunc(50*time.Millisecond, func() { cancel(cause) })
	for _, err := range c.Events(ctx) {
		if !errors.Is(err, cause) {
			t.Errorf("err %v", err)
		}
	}
}

type hooks struct {
	mu sync.Mutex
	cm []connect.ConnectMetrics
	rm []connect.RetryMetrics
}

func (h *hooks) OnConnect(m connect.ConnectMetrics) {
	h.mu.Lock()
	h.cm = append(h.cm, m)
	h.mu.Unlock()
}
func (h *hooks) OnRetry(m connect.RetryMetrics) { h.mu.Lock(); h.rm = append(h.rm, m); h.mu.Unlock() }
func (h *hooks) connects() []connect.ConnectMetrics {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]connect.ConnectMetrics(nil), h.cm...)
}
func (h *hooks) retries() []connect.RetryMetrics {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]connect.RetryMetrics(nil), h.rm...)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

var errUnexpectedEOF = io.ErrUnexpectedEOF

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// The regions select Airship's documented base URLs (no request leaves
// the machine: the transport answers 401 itself).
func TestRegionsSelectBaseURLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, reason string
		opts         []connect.Option
		compliance   bool
		want         string
	}{
		{"default", "North America unless told", nil, false, "https://connect.urbanairship.com/api/events"},
		{"na", "North America", []connect.Option{connect.WithRegion(connect.NorthAmerica)}, false, "https://connect.urbanairship.com/api/events"},
		{"eu", "Europe", []connect.Option{connect.WithRegion(connect.Europe)}, false, "https://connect.asnapieu.com/api/events"},
		{"eu compliance", "the compliance path", []connect.Option{connect.WithRegion(connect.Europe)}, true, "https://connect.asnapieu.com/api/events/general"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got string
			h := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				got = r.URL.String()
				return &http.Response{StatusCode: 401, Body: io.NopCloser(strings.NewReader(`{"error":"no"}`)), Header: http.Header{}, Request: r}, nil
			})}
			opts := append([]connect.Option{connect.WithHTTPClient(h)}, tc.opts...)
			var c *connect.Client
			var err error
			if tc.compliance {
				c, err = connect.NewCompliance(appKey, "master", opts...)
			} else {
				c, err = connect.New(appKey, token, opts...)
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := collect(t, c, 1); !errors.Is(err, connect.ErrUnauthorized) || got != tc.want {
				t.Errorf("%s: requested %q (%v), want %q", tc.reason, got, err, tc.want)
			}
		})
	}
}
