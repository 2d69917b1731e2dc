package connect

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rtdskit/rtds/kinesis"
)

// Base URLs of the Data Streaming API.
const (
	// BaseURLNorthAmerica is the default (WithRegion(NorthAmerica)).
	BaseURLNorthAmerica = "https://connect.urbanairship.com"
	// BaseURLEurope serves apps in Airship's European data center.
	BaseURLEurope = "https://connect.asnapieu.com"
)

// Region selects Airship's data center (WithRegion).
type Region string

const (
	NorthAmerica Region = "na" // BaseURLNorthAmerica
	Europe       Region = "eu" // BaseURLEurope
)

// Start is where a stream without a resume offset starts (WithStart).
type Start string

const (
	// StartLatest starts with events that arrive after the connection:
	// the default.
	StartLatest Start = "LATEST"
	// StartEarliest starts with the oldest event Airship still keeps (7 days
	// or 100 GB per app key).
	StartEarliest Start = "EARLIEST"
)

// Defaults of the options.
const (
	// DefaultStart is the start position without WithStart or
	// WithResumeOffset.
	DefaultStart = StartLatest
	// DefaultIdleTimeout is how long a connection may stay silent (no
	// event and no keep-alive line, or no answer to the request) before the
	// client drops it and reconnects (WithIdleTimeout).
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultMaxRedirects bounds the 307 answers followed for one
	// connection (WithMaxRedirects).
	DefaultMaxRedirects = 10
	// DefaultMaxEventBytes is the longest line accepted (WithMaxEventBytes).
	DefaultMaxEventBytes = 8 << 20
)

var (
	// DefaultRetry is the reconnect policy for dropped connections, 408,
	// 429 and 5xx answers (WithRetry): no attempt limit, 1 s doubling to
	// 1 min, ±50%. The attempt count restarts once a connection is
	// answered with 200.
	DefaultRetry = kinesis.Retry{MaxAttempts: 0, InitialInterval: time.Second, MaxInterval: time.Minute, Multiplier: 2, Jitter: 0.5}
	// DefaultLimitRetry is the reconnect policy after a 402 answer (the
	// connection limit is reached: WithLimitRetry): no attempt limit, 30 s
	// doubling to 5 min, ±20%.
	DefaultLimitRetry = kinesis.Retry{MaxAttempts: 0, InitialInterval: 30 * time.Second, MaxInterval: 5 * time.Minute, Multiplier: 2, Jitter: 0.2}
)

// Option configures a Client. Options are sealed: only this package
// creates them.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	baseURL       string
	httpClient    *http.Client
	log           *slog.Logger
	start         Start
	startSet      bool
	resumeOffset  string
	resumeSet     bool
	filters       []Filter
	subset        *subset
	offsetUpdates bool
	retry         kinesis.Retry
	limitRetry    kinesis.Retry
	idleTimeout   time.Duration
	maxRedirects  int
	maxEventBytes int
	hooks         []Hook
	userAgent     string
	err           error
}

func (c *config) setErr(format string, a ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("connect: "+format, a...)
	}
}

func defaultConfig() config {
	return config{
		baseURL:       BaseURLNorthAmerica,
		start:         DefaultStart,
		retry:         DefaultRetry,
		limitRetry:    DefaultLimitRetry,
		idleTimeout:   DefaultIdleTimeout,
		maxRedirects:  DefaultMaxRedirects,
		maxEventBytes: DefaultMaxEventBytes,
		userAgent:     "rtds-connect",
	}
}

// WithRegion selects the base URL of Airship's data center: NorthAmerica
// (BaseURLNorthAmerica, the default) or Europe (BaseURLEurope).
func WithRegion(r Region) Option {
	return optionFunc(func(c *config) {
		switch r {
		case NorthAmerica:
			c.baseURL = BaseURLNorthAmerica
		case Europe:
			c.baseURL = BaseURLEurope
		default:
			c.setErr("WithRegion: unknown region %q (want %q or %q)", r, NorthAmerica, Europe)
		}
	})
}

// WithBaseURL sets the API's base URL (scheme and host, e.g. a local test
// server's "http://127.0.0.1:8080"); the client appends /api/events.
// Default BaseURLNorthAmerica.
func WithBaseURL(u string) Option {
	return optionFunc(func(c *config) {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			c.setErr("WithBaseURL: %q is not an http:// or https:// URL with a host", u)
			return
		}
		c.baseURL = strings.TrimRight(u, "/")
	})
}

// WithHTTPClient sets the HTTP client (its transport, TLS settings, proxy).
// The Client uses a copy without a Timeout (a stream has no end) that does
// not follow redirects by itself (the Client answers 307s). Default: a
// client on http.DefaultTransport.
func WithHTTPClient(h *http.Client) Option {
	return optionFunc(func(c *config) {
		if h == nil {
			c.setErr("WithHTTPClient: nil client")
			return
		}
		c.httpClient = h
	})
}

// WithLogger sets the logger for connections, reconnects and skipped
// lines. Credentials are never logged. Default: nil, which discards.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.log = l })
}

// WithStart sets where the stream starts when there is no resume offset:
// StartLatest (the default, DefaultStart) or StartEarliest. It cannot be
// combined with WithResumeOffset.
func WithStart(s Start) Option {
	return optionFunc(func(c *config) {
		if s != StartLatest && s != StartEarliest {
			c.setErr("WithStart: unknown start %q (want %q or %q)", s, StartEarliest, StartLatest)
			return
		}
		c.start, c.startSet = s, true
	})
}

// WithResumeOffset starts the stream after offset: the first event has an
// offset greater than it. Pass the last acknowledged offset of an earlier
// run (Client.Acknowledged). Offsets are strings, not necessarily numeric.
// It cannot be combined with WithStart.
func WithResumeOffset(offset string) Option {
	return optionFunc(func(c *config) {
		if offset == "" {
			c.setErr("WithResumeOffset: empty offset")
			return
		}
		c.resumeOffset, c.resumeSet = offset, true
	})
}

// WithFilters asks Airship to send only the events that match at least
// one filter (filters combine as OR; the keys within one filter as AND).
// Default: no filter, every event.
func WithFilters(filters ...Filter) Option {
	return optionFunc(func(c *config) {
		if len(filters) == 0 {
			c.setErr("WithFilters: no filter (an empty filter list is refused by the API)")
			return
		}
		for i, f := range filters {
			if err := f.validate(); err != nil {
				c.setErr("WithFilters: filter %d: %v", i, err)
				return
			}
		}
		c.filters = append(c.filters, filters...)
	})
}

// WithSample asks for a random sample of the stream: each event is sent
// with probability proportion, in (0, 1]. It cannot be combined with
// WithPartition. Default: the whole stream.
func WithSample(proportion float64) Option {
	return optionFunc(func(c *config) {
		if !(proportion > 0 && proportion <= 1) {
			c.setErr("WithSample: proportion %v is outside (0, 1]", proportion)
			return
		}
		if c.subset != nil {
			c.setErr("WithSample: a subset is already set")
			return
		}
		c.subset = &subset{Type: "SAMPLE", Proportion: proportion}
	})
}

// WithPartition asks for partition selection (0 ≤ selection < count) of
// the stream split by event id into count partitions, so that count
// readers share it (duplicates of an event land in the same partition). It
// cannot be combined with WithSample. Default: the whole stream.
func WithPartition(count, selection int) Option {
	return optionFunc(func(c *config) {
		if count < 1 || selection < 0 || selection >= count {
			c.setErr("WithPartition: want count ≥ 1 and 0 ≤ selection < count, got count %d, selection %d", count, selection)
			return
		}
		if c.subset != nil {
			c.setErr("WithPartition: a subset is already set")
			return
		}
		c.subset = &subset{Type: "PARTITION", Count: count, Selection: &selection}
	})
}

// WithOffsetUpdates asks Airship for OFFSET_UPDATE events
// (enable_offset_updates): they carry no activity, only an offset, so the
// acknowledged offset advances on a quiet or filtered stream. They are
// acknowledged by the client itself. Default false.
func WithOffsetUpdates(enable bool) Option {
	return optionFunc(func(c *config) { c.offsetUpdates = enable })
}

// WithRetry sets the reconnect policy after a dropped connection, a
// silent one (WithIdleTimeout), or a 408, 429 or 5xx answer. Default
// DefaultRetry. When MaxAttempts consecutive attempts fail, Events ends
// with the last error.
func WithRetry(r kinesis.Retry) Option {
	return optionFunc(func(c *config) {
		if err := r.Validate(); err != nil {
			c.setErr("WithRetry: %v", err)
			return
		}
		c.retry = r
	})
}

// WithLimitRetry sets the reconnect policy after a 402 answer (another
// reader holds the stream). Default DefaultLimitRetry.
func WithLimitRetry(r kinesis.Retry) Option {
	return optionFunc(func(c *config) {
		if err := r.Validate(); err != nil {
			c.setErr("WithLimitRetry: %v", err)
			return
		}
		c.limitRetry = r
	})
}

// WithIdleTimeout sets how long a connection may stay silent (no answer
// to the request, then no event and no keep-alive line) before the client
// drops it and reconnects. 0 means never. Default DefaultIdleTimeout.
func WithIdleTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d < 0 {
			c.setErr("WithIdleTimeout: %v is negative", d)
			return
		}
		c.idleTimeout = d
	})
}

// WithMaxRedirects bounds the 307 answers followed for one connection.
// Default DefaultMaxRedirects.
func WithMaxRedirects(n int) Option {
	return optionFunc(func(c *config) {
		if n < 0 {
			c.setErr("WithMaxRedirects: %d is negative", n)
			return
		}
		c.maxRedirects = n
	})
}

// WithMaxEventBytes sets the longest line accepted; a longer line is
// skipped (logged and counted in Stats.Malformed). Default
// DefaultMaxEventBytes.
func WithMaxEventBytes(n int) Option {
	return optionFunc(func(c *config) {
		if n < 1 {
			c.setErr("WithMaxEventBytes: %d must be positive", n)
			return
		}
		c.maxEventBytes = n
	})
}

// WithHooks adds hooks: values implementing HookConnect and/or HookRetry.
// A value that implements neither is an error.
func WithHooks(hooks ...Hook) Option {
	return optionFunc(func(c *config) {
		for _, h := range hooks {
			switch h.(type) {
			case HookConnect, HookRetry:
				c.hooks = append(c.hooks, h)
			default:
				c.setErr("WithHooks: %T implements no hook interface", h)
				return
			}
		}
	})
}

// Hook is a value implementing one or more of HookConnect and HookRetry.
// Hooks are called synchronously on the reading goroutine: they must be
// fast, and safe for concurrent use when several Clients share them.
type Hook any

// HookConnect is called for every connection answered with 200.
type HookConnect interface {
	OnConnect(ConnectMetrics)
}

// HookRetry is called before every reconnect wait, including every 402.
type HookRetry interface {
	OnRetry(RetryMetrics)
}

// ConnectMetrics describes a connection answered with 200.
type ConnectMetrics struct {
	// URL is where the stream is read from (after redirects).
	URL string
	// ResumeOffset is the offset the request resumed after; "" when it
	// used Start.
	ResumeOffset string
	Start        Start
	// Redirects is how many 307 answers were followed.
	Redirects int
	// Latency is the time to the 200 answer's headers.
	Latency time.Duration
	// Gzip reports a gzip-encoded stream.
	Gzip bool
}

// RetryMetrics describes a failed attempt and the wait before the next.
type RetryMetrics struct {
	// Attempt counts consecutive failed attempts, from 1.
	Attempt int
	// Wait is the time before the next attempt.
	Wait time.Duration
	// Err is why: a *StatusError for an answer other than 200, else the
	// connection error (a dropped stream is io.ErrUnexpectedEOF).
	Err error
	// ResumeOffset is the offset the next attempt resumes after ("" when
	// it starts at Start).
	ResumeOffset string
}
