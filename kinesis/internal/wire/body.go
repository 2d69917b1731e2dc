package wire

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"

	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// A PutRecords request body is up to about 7 MB of JSON (5 MiB of data in
// base64). Allocating a fresh one per request costs the clearing of new
// memory and the page faults of touching it, about as much CPU as the
// signer's SHA-256 of it. A caller that says when a call is over (Track,
// Tracker.Release) gets its bodies from a pool instead.
//
// The body is handed back only when the call succeeded and the transport
// had read all of it: the server answered after reading the whole body,
// so nothing reads its bytes again (a read at the end returns io.EOF
// without touching them, and nothing rewinds a body once the SDK's call
// has returned). Otherwise the buffer is left to the garbage collector.

// maxPooledRequest bounds the bodies kept for reuse.
const maxPooledRequest = 8 << 20

var requests = sync.Pool{New: func() any { return new([]byte) }}

// body is a seekable reader over one request body. Its position is atomic
// so that Tracker.Release can tell, after the call, whether the transport
// read all of it.
type body struct {
	buf []byte
	pos atomic.Int64
}

var errNegativePosition = errors.New("wire: negative position")

func (b *body) Read(p []byte) (int, error) {
	i := b.pos.Load()
	if i >= int64(len(b.buf)) {
		return 0, io.EOF
	}
	n := copy(p, b.buf[i:])
	b.pos.Store(i + int64(n))
	return n, nil
}

// WriteTo lets the signer hash the body in place.
func (b *body) WriteTo(w io.Writer) (int64, error) {
	i := b.pos.Load()
	if i >= int64(len(b.buf)) {
		return 0, nil
	}
	rest := b.buf[i:]
	n, err := w.Write(rest)
	b.pos.Store(i + int64(n))
	if err == nil && n != len(rest) {
		err = io.ErrShortWrite
	}
	return int64(n), err
}

func (b *body) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = b.pos.Load() + offset
	case io.SeekEnd:
		abs = int64(len(b.buf)) + offset
	default:
		return 0, errors.New("wire: invalid whence")
	}
	if abs < 0 {
		return 0, errNegativePosition
	}
	b.pos.Store(abs)
	return abs, nil
}

// Len is the number of unread bytes (the SDK takes the content length from
// it, as from a bytes.Reader).
func (b *body) Len() int {
	i := b.pos.Load()
	if i >= int64(len(b.buf)) {
		return 0
	}
	return len(b.buf) - int(i)
}

// Tracker follows the request body of one PutRecords call made with a
// context from Track, so that Release can reuse it.
type Tracker struct {
	b   *body
	box *[]byte // the pool's holder of b's buffer
}

type trackerKey struct{}

// Track returns ctx carrying t: the fast codec then takes the request body
// of the PutRecords call made with it from a pool and records it in t.
// Call t.Release once the call has returned.
func Track(ctx context.Context, t *Tracker) context.Context {
	return context.WithValue(ctx, trackerKey{}, t)
}

// Release ends the tracked call: ok says it succeeded. Its request body
// goes back to the pool when ok and the transport read all of it.
func (t *Tracker) Release(ok bool) {
	b, box := t.b, t.box
	if b == nil {
		return
	}
	t.b, t.box = nil, nil
	if ok && b.pos.Load() == int64(len(b.buf)) && cap(b.buf) <= maxPooledRequest {
		*box = b.buf[:0]
		requests.Put(box)
	}
}

// putRecordsBody encodes in into a pooled buffer when ctx carries a
// Tracker, into a new one of the exact size otherwise.
func putRecordsBody(ctx context.Context, in *sdkkinesis.PutRecordsInput) *body {
	n := putRecordsLen(in)
	t, _ := ctx.Value(trackerKey{}).(*Tracker)
	if t == nil || t.b != nil {
		return &body{buf: encodePutRecords(make([]byte, 0, n), in)}
	}
	box := requests.Get().(*[]byte)
	buf := *box
	*box = nil
	if cap(buf) < n {
		// Rounded up, so that the buffer fits the next requests too.
		buf = make([]byte, 0, (n+pooledRound-1)/pooledRound*pooledRound)
	}
	b := &body{buf: encodePutRecords(buf[:0], in)}
	t.b, t.box = b, box
	return b
}

// pooledRound is the granularity of pooled request buffers.
const pooledRound = 64 << 10
