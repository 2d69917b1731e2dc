package connect

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rtdskit/rtds/event"
)

// stream makes one connection resuming after offset and hands its events
// to yield until the connection ends. connected reports a 200 answer. It
// returns errStopped when yield returned false, else why the connection
// ended (never nil: the stream has no end).
func (c *Client) stream(ctx context.Context, offset string, yield func(*Event, error) bool) (connected bool, err error) {
	connCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var idle *time.Timer
	if c.cfg.idleTimeout > 0 {
		idle = time.AfterFunc(c.cfg.idleTimeout, func() { cancel(errIdle) })
		defer idle.Stop()
	}
	resp, m, err := c.request(connCtx, offset)
	if err != nil {
		if context.Cause(connCtx) == errIdle && ctx.Err() == nil {
			return false, fmt.Errorf("connect: no answer within %v: %w", c.cfg.idleTimeout, errIdle)
		}
		return false, err
	}
	defer resp.Body.Close()
	var body io.Reader = resp.Body
	if strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		m.Gzip = true
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return true, c.readError(ctx, connCtx, fmt.Errorf("connect: gzip stream: %w", err))
		}
		defer zr.Close()
		body = zr
	}
	c.connections.Add(1)
	for _, h := range c.hookConnect {
		h.OnConnect(m)
	}
	c.log.Info("connected", "url", m.URL, "resume_offset", m.ResumeOffset, "start", string(m.Start),
		"redirects", m.Redirects, "gzip", m.Gzip, "latency", m.Latency)

	br := bufio.NewReaderSize(body, 64<<10)
	var buf []byte
	for {
		if idle != nil {
			idle.Reset(c.cfg.idleTimeout)
		}
		line, tooLong, err := readLine(br, &buf, c.cfg.maxEventBytes)
		if err != nil {
			return true, c.readError(ctx, connCtx, err)
		}
		c.bytesRead.Add(int64(len(line)) + 1)
		if tooLong {
			c.malformed.Add(1)
			c.log.Warn("skipped a line over the size limit", "limit", c.cfg.maxEventBytes)
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 {
			c.keepAlives.Add(1)
			continue
		}
		e, ok := c.newEvent(line)
		if !ok {
			continue
		}
		if idle != nil {
			idle.Stop() // the application may take its time
		}
		if !yield(e, nil) {
			return true, errStopped
		}
	}
}

// readError is why reading the stream stopped: the idle timeout, ctx, or a
// dropped connection.
func (c *Client) readError(ctx, connCtx context.Context, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if context.Cause(connCtx) == errIdle {
		return fmt.Errorf("connect: stream silent for %v: %w", c.cfg.idleTimeout, errIdle)
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF // the stream never ends by itself
	}
	return fmt.Errorf("connect: stream dropped: %w", err)
}

// newEvent decodes a line into an Event and records it with the acker;
// ok is false for a malformed line (logged and counted).
func (c *Client) newEvent(line []byte) (*Event, bool) {
	data := bytes.Clone(line)
	ev, err := event.Decode(data)
	if err != nil {
		c.malformed.Add(1)
		c.log.Warn("skipped a line that is not an event", "error", err, "line", excerpt(data))
		return nil, false
	}
	b := ev.Base()
	e := &Event{Offset: b.Offset, Type: b.Type, ID: b.ID, Data: data, Event: ev, Received: time.Now(), acks: c.acks}
	if !b.Processed.IsZero() {
		c.lastProcNano.Store(b.Processed.UnixNano())
	}
	offset := b.Offset
	if offset == "" {
		// Without an offset the event cannot be resumed after: it keeps
		// the resume point where it is.
		_, offset, _ = c.acks.state()
	}
	isUpdate := b.Type == event.TypeOffsetUpdate
	if isUpdate {
		c.offsetUpds.Add(1)
	}
	e.seq = c.acks.add(offset, isUpdate)
	c.events.Add(1)
	return e, true
}

// readLine reads one line without its "\n" (and "\r") into *buf. A line
// over max bytes is consumed and reported as tooLong without its data. A
// partial last line (the connection dropped in its middle) is an error:
// it is never handed over.
func readLine(br *bufio.Reader, buf *[]byte, max int) (line []byte, tooLong bool, err error) {
	*buf = (*buf)[:0]
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(*buf)+len(chunk) > max+2 {
				tooLong, *buf = true, (*buf)[:0]
			} else {
				*buf = append(*buf, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && (len(*buf) > 0 || tooLong) {
				err = fmt.Errorf("a line cut at %d bytes: %w", len(*buf), io.ErrUnexpectedEOF)
			}
			return nil, false, err
		}
		l := bytes.TrimSuffix(bytes.TrimSuffix(*buf, []byte("\n")), []byte("\r"))
		if len(l) > max {
			tooLong = true
		}
		if tooLong {
			return nil, true, nil
		}
		return l, false, nil
	}
}
