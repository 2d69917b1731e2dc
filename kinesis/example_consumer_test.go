package kinesis_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis"
	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

// putExampleEvents writes a few RTDS events to a fake stream.
func putExampleEvents(f *kinesistest.Fake, stream string, events ...string) {
	in := &sdkkinesis.PutRecordsInput{StreamName: aws.String(stream)}
	for _, e := range events {
		in.Records = append(in.Records, sdktypes.PutRecordsRequestEntry{PartitionKey: aws.String("channel-1"), Data: []byte(e)})
	}
	if _, err := f.PutRecords(context.Background(), in); err != nil {
		panic(err)
	}
}

// The seed's scenario: email every named user who uninstalls the app, and
// count the other events by type.
func Example_uninstallHandler() {
	f := kinesistest.New(kinesistest.WithStream("rtds-events", 1))
	putExampleEvents(f, "rtds-events",
		`{"id":"e1","type":"OPEN","occurred":"2024-05-01T12:00:00Z","device":{"channel":"c1","device_type":"IOS"}}`,
		`{"id":"e2","type":"UNINSTALL","occurred":"2024-05-01T12:01:00Z","device":{"channel":"c1","device_type":"IOS","named_user_id":"ada@example.com"}}`,
		`{"id":"e3","type":"UNINSTALL","occurred":"2024-05-01T12:02:00Z","device":{"channel":"c2","device_type":"ANDROID"}}`,
	)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	others := map[event.Type]int{} // one shard: handlers never run concurrently here
	seen := 0
	done := func() {
		if seen++; seen == 3 {
			cancel() // stop after the third event; Run drains and returns
		}
	}
	c, err := kinesis.NewConsumer(f, "rtds-events",
		kinesis.OnUninstall(func(ctx context.Context, e *event.Uninstall) error {
			defer done()
			if user := e.NamedUserID(); user != "" {
				fmt.Printf("email %s: sorry to see you go\n", user)
			}
			return nil
		}),
		kinesis.OnEvent(func(ctx context.Context, e event.Event) error {
			defer done()
			others[e.EventType()]++
			return nil
		}),
	)
	if err != nil {
		panic(err)
	}
	if err := c.Run(ctx); err != nil {
		panic(err)
	}
	fmt.Println("other events:", others)
	// Output:
	// email ada@example.com: sorry to see you go
	// other events: map[OPEN:1]
}

// Run blocks until its context is done, then finishes the record in
// progress, writes the final checkpoints and returns nil. A restarted
// consumer with the same checkpoint store resumes after them.
func ExampleConsumer_Run() {
	f := kinesistest.New(kinesistest.WithStream("rtds-events", 1))
	store := kinesis.NewMemoryStore()
	putExampleEvents(f, "rtds-events",
		`{"id":"a","type":"OPEN","occurred":"2024-05-01T12:00:00Z"}`,
		`{"id":"b","type":"CLOSE","occurred":"2024-05-01T12:00:01Z"}`,
	)
	run := func(want int) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		n := 0
		c, err := kinesis.NewConsumer(f, "rtds-events",
			kinesis.WithCheckpointStore(store),
			kinesis.OnEvent(func(ctx context.Context, e event.Event) error {
				fmt.Println("handled", e.Base().ID, e.EventType())
				if n++; n == want {
					cancel()
				}
				return nil
			}))
		if err != nil {
			panic(err)
		}
		if err := c.Run(ctx); err != nil {
			panic(err)
		}
	}
	run(2)
	putExampleEvents(f, "rtds-events", `{"id":"c","type":"OPEN","occurred":"2024-05-01T12:00:02Z"}`)
	fmt.Println("restart")
	run(1)
	// Output:
	// handled a OPEN
	// handled b CLOSE
	// restart
	// handled c OPEN
}

// Records that cannot be handled go to the dead-letter handler with their
// position and raw bytes; the shard goes on. A handler marks an error that
// retrying cannot fix with kinesis.Permanent.
func ExampleWithDeadLetter() {
	f := kinesistest.New(kinesistest.WithStream("rtds-events", 1))
	putExampleEvents(f, "rtds-events",
		`{"id":"a","type":"OPEN",`,
		`{"id":"b","type":"OPEN","occurred":"2024-05-01T12:00:00Z"}`,
		`{"id":"c","type":"OPEN","occurred":"2024-05-01T12:00:01Z"}`,
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := kinesis.NewConsumer(f, "rtds-events",
		kinesis.OnOpen(func(ctx context.Context, e *event.Open) error {
			if e.ID == "b" {
				return kinesis.Permanent(errors.New("no such user"))
			}
			fmt.Println("handled", e.ID)
			cancel()
			return nil
		}),
		kinesis.WithDeadLetter(func(ctx context.Context, d kinesis.DeadLetter) error {
			var decodeErr *event.DecodeError
			fmt.Printf("dead letter: %q attempts=%d decode error=%v permanent=%v\n",
				d.Data, d.Attempts, errors.As(d.Err, &decodeErr), errors.Is(d.Err, &kinesis.PermanentError{}))
			return nil
		}),
	)
	if err != nil {
		panic(err)
	}
	if err := c.Run(ctx); err != nil {
		panic(err)
	}
	// Output:
	// dead letter: "{\"id\":\"a\",\"type\":\"OPEN\"," attempts=0 decode error=true permanent=false
	// dead letter: "{\"id\":\"b\",\"type\":\"OPEN\",\"occurred\":\"2024-05-01T12:00:00Z\"}" attempts=1 decode error=false permanent=true
	// handled c
}

// Stats is a cheap snapshot of the consumer's progress: per shard its
// state, lag (MillisBehindLatest), records processed and checkpoint.
func ExampleConsumer_Stats() {
	f := kinesistest.New(kinesistest.WithStream("rtds-events", 2))
	putExampleEvents(f, "rtds-events",
		`{"id":"a","type":"OPEN","occurred":"2024-05-01T12:00:00Z"}`,
		`{"id":"b","type":"TAG_CHANGE","occurred":"2024-05-01T12:00:01Z"}`,
		`{"id":"c","type":"UNINSTALL","occurred":"2024-05-01T12:00:02Z"}`,
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := kinesis.NewConsumer(f, "rtds-events",
		kinesis.OnUninstall(func(ctx context.Context, e *event.Uninstall) error {
			cancel() // the last event: stop
			return nil
		}),
		kinesis.OnOpen(func(ctx context.Context, e *event.Open) error { return nil }),
	)
	if err != nil {
		panic(err)
	}
	if err := c.Run(ctx); err != nil {
		panic(err)
	}
	st := c.Stats()
	fmt.Printf("handled %d, skipped %d (TAG_CHANGE has no handler)\n", st.Handled, st.Skipped)
	for _, s := range st.Shards {
		fmt.Printf("%s: %s, %d records, %d ms behind, checkpointed %v\n",
			s.ShardID, s.State, s.Records, s.MillisBehindLatest, s.Checkpoint == s.Processed)
	}
	// Output:
	// handled 2, skipped 1 (TAG_CHANGE has no handler)
	// shardId-000000000000: stopped, 3 records, 0 ms behind, checkpointed true
	// shardId-000000000001: stopped, 0 records, 0 ms behind, checkpointed true
}
