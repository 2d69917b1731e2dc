package kinesis

import (
	"errors"
	"fmt"

	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
)

// ErrClosed is returned by Producer.Put, PutEvent and Flush after Close
// has been called. Records that Close could not deliver before its context
// ended are reported failed with an error wrapping ErrClosed.
var ErrClosed = errors.New("kinesis: producer closed")

// ErrRecordExpired is wrapped, together with the last attempt's error, by
// the Result.Err of a record that was not delivered within its TTL
// (WithRecordTTL) or its attempt limit (WithPutRetry).
var ErrRecordExpired = errors.New("kinesis: record not delivered in time")

// ErrNoPartitionKey is returned by PutEvent when the partition key function
// gives an empty key.
var ErrNoPartitionKey = errors.New("kinesis: empty partition key")

// RecordError is the error of a failed record in Result.Err. It unwraps to
// the cause, so errors.As finds the SDK's typed error (for example
// *sdktypes.ProvisionedThroughputExceededException or
// *sdktypes.ResourceNotFoundException) and errors.Is finds ErrRecordExpired
// or ErrClosed.
type RecordError struct {
	ShardID  string // predicted shard, "" when unknown
	Attempts int    // PutRecords attempts made
	Err      error
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("kinesis: record failed after %d attempt(s): %v", e.Attempts, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// entryError turns a failed PutRecords entry into the SDK's typed error for
// its code, so callers can use errors.As as they would on a failed call.
func entryError(code, msg string) error {
	m := &msg
	switch code {
	case "ProvisionedThroughputExceededException":
		return &sdktypes.ProvisionedThroughputExceededException{Message: m}
	case "KMSThrottlingException":
		return &sdktypes.KMSThrottlingException{Message: m}
	case "InternalFailure", "InternalFailureException":
		return &sdktypes.InternalFailureException{Message: m, ErrorCodeOverride: &code}
	case "KMSDisabledException":
		return &sdktypes.KMSDisabledException{Message: m}
	case "KMSAccessDeniedException":
		return &sdktypes.KMSAccessDeniedException{Message: m}
	case "KMSNotFoundException":
		return &sdktypes.KMSNotFoundException{Message: m}
	case "KMSInvalidStateException":
		return &sdktypes.KMSInvalidStateException{Message: m}
	case "KMSOptInRequired":
		return &sdktypes.KMSOptInRequired{Message: m}
	case "InvalidArgumentException":
		return &sdktypes.InvalidArgumentException{Message: m}
	case "ResourceNotFoundException":
		return &sdktypes.ResourceNotFoundException{Message: m}
	case "AccessDeniedException":
		return &sdktypes.AccessDeniedException{Message: m}
	case "ValidationException":
		return &sdktypes.ValidationException{Message: m}
	}
	return &smithy.GenericAPIError{Code: code, Message: msg}
}

// Error codes whose failures are worth retrying.
var retryableCodes = map[string]bool{
	"ProvisionedThroughputExceededException": true,
	"KMSThrottlingException":                 true,
	"LimitExceededException":                 true,
	"ThrottlingException":                    true,
	"Throttling":                             true,
	"RequestLimitExceeded":                   true,
	"TooManyRequestsException":               true,
	"InternalFailure":                        true,
	"InternalFailureException":               true,
	"InternalServerError":                    true,
	"ServiceUnavailable":                     true,
	"ServiceUnavailableException":            true,
	"RequestTimeout":                         true,
	"RequestTimeoutException":                true,
}

// throttleCodes are the codes that mean "slow down".
var throttleCodes = map[string]bool{
	"ProvisionedThroughputExceededException": true,
	"KMSThrottlingException":                 true,
	"LimitExceededException":                 true,
	"ThrottlingException":                    true,
	"Throttling":                             true,
	"RequestLimitExceeded":                   true,
	"TooManyRequestsException":               true,
}

// classify reports whether err (a whole-call or entry error) may succeed on
// retry, and whether it is throttling.
func classify(err error) (retry, throttle bool) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code := ae.ErrorCode()
		if throttleCodes[code] {
			return true, true
		}
		if retryableCodes[code] {
			return true, false
		}
	}
	var st interface{ HTTPStatusCode() int }
	if errors.As(err, &st) {
		// Status 0: no answer at all (the connection failed).
		s := st.HTTPStatusCode()
		return s == 0 || s >= 500 || s == 429, s == 429
	}
	if ae != nil {
		// A modelled client error (validation, access denied, missing
		// stream, KMS disabled, ...) without a retryable code.
		return false, false
	}
	// Everything else is a transport error (connection refused or reset,
	// timeouts, truncated answers): retry.
	return true, false
}
