// Package connecttest is a local stand-in for Airship's Data Streaming API
// (POST /api/events), for tests and demos: it streams newline-delimited
// events with keep-alive blank lines, gzip, 307 + Set-Cookie affinity
// redirects, offsets and resume_offset, OFFSET_UPDATE events, filters by
// type, and injected faults (error answers, connections dropped after N
// events, in the middle of a line).
//
// It follows the documented protocol (see the connect package); it is not
// Airship's implementation. Offsets must be numeric strings, increasing in
// the order events are added; resume_offset N starts after the last event
// whose offset is ≤ N. Of the filter keys only "types" selects events;
// the others are validated and ignored.
package connecttest

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rtdskit/rtds/event"
)

// Redirect is how the server answers requests without its affinity cookie.
type Redirect int

const (
	// NoRedirect streams at once.
	NoRedirect Redirect = iota
	// RedirectSameURL answers 307 with Set-Cookie and no Location: the
	// client re-POSTs to the same URL with the cookie.
	RedirectSameURL
	// RedirectLocation answers 307 with Set-Cookie and a Location on the
	// same server (path /api/events/node1).
	RedirectLocation
)

// AffinityCookie is the name of the cookie the redirects set.
const AffinityCookie = "ua-connect-node"

// Config configures a Server. The zero value accepts any credentials.
type Config struct {
	// AppKey and Token, when set, are required: X-UA-Appkey and
	// "Authorization: Bearer Token" on /api/events. MasterSecret, when
	// set, is required as Basic auth on /api/events/general.
	AppKey, Token, MasterSecret string
	// KeepAlive is the interval of blank lines while there is nothing to
	// send; 0 means 100ms.
	KeepAlive time.Duration
	// NoGzip disables gzip even when the client accepts it.
	NoGzip bool
	// Redirect answers requests without the affinity cookie with a 307.
	Redirect Redirect
	// OffsetUpdateEvery, with enable_offset_updates, sends an OFFSET_UPDATE
	// after this many events were filtered out in a row, and when the
	// stream catches up after filtering some out; 0 means 50.
	OffsetUpdateEvery int
	// LinesPerSecond, if not 0, paces each connection's event lines.
	LinesPerSecond int
}

// Fault is injected into one request (Server.Inject): the next one that
// passes the checks of credentials, headers and affinity cookie.
type Fault struct {
	// Status, if not 0, answers the request with this status and a JSON
	// error body (RetryAfter, if set, as the Retry-After header).
	Status     int
	RetryAfter string
	// Disconnect, with Status 0, drops the connection after After events
	// (0: before any) were written; MidLine first writes the first half of
	// the next event's line.
	Disconnect bool
	After      int
	MidLine    bool
}

// Request is a request the server received.
type Request struct {
	Method, Path string
	Header       http.Header
	Body         []byte
	// Status is the status answered.
	Status int
}

type stored struct {
	offset int64
	typ    event.Type
	line   []byte
}

// Server is a local Data Streaming API. Its methods are safe for
// concurrent use.
type Server struct {
	*httptest.Server
	cfg Config

	mu       sync.Mutex
	events   []stored
	changed  chan struct{} // closed and replaced when events are added
	faults   []Fault
	requests []Request
	sent     int64
	open     int
}

// NewServer starts a server on 127.0.0.1 holding events (NDJSON lines,
// each with a numeric "offset"); Close stops it.
func NewServer(cfg Config, events ...[]byte) (*Server, error) {
	s := NewUnstarted(cfg)
	if err := s.Append(events...); err != nil {
		return nil, err
	}
	s.Start()
	return s, nil
}

// NewUnstarted returns a server that is not started: set its Listener,
// then call Start.
func NewUnstarted(cfg Config) *Server {
	if cfg.KeepAlive <= 0 {
		cfg.KeepAlive = 100 * time.Millisecond
	}
	if cfg.OffsetUpdateEvery <= 0 {
		cfg.OffsetUpdateEvery = 50
	}
	s := &Server{cfg: cfg, changed: make(chan struct{})}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	return s
}

// Append adds events to the end of the stream; open connections send them.
func (s *Server) Append(lines ...[]byte) error {
	add := make([]stored, 0, len(lines))
	s.mu.Lock()
	defer s.mu.Unlock()
	last := s.lastOffsetLocked()
	for i, l := range lines {
		l = bytes.TrimSpace(l)
		if len(l) == 0 {
			continue
		}
		e, err := event.Decode(l)
		if err != nil {
			return fmt.Errorf("connecttest: event %d: %w", i, err)
		}
		off, err := strconv.ParseInt(e.Base().Offset, 10, 64)
		if err != nil {
			return fmt.Errorf("connecttest: event %d: offset %q is not numeric", i, e.Base().Offset)
		}
		if off <= last {
			return fmt.Errorf("connecttest: event %d: offset %d is not above %d", i, off, last)
		}
		last = off
		add = append(add, stored{offset: off, typ: e.EventType(), line: bytes.Clone(l)})
	}
	s.addLocked(add...)
	return nil
}

// lastOffsetLocked is the offset of the last event, or a very low one.
func (s *Server) lastOffsetLocked() int64 {
	if n := len(s.events); n > 0 {
		return s.events[n-1].offset
	}
	return -1 << 62
}

// addLocked appends events and wakes the connections waiting for them.
func (s *Server) addLocked(events ...stored) {
	s.events = append(s.events, events...)
	close(s.changed)
	s.changed = make(chan struct{})
}

// AppendRaw adds lines sent as they are, for malformed input: they are
// not checked, and resuming treats them as part of the event before.
func (s *Server) AppendRaw(lines ...[]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	last := s.lastOffsetLocked()
	for _, l := range lines {
		s.addLocked(stored{offset: last, line: bytes.Clone(l)})
	}
}

// Inject queues faults: each applies to one later request, in order.
func (s *Server) Inject(faults ...Fault) {
	s.mu.Lock()
	s.faults = append(s.faults, faults...)
	s.mu.Unlock()
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Sent is how many event lines (OFFSET_UPDATE included) were written.
func (s *Server) Sent() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent
}

// Open is how many streams are being served.
func (s *Server) Open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open
}

// request is the body the API accepts.
type request struct {
	Start               *string           `json:"start"`
	ResumeOffset        *string           `json:"resume_offset"`
	Filters             *[]map[string]any `json:"filters"`
	Subset              map[string]any    `json:"subset"`
	EnableOffsetUpdates bool              `json:"enable_offset_updates"`
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	idx := -1
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	idx = len(s.requests) - 1
	s.mu.Unlock()
	status := func(code int) {
		s.mu.Lock()
		s.requests[idx].Status = code
		s.mu.Unlock()
	}
	fail := func(code int, msg string) {
		status(code)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("UA-Operation-Id", fmt.Sprintf("op-%d", idx))
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"ok":false,"error":%q,"error_code":%d0,"details":{"error":%q}}`, http.StatusText(code), code, msg)
	}
	if r.Method != http.MethodPost {
		fail(http.StatusMethodNotAllowed, "POST only")
		return
	}
	compliance := false
	switch strings.TrimSuffix(r.URL.Path, "/") {
	case "/api/events", "/api/events/node1":
	case "/api/events/general":
		compliance = true
	default:
		fail(http.StatusNotFound, "no such endpoint")
		return
	}
	if msg := s.checkAuth(r, compliance); msg != "" {
		fail(http.StatusUnauthorized, msg)
		return
	}
	if a := r.Header.Get("Accept"); !strings.Contains(a, "application/vnd.urbanairship+x-ndjson") || !strings.Contains(a, "version=3") {
		fail(http.StatusNotAcceptable, "Accept must be application/vnd.urbanairship+x-ndjson; version=3;")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		fail(http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return
	}
	if r.ContentLength < 0 || len(r.TransferEncoding) > 0 {
		fail(http.StatusLengthRequired, "the body must not be chunked")
		return
	}
	if s.cfg.Redirect != NoRedirect {
		if c, err := r.Cookie(AffinityCookie); err != nil || c.Value != "node1" {
			http.SetCookie(w, &http.Cookie{Name: AffinityCookie, Value: "node1", Path: "/"})
			if s.cfg.Redirect == RedirectLocation {
				w.Header().Set("Location", "/api/events/node1")
			}
			status(http.StatusTemporaryRedirect)
			w.WriteHeader(http.StatusTemporaryRedirect)
			return
		}
	}
	var fault Fault
	s.mu.Lock()
	if len(s.faults) > 0 {
		fault, s.faults = s.faults[0], s.faults[1:]
	}
	s.mu.Unlock()
	if fault.Status != 0 {
		if fault.RetryAfter != "" {
			w.Header().Set("Retry-After", fault.RetryAfter)
		}
		fail(fault.Status, "injected")
		return
	}
	req, msg := parseRequest(body)
	if msg != "" {
		fail(http.StatusBadRequest, msg)
		return
	}
	start, msg := s.startIndex(req)
	if msg != "" {
		fail(http.StatusBadRequest, msg)
		return
	}
	status(http.StatusOK)
	s.stream(w, r, req, start, fault)
}

func (s *Server) checkAuth(r *http.Request, compliance bool) string {
	if compliance {
		if s.cfg.MasterSecret == "" {
			return ""
		}
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte(s.cfg.AppKey+":"+s.cfg.MasterSecret))
		if r.Header.Get("Authorization") != want {
			return "the compliance stream needs Basic auth with the app key and master secret"
		}
		return ""
	}
	if s.cfg.AppKey != "" && r.Header.Get("X-UA-Appkey") != s.cfg.AppKey {
		return "unknown app key"
	}
	if s.cfg.Token != "" && r.Header.Get("Authorization") != "Bearer "+s.cfg.Token {
		return "bad token"
	}
	return ""
}

// parseRequest checks the body as the API does: no unknown attribute, no
// empty array, start or resume_offset but not both.
func parseRequest(body []byte) (request, string) {
	var req request
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, "malformed request: " + err.Error()
	}
	if req.Start != nil && req.ResumeOffset != nil {
		return req, "start and resume_offset are exclusive"
	}
	if req.Start != nil && *req.Start != "EARLIEST" && *req.Start != "LATEST" {
		return req, "start must be EARLIEST or LATEST"
	}
	if req.Filters != nil {
		if len(*req.Filters) == 0 {
			return req, "empty filters"
		}
		for _, f := range *req.Filters {
			for k, v := range f {
				switch k {
				case "types", "device_types", "devices", "notifications":
					if a, ok := v.([]any); !ok || len(a) == 0 {
						return req, "filter " + k + " must be a non-empty array"
					}
				case "latency":
				default:
					return req, "unknown filter key " + k
				}
			}
		}
	}
	if req.Subset != nil {
		switch req.Subset["type"] {
		case "SAMPLE", "PARTITION":
		default:
			return req, "subset type must be SAMPLE or PARTITION"
		}
	}
	return req, ""
}

// startIndex is the index of the first event to send.
func (s *Server) startIndex(req request) (int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case req.ResumeOffset != nil:
		off, err := strconv.ParseInt(*req.ResumeOffset, 10, 64)
		if err != nil {
			return 0, "unknown resume_offset"
		}
		i, _ := slices.BinarySearchFunc(s.events, off+1, func(e stored, t int64) int {
			return int(min(max(e.offset-t, -1), 1))
		})
		return i, ""
	case req.Start != nil && *req.Start == "EARLIEST":
		return 0, ""
	default:
		return len(s.events), ""
	}
}

func (s *Server) stream(w http.ResponseWriter, r *http.Request, req request, next int, fault Fault) {
	types := map[event.Type]bool{}
	filtered := false
	if req.Filters != nil {
		for _, f := range *req.Filters {
			ts, ok := f["types"].([]any)
			if !ok {
				types = nil // a filter without types passes every type
				break
			}
			for _, t := range ts {
				if str, ok := t.(string); ok {
					types[event.Type(str)] = true
				}
			}
		}
		filtered = types != nil
	}
	w.Header().Set("Content-Type", "application/vnd.urbanairship+x-ndjson; version=3;")
	var out io.Writer = w
	var zw *gzip.Writer
	if !s.cfg.NoGzip && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		w.Header().Set("Content-Encoding", "gzip")
		zw = gzip.NewWriter(w)
		out = zw
	}
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	flush := func() bool {
		if zw != nil && zw.Flush() != nil {
			return false
		}
		return rc.Flush() == nil
	}
	s.mu.Lock()
	s.open++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.open--
		s.mu.Unlock()
	}()
	sentHere, skipped := 0, 0
	var lineBuf []byte
	start := time.Now()
	var lastSkipped int64
	keepAlive := time.NewTicker(s.cfg.KeepAlive)
	defer keepAlive.Stop()
	write := func(line []byte) bool {
		if fault.Disconnect && sentHere == fault.After {
			if fault.MidLine {
				out.Write(line[:len(line)/2])
			}
			flush()
			panic(http.ErrAbortHandler)
		}
		lineBuf = append(append(lineBuf[:0], line...), '\n') // line is shared: never append to it
		if _, err := out.Write(lineBuf); err != nil {
			return false
		}
		if rate := s.cfg.LinesPerSecond; rate > 0 {
			if want := start.Add(time.Duration(sentHere+1) * time.Second / time.Duration(rate)); time.Until(want) > 10*time.Millisecond {
				if !flush() {
					return false
				}
				time.Sleep(time.Until(want))
			}
		}
		sentHere++
		s.mu.Lock()
		s.sent++
		s.mu.Unlock()
		return true
	}
	updateLine := func(off int64) []byte {
		now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
		return fmt.Appendf(nil, `{"id":"offset-update-%d","type":"OFFSET_UPDATE","offset":"%d","occurred":%q,"processed":%q}`, off, off, now, now)
	}
	if fault.Disconnect && fault.After == 0 && !fault.MidLine {
		flush()
		panic(http.ErrAbortHandler)
	}
	for {
		s.mu.Lock()
		batch := s.events[next:]
		changed := s.changed
		s.mu.Unlock()
		for _, e := range batch {
			next++
			if filtered && !types[e.typ] {
				skipped++
				lastSkipped = e.offset
				if req.EnableOffsetUpdates && skipped >= s.cfg.OffsetUpdateEvery {
					if !write(updateLine(lastSkipped)) {
						return
					}
					skipped = 0
				}
				continue
			}
			skipped = 0
			if !write(e.line) {
				return
			}
		}
		if req.EnableOffsetUpdates && skipped > 0 {
			if !write(updateLine(lastSkipped)) {
				return
			}
			skipped = 0
		}
		if !flush() {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-changed:
		case <-keepAlive.C:
			if _, err := out.Write([]byte("\n")); err != nil || !flush() {
				return
			}
		}
	}
}
