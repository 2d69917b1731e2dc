package kinesislambda_test

import (
	"context"
	"log"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis"
	"github.com/rtdskit/rtds/kinesislambda"
)

// main is the main function of the README's AWS Lambda section, compiled
// here, never called (internal/readme checks that the README shows this
// code to the letter).
func main() {
	h, err := kinesislambda.New(kinesis.OnUninstall(func(ctx context.Context, e *event.Uninstall) error {
		if user := e.NamedUserID(); user != "" {
			slog.InfoContext(ctx, "would send uninstall email", "event_id", e.ID, "named_user_id", user)
		}
		return nil // an error reports this record as a batch item failure: Lambda retries from it
	}))
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(h.Handle)
}
