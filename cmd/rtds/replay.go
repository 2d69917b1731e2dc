package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis"
)

func init() {
	register(command{
		name:    "replay",
		summary: "put the events of JSON exports (rtds export, Airship's S3 integration) back on a stream",
		run:     runReplay,
	})
}

const replayUsage = `usage: rtds replay --from s3://BUCKET/PREFIX | file://DIR --stream NAME
                   [--since RFC3339-TIME] [--until RFC3339-TIME] [--type T ...] [--debug]

Reads every JSON export file (.json or .json.gz) below the source, in key
order (the layout names files by time), and puts its events on the Kinesis
stream NAME exactly as they are in the file, each file's events in
processed order. --since and --until keep events processed at or after
since and before until; --type keeps events of the given types. Lines that
are not events are reported with their file and line and skipped (exit
status 1 at the end). Progress and a summary go to standard error.

Events go to Kinesis in order (one request at a time, partition key the
event's channel), so replaying an export of a one-shard stream into a
one-shard stream and exporting that gives the same files.

AWS configuration as for rtds export.

Flags:
`

func runReplay(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "replay", replayUsage)
	from := fs.String("from", "", "the `SOURCE`: s3://bucket/prefix or file://dir (required)")
	stream := fs.String("stream", "", "the stream's `NAME` or ARN (required)")
	since := fs.String("since", "", "keep events processed at or after this RFC 3339 `TIME`")
	until := fs.String("until", "", "keep events processed before this RFC 3339 `TIME`")
	types := newTypeList(knownEventTypes())
	fs.Var(types, "type", "keep only events of this `TYPE` (repeatable, or comma-separated)")
	debug := fs.Bool("debug", false, "log the library's and the AWS SDK's messages to standard error")
	if ok, code := fs.parse(args); !ok {
		return code
	}
	if *from == "" || *stream == "" {
		return fs.usageError("--from and --stream are required")
	}
	if fs.NArg() > 0 {
		return fs.usageError("unexpected arguments %q", fs.Args())
	}
	var f replayFilter
	for _, tv := range []struct {
		s   string
		t   *time.Time
		opt string
	}{{*since, &f.since, "--since"}, {*until, &f.until, "--until"}} {
		if tv.s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, tv.s)
		if err != nil {
			return fs.usageError("%s %q: want an RFC 3339 time", tv.opt, tv.s)
		}
		*tv.t = t
	}
	if len(types.types) > 0 {
		f.types = map[event.Type]bool{}
		for _, t := range types.types {
			f.types[t] = true
		}
	}
	src, ok := parseLocation(*from)
	if !ok {
		return fs.usageError("--from %q: want s3://bucket/prefix or file://dir", *from)
	}

	fail := func(err error) int { return exportFailure(ctx, env, "replay", *stream, err) }
	aw, err := newAWS(ctx, env, *debug)
	if err == nil {
		err = aw.preflight(ctx, *stream)
	}
	if err != nil {
		return fail(err)
	}
	var source replaySource
	if src.Scheme == "file" {
		source = dirSource(src.Host + src.Path)
	} else {
		source = s3Source{client: s3Client(env, aw), bucket: src.Host, prefix: strings.TrimPrefix(src.Path, "/")}
	}
	files, err := source.list(ctx)
	if err != nil {
		return fail(err)
	}
	var failed atomic.Int64
	var firstErr atomic.Value
	p, err := kinesis.NewProducer(aw.client, *stream,
		kinesis.WithOrdering(true),
		kinesis.WithMaxInFlight(1),
		kinesis.WithLogger(aw.log),
		kinesis.WithResultHandler(func(r kinesis.Result) {
			if r.Err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, r.Err)
			}
		}))
	if err != nil {
		return fail(err)
	}
	var put, skipped, bad int64
	for _, name := range files {
		lines, err := source.read(ctx, name)
		if err != nil {
			_ = p.Close(context.Background())
			return fail(err)
		}
		evs, nbad := f.events(env, name, lines)
		bad += nbad
		skipped += int64(len(lines)) - int64(len(evs)) - nbad
		for _, e := range evs {
			if err := p.Put(ctx, e.key, e.data); err != nil {
				_ = p.Close(context.Background())
				return fail(err)
			}
			put++
		}
		if env.stderrIsTerminal {
			fmt.Fprintf(env.stderr, "\r\033[Krtds replay: %s put, %s", plural(put, "event"), name)
		}
	}
	cerr := p.Close(context.Background())
	if env.stderrIsTerminal {
		fmt.Fprint(env.stderr, "\r\033[K")
	}
	env.errorf("replay", "%s put from %s, %s filtered out, %s not events", plural(put-failed.Load(), "event"),
		plural(int64(len(files)), "file"), plural(skipped, "event"), plural(bad, "line"))
	switch {
	case cerr != nil:
		return fail(cerr)
	case failed.Load() > 0:
		env.errorf("replay", "%s not delivered: %v", plural(failed.Load(), "event"), describeRecordError(firstErr.Load().(error)))
		return 1
	case bad > 0:
		return 1
	}
	return 0
}

// replayFilter keeps the events to replay.
type replayFilter struct {
	since, until time.Time
	types        map[event.Type]bool
}

type replayEvent struct {
	processed time.Time
	key       string
	data      []byte
}

// events returns the file's events to put, in processed order (stable),
// and the number of lines that are not events.
func (f replayFilter) events(env *cmdEnv, name string, lines [][]byte) ([]replayEvent, int64) {
	var out []replayEvent
	var bad int64
	for i, l := range lines {
		e, err := event.Decode(l)
		if err != nil {
			env.errorf("replay", "%s:%d: not an event: %v", name, i+1, err)
			bad++
			continue
		}
		b := e.Base()
		if f.types != nil && !f.types[e.EventType()] ||
			!f.since.IsZero() && b.Processed.Before(f.since) ||
			!f.until.IsZero() && !b.Processed.Before(f.until) {
			continue
		}
		key := b.ChannelID()
		if key == "" {
			key = b.ID
		}
		out = append(out, replayEvent{processed: b.Processed, key: key, data: l})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].processed.Before(out[j].processed) })
	return out, bad
}

// replaySource lists and reads export files.
type replaySource interface {
	list(ctx context.Context) ([]string, error)
	read(ctx context.Context, name string) ([][]byte, error)
}

// isExportFile reports whether name is a JSON export file (not an
// exporter manifest).
func isExportFile(name string) bool {
	return (strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".json.gz")) &&
		strings.Contains("/"+name, "/S3_JSON/") && !strings.Contains("/"+name, "/.rtds/")
}

type dirSource string

func (d dirSource) list(context.Context) ([]string, error) {
	var out []string
	err := filepath.WalkDir(string(d), func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(string(d), p)
		if !e.IsDir() && isExportFile(filepath.ToSlash(rel)) && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

func (d dirSource) read(_ context.Context, name string) ([][]byte, error) {
	b, err := os.ReadFile(filepath.Join(string(d), filepath.FromSlash(name)))
	if err != nil {
		return nil, err
	}
	return splitExport(name, bytes.NewReader(b))
}

type s3Source struct {
	client         *s3.Client
	bucket, prefix string
}

func (s s3Source) list(ctx context.Context) ([]string, error) {
	var out []string
	pg := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(s.prefix)})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", s.bucket, s.prefix, err)
		}
		for _, o := range page.Contents {
			if k := aws.ToString(o.Key); isExportFile(k) {
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

func (s s3Source) read(ctx context.Context, name string) ([][]byte, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", s.bucket, name, err)
	}
	defer out.Body.Close()
	return splitExport(name, out.Body)
}

// splitExport returns the lines of an export file, gunzipped if its name
// ends in .gz.
func splitExport(name string, r io.Reader) ([][]byte, error) {
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		defer zr.Close()
		r = zr
	}
	var lines [][]byte
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return lines, nil
}
