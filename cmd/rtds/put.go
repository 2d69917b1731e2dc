package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/rtdskit/rtds/event"
)

func init() {
	register(command{
		name:    "put",
		summary: "send newline-delimited event JSON to a Kinesis stream",
		run:     runPut,
	})
}

const putUsage = `usage: rtds put --stream NAME [--aggregate] [--partition-key channel|id|named_user]
                [--ttl DURATION] [--debug] [FILE...]

Reads newline-delimited RTDS event JSON from the files (standard input when
none, or for "-"), checks that each line is an event (one JSON object with
a non-empty string id and type; the rest is not decoded), and sends each
line unchanged as one record to the Kinesis stream NAME (a name or an ARN).
Lines of any length are read. A line that is not an event, or is over the
1 MiB record limit, is reported on standard error as file:line: and
skipped; every later line is still sent.

The endpoint, region and credentials come from the standard AWS
configuration: AWS_ENDPOINT_URL_KINESIS (or AWS_ENDPOINT_URL), AWS_REGION,
and the default credential chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
AWS_PROFILE, ...). A missing region or credentials, an invalid endpoint
URL, a missing stream or denied access fail at once with one line. If the
endpoint gives no answer within 5s, put fails too. Once it has answered,
throttling and connection errors are retried without limit: reading slows
down while records wait (back-pressure), and the progress line shows the
last error. No record expires unless --ttl is given.

A record that is not delivered is reported as file:line: with its event
id (the first 10, then how many more). Progress and the summary go to
standard error. On SIGINT or SIGTERM, put stops reading, delivers what it
read, and says where to resume (file:line); exit status 130. A second
SIGINT exits at once, saying which lines may not have been delivered.

Exit status: 0 when every line was an event and every event was
delivered, 1 otherwise, 2 for a usage error, 130 when interrupted.

Flags:
`

// maxLine is the longest line put sends: a Kinesis record holds at most
// 1 MiB (data plus partition key). Longer lines are skipped without being
// held in memory.
const maxLine = 1 << 20

// maxFailureLines is how many undelivered records put reports one by one.
const maxFailureLines = 10

// drainProgressEvery is how often put prints a progress line while it
// drains (after reading stopped) when standard error is not a terminal.
const drainProgressEvery = 2 * time.Second

// noTTL is the producer's "never expire" (kinesis.WithRecordTTL).
const noTTL = time.Duration(math.MaxInt64)

func runPut(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "put", putUsage)
	stream := fs.String("stream", "", "the stream's `NAME` or ARN (required)")
	aggregate := fs.Bool("aggregate", false, "pack events into KPL aggregated records")
	keyName := fs.String("partition-key", "channel", "partition `KEY`: channel, id or named_user")
	ttl := fs.Duration("ttl", 0, "fail a record not delivered within this `DURATION` (0: never)")
	debug := fs.Bool("debug", false, "log the library's and the AWS SDK's messages to standard error")
	if ok, code := fs.parse(args); !ok {
		return code
	}
	if *stream == "" {
		return fs.usageError("--stream is required")
	}
	keyFn, ok := rawPartitionKeyFunc(*keyName)
	if !ok {
		return fs.usageError("--partition-key %q: want channel, id or named_user", *keyName)
	}
	if *ttl < 0 {
		return fs.usageError("--ttl %v: must not be negative", *ttl)
	}
	aw, err := newAWS(ctx, env, *debug)
	if err == nil {
		err = aw.preflight(ctx, *stream)
	}
	if err != nil {
		if errors.Is(err, errInterrupted) || ctx.Err() != nil {
			env.errorf("put", "interrupted before the first request; nothing sent")
			return 130
		}
		env.errorf("put", "%v", err)
		return 1
	}

	files := fs.Args()
	if len(files) == 0 {
		files = []string{"-"}
	}
	r := &putRun{env: env, stream: *stream, files: files, pending: map[*byte]putPos{}}
	readCtx, stopReading := context.WithCancelCause(ctx)
	defer stopReading(nil)
	r.stopReading = stopReading
	p, err := newPutProducer(aw, *stream, *aggregate, *ttl, r)
	if err != nil {
		env.errorf("put", "%v", err)
		return 1
	}
	r.p = p
	stopProgress := r.progress()

	lines := make(chan inputLine, 16)
	go readInputs(readCtx, env, files, lines)
	r.sendAll(readCtx, lines, keyFn)

	// Drain: deliver everything read. A second interrupt ends the
	// process at once (main), after these last words.
	r.mu.Lock()
	r.draining = true
	r.mu.Unlock()
	env.setLastWords(r.lastWords)
	defer env.setLastWords(nil)
	closeCtx := context.WithoutCancel(ctx)
	if r.fatalErr() != nil {
		// Nothing can be delivered: fail what is buffered now.
		c, cancel := context.WithCancel(closeCtx)
		cancel()
		closeCtx = c
	}
	closeErr := p.close(closeCtx)
	stopProgress()
	return r.report(ctx, closeErr)
}

// putPos is where a record's line is: file (or stdin) and line, and its
// event id.
type putPos struct {
	fileIdx int
	file    string
	line    int
	id      string
}

func (p putPos) String() string {
	if p.line == 0 {
		return p.file
	}
	return fmt.Sprintf("%s:%d", p.file, p.line)
}

// putRun is one run of rtds put.
type putRun struct {
	env         *cmdEnv
	stream      string
	files       []string
	p           putProducer
	stopReading context.CancelCauseFunc

	// Counted by sendAll (one goroutine).
	lines, events, bad int64
	readErr            bool
	next               putPos // the first line not sent: where to resume

	mu       sync.Mutex
	pending  map[*byte]putPos // records put and without an outcome yet
	failed   int64
	shown    int
	fatal    error // a permanent error: nothing more can be delivered
	lastErr  error // the last retried attempt's error, until a request succeeds
	draining bool
}

// inputLine is one line read, or the end of one input.
type inputLine struct {
	fileIdx int
	file    string
	n       int    // line number, from 1
	data    []byte // the line without its newline; nil when tooLong
	size    int64  // the line's length
	tooLong bool
	eof     bool  // the input ended (no line)
	err     error // with eof: why reading failed
}

// readInputs reads the files in order and sends their lines to out; it
// closes out at the end or when ctx is done.
func readInputs(ctx context.Context, env *cmdEnv, files []string, out chan<- inputLine) {
	defer close(out)
	for i, name := range files {
		var in io.Reader = env.stdin
		label := "stdin"
		if name != "-" {
			f, err := os.Open(name)
			if err != nil {
				if !sendLine(ctx, out, inputLine{fileIdx: i, file: name, eof: true, err: err}) {
					return
				}
				continue
			}
			in, label = f, name
			defer f.Close()
		}
		if !readInputLines(ctx, in, i, label, out) {
			return
		}
	}
}

func sendLine(ctx context.Context, out chan<- inputLine, l inputLine) bool {
	select {
	case out <- l:
		return true
	case <-ctx.Done():
		return false
	}
}

// readInputLines reads lines of any length from in. A line over maxLine bytes is
// sent as tooLong without its data: the rest of it is discarded as it is
// read, so memory stays bounded.
func readInputLines(ctx context.Context, in io.Reader, fileIdx int, label string, out chan<- inputLine) bool {
	br := bufio.NewReaderSize(in, 64<<10)
	var buf []byte
	var size int64
	tooLong := false
	n := 0
	for {
		chunk, err := br.ReadSlice('\n')
		size += int64(len(chunk))
		if !tooLong {
			if len(buf)+len(chunk) > maxLine+2 { // +2: "\r\n"
				tooLong, buf = true, buf[:0]
			} else {
				buf = append(buf, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if size > 0 {
			n++
			l := inputLine{fileIdx: fileIdx, file: label, n: n, tooLong: tooLong}
			if !tooLong {
				line := bytes.TrimSuffix(bytes.TrimSuffix(buf, []byte("\n")), []byte("\r"))
				if len(line) > maxLine {
					l.tooLong = true
				} else {
					l.data = bytes.Clone(line)
				}
			}
			l.size = size
			if bytes.HasSuffix(chunk, []byte("\n")) {
				l.size-- // the line's length, without its newline
			}
			if !sendLine(ctx, out, l) {
				return false
			}
		}
		buf, size, tooLong = buf[:0], 0, false
		if err != nil {
			l := inputLine{fileIdx: fileIdx, file: label, n: n, eof: true}
			if err != io.EOF {
				l.err = err
			}
			return sendLine(ctx, out, l)
		}
	}
}

// sendAll puts every event line read, until the input ends or ctx is done
// (interrupted, or a permanent error).
func (r *putRun) sendAll(ctx context.Context, lines <-chan inputLine, keyFn rawPartitionKeyFn) {
	r.next = r.startOf(0)
	for {
		var l inputLine
		var ok bool
		select {
		case l, ok = <-lines:
		case <-ctx.Done():
			return
		}
		if !ok {
			return
		}
		if l.eof {
			if l.err != nil {
				if l.n == 0 && !strings.HasPrefix(l.file, "stdin") {
					r.env.errorf("put", "%v", l.err)
				} else {
					r.env.errorf("put", "%s:%d: %v", l.file, l.n+1, l.err)
				}
				r.readErr = true
			}
			r.next = r.startOf(l.fileIdx + 1)
			continue
		}
		pos := putPos{fileIdx: l.fileIdx, file: l.file, line: l.n}
		r.next = putPos{fileIdx: l.fileIdx, file: l.file, line: l.n + 1}
		r.lines++
		if l.tooLong {
			r.env.errorf("put", "%s: line of %d bytes is over the %d-byte record limit; skipped", pos, l.size, maxLine)
			r.bad++
			continue
		}
		if len(bytes.TrimSpace(l.data)) == 0 {
			continue // blank lines are keep-alives in RTDS streams
		}
		// The key is found without decoding the event; the line is sent
		// as read.
		k, err := event.PeekKeys(l.data)
		if err != nil {
			r.env.errorf("put", "%s: %v", pos, err)
			r.bad++
			continue
		}
		pos.id = k.ID
		pk := keyFn(k)
		if pk == "" {
			r.env.errorf("put", "%s: event %s has no partition key; skipped", pos, pos.id)
			r.bad++
			continue
		}
		r.mu.Lock()
		r.pending[&l.data[0]] = pos
		r.mu.Unlock()
		if err := r.p.put(ctx, pk, l.data); err != nil {
			r.mu.Lock()
			delete(r.pending, &l.data[0])
			r.mu.Unlock()
			if ctx.Err() != nil {
				// The line waited for buffer space: it was not sent, and
				// it is where to resume.
				r.lines--
				r.next = pos
				return
			}
			if isRecordTooLarge(err) {
				r.env.errorf("put", "%s: event %s with its partition key is over the %d-byte record limit; skipped", pos, pos.id, maxLine)
			} else {
				r.env.errorf("put", "%s: event %s: %v", pos, pos.id, err)
			}
			r.bad++
			continue
		}
		r.events++
	}
}

// startOf is the first line of the i-th input.
func (r *putRun) startOf(i int) putPos {
	if i >= len(r.files) {
		return putPos{fileIdx: i, file: "(the end of the input)"}
	}
	if r.files[i] == "-" {
		return putPos{fileIdx: i, file: "stdin", line: 1}
	}
	return putPos{fileIdx: i, file: r.files[i], line: 1}
}

// result receives every record's outcome from the producer.
func (r *putRun) result(data []byte, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var pos putPos
	if len(data) > 0 {
		pos = r.pending[&data[0]]
		delete(r.pending, &data[0])
	}
	if err == nil {
		return
	}
	r.failed++
	if permanent(err) {
		if r.fatal == nil {
			r.fatal = describeAWSError(err, r.stream)
			r.stopReading(r.fatal)
		}
		return // reported once, in the summary
	}
	if r.fatal != nil {
		return
	}
	if r.shown < maxFailureLines {
		r.shown++
		r.env.errorf("put", "%s: event %s not delivered: %v", pos, pos.id, describeRecordError(err))
	}
}

// retried notes the last error that made the producer retry; a request
// that succeeds clears it.
func (r *putRun) retried(err error) {
	r.mu.Lock()
	r.lastErr = err
	r.mu.Unlock()
}

func (r *putRun) succeeded() {
	r.mu.Lock()
	r.lastErr = nil
	r.mu.Unlock()
}

func (r *putRun) fatalErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fatal
}

// earliestPending is the first line (in input order) put and not yet
// delivered, and how many such records there are.
func (r *putRun) earliestPending() (putPos, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var first putPos
	found := false
	for _, p := range r.pending {
		if !found || p.fileIdx < first.fileIdx || p.fileIdx == first.fileIdx && p.line < first.line {
			first, found = p, true
		}
	}
	return first, len(r.pending)
}

// lastWords is what put says when a second interrupt ends it during the
// drain.
func (r *putRun) lastWords(w io.Writer) {
	first, n := r.earliestPending()
	st := r.p.stats()
	if n == 0 {
		fmt.Fprintf(w, "\nrtds put: interrupted again: exiting; %s read, %s delivered, resume from %s\n",
			plural(r.lines, "line"), plural(st.delivered, "event"), r.next)
		return
	}
	fmt.Fprintf(w, "\nrtds put: interrupted again: exiting; %s read, %s delivered; %s from %s on may not have been delivered: resume from %s\n",
		plural(r.lines, "line"), plural(st.delivered, "event"), plural(int64(n), "event"), first, first)
}

// progress shows a status line: redrawn every 200 ms on a terminal; when
// standard error is not a terminal, one line every drainProgressEvery
// while draining. The returned function stops it.
func (r *putRun) progress() (stop func()) {
	tty := r.env.stderrIsTerminal
	every := 200 * time.Millisecond
	if !tty {
		every = drainProgressEvery
	}
	start := time.Now()
	drew := false
	stopTicks := tick(every, func() {
		r.mu.Lock()
		draining, lastErr := r.draining, r.lastErr
		r.mu.Unlock()
		if !tty && !draining {
			return
		}
		st := r.p.stats()
		line := fmt.Sprintf("rtds put: %.0f events/s, %d sent, %d delivered, %d retried, %d failed",
			float64(st.records)/time.Since(start).Seconds(), st.records, st.delivered, st.retried, st.failed)
		if draining {
			line = fmt.Sprintf("rtds put: delivering: %d of %d events delivered, %d retried, %d failed",
				st.delivered, st.records, st.retried, st.failed)
		}
		if lastErr != nil {
			line += "; retrying: " + errorCause(lastErr).Error()
		}
		if tty {
			fmt.Fprintf(r.env.stderr, "\r%s\x1b[K", line)
			drew = true
		} else {
			fmt.Fprintln(r.env.stderr, line)
		}
	})
	return func() {
		stopTicks() // returns once the last tick is done, so drew is settled
		if drew {
			fmt.Fprint(r.env.stderr, "\r\x1b[K")
		}
	}
}

// report prints the summary and returns the exit status.
func (r *putRun) report(ctx context.Context, closeErr error) int {
	st := r.p.stats()
	r.mu.Lock()
	failed, shown, fatal := r.failed, r.shown, r.fatal
	r.mu.Unlock()
	if more := failed - int64(shown); more > 0 && fatal == nil {
		r.env.errorf("put", "... and %s not shown", plural(more, "more undelivered event"))
	}
	summary := fmt.Sprintf("%s, %s, %s, %s, %s",
		plural(st.records, "event"), plural(st.kinesisRecords, "Kinesis record"),
		plural(st.requests, "request"), plural(st.retried, "retry"), plural(st.failed, "failure"))
	summary = strings.Replace(summary, "retrys", "retries", 1)
	if r.bad > 0 {
		summary += ", " + plural(r.bad, "bad line")
	}
	r.env.errorf("put", "%s", summary)
	if fatal != nil {
		r.env.errorf("put", "%v; %s not delivered", fatal, plural(failed, "event"))
		return 1
	}
	if ctx.Err() != nil {
		r.env.errorf("put", "interrupted: %s read, %s delivered; resume from %s",
			plural(r.lines, "line"), plural(st.delivered, "event"), r.next)
		return 130
	}
	if closeErr != nil {
		r.env.errorf("put", "%v", closeErr)
	}
	if r.readErr || r.bad > 0 || closeErr != nil || st.failed > 0 || st.delivered != st.records {
		return 1
	}
	return 0
}
