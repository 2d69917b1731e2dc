package s3export

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/internal/dedupe"
)

// Record is one record to export: an RTDS event's bytes and its position
// in its shard. SequenceNumber (with SubSequenceNumber for a record of a
// KPL aggregate) orders a shard's records; names and re-runs depend on it.
type Record struct {
	ShardID           string
	SequenceNumber    string
	SubSequenceNumber uint64
	// Data is the event as received; it is not retained after Write
	// returns.
	Data []byte
}

// Acker acknowledges one record once the file that holds it is completely
// stored: Done after the upload completed, Fail when it cannot be.
// kinesis.Defer's acknowledgement implements it; so can any source that
// moves a checkpoint.
type Acker interface {
	Done()
	Fail(err error)
}

// Stats is a snapshot of an Exporter's counters.
type Stats struct {
	// Events were written into data files (not yet necessarily uploaded).
	Events int64
	// ByType counts Events per event type.
	ByType map[event.Type]int64
	// Uploaded events are in files whose upload completed.
	Uploaded int64
	// Skipped events were already in a completed file (a re-run after a
	// crash reads them again) and were acknowledged without being written.
	Skipped int64
	// NoLayout counts, per type, the events not written in CSV mode
	// because their type has no CSV layout (see WithNoLayoutToJSON).
	NoLayout map[event.Type]int64
	// BadRecords were not events or had no processed time.
	BadRecords int64
	// Duplicates were dropped by WithDeduplication.
	Duplicates int64
	// OpenFiles is the number of files open now; FilesCompleted and
	// BytesUploaded count completed files and their bytes (compressed, as
	// stored).
	OpenFiles      int
	FilesCompleted int64
	BytesUploaded  int64
}

// Exporter writes RTDS events into the seed's S3 layout (see the package
// documentation) on a Target, through one ShardWriter per shard. It is
// safe for concurrent use; each ShardWriter is not.
type Exporter struct {
	target Target
	root   string // appKey/integrationId/
	cfg    config
	log    *slog.Logger
	sem    chan struct{}
	gzPool sync.Pool
	seen   *dedupe.Window // nil without WithDeduplication

	mu      sync.Mutex
	writers []*ShardWriter
}

var discardLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// New returns an exporter that writes below appKey/integrationID/ on
// target.
func New(target Target, appKey, integrationID string, opts ...Option) (*Exporter, error) {
	if target == nil {
		return nil, errors.New("s3export: nil target")
	}
	for _, v := range []struct{ name, v string }{{"app key", appKey}, {"integration id", integrationID}} {
		if v.v == "" || strings.ContainsAny(v.v, "/\\") || v.v == "." || v.v == ".." {
			return nil, fmt.Errorf("s3export: invalid %s %q", v.name, v.v)
		}
	}
	cfg := config{
		format:            DefaultFormat,
		maxFileSize:       DefaultMaxFileSize,
		grace:             DefaultGracePeriod,
		uploadConcurrency: DefaultUploadConcurrency,
	}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("s3export: nil option")
		}
		o.apply(&cfg)
	}
	if cfg.err != nil {
		return nil, cfg.err
	}
	e := &Exporter{
		target: target,
		root:   appKey + "/" + integrationID + "/",
		cfg:    cfg,
		log:    cfg.logger,
		sem:    make(chan struct{}, cfg.uploadConcurrency),
	}
	if e.log == nil {
		e.log = discardLogger
	}
	if cfg.dedupe > 0 {
		w, err := dedupe.New(cfg.dedupe)
		if err != nil {
			return nil, fmt.Errorf("s3export: %w", err)
		}
		e.seen = w
	}
	return e, nil
}

// Stats returns a snapshot of the exporter's counters, over all its shard
// writers.
func (e *Exporter) Stats() Stats {
	s := Stats{ByType: map[event.Type]int64{}, NoLayout: map[event.Type]int64{}}
	e.mu.Lock()
	ws := e.writers
	e.mu.Unlock()
	for _, w := range ws {
		w.mu.Lock()
		st := &w.stats
		s.Events += st.Events
		s.Uploaded += st.Uploaded
		s.Skipped += st.Skipped
		s.BadRecords += st.BadRecords
		s.Duplicates += st.Duplicates
		s.OpenFiles += st.OpenFiles
		s.FilesCompleted += st.FilesCompleted
		s.BytesUploaded += st.BytesUploaded
		for t, n := range st.ByType {
			s.ByType[t] += n
		}
		for t, n := range st.NoLayout {
			s.NoLayout[t] += n
		}
		w.mu.Unlock()
	}
	return s
}

// NewShardWriter returns the writer for one shard's records. Call it once
// per shard (per lease) and give it the shard's records in order.
func (e *Exporter) NewShardWriter(shardID string) *ShardWriter {
	w := &ShardWriter{
		e:       e,
		shard:   shardID,
		files:   map[fileKey]*file{},
		hours:   map[fileKey]*hourState{},
		layouts: map[event.Type]bool{},
		stats:   Stats{ByType: map[event.Type]int64{}, NoLayout: map[event.Type]int64{}},
	}
	w.csv = csv.NewWriter(&w.row)
	w.hdrCSV = csv.NewWriter(&w.hdr)
	e.mu.Lock()
	e.writers = append(e.writers, w)
	e.mu.Unlock()
	return w
}

func (e *Exporter) shardSuffix(ctx context.Context, shardID string) (string, error) {
	var multi bool
	if e.cfg.shardSuffix != nil {
		var err error
		if multi, err = e.cfg.shardSuffix(ctx, shardID); err != nil {
			return "", fmt.Errorf("s3export: deciding shard %s's file names: %w", shardID, err)
		}
	} else {
		e.mu.Lock()
		multi = len(e.writers) > 1
		e.mu.Unlock()
	}
	if !multi {
		return "", nil
	}
	return ShardNumber(shardID), nil
}

// closeReason says why a file was closed; a size split continues the
// hour's series (_partN), the others end it.
type closeReason string

const (
	closeTime closeReason = "time" // the hour's grace period passed
	closeSize closeReason = "size" // the next event would exceed the size limit
	closeStop closeReason = "stop" // the writer was closed
)

// pos is a record's position in its shard.
type pos struct {
	Seq string `json:"seq"`
	Sub uint64 `json:"sub"`
}

// compare orders positions: sequence numbers are decimal integers.
func (a pos) compare(b pos) int {
	if len(a.Seq) != len(b.Seq) {
		if len(a.Seq) < len(b.Seq) {
			return -1
		}
		return 1
	}
	if c := strings.Compare(a.Seq, b.Seq); c != 0 {
		return c
	}
	switch {
	case a.Sub < b.Sub:
		return -1
	case a.Sub > b.Sub:
		return 1
	}
	return 0
}

// manifest describes one completed data file. It is stored beside the
// layout, under appKey/integrationId/.rtds/, after the file completed, so
// that a re-run knows which records are already stored and which names
// are taken.
type manifest struct {
	Key    string      `json:"key"`
	Shard  string      `json:"shard"`
	First  pos         `json:"first"`
	Last   pos         `json:"last"`
	Base   time.Time   `json:"base"`
	Part   int         `json:"part"`
	Close  closeReason `json:"close"`
	Events int64       `json:"events"`
	Bytes  int64       `json:"bytes"`
}

// fileKey is one stream's hour.
type fileKey struct {
	s    stream
	hour int64 // Unix seconds of the hour's start
}

func (k fileKey) start() time.Time { return time.Unix(k.hour, 0).UTC() }

// hourState is what a shard writer knows of one stream's hour: the names
// taken by any shard, and this shard's files (completed, or closed in this
// run).
type hourState struct {
	taken    map[string]bool
	own      []manifest
	inflight atomic.Int32
}

// covers reports whether at is inside one of this shard's files.
func (h *hourState) covers(at pos) bool {
	for i := range h.own {
		if h.own[i].First.compare(at) <= 0 && at.compare(h.own[i].Last) <= 0 {
			return true
		}
	}
	return false
}

// before returns this shard's file that ended last before at, or nil.
func (h *hourState) before(at pos) *manifest {
	var best *manifest
	for i := range h.own {
		m := &h.own[i]
		if m.Last.compare(at) < 0 && (best == nil || best.Last.compare(m.Last) < 0) {
			best = m
		}
	}
	return best
}

// file is an open data file.
type file struct {
	key      fileKey
	name     string
	dataKey  string
	base     time.Time
	part     int
	deadline time.Time
	first    pos
	last     pos
	obj      Object
	gz       *gzip.Writer
	w        io.Writer
	size     int64 // bytes before compression
	events   int64
	acks     []Acker
}

// ShardWriter writes one shard's records. It is not safe for concurrent
// use: call Write with the shard's records in order, then Close.
type ShardWriter struct {
	e       *Exporter
	shard   string
	files   map[fileKey]*file
	hours   map[fileKey]*hourState
	layouts map[event.Type]bool
	// deadline is the earliest time at which an open file closes; zero
	// when none is open.
	deadline time.Time
	row      bytes.Buffer
	csv      *csv.Writer
	hdr      bytes.Buffer
	hdrCSV   *csv.Writer
	uploads  sync.WaitGroup
	closed   bool

	mu    sync.Mutex // guards stats and err
	stats Stats
	err   error
}

func (w *ShardWriter) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *ShardWriter) fail(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
}

func (w *ShardWriter) count(f func(s *Stats)) {
	w.mu.Lock()
	f(&w.stats)
	w.mu.Unlock()
}

// Write adds one record. On success it has taken responsibility for ack:
// ack.Done is called once the file holding the record is completely
// stored (or at once when the record needs no writing: already stored by an
// earlier run, or a type without CSV layout that is only counted), and
// ack.Fail if that upload fails. On error, ack is untouched: a
// *BadRecordError for a record that belongs in no data file (the caller
// dead-letters it), any other error when the target failed; the writer
// then returns that error from every later call.
func (w *ShardWriter) Write(ctx context.Context, r Record, ack Acker) error {
	if w.closed {
		return ErrClosed
	}
	if err := w.failed(); err != nil {
		return err
	}
	ev, err := event.Decode(r.Data)
	if err != nil {
		return w.bad(ctx, r, fmt.Errorf("%w: %w", ErrNotEvent, err))
	}
	processed := ev.Base().Processed
	if processed.IsZero() {
		return w.bad(ctx, r, ErrNoProcessedTime)
	}
	if w.e.seen != nil && w.e.seen.Seen(ev.Base().ID) {
		w.count(func(s *Stats) { s.Duplicates++ })
		ack.Done()
		return nil
	}
	p := processed.UTC()
	// Every event moves record time, also one that is only counted.
	if !w.deadline.IsZero() && !p.Before(w.deadline) {
		if err := w.closeDue(ctx, p); err != nil {
			return err
		}
	}
	t := ev.EventType()
	s := stream{json: true}
	if w.e.cfg.format == FormatCSV {
		has, ok := w.layouts[t]
		if !ok {
			_, err := event.CSVHeader(t)
			has = err == nil
			w.layouts[t] = has
		}
		switch {
		case has:
			s = stream{typ: t}
		case !w.e.cfg.noLayoutToJSON:
			w.count(func(s *Stats) { s.NoLayout[t]++ })
			ack.Done()
			return nil
		}
	}
	at := pos{r.SequenceNumber, r.SubSequenceNumber}
	fk := fileKey{s, hourOf(p).Unix()}
	f := w.files[fk]
	if f == nil {
		hs, err := w.hour(ctx, fk)
		if err != nil {
			return w.fatal(err)
		}
		if hs.covers(at) {
			w.count(func(s *Stats) { s.Skipped++ })
			ack.Done()
			return nil
		}
		if f, err = w.open(ctx, fk, hs, p, at); err != nil {
			return w.fatal(err)
		}
	}
	row, err := w.encode(ev, s, r.Data)
	if err != nil {
		return w.fatal(err)
	}
	if f.events > 0 && f.size+int64(len(row)) > w.e.cfg.maxFileSize {
		if err := w.close(ctx, f, closeSize); err != nil {
			return w.fatal(err)
		}
		if f, err = w.open(ctx, fk, w.hours[fk], p, at); err != nil {
			return w.fatal(err)
		}
	}
	if _, err := f.w.Write(row); err != nil {
		return w.fatal(fmt.Errorf("s3export: writing %s: %w", f.dataKey, err))
	}
	if f.events == 0 {
		f.first = at
	}
	f.last = at
	f.size += int64(len(row))
	f.events++
	f.acks = append(f.acks, ack)
	if err := f.obj.Flush(ctx); err != nil {
		return w.fatal(err)
	}
	w.count(func(s *Stats) { s.Events++; s.ByType[t]++ })
	return nil
}

// fatal records err as the writer's failure: open files are abandoned
// (their records are never acknowledged, so a checkpoint never passes
// them) and every later call returns err.
func (w *ShardWriter) fatal(err error) error {
	w.fail(err)
	w.e.log.Error("s3export: shard writer failed", "shard", w.shard, "err", err)
	return err
}

// encode returns the record's line: the CSV row, or the event's bytes and
// a newline (compacted only when the bytes contain a line break, which
// would split the NDJSON line). It is valid until the next encode.
func (w *ShardWriter) encode(ev event.Event, s stream, data []byte) ([]byte, error) {
	w.row.Reset()
	if s.json {
		if bytes.IndexByte(data, '\n') >= 0 || bytes.IndexByte(data, '\r') >= 0 {
			if err := json.Compact(&w.row, data); err != nil {
				return nil, fmt.Errorf("s3export: compacting event: %w", err)
			}
		} else {
			w.row.Write(data)
		}
		w.row.WriteByte('\n')
		return w.row.Bytes(), nil
	}
	rec, err := event.CSVRecord(ev)
	if err != nil {
		return nil, err
	}
	if err := w.csv.Write(rec); err != nil {
		return nil, fmt.Errorf("s3export: CSV row: %w", err)
	}
	w.csv.Flush()
	if err := w.csv.Error(); err != nil {
		return nil, fmt.Errorf("s3export: CSV row: %w", err)
	}
	return w.row.Bytes(), nil
}

func (w *ShardWriter) manifestPrefix(fk fileKey) string {
	return w.e.root + manifestDir + "/" + fk.s.dir(fk.start())
}

// hour returns what the writer knows of fk, listing the manifests of its
// completed files the first time.
func (w *ShardWriter) hour(ctx context.Context, fk fileKey) (*hourState, error) {
	if hs := w.hours[fk]; hs != nil {
		return hs, nil
	}
	hs := &hourState{taken: map[string]bool{}}
	keys, err := w.e.target.List(ctx, w.manifestPrefix(fk)+fk.start().Format(hourLayout))
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if !strings.HasSuffix(k, ".json") {
			continue
		}
		b, err := w.e.target.Get(ctx, k)
		if err != nil {
			return nil, err
		}
		var m manifest
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("s3export: manifest %s: %w", k, err)
		}
		hs.taken[path.Base(m.Key)] = true
		if m.Shard == w.shard {
			hs.own = append(hs.own, m)
		}
	}
	if len(hs.own) > 0 {
		w.e.log.Info("s3export: resuming an hour with completed files", "shard", w.shard,
			"hour", fk.start(), "files", len(hs.own))
	}
	w.hours[fk] = hs
	return hs, nil
}

// open starts the file for fk whose first record is at, processed at p.
func (w *ShardWriter) open(ctx context.Context, fk fileKey, hs *hourState, p time.Time, at pos) (*file, error) {
	suffix, err := w.e.shardSuffix(ctx, w.shard)
	if err != nil {
		return nil, err
	}
	base := p.Truncate(time.Second)
	if prev := hs.before(at); prev != nil && prev.Close == closeSize {
		base = prev.Base // the next part of a size split
	}
	gz := w.e.cfg.gzip
	part := 1
	for hs.taken[fileName(fk.s, base, suffix, part, gz)] {
		part++
	}
	name := fileName(fk.s, base, suffix, part, gz)
	f := &file{
		key:      fk,
		name:     name,
		dataKey:  w.e.root + fk.s.dir(fk.start()) + name,
		base:     base,
		part:     part,
		deadline: fk.start().Add(time.Hour + w.e.cfg.grace),
	}
	h := Header{ContentType: "application/x-ndjson", SizeHint: w.e.cfg.maxFileSize}
	if !fk.s.json {
		h.ContentType = "text/csv"
	}
	if gz {
		h.ContentEncoding = "gzip"
	}
	if f.obj, err = w.e.target.Create(ctx, f.dataKey, h); err != nil {
		return nil, err
	}
	f.w = f.obj
	if gz {
		f.gz, _ = w.e.gzPool.Get().(*gzip.Writer)
		if f.gz == nil {
			f.gz = gzip.NewWriter(f.obj)
		} else {
			f.gz.Reset(f.obj)
		}
		f.w = f.gz
	}
	if !fk.s.json {
		hdr, err := event.CSVHeader(fk.s.typ)
		if err != nil {
			return nil, err
		}
		// Not through w.row: open may run between encoding a row and
		// writing it (a size split).
		w.hdr.Reset()
		if err := w.hdrCSV.Write(hdr); err != nil {
			return nil, err
		}
		w.hdrCSV.Flush()
		if _, err := f.w.Write(w.hdr.Bytes()); err != nil {
			return nil, err
		}
		f.size = int64(w.hdr.Len())
	}
	hs.taken[name] = true
	w.files[fk] = f
	if w.deadline.IsZero() || f.deadline.Before(w.deadline) {
		w.deadline = f.deadline
	}
	w.count(func(s *Stats) { s.OpenFiles++ })
	w.e.log.Debug("s3export: file opened", "shard", w.shard, "key", f.dataKey)
	return f, nil
}

// closeDue closes the files whose hour's grace period ended at or before p.
func (w *ShardWriter) closeDue(ctx context.Context, p time.Time) error {
	w.deadline = time.Time{}
	for _, f := range w.files {
		if !p.Before(f.deadline) {
			if err := w.close(ctx, f, closeTime); err != nil {
				return w.fatal(err)
			}
			continue
		}
		if w.deadline.IsZero() || f.deadline.Before(w.deadline) {
			w.deadline = f.deadline
		}
	}
	// Forget hours long past whose files are all stored; a very late event
	// lists them again.
	for fk, hs := range w.hours {
		if _, open := w.files[fk]; !open && hs.inflight.Load() == 0 &&
			!p.Before(fk.start().Add(2*time.Hour+w.e.cfg.grace)) {
			delete(w.hours, fk)
		}
	}
	return nil
}

// close ends f and hands it to an upload goroutine, which completes the
// object, stores its manifest and then acknowledges its records.
func (w *ShardWriter) close(ctx context.Context, f *file, why closeReason) error {
	delete(w.files, f.key)
	w.count(func(s *Stats) { s.OpenFiles-- })
	if f.gz != nil {
		if err := f.gz.Close(); err != nil {
			return fmt.Errorf("s3export: gzip %s: %w", f.dataKey, err)
		}
		w.e.gzPool.Put(f.gz)
		f.gz = nil
	}
	m := manifest{
		Key: f.dataKey, Shard: w.shard, First: f.first, Last: f.last,
		Base: f.base, Part: f.part, Close: why, Events: f.events,
	}
	hs := w.hours[f.key]
	hs.own = append(hs.own, m)
	hs.inflight.Add(1)
	select {
	case w.e.sem <- struct{}{}:
	case <-ctx.Done():
		hs.inflight.Add(-1)
		return context.Cause(ctx)
	}
	w.uploads.Add(1)
	uctx := context.WithoutCancel(ctx)
	go func() {
		defer w.uploads.Done()
		defer func() { <-w.e.sem }()
		defer hs.inflight.Add(-1)
		err := w.commit(uctx, f, &m)
		if err != nil {
			_ = f.obj.Abort(uctx)
			w.fatal(err)
			for _, a := range f.acks {
				a.Fail(err)
			}
			return
		}
		for _, a := range f.acks {
			a.Done()
		}
		w.count(func(s *Stats) {
			s.Uploaded += f.events
			s.FilesCompleted++
			s.BytesUploaded += m.Bytes
		})
		w.e.log.Debug("s3export: file completed", "shard", w.shard, "key", f.dataKey,
			"events", f.events, "bytes", m.Bytes, "close", string(why))
	}()
	return nil
}

func (w *ShardWriter) commit(ctx context.Context, f *file, m *manifest) error {
	n, err := f.obj.Commit(ctx)
	if err != nil {
		return err
	}
	m.Bytes = n
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	key := w.manifestPrefix(f.key) + f.name + ".json"
	return w.e.target.Put(ctx, key, Header{ContentType: "application/json"}, b)
}

// Close closes the writer's open files (final: a later run continues their
// hours in new files), waits until every upload finished or ctx ends, and
// returns the writer's failure, if any. Later calls to Write return
// ErrClosed.
func (w *ShardWriter) Close(ctx context.Context) error {
	if !w.closed {
		w.closed = true
		if w.failed() == nil {
			for _, f := range w.files {
				if err := w.close(ctx, f, closeStop); err != nil {
					w.fatal(err)
					break
				}
			}
		}
		w.deadline = time.Time{}
	}
	done := make(chan struct{})
	go func() {
		w.uploads.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	return w.failed()
}

// bad handles a record that belongs in no data file: it is stored under the
// error prefix, if any, and returned as a *BadRecordError.
func (w *ShardWriter) bad(ctx context.Context, r Record, why error) error {
	w.count(func(s *Stats) { s.BadRecords++ })
	be := &BadRecordError{ShardID: w.shard, SequenceNumber: r.SequenceNumber, SubSequenceNumber: r.SubSequenceNumber, Err: why}
	if w.e.cfg.errorPrefix == "" {
		return be
	}
	doc, err := json.Marshal(struct {
		ShardID           string `json:"shardId"`
		SequenceNumber    string `json:"sequenceNumber"`
		SubSequenceNumber uint64 `json:"subSequenceNumber"`
		Error             string `json:"errorMessage"`
		RawData           string `json:"rawData"`
	}{w.shard, r.SequenceNumber, r.SubSequenceNumber, why.Error(), base64.StdEncoding.EncodeToString(r.Data)})
	if err != nil {
		return w.fatal(err)
	}
	key := w.e.cfg.errorPrefix + safeName(w.shard) + "/" + safeName(r.SequenceNumber) + "_" +
		strconv.FormatUint(r.SubSequenceNumber, 10) + ".json"
	if err := w.e.target.Put(ctx, key, Header{ContentType: "application/json"}, append(doc, '\n')); err != nil {
		return w.fatal(err)
	}
	be.ErrorKey = key
	return be
}

// safeName keeps a key element free of separators.
func safeName(s string) string {
	if s == "" {
		return "_"
	}
	return strings.NewReplacer("/", "_", "\\", "_", "..", "__").Replace(s)
}

// Abandon drops the writer's open files without storing them and without
// acknowledging their records: the shard moved to another worker, which
// reads them again from the checkpoint and writes the same files. Uploads
// already started finish. Later calls to Write return ErrClosed.
func (w *ShardWriter) Abandon(ctx context.Context) {
	w.closed = true
	for fk, f := range w.files {
		if f.gz != nil {
			_ = f.gz.Close()
		}
		_ = f.obj.Abort(ctx)
		delete(w.files, fk)
		w.count(func(s *Stats) { s.OpenFiles-- })
	}
	w.deadline = time.Time{}
}
