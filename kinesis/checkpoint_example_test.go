package kinesis_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

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

// Checkpoints in DynamoDB survive restarts. Several applications can share
// one table: each reads the stream independently under its own name.
func ExampleNewDynamoDBCheckpointStore() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	store, err := kinesis.NewDynamoDBCheckpointStore(dynamodb.NewFromConfig(cfg), "rtds-checkpoints",
		kinesis.WithCheckpointApplication("uninstall-emailer"))
	if err != nil {
		log.Fatal(err)
	}
	// Create the table (on-demand billing) unless it exists; wait until ACTIVE.
	if err := store.EnsureTable(ctx); err != nil {
		log.Fatal(err)
	}
	// Pass store to the consumer; it calls Load and Save.
	cp, ok, err := store.Load(ctx, "rtds-events", "shardId-000000000000")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ok, cp.SequenceNumber)
}
