package kinesislambda

import (
	"fmt"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rtdskit/rtds/batch"
	"github.com/rtdskit/rtds/event"
)

// testEvent returns an RTDS event's JSON; named, if set, is the device's
// named user.
func testEvent(id string, t event.Type, named string) []byte {
	dev := `"device":{"channel":"7f1c2a9e-1111-4a2b-8c3d-000000000001","device_type":"IOS"}`
	if named != "" {
		dev = `"device":{"channel":"7f1c2a9e-1111-4a2b-8c3d-000000000001","device_type":"IOS","named_user_id":"` + named + `"}`
	}
	return fmt.Appendf(nil, `{"id":%q,"type":%q,"offset":"1","occurred":"2024-05-01T12:00:00Z","processed":"2024-05-01T12:00:01Z",%s,"body":{}}`, id, t, dev)
}

// aggregate packs datas into one KPL aggregate.
func aggregate(t testing.TB, datas ...[]byte) []byte {
	t.Helper()
	a, err := batch.NewAggregator()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range datas {
		if err := a.Add(batch.Record{PartitionKey: "pk", Data: d}); err != nil {
			t.Fatal(err)
		}
	}
	return a.Build().Data
}

// seqNum returns the i-th test sequence number (increasing with i).
func seqNum(i int) string {
	return fmt.Sprintf("4959033827149025660855969253836157109592157598913%07d", i+1)
}

// kinesisEvent builds a Lambda event of records of one shard.
func kinesisEvent(shard string, datas ...[]byte) events.KinesisEvent {
	var ev events.KinesisEvent
	for i, d := range datas {
		ev.Records = append(ev.Records, events.KinesisEventRecord{
			EventID:        shard + ":" + seqNum(i),
			EventName:      "aws:kinesis:record",
			EventSource:    "aws:kinesis",
			EventSourceArn: "arn:aws:kinesis:us-east-1:123456789012:stream/rtds",
			Kinesis:        events.KinesisRecord{SequenceNumber: seqNum(i), PartitionKey: "pk", Data: d, KinesisSchemaVersion: "1.0"},
		})
	}
	return ev
}

// failures returns the response's item identifiers.
func failures(r events.KinesisEventResponse) []string {
	var ids []string
	for _, f := range r.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

// uninstalls returns n UNINSTALL events with ids prefix0, prefix1, ...,
// each from the named user "u-" + its id, and their ids.
func uninstalls(prefix string, n int) (ids []string, datas [][]byte) {
	for i := range n {
		id := fmt.Sprint(prefix, i)
		ids = append(ids, id)
		datas = append(datas, testEvent(id, event.TypeUninstall, "u-"+id))
	}
	return ids, datas
}
