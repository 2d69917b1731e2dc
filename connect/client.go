package connect

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rtdskit/rtds/event"
)

// Request constants of the Data Streaming API.
const (
	// EventsPath is the endpoint of the event stream (New).
	EventsPath = "/api/events"
	// CompliancePath is the endpoint of the compliance-only stream
	// (NewCompliance).
	CompliancePath = "/api/events/general"
	// AcceptHeader is the Accept header every request sends.
	AcceptHeader = "application/vnd.urbanairship+x-ndjson; version=3;"
)

// Client reads the Data Streaming API. It reconnects on its own and
// resumes after the last event it handed over, so no event is lost and
// none is handed over twice by the client (Airship itself may deliver an
// event twice, with the same id and a different offset). The application
// acknowledges events (Event.Ack, or Run does it when a handler returns
// nil); Acknowledged is the offset to store and to resume from in a later
// run (WithResumeOffset): it never passes an unacknowledged event.
//
// A Client reads one stream at a time (Events or Run); its other methods
// are safe for concurrent use.
type Client struct {
	cfg          config
	url          string
	appKey       string
	auth         string // the Authorization header: never logged
	http         *http.Client
	log          *slog.Logger
	hookConnect  []HookConnect
	hookRetry    []HookRetry
	acks         *acker
	busy         atomic.Bool
	cookiesMu    sync.Mutex
	cookies      map[string]string // affinity cookies set by 307 answers
	events       atomic.Int64
	offsetUpds   atomic.Int64
	keepAlives   atomic.Int64
	malformed    atomic.Int64
	connections  atomic.Int64
	retries      atomic.Int64
	bytesRead    atomic.Int64
	lastProcNano atomic.Int64
}

// New returns a Client for the app's event stream (POST /api/events),
// authenticated with the app key and an RTDS access token (Bearer). It
// returns an error for an invalid option or an empty app key or token.
// It does not connect: Events and Run do.
func New(appKey, token string, opts ...Option) (*Client, error) {
	if token == "" {
		return nil, errors.New("connect: empty token")
	}
	return newClient(appKey, "Bearer "+token, EventsPath, opts)
}

// NewCompliance returns a Client for the app's compliance-only stream
// (POST /api/events/general), authenticated with HTTP Basic auth of the app
// key and its master secret, the only credentials that endpoint accepts.
func NewCompliance(appKey, masterSecret string, opts ...Option) (*Client, error) {
	if masterSecret == "" {
		return nil, errors.New("connect: empty master secret")
	}
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(appKey+":"+masterSecret))
	return newClient(appKey, auth, CompliancePath, opts)
}

func newClient(appKey, auth, path string, opts []Option) (*Client, error) {
	if appKey == "" {
		return nil, errors.New("connect: empty app key")
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	if cfg.err != nil {
		return nil, cfg.err
	}
	if cfg.startSet && cfg.resumeSet {
		return nil, errors.New("connect: WithStart and WithResumeOffset are exclusive: a request sends start or resume_offset, never both")
	}
	h := http.Client{}
	if cfg.httpClient != nil {
		h = *cfg.httpClient
	}
	h.Timeout = 0
	h.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	h.Jar = nil
	log := cfg.log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{cfg: cfg, url: cfg.baseURL + path, appKey: appKey, auth: auth, http: &h,
		log: log.With("component", "connect"), acks: newAcker(cfg.resumeOffset), cookies: map[string]string{}}
	for _, hk := range cfg.hooks {
		if x, ok := hk.(HookConnect); ok {
			c.hookConnect = append(c.hookConnect, x)
		}
		if x, ok := hk.(HookRetry); ok {
			c.hookRetry = append(c.hookRetry, x)
		}
	}
	return c, nil
}

// Event is one event of the stream.
type Event struct {
	// Offset is the event's position in the stream, a string that is not
	// necessarily numeric.
	Offset string
	// Type and ID are the event's type and id.
	Type event.Type
	ID   string
	// Data is the event's line exactly as received, without its newline.
	// It belongs to the Event: it is not reused.
	Data []byte
	// Event is the decoded event (*event.Uninstall, ..., *event.Unknown);
	// it shares memory with Data.
	Event event.Event
	// Received is when the line was read.
	Received time.Time

	seq  uint64
	acks *acker
}

// Ack acknowledges the event: the application is done with it (stored it,
// forwarded it). Client.Acknowledged moves past it once every earlier
// event is acknowledged too. Ack may be called from any goroutine, in any
// order; calling it twice does nothing. OFFSET_UPDATE events are
// acknowledged by the client.
func (e *Event) Ack() {
	if e != nil && e.acks != nil {
		e.acks.ack(e.seq)
	}
}

// Stats is a snapshot of a Client's counters.
type Stats struct {
	// Events counts events handed over, OFFSET_UPDATE included.
	Events int64
	// OffsetUpdates counts OFFSET_UPDATE events.
	OffsetUpdates int64
	// KeepAlives counts blank lines.
	KeepAlives int64
	// Malformed counts lines skipped because they were not an event or
	// were over WithMaxEventBytes.
	Malformed int64
	// Connections counts 200 answers; Retries counts failed attempts.
	Connections, Retries int64
	// Bytes counts the stream's bytes after decompression.
	Bytes int64
	// Acknowledged is the offset to resume after: the last event of the
	// acknowledged prefix ("" before any, or the WithResumeOffset value).
	Acknowledged string
	// Received is the offset of the last event handed over.
	Received string
	// Pending counts events handed over and not acknowledged.
	Pending int
	// LastProcessed is the "processed" time of the last event handed over
	// (zero before any): time.Since(LastProcessed) is the lag behind
	// Airship.
	LastProcessed time.Time
}

// Stats returns the client's counters.
func (c *Client) Stats() Stats {
	acked, received, pending := c.acks.state()
	s := Stats{
		Events: c.events.Load(), OffsetUpdates: c.offsetUpds.Load(), KeepAlives: c.keepAlives.Load(),
		Malformed: c.malformed.Load(), Connections: c.connections.Load(), Retries: c.retries.Load(),
		Bytes: c.bytesRead.Load(), Acknowledged: acked, Received: received, Pending: pending,
	}
	if n := c.lastProcNano.Load(); n != 0 {
		s.LastProcessed = time.Unix(0, n)
	}
	return s
}

// Acknowledged returns the offset to store and resume after: that of the
// last event of the acknowledged prefix of the stream. It is "" before the
// first acknowledgement (or the WithResumeOffset value).
func (c *Client) Acknowledged() string {
	acked, _, _ := c.acks.state()
	return acked
}

// errStopped ends a stream whose consumer stopped iterating.
var errStopped = errors.New("connect: iteration stopped")

// Events returns the stream as an iterator:
//
//	for e, err := range c.Events(ctx) {
//		if err != nil {
//			return err
//		}
//		... handle e, then e.Ack()
//	}
//
// The stream has no end. The sequence ends after yielding a non-nil error:
// ctx's cause when ctx is done, a permanent error (401/403:
// ErrUnauthorized; 400 and other 4xx answers), or the last error once a
// retry policy's attempts are exhausted. Dropped and silent connections,
// 408, 429 and 5xx answers (WithRetry) and 402 answers (WithLimitRetry)
// are retried, resuming after the last event handed over; breaking out of
// the loop closes the connection.
//
// Events are handed over one at a time on the caller's goroutine, in
// stream order. While the loop body runs, nothing is read (the body may
// block: back-pressure reaches Airship through TCP).
func (c *Client) Events(ctx context.Context) iter.Seq2[*Event, error] {
	return func(yield func(*Event, error) bool) {
		if !c.busy.CompareAndSwap(false, true) {
			yield(nil, ErrBusy)
			return
		}
		defer c.busy.Store(false)
		c.loop(ctx, yield)
	}
}

// loop connects, reads, and reconnects until the consumer stops, ctx is
// done or an error is permanent.
func (c *Client) loop(ctx context.Context, yield func(*Event, error) bool) {
	normal, limit := c.cfg.retry.Start(), c.cfg.limitRetry.Start()
	for {
		_, resume, _ := c.acks.state()
		connected, err := c.stream(ctx, resume, yield)
		if errors.Is(err, errStopped) {
			return
		}
		if ctx.Err() != nil {
			yield(nil, context.Cause(ctx))
			return
		}
		if connected {
			normal.Reset()
			limit.Reset()
		}
		var se *StatusError
		isStatus := errors.As(err, &se)
		if isStatus && !se.Temporary() || errors.Is(err, errPermanent) {
			yield(nil, err)
			return
		}
		rs, policy := normal, c.cfg.retry
		if errors.Is(err, ErrConnectionLimit) {
			rs, policy = limit, c.cfg.limitRetry
		}
		wait, ok := rs.Next()
		if !ok {
			yield(nil, fmt.Errorf("connect: giving up after %d attempts: %w", rs.Attempts(), err))
			return
		}
		if isStatus {
			wait = max(wait, retryAfter(se.retryAfter, policy.MaxInterval))
		}
		c.retries.Add(1)
		_, resume, _ = c.acks.state()
		m := RetryMetrics{Attempt: rs.Attempts(), Wait: wait, Err: err, ResumeOffset: resume}
		for _, h := range c.hookRetry {
			h.OnRetry(m)
		}
		level := slog.LevelInfo
		if errors.Is(err, ErrConnectionLimit) || rs.Attempts() > 3 {
			level = slog.LevelWarn
		}
		c.log.Log(ctx, level, "reconnecting", "attempt", rs.Attempts(), "wait", wait, "error", err, "resume_offset", resume)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			yield(nil, context.Cause(ctx))
			return
		case <-t.C:
		}
	}
}

// retryAfter is a Retry-After header in seconds, capped at limit; 0 when
// absent or not a number of seconds.
func retryAfter(h string, limit time.Duration) time.Duration {
	n, err := strconv.Atoi(h)
	if err != nil || n <= 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, limit)
}

// errPermanent marks errors retrying cannot fix (a bad request URL).
var errPermanent = errors.New("permanent")

// errIdle is the cause of a connection dropped by WithIdleTimeout.
var errIdle = errors.New("connect: no data within the idle timeout")

// request sends the request resuming after offset, follows 307 answers,
// and returns the 200 answer.
func (c *Client) request(ctx context.Context, offset string) (*http.Response, ConnectMetrics, error) {
	m := ConnectMetrics{ResumeOffset: offset}
	if offset == "" {
		m.Start = c.cfg.start
	}
	body, err := c.cfg.body(offset)
	if err != nil {
		return nil, m, fmt.Errorf("connect: encode request: %w: %w", err, errPermanent)
	}
	u := c.url
	start := time.Now()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return nil, m, fmt.Errorf("connect: %w: %w", err, errPermanent)
		}
		req.Header.Set("Accept", AcceptHeader)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept-Encoding", "gzip")
		req.Header.Set("X-UA-Appkey", c.appKey)
		req.Header.Set("Authorization", c.auth)
		req.Header.Set("User-Agent", c.cfg.userAgent)
		c.cookiesMu.Lock()
		for name, value := range c.cookies {
			req.AddCookie(&http.Cookie{Name: name, Value: value})
		}
		c.cookiesMu.Unlock()
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, m, fmt.Errorf("connect: POST %s: %w", u, unwrapURLError(err))
		}
		switch resp.StatusCode {
		case http.StatusOK:
			m.URL, m.Latency = u, time.Since(start)
			return resp, m, nil
		case http.StatusTemporaryRedirect:
			drain(resp)
			cookies := resp.Cookies()
			loc := resp.Header.Get("Location")
			if len(cookies) == 0 && loc == "" {
				return nil, m, &StatusError{StatusCode: resp.StatusCode, Message: "a 307 answer without Set-Cookie or Location"}
			}
			c.cookiesMu.Lock()
			for _, ck := range cookies {
				if ck.MaxAge < 0 {
					delete(c.cookies, ck.Name)
				} else {
					c.cookies[ck.Name] = ck.Value
				}
			}
			c.cookiesMu.Unlock()
			if loc != "" {
				next, err := resp.Request.URL.Parse(loc)
				if err != nil {
					return nil, m, fmt.Errorf("connect: 307 Location %q: %w", loc, err)
				}
				u = next.String()
			}
			m.Redirects++
			if m.Redirects > c.cfg.maxRedirects {
				return nil, m, &StatusError{StatusCode: resp.StatusCode, Message: fmt.Sprintf("more than %d redirects", c.cfg.maxRedirects)}
			}
			c.log.Debug("following 307", "location", u, "cookies", len(cookies))
		default:
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4*maxBodyExcerpt))
			drain(resp)
			return nil, m, &StatusError{StatusCode: resp.StatusCode, Body: excerpt(b),
				OperationID: resp.Header.Get("UA-Operation-Id"), Message: statusMessage(resp.StatusCode),
				retryAfter: resp.Header.Get("Retry-After")}
		}
	}
}

// unwrapURLError drops the *url.Error layer, which repeats the URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// drain reads a little of an answer's body and closes it, so its
// connection may be reused.
func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	resp.Body.Close()
}
