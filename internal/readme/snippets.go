// Package readme holds the Go snippets of the repository's README.md as
// code that compiles, and a test that each snippet in the README is the
// code here (or in kinesislambda, for the Lambda section) to the letter,
// so a README snippet cannot drift from the API.
package readme

import (
	"context"
	"log"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis"
	"github.com/rtdskit/rtds/kinesis/dynamodbstore"
)

// quickStart is the README's first snippet.
func quickStart(ctx context.Context, cfg aws.Config, sendEmail func(context.Context, string) error) {
	// Email every named user who uninstalls the app (the scenario from Airship's own AWS guide).
	client := sdkkinesis.NewFromConfig(cfg) // cfg from config.LoadDefaultConfig
	store, _ := dynamodbstore.New(dynamodb.NewFromConfig(cfg), "rtds-checkpoints",
		dynamodbstore.WithApplication("uninstall-email"))
	c, err := kinesis.NewConsumer(client, "airship-events",
		kinesis.WithCheckpointStore(store),
		kinesis.OnUninstall(func(ctx context.Context, e *event.Uninstall) error {
			if id := e.NamedUserID(); id != "" {
				return sendEmail(ctx, id) // an error retries; kinesis.Permanent(err) dead-letters at once
			}
			return nil
		}),
		kinesis.WithDeadLetter(func(ctx context.Context, d kinesis.DeadLetter) error {
			slog.Error("bad record", "shard", d.ShardID, "seq", d.SequenceNumber, "err", d.Err)
			return nil
		}),
	)
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(c.Run(ctx)) // blocks; cancel ctx to drain and write final checkpoints
}
