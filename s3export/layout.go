package s3export

import (
	"strconv"
	"strings"
	"time"

	"github.com/rtdskit/rtds/event"
)

// Format is the output format of an Exporter.
type Format string

// Formats, as in the seed's "Output Structure and Files".
const (
	// FormatCSV writes one CSV file per event type and hour:
	// appKey/integrationId/S3_CSV/EVENT_TYPE/YYYY_MM_DD/YYYY_MM_DD_HH_MM_SS.csv,
	// a header row (event.CSVHeader) then one row per event.
	FormatCSV Format = "csv"
	// FormatJSON writes one file per hour:
	// appKey/integrationId/S3_JSON/YYYY_MM_DD/YYYY_MM_DD_HH_MM_SS.json, each
	// event's bytes as received on its own line.
	FormatJSON Format = "json"
)

// Time layouts of the key's directory and file name: UTC, two-digit month,
// day, hour, minute and second.
const (
	dayLayout  = "2006_01_02"
	nameLayout = "2006_01_02_15_04_05"
	hourLayout = "2006_01_02_15_"
)

// manifestDir is the folder, beside S3_CSV and S3_JSON, that holds one small
// manifest per completed data file (see doc.go).
const manifestDir = ".rtds"

// stream is what a file holds: the events of one CSV type, or every event
// of the JSON layout (typ == "").
type stream struct {
	json bool
	typ  event.Type
}

// dir returns the stream's folder below appKey/integrationId for day.
func (s stream) dir(day time.Time) string {
	if s.json {
		return "S3_JSON/" + day.Format(dayLayout) + "/"
	}
	return "S3_CSV/" + string(s.typ) + "/" + day.Format(dayLayout) + "/"
}

// fileName is a data file's name: the processed time of the first event of
// its series (base), the shard number when names carry one, _partN for the
// second and later parts, the format's extension and .gz when compressed.
func fileName(s stream, base time.Time, shard string, part int, gzip bool) string {
	var b strings.Builder
	b.WriteString(base.UTC().Format(nameLayout))
	if shard != "" {
		b.WriteByte('_')
		b.WriteString(shard)
	}
	if part > 1 {
		b.WriteString("_part")
		b.WriteString(strconv.Itoa(part))
	}
	if s.json {
		b.WriteString(".json")
	} else {
		b.WriteString(".csv")
	}
	if gzip {
		b.WriteString(".gz")
	}
	return b.String()
}

// ShardNumber returns the number in a Kinesis shard id, as file names carry
// it: "shardId-000000000003" gives "3". An id without trailing digits is
// returned whole.
func ShardNumber(shardID string) string {
	i := len(shardID)
	for i > 0 && shardID[i-1] >= '0' && shardID[i-1] <= '9' {
		i--
	}
	digits := shardID[i:]
	if digits == "" {
		return shardID
	}
	digits = strings.TrimLeft(digits, "0")
	if digits == "" {
		return "0"
	}
	return digits
}

// hourOf returns the start of t's hour in UTC.
func hourOf(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }
