package event

import (
	"bufio"
	"fmt"
	"io"
)

// NDJSONWriter writes events as newline-delimited JSON, one event's full
// JSON (AppendJSON) per line: the S3 integration's JSON format. It is not
// safe for concurrent use.
type NDJSONWriter struct {
	w   *bufio.Writer
	buf []byte
}

// NewNDJSONWriter returns a writer of NDJSON lines to w. Writes are
// buffered: call Flush.
func NewNDJSONWriter(w io.Writer) *NDJSONWriter {
	return &NDJSONWriter{w: bufio.NewWriter(w)}
}

// Write writes e as one line.
func (w *NDJSONWriter) Write(e Event) error {
	w.buf = AppendJSON(w.buf[:0], e)
	w.buf = append(w.buf, '\n')
	if _, err := w.w.Write(w.buf); err != nil {
		return fmt.Errorf("event: writing NDJSON: %w", err)
	}
	return nil
}

// Flush writes buffered lines to the underlying writer.
func (w *NDJSONWriter) Flush() error {
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("event: writing NDJSON: %w", err)
	}
	return nil
}
