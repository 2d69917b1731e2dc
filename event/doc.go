// Package event decodes, encodes and converts Airship Real-Time Data
// Streaming (RTDS) events: the JSON objects Airship delivers through the
// Data Streaming API, Amazon Kinesis and the S3 integration.
//
// Every event type Airship documents has a typed struct (*Open, *Uninstall,
// *InAppMessageDisplay, *Custom, ... 44 in all; see KnownTypes) that embeds
// the common Envelope and has the body's fields as typed Go fields. The
// types, their constants (TypeOpen, ...), decoders, encoders and CSV layouts
// are generated from one table by `go generate` (internal/genevents).
//
// # Decoding
//
// Decode turns one event into its typed struct; switch on the result:
//
//	e, err := event.Decode(record)
//	if err != nil {
//		return err // a *DecodeError: which field, and why
//	}
//	switch e := e.(type) {
//	case *event.Uninstall:
//		forget(e.ChannelID())
//	case *event.Custom:
//		track(e.Name, e.Value)
//	case *event.Unknown:
//		// a type this version does not know; e.Raw has the JSON
//	}
//
// PeekType reads only the type, for a fraction of the cost, to skip events
// that nothing handles. Typed events also implement json.Unmarshaler, so
// json.Unmarshal(data, &open) works and fails for an event of another type.
//
// Decode copies its input once: the decoded event never aliases the caller's
// buffer, and its strings share that one private copy. Treat the
// json.RawMessage fields (Body, BodyExtra values, ...) as read-only.
//
// # Leniency
//
// The RTDS wire has varied over the years; the decoder accepts the forms
// that have been seen:
//
//   - offset as a string (offsets are not necessarily numeric) or a number;
//   - numbers sent as strings and vice versa: latitude and longitude,
//     variant_id, bounce_class, display_time, and every other numeric field,
//     as a Number that keeps the text as sent and whether it was quoted;
//   - the 2015-2016 device form, with only ios_channel, android_channel or
//     amazon_channel and no channel or device_type, and the test server's
//     mixed-case keys (IOS_channel); Device.ChannelID and Device.Platform
//     cover both forms;
//   - named_user (email devices) as well as named_user_id;
//   - REGION's action in either case (Region.Entered, Region.Exited), and
//     both beacon spellings (beacon_id or id, long or lon);
//   - timestamps with or without fractional seconds, in any offset.
//
// It is strict where it matters: input that is not JSON (ErrSyntax), not an
// object (ErrNotObject), lacks "id" or "type" (ErrMissingField) or has a
// timestamp that is not RFC 3339 (ErrInvalidTimestamp, wrapping the
// *time.ParseError) fails with a *DecodeError whose Field is the member's
// path, such as "occurred" or "body.triggering_push.time".
//
// # Unknown types and fields
//
// An event of a type this version does not know decodes to *Unknown, which
// keeps the whole event in Raw. Members no struct field models, and members
// whose value does not fit its field's type (a null, an empty string, a
// number where a string was expected), are kept in the Extra maps
// (Envelope.Extra, Device.Extra, BodyExtra, ...). json.Marshal of a decoded
// event therefore reproduces the input: every member, with the same values,
// timestamps in the precision sent, numbers quoted as sent. For typed
// events the typed fields are what gets encoded, so changes to them show.
//
// # Schema drift
//
// AppendDrift lists what a decoded event holds that this version does not
// model: an unknown type (DriftUnknownType), members no struct field
// models (DriftUnknownField) and modelled members whose value did not fit
// (DriftTypeMismatch: a number for a string, a null, ...), each with its
// path ("body.new_member", "device.carrier", "body.viewed_pages[].x") and
// value. It reads the Extra maps, so it covers every member Decode looks
// at (envelope, device, user, body and its nested objects) and not the
// insides of free-form values (json.RawMessage fields, device attributes,
// tag groups) or the body of an unknown type. An event without drift costs
// a few nil checks and no allocation; Decode itself does no extra work.
// DriftReport tallies drift over many events (counts, first position, one
// example value per path); kinesis.HookSchemaDrift reports it from a
// consumer, and `rtds stats` prints it.
//
// OFFSET_UPDATE events (*OffsetUpdate) are synthetic: they carry an offset
// to store and stand for no activity.
//
// # CSV
//
// NewCSVWriter writes events of one type in the S3 integration's CSV format:
// the header the seed's appendix lists for the type, then one row per event
// (CSVHeader and CSVRecord give the same without a writer). Timestamps are
// RFC 3339 in UTC with exactly three fractional digits; NAMED_USER_ID,
// CHANNEL, DEVICE_TYPE and the platform channel columns are derived from
// either device form; the LAST_DELIVERED_, TRIGGERING_ and REPLACING_PUSH_
// columns come from the associated pushes; attribute columns from
// device.attributes; other columns from the body member of the same
// lower-case name, numbers as their JSON text, objects as compact JSON,
// null or missing as empty. TAG_CHANGE rows have the common columns only.
// Types outside the appendix have no layout (ErrNoCSVLayout).
//
// NewNDJSONWriter writes the S3 integration's JSON format: each event's full
// JSON on its own line.
//
// # Performance
//
// Decoding is on a consumer's hot path. The decoder is a single-pass,
// zero-copy scanner generated per type: strings without escapes point into
// the event's private copy of its input, which is allocated together with
// the event itself. BenchmarkDecode compares it side by side with
// encoding/json decoding the same events into equivalent structs:
//
//	go test -run '^$' -bench BenchmarkDecode -benchmem ./event/
//
// It allocates once per event (the event with its copy of the input) plus
// what the device's Attributes and Identifiers maps need (two allocations
// for a map of up to eight entries, four above), where encoding/json
// allocates for every string. Its advantage is largest on events without
// big attribute maps, whose cost is the same for both decoders. PeekType
// costs a few percent of a Decode. FuzzDecode checks the decoder against
// encoding/json.
//
// # Concurrency
//
// Decode, PeekType, CSVHeader and CSVRecord are safe for concurrent use. A
// decoded event is a plain value: safe to read from many goroutines, not to
// change concurrently. CSVWriter and NDJSONWriter are not safe for
// concurrent use.
package event
