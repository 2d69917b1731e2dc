package s3export

import (
	"context"
	"io"
)

// Target stores an exporter's objects: S3 (NewS3Target) or a local
// directory (NewDirTarget). Keys are relative to the target's root (the
// bucket's prefix, the directory) and use '/' as the separator.
//
// A Target is used by many shard writers at once: it must be safe for
// concurrent use.
type Target interface {
	// Create begins the object at key. Nothing is visible at key until the
	// returned Object is committed; creating a key again replaces whatever
	// an earlier, unfinished attempt left behind.
	Create(ctx context.Context, key string, h Header) (Object, error)
	// Put stores a small object in one call.
	Put(ctx context.Context, key string, h Header, data []byte) error
	// Get returns a small object's bytes.
	Get(ctx context.Context, key string) ([]byte, error)
	// List returns, in lexical order, the keys that start with prefix and
	// have no '/' after it.
	List(ctx context.Context, prefix string) ([]string, error)
}

// Header is the metadata of an object.
type Header struct {
	ContentType     string
	ContentEncoding string
	// SizeHint is the largest size the object may reach (0: unknown); an
	// S3 target sizes its multipart parts so that the object fits in
	// 10,000 parts.
	SizeHint int64
}

// Object is an object being written. Write only buffers (an S3 object
// holds at most about one part in memory); Flush does the I/O for what is
// complete so far; Commit makes the object visible at its key; Abort
// discards it. An Object is used by one goroutine at a time.
type Object interface {
	io.Writer
	// Flush uploads the parts that are complete (S3) or writes buffered
	// bytes to the file (directory).
	Flush(ctx context.Context) error
	// Commit writes the rest and makes the object visible. It returns the
	// object's size.
	Commit(ctx context.Context) (int64, error)
	// Abort discards the object; it is safe after a failed Commit.
	Abort(ctx context.Context) error
}
