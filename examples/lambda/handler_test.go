package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rtdskit/rtds/batch"
	"github.com/rtdskit/rtds/event"
)

// recordingMailer records the emails it is asked to send; failFor makes it
// fail for one named user.
type recordingMailer struct {
	mu      sync.Mutex
	sent    []string // named user ids
	failFor string
}

func (m *recordingMailer) SendUninstallEmail(_ context.Context, named string, e *event.Uninstall) error {
	if named == m.failFor {
		return errors.New("email service unavailable")
	}
	m.mu.Lock()
	m.sent = append(m.sent, named+"/"+e.ID)
	m.mu.Unlock()
	return nil
}

func uninstall(id, named string) string {
	dev := `{"channel":"c-` + id + `","device_type":"IOS"}`
	if named != "" {
		dev = `{"named_user_id":"` + named + `"}`
	}
	return `{"id":"` + id + `","type":"UNINSTALL","offset":1235,"occurred":"2015-05-03T02:32:12.088Z",` +
		`"processed":"2015-05-03T12:12:43.180Z","device":` + dev + `}`
}

func open(id string) string {
	return `{"id":"` + id + `","type":"OPEN","offset":"7","occurred":"2015-05-03T02:32:12.088Z",` +
		`"processed":"2015-05-03T12:12:43.180Z","device":{"channel":"c1","device_type":"ANDROID"},"body":{"session_id":"s"}}`
}

// aggregate encodes user records as one KPL aggregated record (magic,
// protobuf AggregatedRecord, MD5), written independently of package batch.
func aggregate(datas ...string) []byte {
	var pb []byte
	pb = binary.AppendUvarint(pb, 1<<3|2) // partition_key_table
	pb = binary.AppendUvarint(pb, 2)
	pb = append(pb, "pk"...)
	for _, d := range datas {
		var r []byte
		r = binary.AppendUvarint(r, 1<<3|0) // partition_key_index
		r = binary.AppendUvarint(r, 0)
		r = binary.AppendUvarint(r, 3<<3|2) // data
		r = binary.AppendUvarint(r, uint64(len(d)))
		r = append(r, d...)
		pb = binary.AppendUvarint(pb, 3<<3|2) // records
		pb = binary.AppendUvarint(pb, uint64(len(r)))
		pb = append(pb, r...)
	}
	sum := md5.Sum(pb)
	out := append([]byte{0xF3, 0x89, 0x9A, 0xC2}, pb...)
	return append(out, sum[:]...)
}

func kinesisEvent(datas ...[]byte) events.KinesisEvent {
	var ev events.KinesisEvent
	for i, d := range datas {
		seq := fmt.Sprintf("4959033827149025660855969253836157109592157598913658%04d", i)
		ev.Records = append(ev.Records, events.KinesisEventRecord{
			EventSource:    "aws:kinesis",
			EventSourceArn: "arn:aws:kinesis:us-east-1:123456789012:stream/rtds",
			EventID:        "shardId-000000000000:" + seq,
			Kinesis: events.KinesisRecord{
				Data:           d,
				PartitionKey:   "pk",
				SequenceNumber: seq,
			},
		})
	}
	return ev
}

func seqOf(ev events.KinesisEvent, i int) string { return ev.Records[i].Kinesis.SequenceNumber }

func TestHandle(t *testing.T) {
	t.Parallel()
	plain := func(s string) []byte { return []byte(s) }
	badMD5 := aggregate(uninstall("a1", "nu-a1"))
	badMD5[len(badMD5)-1] ^= 0xFF
	tests := []struct {
		name        string
		reason      string
		records     [][]byte
		failFor     string
		wantSent    []string
		wantFailure int // index of the reported record, -1 for none
	}{
		{
			name: "seed example", reason: "the UNINSTALL from Airship's docs sends one email",
			records:  [][]byte{plain(`{"id":"ff76bb85-74bc-4511-a3bf-11b6117784db","type":"UNINSTALL","offset":1235,"occurred":"2015-05-03T02:32:12.088Z","processed":"2015-05-03T12:12:43.180Z","device":{"named_user_id":"named-user-id-123"}}`)},
			wantSent: []string{"named-user-id-123/ff76bb85-74bc-4511-a3bf-11b6117784db"}, wantFailure: -1,
		},
		{
			name: "mixed plain records", reason: "only UNINSTALL with a named user is mailed; other types and anonymous devices are counted",
			records:  [][]byte{plain(open("o1")), plain(uninstall("u1", "")), plain(uninstall("u2", "nu-2")), plain(`{"id":"x1","type":"SOMETHING_NEW","occurred":"2020-01-01T00:00:00Z"}`)},
			wantSent: []string{"nu-2/u2"}, wantFailure: -1,
		},
		{
			name: "aggregated", reason: "a KPL aggregate is deaggregated and every user record handled in order",
			records:  [][]byte{aggregate(uninstall("a1", "nu-a1"), open("a2"), uninstall("a3", "nu-a3")), plain(uninstall("p1", "nu-p1"))},
			wantSent: []string{"nu-a1/a1", "nu-a3/a3", "nu-p1/p1"}, wantFailure: -1,
		},
		{
			name: "non-event record", reason: "data that is not an RTDS event is reported, and later records are left for redelivery",
			records:  [][]byte{plain(uninstall("u1", "nu-1")), plain("hello, not json"), plain(uninstall("u3", "nu-3"))},
			wantSent: []string{"nu-1/u1"}, wantFailure: 1,
		},
		{
			name: "malformed uninstall", reason: "an UNINSTALL that does not decode (missing id) is reported, not skipped",
			records:     [][]byte{plain(`{"type":"UNINSTALL","device":{"named_user_id":"nu"}}`)},
			wantFailure: 0,
		},
		{
			name: "corrupt aggregate", reason: "a bad MD5 is an error, not a plain record",
			records:  [][]byte{plain(uninstall("u0", "nu-0")), badMD5},
			wantSent: []string{"nu-0/u0"}, wantFailure: 1,
		},
		{
			name: "malformed inside aggregate", reason: "one bad user record fails its whole Kinesis record (Lambda retries whole records)",
			records:  [][]byte{aggregate(uninstall("a1", "nu-a1"), "{not json")},
			wantSent: []string{"nu-a1/a1"}, wantFailure: 0,
		},
		{
			name: "mailer failure", reason: "a transient downstream error is retried by Lambda from that record",
			records:  [][]byte{plain(uninstall("u1", "nu-1")), plain(uninstall("u2", "nu-down")), plain(uninstall("u3", "nu-3"))},
			failFor:  "nu-down",
			wantSent: []string{"nu-1/u1"}, wantFailure: 1,
		},
		{
			name: "empty batch", reason: "nothing to do is success", wantFailure: -1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := &recordingMailer{failFor: tt.failFor}
			var logs bytes.Buffer
			h := NewHandler(m, slog.New(slog.NewJSONHandler(&logs, nil)))
			in := kinesisEvent(tt.records...)
			resp, err := h.Handle(context.Background(), in)
			if err != nil {
				t.Fatalf("Handle returned %v; failures must be per record (%s)", err, tt.reason)
			}
			if strings.Join(m.sent, ",") != strings.Join(tt.wantSent, ",") {
				t.Errorf("emails = %v, want %v (%s)", m.sent, tt.wantSent, tt.reason)
			}
			var want []events.KinesisBatchItemFailure
			if tt.wantFailure >= 0 {
				want = []events.KinesisBatchItemFailure{{ItemIdentifier: seqOf(in, tt.wantFailure)}}
			}
			if len(resp.BatchItemFailures) != len(want) || (len(want) == 1 && resp.BatchItemFailures[0] != want[0]) {
				t.Fatalf("BatchItemFailures = %+v, want %+v (%s)", resp.BatchItemFailures, want, tt.reason)
			}
			if tt.wantFailure >= 0 {
				// The failure is logged with its sequence number, without the payload.
				if !strings.Contains(logs.String(), `"sequence_number":"`+seqOf(in, tt.wantFailure)+`"`) {
					t.Errorf("failure log does not name the sequence number:\n%s", logs.String())
				}
				if d := in.Records[tt.wantFailure].Kinesis.Data; len(d) > 8 && strings.Contains(logs.String(), string(d)) {
					t.Errorf("failure log contains the record payload:\n%s", logs.String())
				}
			}
		})
	}
}

// TestHandleBatchAggregate handles an aggregate written by batch.Aggregator,
// the format the rtds Producer sends.
func TestHandleBatchAggregate(t *testing.T) {
	t.Parallel()
	agg, err := batch.NewAggregator()
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range []string{uninstall("b1", "nu-b1"), open("b2"), uninstall("b3", "nu-b3")} {
		if err := agg.Add(batch.Record{PartitionKey: fmt.Sprintf("key-%d", i), Data: []byte(d)}); err != nil {
			t.Fatal(err)
		}
	}
	m := &recordingMailer{}
	in := kinesisEvent(agg.Build().Data)
	resp, sum := NewHandler(m, nil).Process(context.Background(), in)
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures: %+v", resp.BatchItemFailures)
	}
	if strings.Join(m.sent, ",") != "nu-b1/b1,nu-b3/b3" || sum.UserRecords != 3 {
		t.Errorf("emails = %v, summary %+v", m.sent, sum)
	}
}

// TestRetryDoesNotRemail replays a batch after a mailer failure, as Lambda
// does: the UNINSTALL mailed before the failure is not mailed again, the
// failed one is, and an event Airship delivered twice is mailed once.
func TestRetryDoesNotRemail(t *testing.T) {
	t.Parallel()
	m := &recordingMailer{failFor: "nu-2"}
	h := NewHandler(m, nil)
	in := kinesisEvent(aggregate(uninstall("u1", "nu-1"), uninstall("u2", "nu-2")), []byte(uninstall("u1", "nu-1")))
	resp, _ := h.Handle(context.Background(), in)
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != seqOf(in, 0) {
		t.Fatalf("first attempt: failures %+v, want the aggregate", resp.BatchItemFailures)
	}
	m.failFor = "" // the email service is back
	resp, sum := h.Process(context.Background(), in)
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("retry: failures %+v", resp.BatchItemFailures)
	}
	if got := strings.Join(m.sent, ","); got != "nu-1/u1,nu-2/u2" {
		t.Errorf("emails = %s, want each uninstall mailed once", got)
	}
	if sum.Duplicates != 2 || sum.Emails != 1 {
		t.Errorf("retry summary = %+v, want 1 email and 2 duplicates", sum)
	}
}

func TestProcessCounts(t *testing.T) {
	t.Parallel()
	h := NewHandler(&recordingMailer{}, nil)
	in := kinesisEvent(aggregate(uninstall("a1", "nu-a1"), open("a2"), uninstall("a3", "")), []byte(open("p1")))
	_, sum := h.Process(context.Background(), in)
	if sum.Records != 2 || sum.UserRecords != 4 || sum.Emails != 1 || sum.NoNamedUser != 1 ||
		sum.ByType[event.TypeOpen] != 2 || sum.ByType[event.TypeUninstall] != 2 || sum.Failed != "" {
		t.Errorf("summary = %+v", sum)
	}
	// A failed record's events are not counted: it is delivered again.
	in = kinesisEvent([]byte(open("p1")), aggregate(open("a1"), "bad"), []byte(open("p3")))
	_, sum = h.Process(context.Background(), in)
	if sum.Records != 1 || sum.UserRecords != 1 || sum.ByType[event.TypeOpen] != 1 || sum.Failed != seqOf(in, 1) || sum.Skipped != 1 {
		t.Errorf("summary after a failure = %+v", sum)
	}
}

func TestHandleDeadline(t *testing.T) {
	t.Parallel()
	m := &recordingMailer{}
	h := NewHandler(m, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	in := kinesisEvent([]byte(uninstall("u1", "nu-1")))
	resp, err := h.Handle(ctx, in)
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != seqOf(in, 0) {
		t.Fatalf("Handle after the deadline = %+v, %v; want the first record reported", resp, err)
	}
	if len(m.sent) != 0 {
		t.Errorf("sent %v after the deadline", m.sent)
	}
}

// TestResponseJSON checks the wire form Lambda reads.
func TestResponseJSON(t *testing.T) {
	t.Parallel()
	h := NewHandler(&recordingMailer{}, nil)
	in := kinesisEvent([]byte("nope"))
	resp, _ := h.Handle(context.Background(), in)
	b, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"batchItemFailures":[{"itemIdentifier":"` + seqOf(in, 0) + `"}]}`
	if string(b) != want {
		t.Errorf("response JSON = %s, want %s", b, want)
	}
	resp, _ = h.Handle(context.Background(), kinesisEvent([]byte(open("o"))))
	b, _ = json.Marshal(resp)
	if string(b) != `{"batchItemFailures":[]}` {
		t.Errorf("success response JSON = %s", b)
	}
}

// TestLambdaEventJSON decodes an event as Lambda delivers it (base64 data)
// and handles it end to end.
func TestLambdaEventJSON(t *testing.T) {
	t.Parallel()
	const raw = `{"Records":[{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"pk",
		"sequenceNumber":"49590338271490256608559692538361571095921575989136588898",
		"data":"eyJpZCI6ImZmNzZiYjg1LTc0YmMtNDUxMS1hM2JmLTExYjYxMTc3ODRkYiIsInR5cGUiOiJVTklOU1RBTEwiLCJvY2N1cnJlZCI6IjIwMTUtMDUtMDNUMDI6MzI6MTIuMDg4WiIsImRldmljZSI6eyJuYW1lZF91c2VyX2lkIjoibmFtZWQtdXNlci1pZC0xMjMifX0=",
		"approximateArrivalTimestamp":1545084650.987},
		"eventSource":"aws:kinesis","eventVersion":"1.0",
		"eventID":"shardId-000000000006:49590338271490256608559692538361571095921575989136588898",
		"eventName":"aws:kinesis:record","awsRegion":"us-east-1",
		"eventSourceARN":"arn:aws:kinesis:us-east-1:123456789012:stream/rtds"}]}`
	var in events.KinesisEvent
	if err := json.Unmarshal([]byte(raw), &in); err != nil {
		t.Fatal(err)
	}
	m := &recordingMailer{}
	resp, err := NewHandler(m, nil).Handle(context.Background(), in)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %+v, %v", resp, err)
	}
	if len(m.sent) != 1 || m.sent[0] != "named-user-id-123/ff76bb85-74bc-4511-a3bf-11b6117784db" {
		t.Errorf("sent = %v", m.sent)
	}
}
