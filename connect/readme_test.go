package connect_test

import (
	"context"

	"github.com/rtdskit/rtds/connect"
	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis"
)

// readmeSnippet is the README's Data Streaming API snippet, compiled here
// (internal/readme checks that the README shows this code to the letter).
func readmeSnippet(ctx context.Context, appKey, token, stored string, store func(offset string, data []byte),
	sendEmail func(context.Context, *event.Uninstall) error) error {
	c, err := connect.New(appKey, token, // connect.NewCompliance(appKey, masterSecret) for /api/events/general
		connect.WithResumeOffset(stored), // else connect.WithStart(connect.StartEarliest); default LATEST
		connect.WithFilters(connect.Filter{Types: []event.Type{event.TypeUninstall}}),
		connect.WithOffsetUpdates(true),    // OFFSET_UPDATE moves the offset on a quiet or filtered stream
		connect.WithRegion(connect.Europe)) // default connect.NorthAmerica
	for e, err := range c.Events(ctx) {
		if err != nil {
			return err // ctx's cause; 401/403 (connect.ErrUnauthorized), 400: permanent, with the status and body
		}
		store(e.Offset, e.Data) // e.Event is the decoded *event.Uninstall
		e.Ack()                 // c.Acknowledged() never passes an event not acknowledged: save it, resume after it
	}
	// or the typed handlers of a kinesis.Consumer, through a kinesis.Dispatcher:
	err = c.Run(ctx, kinesis.OnUninstall(sendEmail))
	return err
}
