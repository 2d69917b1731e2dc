package faultproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// upstreamTimeout bounds one forwarded call, so Close cannot hang on a
// stuck emulator.
const upstreamTimeout = time.Minute

// Option configures a Proxy.
type Option func(*Proxy)

// WithConfig sets the initial faults. Default: the zero Config (no faults).
func WithConfig(c Config) Option {
	return func(p *Proxy) { p.initCfg = c }
}

// WithSeed seeds the generator behind every fault decision. Default:
// DefaultSeed. The same seed and the same sequence of calls give the same
// faults; concurrent calls draw in arrival order.
func WithSeed(seed int64) Option {
	return func(p *Proxy) { p.seed = seed }
}

// Proxy is a fault-injecting reverse proxy for Kinesis's JSON 1.1 protocol,
// listening on 127.0.0.1. Point an SDK client's BaseEndpoint at URL. Its
// configuration can change at any time with SetConfig.
//
// A Proxy is safe for concurrent use.
type Proxy struct {
	target   *url.URL
	initCfg  Config
	seed     int64
	cfg      atomic.Pointer[Config]
	ln       net.Listener
	srv      *http.Server
	upstream *http.Client
	url      string
	done     chan struct{}

	rngMu  sync.Mutex
	rng    *rand.Rand
	strata [numFaults]stratum

	mu     sync.Mutex // guards closed, stats; inflight.Add happens under it
	closed bool
	stats  Stats

	inflight sync.WaitGroup
	serveErr chan error
}

// New starts a proxy on 127.0.0.1 (a free port) in front of target, the
// base URL of a Kinesis endpoint on the loopback interface
// ("http://127.0.0.1:4567"). Call Close to stop it.
func New(target string, opts ...Option) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: target %q: %w", target, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("faultproxy: target %q: want an http or https URL", target)
	}
	if !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("faultproxy: target %q is not on the loopback interface", target)
	}
	p := &Proxy{target: u, seed: DefaultSeed, done: make(chan struct{}), serveErr: make(chan error, 1)}
	for _, o := range opts {
		o(p)
	}
	if err := p.initCfg.validate(); err != nil {
		return nil, err
	}
	c := p.initCfg.clone()
	p.cfg.Store(&c)
	p.rng = rand.New(rand.NewPCG(uint64(p.seed), uint64(p.seed)^0x9e3779b97f4a7c15))
	p.stats.Calls = make(map[string]int64)

	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}
	p.upstream = &http.Client{Transport: tr, Timeout: upstreamTimeout}

	p.ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	p.url = "http://" + p.ln.Addr().String()
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { p.serveErr <- p.srv.Serve(p.ln) }()
	return p, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// URL returns the proxy's base URL, for an SDK client's BaseEndpoint.
func (p *Proxy) URL() string { return p.url }

// SetConfig replaces the faults; calls already in flight finish under the
// configuration they started with.
func (p *Proxy) SetConfig(c Config) error {
	if err := c.validate(); err != nil {
		return err
	}
	c = c.clone()
	p.cfg.Store(&c)
	return nil
}

// Config returns the current faults.
func (p *Proxy) Config() Config { return p.cfg.Load().clone() }

// Stats returns a snapshot of the counters.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.Calls = maps.Clone(p.stats.Calls)
	return s
}

// Close stops the proxy: it closes the listener and every connection,
// aborts pending delays, and waits for in-flight requests to end. It is
// idempotent.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	close(p.done)
	err := p.srv.Close()
	p.inflight.Wait()
	if serr := <-p.serveErr; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	p.upstream.CloseIdleConnections()
	return err
}

func (p *Proxy) count(fn func(*Stats)) {
	p.mu.Lock()
	fn(&p.stats)
	p.mu.Unlock()
}

// decision is the outcome of the per-call fault draws. At most one fault
// is chosen per call.
type decision struct {
	dropBefore, throttle, internal, expire, dropAfter bool
}

// Call faults, in the order they are tried.
const (
	faultDropBefore = iota
	faultThrottle
	faultInternal
	faultExpire
	faultDropAfter
	numFaults
)

// stratum spreads one call fault over the calls it applies to: over N such
// calls it fires floor(N*f) or ceil(N*f) times, once in every window of 1/f
// calls, at a random point of each window. Independent draws would leave
// short runs without their faults (0.5% of 200 calls fires no fault 37% of
// the time), which makes tests of them flaky.
type stratum struct {
	acc    float64 // sum of the fraction over the calls seen
	window float64 // index of the current window
	next   float64 // acc at which this window's fault fires, in (window, window+1]
}

func (s *stratum) fire(frac float64, rng *rand.Rand) bool {
	if frac <= 0 {
		return false
	}
	if s.next == 0 {
		s.next = 1 - rng.Float64() // in (0, 1]
	}
	s.acc += frac
	if s.acc < s.next {
		return false
	}
	s.window++
	s.next = s.window + 1 - rng.Float64()
	return true
}

// decide chooses the fault, if any, of a call of op. Faults are tried in
// order, and a fault's window only advances on calls that earlier faults
// left alone and that it applies to (ExpireIterator: GetRecords only).
func (p *Proxy) decide(c *Config, op string) decision {
	p.rngMu.Lock()
	defer p.rngMu.Unlock()
	var d decision
	switch {
	case p.strata[faultDropBefore].fire(c.DropBefore, p.rng):
		d.dropBefore = true
	case p.strata[faultThrottle].fire(c.Throttle, p.rng):
		d.throttle = true
	case p.strata[faultInternal].fire(c.InternalError, p.rng):
		d.internal = true
	case op == "GetRecords" && p.strata[faultExpire].fire(c.ExpireIterator, p.rng):
		d.expire = true
	case p.strata[faultDropAfter].fire(c.DropAfter, p.rng):
		d.dropAfter = true
	}
	return d
}

// pick returns, for each of n PutRecords entries, whether it fails.
func (p *Proxy) pick(n int, frac float64) []bool {
	p.rngMu.Lock()
	defer p.rngMu.Unlock()
	out := make([]bool, n)
	for i := range out {
		out[i] = p.rng.Float64() < frac
	}
	return out
}

// operation returns the Kinesis operation named by the X-Amz-Target header
// ("Kinesis_20131202.PutRecords" -> "PutRecords").
func operation(r *http.Request) string {
	t := r.Header.Get("X-Amz-Target")
	if i := strings.LastIndexByte(t, '.'); i >= 0 {
		return t[i+1:]
	}
	if t == "" {
		return "unknown"
	}
	return t
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		hangUp(w)
		return
	}
	p.inflight.Add(1)
	op := operation(r)
	p.stats.Calls[op]++
	p.mu.Unlock()
	defer p.inflight.Done()

	cfg := p.cfg.Load()
	targeted := cfg.targets(op)
	if targeted && cfg.Unreachable {
		// Hang up without even reading the request, as a dead endpoint
		// would.
		p.count(func(s *Stats) { s.Unreachable++ })
		hangUp(w)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		hangUp(w)
		return
	}
	if !targeted {
		p.forward(w, r, body, false)
		return
	}
	d := p.decide(cfg, op)
	if cfg.Latency > 0 {
		p.count(func(s *Stats) { s.Delayed++ })
		if !p.sleep(r.Context(), cfg.Latency) {
			hangUp(w)
			return
		}
	}
	switch {
	case d.dropBefore:
		p.count(func(s *Stats) { s.DroppedBefore++ })
		hangUp(w)
	case d.throttle:
		p.count(func(s *Stats) { s.Throttled++ })
		writeError(w, http.StatusBadRequest, CodeThrottled, "Rate exceeded for stream under account 000000000000 (injected by faultproxy).")
	case d.internal:
		p.count(func(s *Stats) { s.InternalErrors++ })
		writeError(w, http.StatusInternalServerError, CodeInternalFailure, "Internal service failure (injected by faultproxy).")
	case d.expire:
		p.count(func(s *Stats) { s.Expired++ })
		writeError(w, http.StatusBadRequest, CodeExpiredIterator, "Iterator expired (injected by faultproxy).")
	case op == "PutRecords" && cfg.FailEntries > 0:
		p.putRecords(w, r, body, cfg, d.dropAfter)
	default:
		p.forward(w, r, body, d.dropAfter)
	}
}

func (p *Proxy) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-p.done:
		return false
	}
}

// response is an upstream answer, fully read.
type response struct {
	status int
	header http.Header
	body   []byte
}

// forward sends the request upstream and relays the answer, or hangs up
// after the upstream acted if dropAfter.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, body []byte, dropAfter bool) {
	resp, err := p.roundTrip(r, body)
	if err != nil {
		hangUp(w)
		return
	}
	p.reply(w, operation(r), resp, dropAfter)
}

func (p *Proxy) reply(w http.ResponseWriter, op string, resp *response, dropAfter bool) {
	if dropAfter {
		stored := 0
		if op == "PutRecords" && resp.status == http.StatusOK {
			stored = storedEntries(resp.body)
		}
		p.count(func(s *Stats) {
			s.DroppedAfter++
			s.StoredThenDropped += int64(stored)
		})
		hangUp(w)
		return
	}
	h := w.Header()
	for k, vs := range resp.header {
		if skipHeader(k) {
			continue
		}
		h[k] = vs
	}
	h.Set("Content-Length", fmt.Sprint(len(resp.body)))
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

func (p *Proxy) roundTrip(r *http.Request, body []byte) (*response, error) {
	u := *p.target
	u.Path = strings.TrimSuffix(u.Path, "/") + r.URL.Path
	u.RawQuery = r.URL.RawQuery
	// Once forwarding starts the request is completed even if the client
	// goes away, as a real server would: cutting it off mid-body crashes
	// kinesalite and dynalite, which throw on an aborted request.
	req, err := http.NewRequestWithContext(context.WithoutCancel(r.Context()), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, vs := range r.Header {
		if skipHeader(k) || http.CanonicalHeaderKey(k) == "Accept-Encoding" {
			continue
		}
		req.Header[k] = vs
	}
	p.count(func(s *Stats) { s.Forwarded++ })
	resp, err := p.upstream.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// skipHeader reports hop-by-hop and length headers the proxy must not copy.
func skipHeader(k string) bool {
	switch http.CanonicalHeaderKey(k) {
	case "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection",
		"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length", "Content-Encoding", "Host",
		"X-Amz-Crc32":
		return true
	}
	return false
}

// writeError answers like Kinesis does, so the SDK decodes a typed error.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	b := fmt.Appendf(nil, `{"__type":%q,"message":%q}`, code, msg)
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("X-Amzn-Errortype", code)
	h.Set("X-Amzn-Requestid", "faultproxy")
	h.Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// hangUp closes the client's connection without an answer (with a TCP
// reset where possible), as a network failure would.
func hangUp(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
