package kinesis_test

import (
	"context"
	"fmt"
	"time"

	"github.com/rtdskit/rtds/kinesis"
	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

// Workers that use the same lease store (in production, one
// dynamodbstore table and application name) share a stream's
// shards: each shard is read by one worker at a time, and a worker that
// joins gets its share from the others by graceful handoffs.
func ExampleWithLeases() {
	f := kinesistest.New(kinesistest.WithStream("rtds-events", 4))
	store := kinesis.NewMemoryStore() // a LeaseStore, like the DynamoDB store

	startWorker := func(id string) (stop func()) {
		c, err := kinesis.NewConsumer(f, "rtds-events",
			kinesis.OnRecord(func(ctx context.Context, r kinesis.Record) error { return nil }),
			kinesis.WithCheckpointStore(store),
			kinesis.WithLeases(kinesis.Leases{WorkerID: id, Duration: 300 * time.Millisecond}), // default 10s
			kinesis.WithIdleWait(10*time.Millisecond),
		)
		if err != nil {
			panic(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- c.Run(ctx) }()
		return func() {
			cancel()
			if err := <-done; err != nil {
				panic(err)
			}
		}
	}
	owners := func() map[string]int {
		leases, err := store.ListLeases(context.Background(), "rtds-events")
		if err != nil {
			panic(err)
		}
		m := map[string]int{}
		for _, l := range leases {
			m[l.Owner]++
		}
		return m
	}
	waitFor := func(want map[string]int) {
		for fmt.Sprint(owners()) != fmt.Sprint(want) {
			time.Sleep(10 * time.Millisecond)
		}
		fmt.Println("shards per worker:", owners())
	}

	stopA := startWorker("worker-a")
	waitFor(map[string]int{"worker-a": 4})
	stopB := startWorker("worker-b")
	waitFor(map[string]int{"worker-a": 2, "worker-b": 2})
	stopB() // releases its leases: worker-a takes them at once
	waitFor(map[string]int{"worker-a": 4})
	stopA()
	waitFor(map[string]int{"": 4})
	// Output:
	// shards per worker: map[worker-a:4]
	// shards per worker: map[worker-a:2 worker-b:2]
	// shards per worker: map[worker-a:4]
	// shards per worker: map[:4]
}
