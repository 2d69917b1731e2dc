// Package s3export writes RTDS events into the bucket layout of Airship's
// S3 integration, from any source of events: a Kinesis stream through
// kinesis.Consumer (Sink), a replay, a test.
//
// # Layout
//
// Keys are exactly the seed's ("Output Structure and Files"), below the
// target's root (an S3 bucket and prefix, or a local directory):
//
//	CSV:  appKey/integrationId/S3_CSV/EVENT_TYPE/YYYY_MM_DD/YYYY_MM_DD_HH_MM_SS.csv
//	JSON: appKey/integrationId/S3_JSON/YYYY_MM_DD/YYYY_MM_DD_HH_MM_SS.json
//
// Month, day, hour, minute and second have two digits, in UTC. An event
// belongs to the hour of its processed time; a file is named after the
// processed time of its first event. A CSV file has one header row (the
// event package's layout for the type, event.CSVHeader), then one row per
// event; TAG_CHANGE rows have the appendix's common columns only. A JSON
// file has one event per line, the bytes exactly as received (compacted
// only if they contain a line break). In CSV mode, events of types without
// a CSV layout are not written: they are counted per type in
// Stats().NoLayout (or, with WithNoLayoutToJSON, written to the JSON
// layout).
//
// Names are deterministic: when several shards write the same hours
// (WithShardSuffix; Sink asks the stream), the name carries the shard's
// number after the time (shardId-000000000003: 2026_03_08_16_00_05_3.csv);
// an hour that exceeds the size limit (WithMaxFileSize, default 15 GB)
// continues in _part2, _part3, ... of the same name; WithGzip appends .gz.
//
// # Files and time
//
// Each shard writer keeps one file open per stream (CSV type, or JSON) and
// hour. A file closes when a later record of its shard has a processed
// time at or after the end of its hour plus the grace period
// (WithGracePeriod): record time, never the wall clock, so that a re-run
// makes the same decisions. An event for an hour whose files are closed
// starts a new file named after it. Closing a writer (ShardWriter.Close)
// closes its files for good; the next run continues those hours in new
// files named after their own first events.
//
// # Nothing lost, nothing doubled
//
// A record's acknowledgement (Acker.Done) comes only after the object that
// holds it is completely stored, so a checkpoint that waits for it never
// passes an unstored event. After a crash the source starts again at the
// first unacknowledged record, which is the first record of a file that
// was not completed; the writer then produces the same names with the same
// content. Records that an earlier run already stored in a completed file
// are recognised and skipped: after completing a file, the writer stores a
// small manifest (its shard, first and last record positions, name and
// why it closed) under appKey/integrationId/.rtds/, beside S3_CSV and
// S3_JSON, and reads the manifests of an hour the first time it writes to
// it. The result is the same set of objects, with the same bytes, as a run
// without the crash: exactly-once objects from at-least-once input. A
// manifest is written after its data file, so a crash between the two only
// means the file is written again, identically. Multipart uploads that a
// crashed run left unfinished for a key are aborted when that key is
// written again.
//
// Records that are not RTDS events, and events without a processed time,
// never go into data files: Write returns a *BadRecordError (for the
// caller's dead-letter handling) and, with WithErrorPrefix, stores the
// record under that prefix first.
//
// # Memory
//
// S3 uploads stream: an open file holds what is not uploaded yet, at most
// about 1.25 multipart parts (DefaultPartSize is 5 MiB), and a gzip
// compressor (about 800 KiB) when compressed; a file smaller than a part
// is stored with one PutObject. Each record waiting for its file's upload
// costs 16 bytes here (its Acker) plus what the source keeps. So memory is
// bounded by the number of open files (stream types times the hours within
// the grace period, per shard), whatever the file size:
// TestLargeFileMemoryStaysBounded writes 32 MiB into one object while the
// heap grows by about 12 MiB (a part, the buffer it replaced while
// growing, and 100,000 acknowledgements).
//
// # Concurrency
//
// An Exporter is safe for concurrent use. Each ShardWriter is used by one
// goroutine (the shard's handler); uploads of closed files run on their own
// goroutines, at most WithUploadConcurrency at once per Exporter.
package s3export
