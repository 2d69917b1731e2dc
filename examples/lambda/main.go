// Command lambda is an AWS Lambda function for a Kinesis event source
// carrying Airship RTDS events: it logs the email it would send to every
// named user who uninstalls the app (the scenario of Airship's RTDS
// documentation). The kinesislambda adapter deaggregates KPL records,
// dead-letters poison records and reports failed records in a partial
// batch response. See README.md for deployment.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis"
	"github.com/rtdskit/rtds/kinesislambda"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	h, err := newHandler(log)
	if err != nil {
		log.Error("configure handler", "err", err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}

// newHandler returns the function's handler. sendEmail only logs; replace
// it with a lookup of the named user's address and a call to your email
// service, idempotent on the event id (Kinesis delivers at least once).
func newHandler(log *slog.Logger) (*kinesislambda.Handler, error) {
	sendEmail := func(ctx context.Context, e *event.Uninstall) error {
		if named := e.NamedUserID(); named != "" {
			log.InfoContext(ctx, "would send uninstall email", "event_id", e.ID, "named_user_id", named)
		}
		return nil
	}
	h, err := kinesislambda.New(
		kinesis.OnUninstall(sendEmail),
		kinesis.WithDeduplication(100_000, 0), // a retried aggregate skips what was mailed
		kinesis.WithLogger(log),
	)
	if err != nil {
		return nil, err
	}
	h.Logger = log
	return h, nil
}
