package kinesis_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/rtdskit/rtds/kinesis"
)

// A checkpoint store only moves forward: a stale writer is refused and the
// stored checkpoint is kept.
func ExampleNewMemoryStore() {
	ctx := context.Background()
	store := kinesis.NewMemoryStore()

	const stream, shard = "rtds-events", "shardId-000000000000"
	if _, ok, _ := store.Load(ctx, stream, shard); !ok {
		fmt.Println("no checkpoint yet: start at the configured position")
	}

	// The third user record of an aggregated Kinesis record is done.
	_ = store.Save(ctx, stream, shard, kinesis.Checkpoint{
		SequenceNumber:    "49590338271490256608559692538361571095921575989136588898",
		SubSequenceNumber: 2,
	})

	// An older worker tries to write an earlier position.
	err := store.Save(ctx, stream, shard, kinesis.Checkpoint{
		SequenceNumber: "49590338271490256608559692538361571095921575989136588897",
	})
	fmt.Println("stale writer refused:", errors.Is(err, kinesis.ErrCheckpointBehind))

	cp, _, _ := store.Load(ctx, stream, shard)
	fmt.Println("resume after", cp.SequenceNumber, "sub", cp.SubSequenceNumber)
	// Output:
	// no checkpoint yet: start at the configured position
	// stale writer refused: true
	// resume after 49590338271490256608559692538361571095921575989136588898 sub 2
}
