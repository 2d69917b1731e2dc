// Command lambda is an AWS Lambda function for a Kinesis event source
// carrying Airship RTDS events: it logs the email it would send to every
// named user who uninstalls the app (the scenario of Airship's RTDS
// documentation), deaggregating KPL records and reporting failed records in
// a partial batch response. See README.md for deployment.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rtdskit/rtds/event"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	h := NewHandler(logMailer{logger}, logger)
	lambda.Start(h.Handle)
}

// logMailer logs the email instead of sending it. Replace it with a lookup
// of the named user's address and a call to your email service; make it
// idempotent on the event ID, since Kinesis delivers at least once.
type logMailer struct{ log *slog.Logger }

func (m logMailer) SendUninstallEmail(ctx context.Context, namedUserID string, e *event.Uninstall) error {
	m.log.InfoContext(ctx, "would send uninstall email",
		"named_user_id", namedUserID,
		"event_id", e.ID,
		"occurred", e.Occurred)
	return nil
}
