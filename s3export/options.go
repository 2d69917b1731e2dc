package s3export

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Defaults of the options.
const (
	// DefaultFormat is the output format without WithFormat: JSON keeps
	// every event exactly as received.
	DefaultFormat = FormatJSON
	// DefaultMaxFileSize is Airship's file size limit, 15 GB.
	DefaultMaxFileSize int64 = 15_000_000_000
	// DefaultGracePeriod is how long, in record time, an hour's files stay
	// open for late events after the hour ends.
	DefaultGracePeriod = 5 * time.Minute
	// DefaultUploadConcurrency is how many closed files upload at once.
	DefaultUploadConcurrency = 4
)

// Option configures an Exporter.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	format            Format
	gzip              bool
	maxFileSize       int64
	grace             time.Duration
	noLayoutToJSON    bool
	errorPrefix       string
	shardSuffix       func(ctx context.Context, shardID string) (bool, error)
	uploadConcurrency int
	dedupe            int
	logger            *slog.Logger
	err               error
}

func (c *config) setErr(err error) {
	if c.err == nil {
		c.err = err
	}
}

// WithFormat sets the output format, FormatCSV or FormatJSON. Default
// DefaultFormat (JSON).
func WithFormat(f Format) Option {
	return optionFunc(func(c *config) {
		if f != FormatCSV && f != FormatJSON {
			c.setErr(fmt.Errorf("s3export: WithFormat(%q): want %q or %q", f, FormatCSV, FormatJSON))
			return
		}
		c.format = f
	})
}

// WithGzip compresses every data file with gzip: ".gz" is appended to the
// name and the object gets Content-Encoding: gzip. Default: off.
func WithGzip(on bool) Option {
	return optionFunc(func(c *config) { c.gzip = on })
}

// WithMaxFileSize sets the largest file, in bytes before compression
// (header row included): an hour that would exceed it continues in
// _part2, _part3, ... Default DefaultMaxFileSize (15 GB, as Airship).
func WithMaxFileSize(n int64) Option {
	return optionFunc(func(c *config) {
		if n <= 0 {
			c.setErr(fmt.Errorf("s3export: WithMaxFileSize(%d): must be positive", n))
			return
		}
		c.maxFileSize = n
	})
}

// WithGracePeriod sets how long after the end of an hour its files stay
// open for late events, measured in record time: a shard's files for hour
// H are closed by the first later record of that shard whose processed time
// is at or after H+1h+d, never by the wall clock, so a re-run writes the
// same files. A late event for a closed hour starts a new file named after
// it. Default DefaultGracePeriod.
func WithGracePeriod(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d < 0 {
			c.setErr(fmt.Errorf("s3export: WithGracePeriod(%v): must not be negative", d))
			return
		}
		c.grace = d
	})
}

// WithNoLayoutToJSON, in CSV mode, writes events of types without a CSV
// layout to the JSON layout (S3_JSON/...) instead of only counting them
// in Stats().NoLayout. Default: off.
func WithNoLayoutToJSON(on bool) Option {
	return optionFunc(func(c *config) { c.noLayoutToJSON = on })
}

// WithErrorPrefix stores every record that cannot go into a data file (not
// an event, no processed time) under prefix, relative to the target's root,
// as prefix/SHARD/SEQUENCE_SUBSEQUENCE.json: a JSON object with the
// record's position, the error and the record's bytes (base64), as Amazon
// Data Firehose's error output prefix does. Default: "" (not stored; the
// record is still returned to the caller as a *BadRecordError).
func WithErrorPrefix(prefix string) Option {
	return optionFunc(func(c *config) {
		p := strings.Trim(prefix, "/")
		if strings.Contains(p, "..") {
			c.setErr(fmt.Errorf("s3export: WithErrorPrefix(%q): invalid prefix", prefix))
			return
		}
		if p != "" {
			p += "/"
		}
		c.errorPrefix = p
	})
}

// WithShardSuffix sets how a shard's file names are decided: fn is called as
// a shard writer opens a file and reports whether the name carries the
// shard's number (ShardNumber) after the time, as it must when several
// shards write the same hours. The Kinesis glue (Sink) asks the stream
// whether the shard is its only open shard. Default: a suffix whenever the
// exporter has created more than one shard writer.
func WithShardSuffix(fn func(ctx context.Context, shardID string) (bool, error)) Option {
	return optionFunc(func(c *config) {
		if fn == nil {
			c.setErr(fmt.Errorf("s3export: nil WithShardSuffix function"))
			return
		}
		c.shardSuffix = fn
	})
}

// WithUploadConcurrency sets how many closed files are committed at once,
// across all shard writers. Default DefaultUploadConcurrency.
func WithUploadConcurrency(n int) Option {
	return optionFunc(func(c *config) {
		if n < 1 {
			c.setErr(fmt.Errorf("s3export: WithUploadConcurrency(%d): must be at least 1", n))
			return
		}
		c.uploadConcurrency = n
	})
}

// WithLogger sets the logger. Default: nil, which discards logs. The
// exporter logs files opened and completed at Debug, recovery decisions at
// Info and failures at Error; never record payloads.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.logger = l })
}

// WithDeduplication drops events whose id was among the last capacity
// events written by the exporter (all shards): Airship may deliver an
// event twice. A dropped duplicate is acknowledged at once and counted in
// Stats().Duplicates. The window is in memory: after a restart, a copy of
// an event stored before the checkpoint is not caught. Default: off.
func WithDeduplication(capacity int) Option {
	return optionFunc(func(c *config) {
		if capacity < 1 {
			c.setErr(fmt.Errorf("s3export: WithDeduplication(%d): capacity must be at least 1", capacity))
			return
		}
		c.dedupe = capacity
	})
}
