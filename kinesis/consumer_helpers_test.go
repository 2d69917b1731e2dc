package kinesis

import (
	"bytes"
	"context"
	"crypto/md5"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/rtdskit/rtds/event"
)

// fastConsumer are options that keep tests quick: no idle pause to speak
// of, a high GetRecords rate, a short ListShards interval.
func fastConsumer() []ConsumerOption {
	return []ConsumerOption{
		WithIdleWait(5 * time.Millisecond),
		WithGetRecordsRate(200),
		WithShardSyncInterval(50 * time.Millisecond),
		WithHandlerRetry(Retry{MaxAttempts: 3, InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond, Multiplier: 2, Jitter: 0.5}),
		WithCheckpointInterval(0),
	}
}

// testEvent returns an RTDS event's JSON.
func testEvent(id string, t event.Type, namedUser string) []byte {
	dev := `"device":{"channel":"7f1c2a9e-1111-4a2b-8c3d-000000000001","device_type":"IOS"}`
	if namedUser != "" {
		dev = `"device":{"channel":"7f1c2a9e-1111-4a2b-8c3d-000000000001","device_type":"IOS","named_user_id":"` + namedUser + `"}`
	}
	return fmt.Appendf(nil, `{"id":%q,"type":%q,"offset":"1","occurred":"2024-05-01T12:00:00Z","processed":"2024-05-01T12:00:01Z",%s,"body":{}}`, id, t, dev)
}

// entry is a record to put.
type entry struct {
	pk   string
	data []byte
}

// putEntries puts entries in order (PutRecords calls of up to 500 entries
// and 4 MiB), failing
// the test on any failed entry.
func putEntries(t testing.TB, client PutRecordsAPI, stream string, entries []entry) []string {
	t.Helper()
	var seqs []string
	for len(entries) > 0 {
		n, size := 0, 0
		for n < min(len(entries), 500) && (n == 0 || size+len(entries[n].data) <= 4<<20) {
			size += len(entries[n].data) + len(entries[n].pk)
			n++
		}
		in := &sdkkinesis.PutRecordsInput{StreamName: aws.String(stream)}
		for _, e := range entries[:n] {
			in.Records = append(in.Records, sdktypes.PutRecordsRequestEntry{PartitionKey: aws.String(e.pk), Data: e.data})
		}
		out, err := client.PutRecords(context.Background(), in)
		if err != nil {
			t.Fatalf("PutRecords: %v", err)
		}
		if aws.ToInt32(out.FailedRecordCount) != 0 {
			t.Fatalf("PutRecords: %d failed", aws.ToInt32(out.FailedRecordCount))
		}
		for _, r := range out.Records {
			seqs = append(seqs, aws.ToString(r.SequenceNumber))
		}
		entries = entries[n:]
	}
	return seqs
}

// kplAggregate encodes user records as a KPL aggregate, independently of
// the producer's encoder.
func kplAggregate(pks []string, datas [][]byte) []byte {
	var msg []byte
	for _, pk := range pks {
		msg = protowire.AppendTag(msg, 1, protowire.BytesType)
		msg = protowire.AppendString(msg, pk)
	}
	for i, d := range datas {
		var r []byte
		r = protowire.AppendTag(r, 1, protowire.VarintType)
		r = protowire.AppendVarint(r, uint64(i%len(pks)))
		r = protowire.AppendTag(r, 3, protowire.BytesType)
		r = protowire.AppendBytes(r, d)
		msg = protowire.AppendTag(msg, 3, protowire.BytesType)
		msg = protowire.AppendBytes(msg, r)
	}
	sum := md5.Sum(msg)
	out := append([]byte{0xF3, 0x89, 0x9A, 0xC2}, msg...)
	return append(out, sum[:]...)
}

// handled is one handler call seen by a recorder.
type handled struct {
	Shard string
	Seq   string
	Sub   uint64
	ID    string
	Type  event.Type
	N     int // global order
}

// recorder records handler calls and signals when it has seen want.
type recorder struct {
	mu   sync.Mutex
	got  []handled
	want int
	done chan struct{}
	// fail, when set, decides a handler's error.
	fail func(h handled) error
}

func newRecorder(want int) *recorder {
	return &recorder{want: want, done: make(chan struct{})}
}

func (r *recorder) add(h handled) error {
	if r.fail != nil {
		if err := r.fail(h); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	h.N = len(r.got)
	r.got = append(r.got, h)
	if len(r.got) == r.want {
		close(r.done)
	}
	return nil
}

func (r *recorder) snapshot() []handled {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// record is an OnRecord handler that decodes the event's id and type.
func (r *recorder) record(ctx context.Context, rec Record) error {
	h := handled{Shard: rec.ShardID, Seq: rec.SequenceNumber, Sub: rec.SubSequenceNumber}
	if ev, err := event.Decode(rec.Data); err == nil {
		h.ID, h.Type = ev.Base().ID, ev.EventType()
	}
	return r.add(h)
}

// onEvent is an OnEvent handler. Events do not carry their shard, so the
// handler records them without it.
func (r *recorder) onEvent(ctx context.Context, e event.Event) error {
	return r.add(handled{ID: e.Base().ID, Type: e.EventType()})
}

// wait waits for want records or fails the test after d.
func (r *recorder) wait(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(d):
		t.Fatalf("handled %d of %d records in %v", len(r.snapshot()), r.want, d)
	}
}

// startConsumer runs c in a goroutine; stop cancels it and returns Run's
// error.
func startConsumer(t testing.TB, c *Consumer) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- c.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			err = <-errc
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// checkShardOrder fails the test unless each shard's records were handled
// in increasing (sequence, sub-sequence) order without repeats.
func checkShardOrder(t testing.TB, got []handled) {
	t.Helper()
	last := map[string]Checkpoint{}
	for _, h := range got {
		pos := Checkpoint{SequenceNumber: h.Seq, SubSequenceNumber: h.Sub}
		if prev, ok := last[h.Shard]; ok && comparePosition(prev, pos) >= 0 {
			t.Fatalf("shard %s: %s/%d handled after %s/%d", h.Shard, h.Seq, h.Sub, prev.SequenceNumber, prev.SubSequenceNumber)
		}
		last[h.Shard] = pos
	}
}

// ids returns the sorted ids of got.
func ids(got []handled) []string {
	out := make([]string, 0, len(got))
	for _, h := range got {
		out = append(out, h.ID)
	}
	slices.Sort(out)
	return out
}

// eventEntries returns n UNINSTALL/OPEN events with ids prefix-0..n-1 over
// keys partition keys.
func eventEntries(prefix string, n, keys int) ([]entry, []string) {
	var es []entry
	var want []string
	for i := range n {
		id := fmt.Sprintf("%s-%05d", prefix, i)
		typ := event.TypeOpen
		if i%3 == 0 {
			typ = event.TypeUninstall
		}
		es = append(es, entry{pk: fmt.Sprintf("key-%d", i%keys), data: testEvent(id, typ, "user")})
		want = append(want, id)
	}
	slices.Sort(want)
	return es, want
}

// syncBuffer is a bytes.Buffer safe for concurrent writes, for logs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) contains(s string) bool { return strings.Contains(b.String(), s) }

func newTestLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// consume runs a consumer of stream with fastConsumer() and opts until rec
// has seen the records it wants (failing the test after d), stops it, and
// fails the test if Run returned an error.
func consume(t testing.TB, client ConsumerAPI, stream string, rec *recorder, d time.Duration, opts ...ConsumerOption) *Consumer {
	t.Helper()
	c, err := NewConsumer(client, stream, append(fastConsumer(), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	stop := startConsumer(t, c)
	rec.wait(t, d)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return c
}
