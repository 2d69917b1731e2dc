package kinesis

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/google/go-cmp/cmp"

	"github.com/rtdskit/rtds/batch"
	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

func TestConsumerShardOrderAndCheckpoints(t *testing.T) {
	f := kinesistest.New(kinesistest.WithStream("s", 4))
	es, want := eventEntries("e", 400, 37)
	putEntries(t, f, "s", es)
	rec := newRecorder(len(es))
	store := NewMemoryCheckpointStore()
	c, err := NewConsumer(f, "s", append(fastConsumer(), OnRecord(rec.record), WithCheckpointStore(store))...)
	if err != nil {
		t.Fatal(err)
	}
	stop := startConsumer(t, c)
	rec.wait(t, 10*time.Second)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	got := rec.snapshot()
	checkShardOrder(t, got)
	if diff := cmp.Diff(want, ids(got)); diff != "" {
		t.Fatalf("handled ids (-want +got):\n%s", diff)
	}
	// The final checkpoint of every shard is its last record.
	lastSeq := map[string]string{}
	for _, r := range f.Records("s") {
		lastSeq[r.ShardID] = r.SequenceNumber
	}
	for shard, seq := range lastSeq {
		cp, ok, err := store.Load(context.Background(), "s", shard)
		if err != nil || !ok || cp.SequenceNumber != seq || cp.ShardEnded {
			t.Errorf("shard %s checkpoint = %+v, %v, %v; want seq %s", shard, cp, ok, err, seq)
		}
	}
	st := c.Stats()
	if st.Handled != int64(len(es)) || len(st.Shards) != 4 {
		t.Errorf("Stats = %+v", st)
	}
}

// registerAll registers a recording handler for every known event type.
func registerAll(r *recorder, types map[event.Type]string) []ConsumerOption {
	h := func(ctx context.Context, e event.Event) error {
		return r.add(handled{ID: e.Base().ID, Type: e.EventType()})
	}
	rec := func(e event.Event) {
		types[e.EventType()] = reflect.TypeOf(e).String()
	}
	var mu sync.Mutex
	wrap := func(e event.Event) error {
		mu.Lock()
		rec(e)
		mu.Unlock()
		return h(context.Background(), e)
	}
	return []ConsumerOption{
		OnAttributeOperation(func(_ context.Context, e *event.AttributeOperation) error { return wrap(e) }),
		OnClose(func(_ context.Context, e *event.Close) error { return wrap(e) }),
		OnCompliance(func(_ context.Context, e *event.Compliance) error { return wrap(e) }),
		OnContactChange(func(_ context.Context, e *event.ContactChange) error { return wrap(e) }),
		OnControl(func(_ context.Context, e *event.Control) error { return wrap(e) }),
		OnCustom(func(_ context.Context, e *event.Custom) error { return wrap(e) }),
		OnFeatureFlagInteraction(func(_ context.Context, e *event.FeatureFlagInteraction) error { return wrap(e) }),
		OnFirstOpen(func(_ context.Context, e *event.FirstOpen) error { return wrap(e) }),
		OnFirstOptIn(func(_ context.Context, e *event.FirstOptIn) error { return wrap(e) }),
		OnInAppButtonTap(func(_ context.Context, e *event.InAppButtonTap) error { return wrap(e) }),
		OnInAppExperiences(func(_ context.Context, e *event.InAppExperiences) error { return wrap(e) }),
		OnInAppFormDisplay(func(_ context.Context, e *event.InAppFormDisplay) error { return wrap(e) }),
		OnInAppFormResult(func(_ context.Context, e *event.InAppFormResult) error { return wrap(e) }),
		OnInAppMessageControl(func(_ context.Context, e *event.InAppMessageControl) error { return wrap(e) }),
		OnInAppMessageDisplay(func(_ context.Context, e *event.InAppMessageDisplay) error { return wrap(e) }),
		OnInAppMessageExclusion(func(_ context.Context, e *event.InAppMessageExclusion) error { return wrap(e) }),
		OnInAppMessageExpiration(func(_ context.Context, e *event.InAppMessageExpiration) error { return wrap(e) }),
		OnInAppMessageResolution(func(_ context.Context, e *event.InAppMessageResolution) error { return wrap(e) }),
		OnInAppPagerCompleted(func(_ context.Context, e *event.InAppPagerCompleted) error { return wrap(e) }),
		OnInAppPagerSummary(func(_ context.Context, e *event.InAppPagerSummary) error { return wrap(e) }),
		OnInAppPageSwipe(func(_ context.Context, e *event.InAppPageSwipe) error { return wrap(e) }),
		OnInAppPageView(func(_ context.Context, e *event.InAppPageView) error { return wrap(e) }),
		OnLabelEvent(func(_ context.Context, e *event.LabelEvent) error { return wrap(e) }),
		OnLocation(func(_ context.Context, e *event.Location) error { return wrap(e) }),
		OnMobileOriginated(func(_ context.Context, e *event.MobileOriginated) error { return wrap(e) }),
		OnOffsetUpdate(func(_ context.Context, e *event.OffsetUpdate) error { return wrap(e) }),
		OnOpen(func(_ context.Context, e *event.Open) error { return wrap(e) }),
		OnPushBody(func(_ context.Context, e *event.PushBody) error { return wrap(e) }),
		OnRegion(func(_ context.Context, e *event.Region) error { return wrap(e) }),
		OnRichControl(func(_ context.Context, e *event.RichControl) error { return wrap(e) }),
		OnRichDelete(func(_ context.Context, e *event.RichDelete) error { return wrap(e) }),
		OnRichDelivery(func(_ context.Context, e *event.RichDelivery) error { return wrap(e) }),
		OnRichRead(func(_ context.Context, e *event.RichRead) error { return wrap(e) }),
		OnScreenViewed(func(_ context.Context, e *event.ScreenViewed) error { return wrap(e) }),
		OnSend(func(_ context.Context, e *event.Send) error { return wrap(e) }),
		OnSendAborted(func(_ context.Context, e *event.SendAborted) error { return wrap(e) }),
		OnSendRejected(func(_ context.Context, e *event.SendRejected) error { return wrap(e) }),
		OnShortLinkClick(func(_ context.Context, e *event.ShortLinkClick) error { return wrap(e) }),
		OnSubscription(func(_ context.Context, e *event.Subscription) error { return wrap(e) }),
		OnSubscriptionList(func(_ context.Context, e *event.SubscriptionList) error { return wrap(e) }),
		OnTagChange(func(_ context.Context, e *event.TagChange) error { return wrap(e) }),
		OnUninstall(func(_ context.Context, e *event.Uninstall) error { return wrap(e) }),
		OnWebClick(func(_ context.Context, e *event.WebClick) error { return wrap(e) }),
		OnWebSession(func(_ context.Context, e *event.WebSession) error { return wrap(e) }),
		OnUnknown(func(_ context.Context, e *event.Unknown) error { return wrap(e) }),
	}
}

// corpus returns the event package's sample events (every type) plus an
// event of a type this version does not know.
func corpus(t testing.TB) [][]byte {
	t.Helper()
	files, err := filepath.Glob("../event/testdata/events/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events: %v", err)
	}
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return append(out, []byte(`{"id":"unknown-1","type":"BRAND_NEW_TYPE","offset":"1","occurred":"2024-05-01T12:00:00Z","processed":"2024-05-01T12:00:00Z","body":{"x":1}}`))
}

// testTypedDispatch puts every sample event and checks that each reached
// the handler of its own Go type.
func testTypedDispatch(t *testing.T, client interface {
	ConsumerAPI
	PutRecordsAPI
}, stream, consumeAs string) {
	samples := corpus(t)
	var es []entry
	wantTypes := map[event.Type]string{}
	var wantIDs []string
	for i, b := range samples {
		ev, err := event.Decode(b)
		if err != nil {
			t.Fatalf("sample %d: %v", i, err)
		}
		wantTypes[ev.EventType()] = reflect.TypeOf(ev).String()
		wantIDs = append(wantIDs, ev.Base().ID)
		es = append(es, entry{pk: fmt.Sprint(i), data: b})
	}
	slices.Sort(wantIDs)
	putEntries(t, client, stream, es)
	rec := newRecorder(len(es))
	gotTypes := map[event.Type]string{}
	c, err := NewConsumer(client, consumeAs, append(fastConsumer(), registerAll(rec, gotTypes)...)...)
	if err != nil {
		t.Fatal(err)
	}
	stop := startConsumer(t, c)
	rec.wait(t, 20*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantIDs, ids(rec.snapshot())); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantTypes, gotTypes); diff != "" {
		t.Errorf("Go type per event type (-want +got):\n%s", diff)
	}
	known := 0
	for _, k := range event.KnownTypes() {
		if _, ok := gotTypes[k]; ok {
			known++
		}
	}
	if known != len(event.KnownTypes()) {
		t.Errorf("dispatched %d of %d known types", known, len(event.KnownTypes()))
	}
}

func TestConsumerTypedDispatch(t *testing.T) {
	f := kinesistest.New(kinesistest.WithStream("s", 2))
	testTypedDispatch(t, f, "s", kinesistest.ARN("s"))
}

func TestConsumerDispatchRules(t *testing.T) {
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	putEntries(t, f, "s", []entry{
		{"a", testEvent("u1", event.TypeUninstall, "bob")},
		{"a", testEvent("o1", event.TypeOpen, "")},
		{"a", testEvent("c1", event.TypeClose, "")},
		{"a", []byte(`{"id":"x1","type":"NEW_THING","occurred":"2024-05-01T12:00:00Z","body":{}}`)},
		{"a", testEvent("u2", event.TypeUninstall, "")},
	})
	var mu sync.Mutex
	var got []string
	note := func(s string) {
		mu.Lock()
		got = append(got, s)
		mu.Unlock()
	}
	rec := newRecorder(3)
	c, err := NewConsumer(f, "s", append(fastConsumer(),
		OnUninstall(func(ctx context.Context, e *event.Uninstall) error {
			note("uninstall " + e.ID + " " + e.NamedUserID())
			return rec.add(handled{})
		}),
		OnEvent(func(ctx context.Context, e event.Event) error {
			note(fmt.Sprintf("event %s %T", e.Base().ID, e))
			return rec.add(handled{})
		}),
	)...)
	if err != nil {
		t.Fatal(err)
	}
	// The OPEN and CLOSE go to OnEvent; NEW_THING too, as there is no
	// OnUnknown.
	rec.want = 5
	stop := startConsumer(t, c)
	rec.wait(t, 5*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	want := []string{"uninstall u1 bob", "event o1 *event.Open", "event c1 *event.Close", "event x1 *event.Unknown", "uninstall u2 "}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestConsumerSkipsTypesWithoutHandler(t *testing.T) {
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	putEntries(t, f, "s", []entry{
		{"a", testEvent("o1", event.TypeOpen, "")},
		// Not valid beyond its type: it must not be fully decoded.
		{"a", []byte(`{"type":"OPEN","id":`)},
		{"a", testEvent("u1", event.TypeUninstall, "bob")},
	})
	rec := newRecorder(1)
	c, err := NewConsumer(f, "s", append(fastConsumer(), OnUninstall(func(ctx context.Context, e *event.Uninstall) error {
		return rec.add(handled{ID: e.ID})
	}))...)
	if err != nil {
		t.Fatal(err)
	}
	stop := startConsumer(t, c)
	rec.wait(t, 5*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Skipped != 2 || st.DeadLettered != 0 || st.Handled != 1 {
		t.Errorf("Stats = %+v, want 2 skipped, 0 dead-lettered, 1 handled", st)
	}
}

func TestConsumerAggregatesResumeInside(t *testing.T) {
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	var datas [][]byte
	for i := range 6 {
		datas = append(datas, testEvent(fmt.Sprintf("a%d", i), event.TypeOpen, ""))
	}
	putEntries(t, f, "s", []entry{
		{"p", testEvent("before", event.TypeOpen, "")},
		{"p", kplAggregate([]string{"k1", "k2"}, datas)},
		{"p", testEvent("after", event.TypeOpen, "")},
	})
	store := NewMemoryCheckpointStore()

	// The first consumer stops after the aggregate's third user record.
	first := newRecorder(4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first.fail = func(h handled) error { return nil }
	c1, err := NewConsumer(f, "s", append(fastConsumer(), WithCheckpointStore(store),
		OnRecord(func(rctx context.Context, r Record) error {
			err := first.record(rctx, r)
			if len(first.snapshot()) == 4 {
				cancel() // drain after this record
			}
			return err
		}))...)
	if err != nil {
		t.Fatal(err)
	}
	if err := c1.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	seqs := f.Records("s")
	cp, ok, err := store.Load(context.Background(), "s", seqs[0].ShardID)
	if want := (Checkpoint{SequenceNumber: seqs[1].SequenceNumber, SubSequenceNumber: 2}); !ok || err != nil || cp != want {
		t.Fatalf("checkpoint = %+v, %v, %v; want %+v", cp, ok, err, want)
	}

	second := newRecorder(4)
	c2, err := NewConsumer(f, "s", append(fastConsumer(), WithCheckpointStore(store), OnRecord(second.record))...)
	if err != nil {
		t.Fatal(err)
	}
	stop := startConsumer(t, c2)
	second.wait(t, 5*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var gotIDs []string
	for _, h := range second.snapshot() {
		gotIDs = append(gotIDs, fmt.Sprintf("%s@%d", h.ID, h.Sub))
	}
	if diff := cmp.Diff([]string{"a3@3", "a4@4", "a5@5", "after@0"}, gotIDs); diff != "" {
		t.Errorf("after restart (-want +got):\n%s", diff)
	}
}

// deadLetters collects dead letters.
type deadLetters struct {
	mu  sync.Mutex
	got []DeadLetter
}

func (d *deadLetters) add(_ context.Context, dl DeadLetter) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	dl.Data = append([]byte(nil), dl.Data...)
	d.got = append(d.got, dl)
	return nil
}

func (d *deadLetters) snapshot() []DeadLetter {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.got)
}

func TestConsumerPoisonRecords(t *testing.T) {
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	corrupt := kplAggregate([]string{"k"}, [][]byte{testEvent("in-bad-agg", event.TypeOpen, "")})
	corrupt[len(corrupt)-1] ^= 0xFF // break the checksum
	entries := []entry{
		{"k", testEvent("ok1", event.TypeOpen, "")},
		{"k", []byte(`{"id":"bad","type":"OPEN",`)},
		{"k", []byte(`{"type":"OPEN","occurred":"2024-05-01T12:00:00Z","body":{}}`)},
		{"k", corrupt},
		{"k", testEvent("always-fails", event.TypeOpen, "")},
		{"k", testEvent("permanent", event.TypeOpen, "")},
		{"k", testEvent("flaky", event.TypeOpen, "")},
		{"k", kplAggregate([]string{"k"}, [][]byte{testEvent("agg0", event.TypeOpen, ""), []byte("not json"), testEvent("agg2", event.TypeOpen, "")})},
		{"k", testEvent("ok2", event.TypeOpen, "")},
	}
	seqs := putEntries(t, f, "s", entries)
	errBoom := errors.New("boom")
	var flaky atomic.Int32
	rec := newRecorder(5) // ok1, flaky, agg0, agg2, ok2
	rec.fail = func(h handled) error {
		switch h.ID {
		case "always-fails":
			return errBoom
		case "permanent":
			return Permanent(errBoom)
		case "flaky":
			if flaky.Add(1) < 3 {
				return errBoom
			}
		}
		return nil
	}
	var dl deadLetters
	var hooked atomic.Int32
	c, err := NewConsumer(f, "s", append(fastConsumer(),
		OnOpen(func(ctx context.Context, e *event.Open) error { return rec.add(handled{ID: e.ID}) }),
		WithDeadLetter(dl.add),
		WithHooks(hookFunc{dead: func(DeadLetter) { hooked.Add(1) }}),
	)...)
	if err != nil {
		t.Fatal(err)
	}
	stop := startConsumer(t, c)
	rec.wait(t, 5*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ok1", "flaky", "agg0", "agg2", "ok2"}, idsInOrder(rec.snapshot())); diff != "" {
		t.Errorf("handled (-want +got):\n%s", diff)
	}
	type meta struct {
		Seq      string
		Sub      uint64
		Agg      bool
		Attempts int
		Reason   DeadLetterReason
		Data     string
		Check    bool
	}
	got := dl.snapshot()
	var gotMeta []meta
	var de *event.DecodeError
	var ae *batch.DeaggregationError
	checks := []bool{
		errors.As(errAt(got, 0), &de),
		errors.As(errAt(got, 1), &de) && errors.Is(errAt(got, 1), ErrMissingEventID),
		errors.As(errAt(got, 2), &ae),
		errors.Is(errAt(got, 3), errBoom) && !isPermanent(errAt(got, 3)),
		errors.Is(errAt(got, 4), errBoom) && isPermanent(errAt(got, 4)),
		errors.As(errAt(got, 5), &de),
	}
	for i, d := range got {
		gotMeta = append(gotMeta, meta{d.SequenceNumber, d.SubSequenceNumber, d.Aggregated, d.Attempts, d.Reason, string(d.Data), i < len(checks) && checks[i] && d.ShardID != ""})
	}
	want := []meta{
		{seqs[1], 0, false, 0, ReasonUndecodable, string(entries[1].data), true},
		{seqs[2], 0, false, 0, ReasonMissingID, string(entries[2].data), true},
		{seqs[3], 0, false, 0, ReasonCorruptAggregate, string(corrupt), true},
		{seqs[4], 0, false, 3, ReasonHandlerFailed, string(entries[4].data), true},
		{seqs[5], 0, false, 1, ReasonPermanent, string(entries[5].data), true},
		{seqs[7], 1, true, 0, ReasonUndecodable, "not json", true},
	}
	if diff := cmp.Diff(want, gotMeta); diff != "" {
		t.Errorf("dead letters (-want +got):\n%s", diff)
	}
	if st := c.Stats(); st.DeadLettered != 6 || hooked.Load() != 6 {
		t.Errorf("DeadLettered = %d, hook calls = %d; want 6", st.DeadLettered, hooked.Load())
	}
}

func errAt(d []DeadLetter, i int) error {
	if i < len(d) {
		return d[i].Err
	}
	return nil
}

func idsInOrder(got []handled) []string {
	var out []string
	for _, h := range got {
		out = append(out, h.ID)
	}
	return out
}

// hookFunc implements the consumer hooks with optional funcs.
type hookFunc struct {
	dead      func(DeadLetter)
	reset     func(IteratorResetMetrics)
	throttled func(ThrottledMetrics)
	ended     func(ShardEndedMetrics)
	started   func(ShardStartedMetrics)
	cp        func(CheckpointMetrics)
	lease     func(LeaseMetrics)
}

func (h hookFunc) OnLease(m LeaseMetrics) {
	if h.lease != nil {
		h.lease(m)
	}
}

func (h hookFunc) OnDeadLettered(d DeadLetter) {
	if h.dead != nil {
		h.dead(d)
	}
}

func (h hookFunc) OnIteratorReset(m IteratorResetMetrics) {
	if h.reset != nil {
		h.reset(m)
	}
}

func (h hookFunc) OnThrottled(m ThrottledMetrics) {
	if h.throttled != nil {
		h.throttled(m)
	}
}

func (h hookFunc) OnShardEnded(m ShardEndedMetrics) {
	if h.ended != nil {
		h.ended(m)
	}
}

func (h hookFunc) OnShardStarted(m ShardStartedMetrics) {
	if h.started != nil {
		h.started(m)
	}
}

func (h hookFunc) OnCheckpoint(m CheckpointMetrics) {
	if h.cp != nil {
		h.cp(m)
	}
}

func TestConsumerDefaultDeadLetterLogsAndCounts(t *testing.T) {
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	putEntries(t, f, "s", []entry{{"k", []byte("garbage")}, {"k", testEvent("ok", event.TypeOpen, "")}})
	rec := newRecorder(1)
	var logged syncBuffer
	c, err := NewConsumer(f, "s", append(fastConsumer(), OnEvent(rec.onEvent), WithLogger(newTestLogger(&logged)))...)
	if err != nil {
		t.Fatal(err)
	}
	stop := startConsumer(t, c)
	rec.wait(t, 5*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if c.Stats().DeadLettered != 1 {
		t.Errorf("DeadLettered = %d, want 1", c.Stats().DeadLettered)
	}
	if !logged.contains("level=ERROR") || !logged.contains("poison record") || logged.contains("garbage") {
		t.Errorf("log does not report the poison record at Error without its payload:\n%s", logged.String())
	}
}

func TestConsumerResumeAfterRestart(t *testing.T) {
	f := kinesistest.New(kinesistest.WithStream("s", 3))
	store := NewMemoryCheckpointStore()
	es1, want1 := eventEntries("one", 90, 11)
	putEntries(t, f, "s", es1)
	r1 := newRecorder(len(es1))
	c1, err := NewConsumer(f, "s", append(fastConsumer(), WithCheckpointStore(store), OnEvent(r1.onEvent))...)
	if err != nil {
		t.Fatal(err)
	}
	stop := startConsumer(t, c1)
	r1.wait(t, 5*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want1, ids(r1.snapshot())); diff != "" {
		t.Fatalf("first run (-want +got):\n%s", diff)
	}
	es2, want2 := eventEntries("two", 60, 11)
	putEntries(t, f, "s", es2)
	r2 := newRecorder(len(es2))
	c2, err := NewConsumer(f, "s", append(fastConsumer(), WithCheckpointStore(store), OnEvent(r2.onEvent))...)
	if err != nil {
		t.Fatal(err)
	}
	stop = startConsumer(t, c2)
	r2.wait(t, 5*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want2, ids(r2.snapshot())); diff != "" {
		t.Fatalf("second run replayed or missed records (-want +got):\n%s", diff)
	}
}

func TestConsumerStartPositions(t *testing.T) {
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		reason string
		start  StartPosition
		want   []string
	}{
		{"trim horizon", "reads everything", StartTrimHorizon, []string{"old", "mid", "new"}},
		{"at timestamp", "skips records that arrived before", StartAtTimestamp(t0.Add(time.Minute)), []string{"mid", "new"}},
		{"latest", "reads only records put after the start", StartLatest, []string{"new"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			now := t0
			f := kinesistest.New(kinesistest.WithStream("s", 1), kinesistest.WithClock(func() time.Time {
				mu.Lock()
				defer mu.Unlock()
				return now
			}))
			putEntries(t, f, "s", []entry{{"k", testEvent("old", event.TypeOpen, "")}})
			mu.Lock()
			now = t0.Add(time.Minute)
			mu.Unlock()
			putEntries(t, f, "s", []entry{{"k", testEvent("mid", event.TypeOpen, "")}})
			mu.Lock()
			now = t0.Add(2 * time.Minute)
			mu.Unlock()
			rec := newRecorder(len(tt.want))
			c, err := NewConsumer(f, "s", append(fastConsumer(), WithStartPosition(tt.start), OnEvent(rec.onEvent))...)
			if err != nil {
				t.Fatal(err)
			}
			stop := startConsumer(t, c)
			// "new" must arrive after the iterator was taken, which is
			// before the first GetRecords.
			for f.Calls(kinesistest.OpGetRecords) == 0 {
				time.Sleep(time.Millisecond)
			}
			putEntries(t, f, "s", []entry{{"k", testEvent("new", event.TypeOpen, "")}})
			rec.wait(t, 5*time.Second)
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, idsInOrder(rec.snapshot())); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.reason, diff)
			}
		})
	}
}

func TestConsumerIteratorExpiry(t *testing.T) {
	f := kinesistest.New(kinesistest.WithStream("s", 2))
	es, want := eventEntries("x", 200, 13)
	putEntries(t, f, "s", es[:100])
	var resets atomic.Int32
	rec := newRecorder(len(es))
	c, err := NewConsumer(f, "s", append(fastConsumer(), OnRecord(rec.record), WithGetRecordsLimit(7),
		WithHooks(hookFunc{reset: func(m IteratorResetMetrics) {
			if m.Reason == "expired" {
				resets.Add(1)
			}
		}}))...)
	if err != nil {
		t.Fatal(err)
	}
	var expired atomic.Bool
	rec.fail = func(h handled) error {
		if len(rec.snapshot()) == 50 && expired.CompareAndSwap(false, true) {
			f.ExpireIterators()
		}
		return nil
	}
	stop := startConsumer(t, c)
	putEntries(t, f, "s", es[100:])
	rec.wait(t, 10*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	got := rec.snapshot()
	checkShardOrder(t, got)
	if diff := cmp.Diff(want, ids(got)); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	if resets.Load() == 0 {
		t.Error("no iterator reset reported")
	}
}

// trimmingClient rejects AT_SEQUENCE_NUMBER iterators, as Kinesis does for
// a sequence number older than the stream's retention.
type trimmingClient struct {
	ConsumerAPI
}

func (c trimmingClient) GetShardIterator(ctx context.Context, in *sdkkinesis.GetShardIteratorInput, optFns ...func(*sdkkinesis.Options)) (*sdkkinesis.GetShardIteratorOutput, error) {
	if in.ShardIteratorType == sdktypes.ShardIteratorTypeAtSequenceNumber {
		return nil, &sdktypes.InvalidArgumentException{Message: aws.String("sequence number is beyond the trim horizon")}
	}
	return c.ConsumerAPI.GetShardIterator(ctx, in, optFns...)
}

func TestConsumerTrimmedCheckpointRestartsAtTrimHorizon(t *testing.T) {
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	putEntries(t, f, "s", []entry{{"k", testEvent("a", event.TypeOpen, "")}, {"k", testEvent("b", event.TypeOpen, "")}})
	store := NewMemoryCheckpointStore()
	shard := f.Records("s")[0].ShardID
	if err := store.Save(context.Background(), "s", shard, Checkpoint{SequenceNumber: "1"}); err != nil {
		t.Fatal(err)
	}
	var reasons []string
	var mu sync.Mutex
	rec := newRecorder(2)
	c, err := NewConsumer(trimmingClient{f}, "s", append(fastConsumer(), WithCheckpointStore(store), OnEvent(rec.onEvent),
		WithHooks(hookFunc{reset: func(m IteratorResetMetrics) {
			mu.Lock()
			reasons = append(reasons, m.Reason+" "+m.From.SequenceNumber)
			mu.Unlock()
		}}))...)
	if err != nil {
		t.Fatal(err)
	}
	stop := startConsumer(t, c)
	rec.wait(t, 5*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]string{"trimmed 1"}, reasons); diff != "" {
		t.Errorf("resets (-want +got):\n%s", diff)
	}
}

func TestConsumerThrottling(t *testing.T) {
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	es, want := eventEntries("t", 30, 3)
	putEntries(t, f, "s", es)
	var calls atomic.Int32
	f.SetFault(func(op string, entry int) error {
		if op == kinesistest.OpGetRecords && calls.Add(1) <= 3 {
			return &sdktypes.ProvisionedThroughputExceededException{Message: aws.String("slow down")}
		}
		return nil
	})
	var throttled atomic.Int32
	rec := newRecorder(len(es))
	c, err := NewConsumer(f, "s", append(fastConsumer(), OnEvent(rec.onEvent),
		WithHooks(hookFunc{throttled: func(m ThrottledMetrics) {
			var pe *sdktypes.ProvisionedThroughputExceededException
			if m.Op == "GetRecords" && errors.As(m.Err, &pe) {
				throttled.Add(1)
			}
		}}))...)
	if err != nil {
		t.Fatal(err)
	}
	stop := startConsumer(t, c)
	rec.wait(t, 10*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, ids(rec.snapshot())); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	if throttled.Load() != 3 {
		t.Errorf("throttle hook calls = %d, want 3", throttled.Load())
	}
}

func TestConsumerGracefulShutdownFinishesHandler(t *testing.T) {
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	seqs := putEntries(t, f, "s", []entry{{"k", testEvent("a", event.TypeOpen, "")}, {"k", testEvent("b", event.TypeOpen, "")}})
	store := NewMemoryCheckpointStore()
	inHandler := make(chan struct{})
	release := make(chan struct{})
	var handledIDs []string
	var handlerCtxErr error
	c, err := NewConsumer(f, "s", append(fastConsumer(), WithCheckpointInterval(time.Hour), WithCheckpointStore(store),
		OnEvent(func(ctx context.Context, e event.Event) error {
			if e.Base().ID == "a" {
				close(inHandler)
				<-release
				handlerCtxErr = ctx.Err()
			}
			handledIDs = append(handledIDs, e.Base().ID)
			return nil
		}))...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- c.Run(ctx) }()
	<-inHandler
	cancel()
	close(release)
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if diff := cmp.Diff([]string{"a"}, handledIDs); diff != "" {
		t.Errorf("handled (-want +got):\n%s", diff)
	}
	if handlerCtxErr != nil {
		t.Errorf("handler context was cancelled during the drain: %v", handlerCtxErr)
	}
	cp, ok, err := store.Load(context.Background(), "s", f.Records("s")[0].ShardID)
	if !ok || err != nil || cp.SequenceNumber != seqs[0] {
		t.Errorf("final checkpoint = %+v, %v, %v; want %s", cp, ok, err, seqs[0])
	}
}

func TestConsumerDeduplication(t *testing.T) {
	f := kinesistest.New(kinesistest.WithStream("s", 1))
	putEntries(t, f, "s", []entry{
		{"a", testEvent("d1", event.TypeOpen, "")},
		{"a", testEvent("d1", event.TypeOpen, "")},
		{"a", testEvent("d2", event.TypeOpen, "")},
		{"a", testEvent("d1", event.TypeOpen, "")},
		{"a", testEvent("d3", event.TypeOpen, "")},
	})
	rec := newRecorder(3)
	c, err := NewConsumer(f, "s", append(fastConsumer(), OnEvent(rec.onEvent), WithDeduplication(100, 0))...)
	if err != nil {
		t.Fatal(err)
	}
	stop := startConsumer(t, c)
	rec.wait(t, 5*time.Second)
	// Let the duplicates be read too.
	for c.Stats().Duplicates+c.Stats().Handled < 5 {
		time.Sleep(time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"d1", "d2", "d3"}, ids(rec.snapshot())); diff != "" {
		t.Errorf("handled (-want +got):\n%s", diff)
	}
	if d := c.Stats().Duplicates; d != 2 {
		t.Errorf("Duplicates = %d, want 2", d)
	}
}
