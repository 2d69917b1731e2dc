// Package kinesislambda runs the handler sets of package kinesis in an AWS
// Lambda function behind a Kinesis event source mapping, and runs such a
// function locally (Serve).
//
// It is its own module, github.com/rtdskit/rtds/kinesislambda, so that the
// rtds library never depends on github.com/aws/aws-lambda-go.
//
// # The adapter
//
// New takes the options kinesis.NewDispatcher and kinesis.NewConsumer take
// (kinesis.OnUninstall and the other On<Type> handlers, kinesis.Handle,
// kinesis.OnEvent, kinesis.OnUnknown, kinesis.OnRecord,
// kinesis.WithDeadLetter, kinesis.WithHandlerRetry,
// kinesis.WithDeduplication, kinesis.WithHooks, kinesis.WithLogger), and
// Handler.Handle serves events.KinesisEvent with events.KinesisEventResponse:
//
//	h, err := kinesislambda.New(kinesis.OnUninstall(sendEmail))
//	...
//	lambda.Start(h.Handle)
//
// The records are dispatched through a kinesis.Dispatcher, the code a
// kinesis.Consumer runs, so a handler behaves the same in both places.
// Handle splits KPL aggregates (Lambda does not), handles each shard's
// records in order, and reports failures the way the event source mapping
// expects with ReportBatchItemFailures (enable it, or failed records are
// lost):
//
//   - A handler error after the retry policy (default DefaultHandlerRetry:
//     no retry inside an invocation, as Lambda retries) is a batch item
//     failure: the response names that Kinesis record's sequence number,
//     and nothing after it in its shard is handled in this invocation.
//     Lambda checkpoints before it and delivers it again with the records
//     after it. Within an aggregate, the aggregate's sequence number is
//     reported; its user records already handled are handled again on the
//     retry unless kinesis.WithDeduplication remembers them (best effort:
//     the window lives in one warm instance).
//   - A poison record goes to the dead-letter handler and counts as done:
//     an error wrapped with kinesis.Permanent, data that is not an RTDS
//     event, an event without an id, a corrupt KPL aggregate. So a poison
//     record never blocks a shard for the up to 7 days of the event source
//     mapping's defaults.
//   - The invocation's deadline is honoured: Handle stops
//     Handler.DeadlineMargin before it (handlers get a ctx done then) and
//     reports the first record not done.
//
// Defer (kinesis.Defer) returns ok false in a Lambda function: a handler
// must finish its work before it returns.
//
// Tumbling windows (events.KinesisTimeWindowEvent) are not supported.
// They do not fit handlers called once per event: a window's state is a
// map[string]string returned with every response, which a handler has no
// way to return, and a retried aggregate would count its already handled
// user records twice in that state. Aggregate in the handler and store the
// result yourself, or use a kinesis.Consumer.
//
// # Local event source
//
// Serve runs a function, anything lambda.Start accepts, on a Kinesis stream
// the way the event source mapping would: batches of up to BatchSize
// records per shard gathered for up to the batching window, partial batch
// responses, BisectBatchOnFunctionError, MaximumRetryAttempts,
// MaximumRecordAgeInSeconds, an on-failure callback with the shard and
// sequence number range, and checkpoints in a kinesis.CheckpointStore. Use
// it to run a function against an emulator or a real stream without
// deploying it, and in tests. Serve's documentation lists where it differs
// from the real service.
package kinesislambda
