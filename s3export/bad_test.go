package s3export

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/internal/testenv"
)

// Records that belong in no data file are returned as *BadRecordError,
// stored under the error prefix, and never written into data files.
func TestBadRecordsGoToTheErrorPrefixNotIntoDataFiles(t *testing.T) {
	c, bucket, tg := s3Bucket(t)
	e := newExporter(t, tg, WithFormat(FormatJSON), WithErrorPrefix("errors"))
	w := e.NewShardWriter(testShard)
	a := newAcks()
	ctx := context.Background()
	bad := []struct {
		data []byte
		want error
	}{
		{[]byte("not json"), ErrNotEvent},
		{[]byte(`["an","array"]`), ErrNotEvent},
		{[]byte(`{"type":"OPEN","processed":"2026-03-08T16:00:00Z"}`), ErrNotEvent}, // no id
		{[]byte(`{"id":"x","type":"OPEN","occurred":"2026-03-08T16:00:00Z"}`), ErrNoProcessedTime},
	}
	good := ev("g1", "OPEN", "2026-03-08T16:00:00Z")
	if err := w.Write(ctx, rec(testShard, 0, good), testAck{a, 0}); err != nil {
		t.Fatal(err)
	}
	for i, b := range bad {
		err := w.Write(ctx, rec(testShard, i+1, b.data), testAck{a, i + 1})
		var be *BadRecordError
		if !errors.As(err, &be) || !errors.Is(err, b.want) {
			t.Fatalf("record %d: error %v, want a *BadRecordError wrapping %v", i+1, err, b.want)
		}
		if be.SequenceNumber != seq(i+1) || be.ErrorKey == "" {
			t.Errorf("record %d: %+v", i+1, be)
		}
		if b.want == ErrNotEvent {
			var de *event.DecodeError
			if !errors.As(err, &de) {
				t.Errorf("record %d: no *event.DecodeError in %v", i+1, err)
			}
		}
		if a.get(i+1) != ackNone {
			t.Errorf("record %d: acknowledged by the exporter", i+1)
		}
	}
	closeWriter(t, w)
	objs := bucketObjects(t, c, bucket, "", false)
	if got := string(objs["APPKEY/INTEG-1/S3_JSON/2026_03_08/2026_03_08_16_00_00.json"]); got != string(good)+"\n" {
		t.Errorf("data file = %q", got)
	}
	for i, b := range bad {
		k := "errors/" + testShard + "/" + seq(i+1) + "_0.json"
		var doc struct {
			ShardID, SequenceNumber, ErrorMessage, RawData string
		}
		if err := json.Unmarshal(objs[k], &doc); err != nil {
			t.Fatalf("%s: %v (%q)", k, err, objs[k])
		}
		raw, _ := base64.StdEncoding.DecodeString(doc.RawData)
		if string(raw) != string(b.data) || doc.ShardID != testShard || doc.SequenceNumber != seq(i+1) || doc.ErrorMessage == "" {
			t.Errorf("%s = %+v", k, doc)
		}
	}
	if n := len(objs); n != 1+len(bad) {
		t.Errorf("%d objects: %v", n, keys(objs))
	}
	if st := e.Stats(); st.BadRecords != int64(len(bad)) || st.Events != 1 {
		t.Errorf("stats %+v", st)
	}
}

// An unknown type is an event: JSON writes it; CSV counts it (tested with
// the fixed set).
func TestUnknownTypesAreWrittenToJSON(t *testing.T) {
	dir := t.TempDir()
	tg, _ := NewDirTarget(dir)
	e := newExporter(t, tg)
	w := e.NewShardWriter(testShard)
	a := newAcks()
	d := ev("u", "NOT_YET_INVENTED", "2026-03-08T16:00:00Z")
	if err := w.Write(context.Background(), rec(testShard, 0, d), testAck{a, 0}); err != nil {
		t.Fatal(err)
	}
	closeWriter(t, w)
	if got := dirObjects(t, dir, false)["APPKEY/INTEG-1/S3_JSON/2026_03_08/2026_03_08_16_00_00.json"]; string(got) != string(d)+"\n" {
		t.Errorf("got %q", got)
	}
	if e.Stats().ByType["NOT_YET_INVENTED"] != 1 {
		t.Errorf("stats %+v", e.Stats())
	}
}

func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// A bucket that does not exist fails Check and the first Write, with S3's
// error, and acknowledges nothing.
func TestMissingBucketFailsWithoutAcknowledging(t *testing.T) {
	c, _ := testenv.S3(t)
	tg, err := NewS3Target(c, "no-such-bucket-rtds", "x")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := tg.Check(ctx); err == nil {
		t.Error("Check: no error")
	}
	e := newExporter(t, tg)
	w := e.NewShardWriter(testShard)
	a := newAcks()
	err = w.Write(ctx, rec(testShard, 0, ev("a", "OPEN", "2026-03-08T16:00:00Z")), testAck{a, 0})
	if apiCode(err) != "NoSuchBucket" {
		t.Fatalf("Write: %v, want NoSuchBucket", err)
	}
	if err2 := w.Write(ctx, rec(testShard, 1, ev("b", "OPEN", "2026-03-08T16:00:00Z")), testAck{a, 1}); !errors.Is(err2, err) {
		t.Errorf("second Write: %v, want the first failure", err2)
	}
	if err := w.Close(ctx); apiCode(err) != "NoSuchBucket" {
		t.Errorf("Close: %v", err)
	}
	if a.get(0) != ackNone || a.get(1) != ackNone {
		t.Error("acknowledged")
	}
}

// Access denied on upload fails every record of the file (Acker.Fail),
// and the writer reports S3's error.
func TestAccessDeniedFailsTheFilesRecords(t *testing.T) {
	c, ep := testenv.S3(t)
	bucket := testenv.CreateBucket(t, c)
	pc := testenv.S3Client(testenv.DenyWritesProxy(t, ep))
	tg, err := NewS3Target(pc, bucket, "")
	if err != nil {
		t.Fatal(err)
	}
	e := newExporter(t, tg)
	w := e.NewShardWriter(testShard)
	a := newAcks()
	ctx := context.Background()
	for i := range 3 {
		if err := w.Write(ctx, rec(testShard, i, ev(string(rune('a'+i)), "OPEN", "2026-03-08T16:00:00Z")), testAck{a, i}); err != nil {
			t.Fatal(err)
		}
	}
	err = w.Close(ctx)
	if apiCode(err) != "AccessDenied" {
		t.Fatalf("Close: %v, want AccessDenied", err)
	}
	for i := range 3 {
		if a.get(i) != ackFailed {
			t.Errorf("record %d: %v, want failed", i, a.get(i))
		}
	}
	if len(a.errs) != 3 || apiCode(a.errs[0]) != "AccessDenied" {
		t.Errorf("Fail errors %v", a.errs)
	}
	if len(bucketObjects(t, c, bucket, "", true)) != 0 {
		t.Error("objects written")
	}
}
