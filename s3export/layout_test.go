package s3export

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/rtdskit/rtds/event"
)

type fixture struct{ id, typ, processed string }

// fixedSet spans two days, several hours and types, late events within
// and after the grace period, a type without a CSV layout (MYSTERY) and a
// processed time in another offset.
var fixedSet = []fixture{
	{"a1", "OPEN", "2026-03-08T16:00:05.123Z"},
	{"c1", "CUSTOM", "2026-03-08T16:10:00Z"},
	{"l1", "LOCATION", "2026-03-08T16:20:00.5Z"},
	{"t1", "TAG_CHANGE", "2026-03-08T16:30:00Z"},
	{"m1", "MYSTERY", "2026-03-08T16:40:00Z"},
	{"a2", "OPEN", "2026-03-08T16:59:59.999Z"},
	{"a3", "OPEN", "2026-03-08T17:00:01Z"},
	{"c2", "CUSTOM", "2026-03-08T17:03:00Z"},
	{"a4", "OPEN", "2026-03-08T16:58:00Z"},           // late, within the grace period
	{"s1", "SEND", "2026-03-08T17:30:00Z"},           // closes hour 16
	{"a5", "OPEN", "2026-03-08T16:45:00Z"},           // late, after it: a new file
	{"t2", "TAG_CHANGE", "2026-03-08T23:59:58Z"},     // closes hour 17
	{"a6", "OPEN", "2026-03-09T00:00:00Z"},           // next day
	{"u1", "UNINSTALL", "2026-03-09T00:15:00+02:00"}, // 2026-03-08T22:15Z
	{"m2", "MYSTERY", "2026-03-09T00:20:00Z"},
}

// wantCSV and wantJSON are the files of fixedSet: key (below
// APPKEY/INTEG-1/) and the ids of their events in order.
var wantCSV = map[string][]string{
	"S3_CSV/OPEN/2026_03_08/2026_03_08_16_00_05.csv":       {"a1", "a2", "a4"},
	"S3_CSV/CUSTOM/2026_03_08/2026_03_08_16_10_00.csv":     {"c1"},
	"S3_CSV/LOCATION/2026_03_08/2026_03_08_16_20_00.csv":   {"l1"},
	"S3_CSV/TAG_CHANGE/2026_03_08/2026_03_08_16_30_00.csv": {"t1"},
	"S3_CSV/OPEN/2026_03_08/2026_03_08_17_00_01.csv":       {"a3"},
	"S3_CSV/CUSTOM/2026_03_08/2026_03_08_17_03_00.csv":     {"c2"},
	"S3_CSV/SEND/2026_03_08/2026_03_08_17_30_00.csv":       {"s1"},
	"S3_CSV/OPEN/2026_03_08/2026_03_08_16_45_00.csv":       {"a5"},
	"S3_CSV/TAG_CHANGE/2026_03_08/2026_03_08_23_59_58.csv": {"t2"},
	"S3_CSV/OPEN/2026_03_09/2026_03_09_00_00_00.csv":       {"a6"},
	"S3_CSV/UNINSTALL/2026_03_08/2026_03_08_22_15_00.csv":  {"u1"},
}

var wantJSON = map[string][]string{
	"S3_JSON/2026_03_08/2026_03_08_16_00_05.json": {"a1", "c1", "l1", "t1", "m1", "a2", "a4"},
	"S3_JSON/2026_03_08/2026_03_08_17_00_01.json": {"a3", "c2", "s1"},
	"S3_JSON/2026_03_08/2026_03_08_16_45_00.json": {"a5"},
	"S3_JSON/2026_03_08/2026_03_08_23_59_58.json": {"t2"},
	"S3_JSON/2026_03_09/2026_03_09_00_00_00.json": {"a6", "m2"},
	"S3_JSON/2026_03_08/2026_03_08_22_15_00.json": {"u1"},
}

func fixedData() map[string][]byte {
	m := map[string][]byte{}
	for _, f := range fixedSet {
		m[f.id] = ev(f.id, f.typ, f.processed)
	}
	return m
}

// expectFiles builds the expected objects (below the app's root) from a
// want map: JSON lines as received, or the CSV header and rows of the
// event package's layout.
func expectFiles(t *testing.T, want map[string][]string, gz bool) map[string][]byte {
	t.Helper()
	data := fixedData()
	out := map[string][]byte{}
	for k, ids := range want {
		var b bytes.Buffer
		if strings.HasPrefix(k, "S3_JSON/") {
			for _, id := range ids {
				b.Write(data[id])
				b.WriteByte('\n')
			}
		} else {
			cw := csv.NewWriter(&b)
			typ := event.Type(strings.Split(k, "/")[1])
			h, err := event.CSVHeader(typ)
			if err != nil {
				t.Fatal(err)
			}
			_ = cw.Write(h)
			for _, id := range ids {
				e, err := event.Decode(data[id])
				if err != nil {
					t.Fatal(err)
				}
				r, err := event.CSVRecord(e)
				if err != nil {
					t.Fatal(err)
				}
				_ = cw.Write(r)
			}
			cw.Flush()
		}
		if gz {
			k += ".gz"
		}
		out[testApp+"/"+testInteg+"/"+k] = b.Bytes()
	}
	return out
}

func writeFixed(t *testing.T, tg Target, opts ...Option) *Exporter {
	t.Helper()
	e := newExporter(t, tg, opts...)
	w := e.NewShardWriter(testShard)
	a := newAcks()
	ctx := context.Background()
	for i, f := range fixedSet {
		if err := w.Write(ctx, rec(testShard, i, ev(f.id, f.typ, f.processed)), testAck{a, i}); err != nil {
			t.Fatal(err)
		}
	}
	closeWriter(t, w)
	for i := range fixedSet {
		if a.get(i) != ackDone {
			t.Errorf("record %d (%s) not acknowledged: %v", i, fixedSet[i].id, a.get(i))
		}
	}
	return e
}

func TestFixedSetKeysAndContentsAreByteExact(t *testing.T) {
	for _, format := range []Format{FormatCSV, FormatJSON} {
		for _, gz := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/gzip=%v", format, gz), func(t *testing.T) {
				c, bucket, tg := s3Bucket(t)
				e := writeFixed(t, tg, WithFormat(format), WithGzip(gz))
				got := bucketObjects(t, c, bucket, "", false)
				want := wantCSV
				if format == FormatJSON {
					want = wantJSON
				}
				exp := expectFiles(t, want, gz)
				if diff := cmp.Diff(keys(exp), keys(got)); diff != "" {
					t.Fatalf("keys (-want +got):\n%s", diff)
				}
				for k, b := range got {
					if gz {
						b = gunzip(t, b)
					}
					if !bytes.Equal(b, exp[k]) {
						t.Errorf("%s:\n got %q\nwant %q", k, b, exp[k])
					}
				}
				st := e.Stats()
				if format == FormatCSV {
					if diff := cmp.Diff(map[event.Type]int64{"MYSTERY": 2}, st.NoLayout); diff != "" {
						t.Errorf("NoLayout (-want +got):\n%s", diff)
					}
					if st.Events != int64(len(fixedSet)-2) {
						t.Errorf("Events = %d, want %d", st.Events, len(fixedSet)-2)
					}
				} else if len(st.NoLayout) != 0 || st.Events != int64(len(fixedSet)) {
					t.Errorf("JSON: NoLayout %v, Events %d", st.NoLayout, st.Events)
				}
				if st.ByType[event.TypeTagChange] != 2 {
					t.Errorf("TAG_CHANGE written = %d, want 2", st.ByType[event.TypeTagChange])
				}
				if st.Uploaded != st.Events || st.FilesCompleted != int64(len(want)) || st.OpenFiles != 0 {
					t.Errorf("stats %+v", st)
				}
				if gz {
					for k := range got {
						h, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
						if err != nil {
							t.Fatal(err)
						}
						wantCT := "text/csv"
						if format == FormatJSON {
							wantCT = "application/x-ndjson"
						}
						if aws.ToString(h.ContentEncoding) != "gzip" || aws.ToString(h.ContentType) != wantCT {
							t.Errorf("%s: Content-Encoding %q, Content-Type %q", k, aws.ToString(h.ContentEncoding), aws.ToString(h.ContentType))
						}
					}
				}
			})
		}
	}
}

// The TAG_CHANGE file, literally: the appendix's columns, no tag data.
func TestTagChangeIsWrittenWithTheAppendixColumns(t *testing.T) {
	dir := t.TempDir()
	tg, err := NewDirTarget(dir)
	if err != nil {
		t.Fatal(err)
	}
	writeFixed(t, tg, WithFormat(FormatCSV))
	got := dirObjects(t, dir, false)
	const want = "ID,TYPE,OCCURRED,PROCESSED,OFFSET,NAMED_USER_ID,ANDROID_CHANNEL,IOS_CHANNEL,AMAZON_CHANNEL,CHANNEL,DEVICE_TYPE\n" +
		"t1,TAG_CHANGE,2026-03-08T16:30:00.000Z,2026-03-08T16:30:00.000Z,1,\"nu, 1\",,ch-t1,,ch-t1,IOS\n"
	k := "APPKEY/INTEG-1/S3_CSV/TAG_CHANGE/2026_03_08/2026_03_08_16_30_00.csv"
	if string(got[k]) != want {
		t.Errorf("%s:\n got %q\nwant %q", k, got[k], want)
	}
}

// The local-directory target writes the same layout, byte for byte, as the
// S3 target.
func TestDirTargetWritesTheSameLayoutAsS3(t *testing.T) {
	for _, format := range []Format{FormatCSV, FormatJSON} {
		t.Run(string(format), func(t *testing.T) {
			c, bucket, tg := s3Bucket(t)
			writeFixed(t, tg, WithFormat(format), WithGzip(true))
			dir := t.TempDir()
			dt, err := NewDirTarget(dir)
			if err != nil {
				t.Fatal(err)
			}
			writeFixed(t, dt, WithFormat(format), WithGzip(true))
			if diff := cmp.Diff(bucketObjects(t, c, bucket, "", true), dirObjects(t, dir, true)); diff != "" {
				t.Errorf("S3 and directory differ (-s3 +dir):\n%s", diff)
			}
		})
	}
}

func TestNoLayoutTypesGoToJSONWhenAsked(t *testing.T) {
	dir := t.TempDir()
	tg, _ := NewDirTarget(dir)
	e := writeFixed(t, tg, WithFormat(FormatCSV), WithNoLayoutToJSON(true))
	got := dirObjects(t, dir, false)
	data := fixedData()
	want := map[string]string{
		"APPKEY/INTEG-1/S3_JSON/2026_03_08/2026_03_08_16_40_00.json": string(data["m1"]) + "\n",
		"APPKEY/INTEG-1/S3_JSON/2026_03_09/2026_03_09_00_20_00.json": string(data["m2"]) + "\n",
	}
	for k, v := range want {
		if string(got[k]) != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(wantCSV)+2 {
		t.Errorf("%d files, want %d: %v", len(got), len(wantCSV)+2, keys(got))
	}
	if n := len(e.Stats().NoLayout); n != 0 {
		t.Errorf("NoLayout = %v, want none", e.Stats().NoLayout)
	}
}

func TestShardNumberAndSuffixedNames(t *testing.T) {
	for id, want := range map[string]string{
		"shardId-000000000003": "3", "shardId-000000000000": "0", "shardId-000000000120": "120", "custom": "custom",
	} {
		if got := ShardNumber(id); got != want {
			t.Errorf("ShardNumber(%q) = %q, want %q", id, got, want)
		}
	}
	dir := t.TempDir()
	tg, _ := NewDirTarget(dir)
	e := newExporter(t, tg, WithFormat(FormatCSV), WithGzip(true),
		WithShardSuffix(func(context.Context, string) (bool, error) { return true, nil }))
	w := e.NewShardWriter("shardId-000000000003")
	a := newAcks()
	if err := w.Write(context.Background(), rec("shardId-000000000003", 0, ev("x", "OPEN", "2026-03-08T16:00:05Z")), testAck{a, 0}); err != nil {
		t.Fatal(err)
	}
	closeWriter(t, w)
	got := keys(dirObjects(t, dir, false))
	if diff := cmp.Diff([]string{"APPKEY/INTEG-1/S3_CSV/OPEN/2026_03_08/2026_03_08_16_00_05_3.csv.gz"}, got); diff != "" {
		t.Error(diff)
	}
}
