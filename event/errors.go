package event

import (
	"errors"
	"strconv"
)

var (
	// ErrSyntax is wrapped by the *DecodeError returned for input that is
	// not valid JSON.
	ErrSyntax = errors.New("invalid JSON")
	// ErrNotObject is wrapped by the *DecodeError returned when the event is
	// valid JSON but not an object.
	ErrNotObject = errors.New("not a JSON object")
	// ErrMissingField is wrapped by the *DecodeError returned when "id" or
	// "type" is absent or empty.
	ErrMissingField = errors.New("missing required field")
	// ErrInvalidField is wrapped by the *DecodeError returned when a field
	// the decoder is strict about has the wrong JSON type ("id" or "type"
	// not a string, a timestamp not a string).
	ErrInvalidField = errors.New("invalid field")
	// ErrInvalidTimestamp is wrapped by the *DecodeError returned when a
	// timestamp ("occurred", "processed", or one in the body such as
	// "time_sent") is not RFC 3339. The *time.ParseError is wrapped too.
	ErrInvalidTimestamp = errors.New("invalid timestamp")
	// ErrTypeMismatch is returned by UnmarshalJSON on a typed event when the
	// JSON's "type" is a different type.
	ErrTypeMismatch = errors.New("event type mismatch")
	// ErrNoCSVLayout is wrapped by the error CSVHeader, NewCSVWriter and
	// (*CSVWriter).Write return for a type that has no S3 CSV layout.
	ErrNoCSVLayout = errors.New("no CSV layout")
)

// DecodeError is the error Decode, PeekType and the UnmarshalJSON methods
// return. It says which field was wrong and why.
type DecodeError struct {
	// Field is the JSON path of the offending member, e.g. "occurred",
	// "id" or "body.triggering_push.time"; "" when the problem is the
	// record as a whole (not JSON, not an object).
	Field string
	// Offset is the byte offset in the input where the problem was found.
	Offset int
	// Err is the reason. It wraps one of ErrSyntax, ErrNotObject,
	// ErrMissingField, ErrInvalidField, ErrInvalidTimestamp or
	// ErrTypeMismatch.
	Err error
}

func (e *DecodeError) Error() string {
	s := "event: "
	if e.Field != "" {
		s += e.Field + ": "
	}
	return s + e.Err.Error() + " (offset " + strconv.Itoa(e.Offset) + ")"
}

// Unwrap returns Err.
func (e *DecodeError) Unwrap() error { return e.Err }

// inField prefixes the path of a *DecodeError with name as it unwinds out
// of a member.
func inField(err error, name string) error {
	var de *DecodeError
	if errors.As(err, &de) {
		if de.Field == "" {
			de.Field = name
		} else {
			de.Field = name + "." + de.Field
		}
	}
	return err
}
