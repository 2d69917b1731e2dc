// Package connect reads Airship's Data Streaming API (formerly "Connect"):
// the HTTP endpoint that answers POST /api/events with an endless stream
// of newline-delimited RTDS events.
//
// # Quick start
//
//	c, err := connect.New(appKey, token,
//		connect.WithResumeOffset(stored), // or connect.WithStart(connect.StartEarliest)
//		connect.WithFilters(connect.Filter{Types: []event.Type{event.TypeUninstall}}),
//		connect.WithOffsetUpdates(true),
//	)
//	if err != nil { ... }
//	for e, err := range c.Events(ctx) {
//		if err != nil {
//			return err // ctx's cause, or a permanent error (401/403: ErrUnauthorized)
//		}
//		... store e.Data or use e.Event (*event.Uninstall, ...)
//		e.Ack()
//	}
//	save(c.Acknowledged()) // periodically: resume after it next time
//
// Or with the typed handlers of the kinesis package, through a
// kinesis.Dispatcher (the same dispatch code a kinesis.Consumer uses):
//
//	err := c.Run(ctx, kinesis.OnUninstall(func(ctx context.Context, e *event.Uninstall) error {
//		return notify(ctx, e.ChannelID())
//	}))
//
// # Protocol
//
// Each request is POST {base}/api/events (NorthAmerica:
// https://connect.urbanairship.com, Europe: https://connect.asnapieu.com,
// WithRegion or WithBaseURL) with Accept
// "application/vnd.urbanairship+x-ndjson; version=3;", Content-Type
// application/json, X-UA-Appkey and "Authorization: Bearer TOKEN"
// (NewCompliance: /api/events/general with Basic auth of the app key and
// master secret). The body (sent with a Content-Length, never chunked)
// has either "start" (EARLIEST or LATEST, WithStart) or "resume_offset"
// (a string), never both, plus "filters" (WithFilters), "subset"
// (WithSample, WithPartition) and "enable_offset_updates"
// (WithOffsetUpdates).
//
// The answer is one event per line; blank lines are keep-alives. A
// gzip-encoded answer is decompressed. A 307 answer's cookies are kept and
// the same body is POSTed again, to its Location if it has one, else to
// the same URL (WithMaxRedirects). A line cut by a dropped connection is
// never handed over.
//
// # Offsets and acknowledgement
//
// Every Event carries its offset. The application acknowledges events
// (Event.Ack) once it is done with them, from any goroutine and in any
// order; Client.Acknowledged is the offset of the last event of the
// acknowledged prefix: it never passes an event that is not acknowledged.
// Store it and pass it to WithResumeOffset after a restart: the stream
// resumes after it, so a crash replays events rather than losing them.
// OFFSET_UPDATE events (WithOffsetUpdates) carry no activity: the client
// acknowledges them itself, so the acknowledged offset moves to them once
// every event before them is acknowledged.
//
// # Reconnects
//
// Dropped connections, connections silent for longer than WithIdleTimeout,
// and 408, 429 and 5xx answers are retried with exponential backoff and
// jitter (WithRetry, a kinesis.Retry; a Retry-After header is honoured up
// to its MaxInterval); 402 answers (the app key's connection limit:
// another reader holds the stream) under WithLimitRetry, a long backoff,
// reported on every attempt (HookRetry, the logger at Warn). A reconnect
// resumes after the last event handed to the application: those events
// are in its hands, and their acknowledgements still move Acknowledged, so
// the client itself hands over no event twice (Airship may deliver an
// event twice, with the same id and another offset: deduplicate on the id
// where it matters, e.g. kinesis.WithDeduplication). 401 and 403
// (ErrUnauthorized), 400 and other 4xx answers are permanent: Events ends
// with a *StatusError holding the status, an excerpt of the answer's body
// and the UA-Operation-Id.
//
// # Concurrency
//
// A Client reads one stream at a time (Events or Run; a second concurrent
// reader gets ErrBusy). Event.Ack, Acknowledged and Stats are safe for
// concurrent use. Hooks are called on the reading goroutine.
//
// # Logging and credentials
//
// WithLogger takes a *slog.Logger (nil discards). Neither the token nor the
// master secret is ever logged or included in an error.
//
// # Testing
//
// Package connecttest is a local Data Streaming API for tests and demos
// (rtds serve-connect runs it from the command line).
package connect
