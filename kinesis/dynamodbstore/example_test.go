package dynamodbstore_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rtdskit/rtds/kinesis/dynamodbstore"
)

// Checkpoints in DynamoDB survive restarts. Several applications can share
// one table: each reads the stream independently under its own name.
func ExampleNew() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	store, err := dynamodbstore.New(dynamodb.NewFromConfig(cfg), "rtds-checkpoints",
		dynamodbstore.WithApplication("uninstall-emailer"))
	if err != nil {
		log.Fatal(err)
	}
	// Create the table (on-demand billing) unless it exists; wait until ACTIVE.
	if err := store.EnsureTable(ctx); err != nil {
		log.Fatal(err)
	}
	// Pass store to the consumer (kinesis.WithCheckpointStore); it calls Load and Save.
	cp, ok, err := store.Load(ctx, "rtds-events", "shardId-000000000000")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ok, cp.SequenceNumber)
}
