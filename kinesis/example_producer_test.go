package kinesis_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis"
	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

func ExampleNewProducer() {
	ctx := context.Background()
	// In production: client := sdkkinesis.NewFromConfig(cfg).
	client := kinesistest.New(kinesistest.WithStream("events", 2))

	var mu sync.Mutex
	var lines []string
	p, err := kinesis.NewProducer(client, "events",
		kinesis.WithAggregation(true),
		kinesis.WithResultHandler(func(r kinesis.Result) {
			mu.Lock()
			defer mu.Unlock()
			if r.Err != nil {
				lines = append(lines, fmt.Sprintf("%s failed: %v", r.Data, r.Err))
				return
			}
			lines = append(lines, fmt.Sprintf("%s delivered to %s", r.Data, r.ShardID))
		}))
	if err != nil {
		panic(err)
	}
	for i, channel := range []string{"channel-a", "channel-d", "channel-a"} {
		if err := p.Put(ctx, channel, fmt.Appendf(nil, "record %d for %s", i, channel)); err != nil {
			panic(err)
		}
	}
	// Close delivers what is buffered; every record's outcome has been
	// reported when it returns.
	if err := p.Close(ctx); err != nil {
		panic(err)
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	st := p.Stats()
	fmt.Printf("%d records delivered in %d Kinesis records\n", st.Delivered, len(client.Records("events")))
	// Output:
	// record 0 for channel-a delivered to shardId-000000000001
	// record 1 for channel-d delivered to shardId-000000000000
	// record 2 for channel-a delivered to shardId-000000000001
	// 3 records delivered in 2 Kinesis records
}

func ExampleProducer_PutEvent() {
	ctx := context.Background()
	client := kinesistest.New(kinesistest.WithStream("events", 1))
	p, err := kinesis.NewProducer(client, "events", kinesis.WithEventPartitionKey(kinesis.PartitionKeyChannel))
	if err != nil {
		panic(err)
	}
	e, err := event.Decode([]byte(`{"id":"ff76bb0a-9f1d-4f2a-9a4c-3c1a0f0e1a01","type":"UNINSTALL","offset":"1",` +
		`"occurred":"2026-11-28T10:00:00.000Z","processed":"2026-11-28T10:00:01.000Z",` +
		`"device":{"channel":"a6a9f1d2-0c5e-4f6e-8f1b-2d3c4b5a6978","device_type":"IOS"},"body":{}}`))
	if err != nil {
		panic(err)
	}
	if err := p.PutEvent(ctx, e); err != nil {
		panic(err)
	}
	if err := p.Close(ctx); err != nil {
		panic(err)
	}
	for _, r := range client.Records("events") {
		fmt.Println(r.PartitionKey)
	}
	// Output:
	// a6a9f1d2-0c5e-4f6e-8f1b-2d3c4b5a6978
}

// Events read as JSON (an NDJSON file, a queue) are sent unchanged, keyed
// by their channel without being decoded.
func ExampleProducer_PutEventJSON() {
	ctx := context.Background()
	client := kinesistest.New(kinesistest.WithStream("events", 1))
	p, err := kinesis.NewProducer(client, "events") // PartitionKeyChannel by default
	if err != nil {
		panic(err)
	}
	lines := [][]byte{
		[]byte(`{"id":"e1","type":"OPEN","device":{"channel":"c1","device_type":"IOS"},"body":{"session_id":"s"}}`),
		[]byte(`{"id":"e2","type":"CUSTOM","device":{"android_channel":"c2"},"body":{"name":"purchase"}}`),
		[]byte(`{"id":"e3","type":"PUSH_BODY","body":{"push_id":"p"}}`),
	}
	for _, line := range lines {
		if err := p.PutEventJSON(ctx, line); err != nil {
			panic(err)
		}
	}
	if err := p.PutEventJSON(ctx, []byte(`{"type":"OPEN"}`)); err != nil {
		fmt.Println(err)
	}
	if err := p.Close(ctx); err != nil {
		panic(err)
	}
	for _, r := range client.Records("events") {
		fmt.Println(r.PartitionKey)
	}
	// Output:
	// kinesis: put event: event: id: missing required field (offset 15)
	// c1
	// c2
	// e3
}

// Records that fail carry the SDK's typed error.
func ExampleRecordError() {
	ctx := context.Background()
	client := kinesistest.New() // no stream: every call fails
	p, err := kinesis.NewProducer(client, "missing", kinesis.WithResultHandler(func(r kinesis.Result) {
		var notFound *sdktypes.ResourceNotFoundException
		fmt.Println(errors.As(r.Err, &notFound))
	}))
	if err != nil {
		panic(err)
	}
	if err := p.Put(ctx, "k", []byte("v")); err != nil {
		panic(err)
	}
	if err := p.Close(ctx); err != nil {
		panic(err)
	}
	// Output:
	// true
}
