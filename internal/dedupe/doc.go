// Package dedupe is a bounded deduplication window keyed by event id.
//
// Airship may deliver an RTDS event more than once, and a consumer resuming
// from a checkpoint replays the records after it. A Window remembers the
// last N ids (and, optionally, only for a time to live) so a consumer can
// skip events it has already handled.
//
// # Memory
//
// A Window holds at most its capacity of ids: a ring buffer in insertion
// order plus a map from id to ring position. When full, recording a new id
// evicts the oldest. Ids in the canonical lowercase UUID form that RTDS uses
// ("8-4-4-4-12" hex) are stored as 16 bytes, so recording one does not
// allocate; any other id is copied (one allocation), so the Window never
// keeps a caller's larger buffer alive. A full window of UUID ids takes
// about 100 bytes per id (measured at a capacity of one million): a window
// of 100,000 ids costs about 10 MB.
//
// # At-least-once use
//
// Record an id only once its event was handled: call Contains before
// handling and Seen (or Add) after the handler succeeded, or call Seen
// first and Forget if the handler fails, so that a retry is not mistaken for
// a duplicate.
//
// # Concurrency
//
// A Window is safe for concurrent use; each call takes one mutex.
package dedupe
