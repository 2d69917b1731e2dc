package kinesis_test

import (
	"context"
	"fmt"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis"
)

// A Dispatcher runs the same handler set as a Consumer on records from any
// source (here, records built by hand), without a Kinesis client.
func ExampleNewDispatcher() {
	d, err := kinesis.NewDispatcher(
		kinesis.OnUninstall(func(ctx context.Context, e *event.Uninstall) error {
			fmt.Printf("email %s: sorry to see you go\n", e.NamedUserID())
			return nil
		}),
		kinesis.WithDeadLetter(func(ctx context.Context, d kinesis.DeadLetter) error {
			fmt.Printf("dead letter %s/%s: %s\n", d.ShardID, d.SequenceNumber, d.Reason)
			return nil
		}),
		kinesis.WithDeduplication(1000, 0),
	)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for i, data := range []string{
		`{"id":"e1","type":"UNINSTALL","occurred":"2024-05-01T12:01:00Z","device":{"channel":"c1","device_type":"IOS","named_user_id":"ada@example.com"}}`,
		`{"id":"e1","type":"UNINSTALL","occurred":"2024-05-01T12:01:00Z","device":{"channel":"c1","device_type":"IOS","named_user_id":"ada@example.com"}}`,
		`{"id":"e2","type":"OPEN","occurred":"2024-05-01T12:02:00Z","device":{"channel":"c2","device_type":"ANDROID"}}`,
		`not an event`,
	} {
		rec := kinesis.Record{ShardID: "shardId-000000000000", SequenceNumber: fmt.Sprint(i + 1), Data: []byte(data)}
		if err := d.Dispatch(ctx, rec); err != nil {
			panic(err) // only ctx's error
		}
	}
	fmt.Printf("%+v\n", d.Stats())
	// Output:
	// email ada@example.com: sorry to see you go
	// dead letter shardId-000000000000/4: undecodable
	// {Handled:1 DeadLettered:1 Duplicates:1 Skipped:1}
}
