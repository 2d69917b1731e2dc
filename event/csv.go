package event

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"
)

// csvTimeLayout is RFC 3339 with exactly three fractional digits; cells are
// always in UTC, so it ends in Z.
const csvTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// CSVHeader returns the S3 CSV header for events of type t, as the seed's
// appendix lists it. Types outside the appendix have no layout: the error
// wraps ErrNoCSVLayout and names the type.
func CSVHeader(t Type) ([]string, error) {
	h, ok := csvHeaders[t]
	if !ok {
		return nil, noLayout(t)
	}
	return slices.Clone(h), nil
}

func noLayout(t Type) error {
	return fmt.Errorf("event: %w for type %q", ErrNoCSVLayout, t)
}

// csvRower is implemented by the types that have a CSV layout.
type csvRower interface {
	appendCSV(row []string) []string
}

// CSVRecord returns e as a CSV record under CSVHeader(e.EventType()).
func CSVRecord(e Event) ([]string, error) {
	r, ok := e.(csvRower)
	if !ok {
		return nil, noLayout(e.EventType())
	}
	return r.appendCSV(make([]string, 0, len(csvHeaders[e.EventType()]))), nil
}

// CSVWriter writes events of one type as S3 CSV rows. It is not safe for
// concurrent use.
type CSVWriter struct {
	w   *csv.Writer
	t   Type
	row []string
}

// NewCSVWriter returns a writer of t's CSV rows to w, and writes the header
// (buffered: call Flush). It fails for a type without a layout.
func NewCSVWriter(w io.Writer, t Type) (*CSVWriter, error) {
	h, ok := csvHeaders[t]
	if !ok {
		return nil, noLayout(t)
	}
	cw := &CSVWriter{w: csv.NewWriter(w), t: t}
	if err := cw.w.Write(h); err != nil {
		return nil, fmt.Errorf("event: writing CSV header: %w", err)
	}
	return cw, nil
}

// Write writes e as one row. e must be of the writer's type.
func (w *CSVWriter) Write(e Event) error {
	if got := e.EventType(); got != w.t {
		return fmt.Errorf("event: CSV writer for %s cannot write a %s event", w.t, got)
	}
	r, ok := e.(csvRower)
	if !ok {
		return noLayout(w.t)
	}
	w.row = r.appendCSV(w.row[:0])
	if err := w.w.Write(w.row); err != nil {
		return fmt.Errorf("event: writing CSV row: %w", err)
	}
	return nil
}

// Flush writes buffered rows to the underlying writer and returns any
// error from it.
func (w *CSVWriter) Flush() error {
	w.w.Flush()
	if err := w.w.Error(); err != nil {
		return fmt.Errorf("event: writing CSV: %w", err)
	}
	return nil
}

// Common columns.
const (
	cID = iota
	cType
	cOccurred
	cProcessed
	cOffset
	cNamedUserID
	cIOSChannel
	cAndroidChannel
	cAmazonChannel
	cChannel
	cDeviceType
)

// typeCell is the TYPE column: the event's type, also when a caller-built
// event left Envelope.Type empty.
func typeCell(t, of Type) string {
	if t == "" {
		return string(of)
	}
	return string(t)
}

func envCell(e *Envelope, col int) string {
	switch col {
	case cID:
		return e.ID
	case cType:
		return string(e.Type)
	case cOccurred:
		return timeText(e.Occurred, e.occurredRaw)
	case cProcessed:
		return timeText(e.Processed, e.processedRaw)
	case cOffset:
		return e.Offset
	case cNamedUserID:
		return e.NamedUserID()
	case cChannel:
		return e.ChannelID()
	case cDeviceType:
		return e.Device.Platform()
	case cIOSChannel:
		return platformCell(e.Device, platIOS)
	case cAndroidChannel:
		return platformCell(e.Device, platAndroid)
	default:
		return platformCell(e.Device, platAmazon)
	}
}

// platformCell is IOS_CHANNEL, ANDROID_CHANNEL or AMAZON_CHANNEL: the
// platform-keyed channel if present, else device.channel when the device is
// of that platform.
func platformCell(d *Device, p int) string {
	if d == nil {
		return ""
	}
	if c := d.platformChannel(p); c != "" {
		return c
	}
	if d.Platform() == platformNames[p] {
		return d.Channel
	}
	return ""
}

func timeText(t time.Time, raw string) string {
	if !timePresent(t, raw) {
		return ""
	}
	return t.UTC().Format(csvTimeLayout)
}

func attrCell(d *Device, name string) string {
	if d == nil {
		return ""
	}
	return d.Attributes[name]
}

// Associated-push columns.
const (
	pPushID = iota
	pGroupID
	pVariantID
	pTime
)

func pushCell(p *AssociatedPush, part int) string {
	if p == nil {
		return ""
	}
	switch part {
	case pPushID:
		return p.PushID
	case pGroupID:
		return p.GroupID
	case pVariantID:
		return p.VariantID.String()
	default:
		return timeText(p.Time, p.timeRaw)
	}
}

// The field cells render the typed value when set, else the kept raw value
// (a null, an empty string, a value of an unexpected JSON type).

func strCell(v string, extra map[string]json.RawMessage, key string) string {
	if v != "" {
		return v
	}
	return jsonCell(extra[key])
}

func numCell(v Number, extra map[string]json.RawMessage, key string) string {
	if !v.IsZero() {
		return v.String()
	}
	return jsonCell(extra[key])
}

func boolCell(v Bool, extra map[string]json.RawMessage, key string) string {
	if v != BoolAbsent {
		return v.String()
	}
	return jsonCell(extra[key])
}

func timeCell(v time.Time, extra map[string]json.RawMessage, key string) string {
	if !v.IsZero() {
		return v.UTC().Format(csvTimeLayout)
	}
	return jsonCell(extra[key])
}

func rawCell(v json.RawMessage, extra map[string]json.RawMessage, key string) string {
	if v != nil {
		return jsonCell(v)
	}
	return jsonCell(extra[key])
}

func orCell(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// jsonCell renders a JSON value as a cell: a string as its text, a number
// or boolean as its JSON text, null or nothing as "", an object or array as
// its compact JSON.
func jsonCell(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case 'n':
		return ""
	case '"':
		d := decoder{data: raw}
		s, err := d.readString()
		if err != nil {
			return string(raw)
		}
		return s
	case '{', '[':
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return string(raw)
		}
		return b.String()
	}
	return string(raw)
}
