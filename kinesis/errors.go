package kinesis

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
)

// Every error this package returns starts with "kinesis: " once, however
// many errors of this package (or its in-memory store) it wraps: errorf
// builds such an error, and ShardError and RecordError print their cause
// the same way. Sentinel errors (ErrClosed, ErrCheckpointBehind, ...) keep
// their prefix when returned alone. errors.Is and errors.As see the whole
// chain.

const errPrefix = "kinesis: "

// errorf is fmt.Errorf with the package's one prefix: format has none, and
// the prefixes of the wrapped errors' messages are dropped.
func errorf(format string, args ...any) error {
	return &prefixedError{err: fmt.Errorf(format, args...)}
}

type prefixedError struct{ err error }

func (e *prefixedError) Error() string { return withPrefix(e.err.Error()) }
func (e *prefixedError) Unwrap() error { return e.err }

// withPrefix returns msg with one "kinesis: " in front and none inside.
func withPrefix(msg string) string {
	return errPrefix + strings.ReplaceAll(msg, errPrefix, "")
}

// Producer errors.

// ErrClosed is returned by Producer.Put, PutEvent, PutEventJSON and Flush
// after Close has been called. Records that Close could not deliver before
// its context ended are reported failed with an error wrapping ErrClosed.
var ErrClosed = errors.New("kinesis: producer closed")

// ErrRecordExpired is wrapped, together with the last attempt's error, by
// the Result.Err of a record that was not delivered within its TTL
// (WithRecordTTL) or its attempt limit (WithPutRetry).
var ErrRecordExpired = errors.New("kinesis: record not delivered in time")

// ErrNoPartitionKey is returned by PutEvent and PutEventJSON when the
// partition key function gives an empty key.
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
	return withPrefix(fmt.Sprintf("record failed after %d attempt(s): %v", e.Attempts, e.Err))
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

// errorClass is what an error code means for a retry.
type errorClass uint8

const (
	classFinal    errorClass = iota // retrying cannot fix it
	classRetry                      // worth retrying
	classThrottle                   // worth retrying, after slowing down
)

// codeClasses classifies the AWS error codes worth retrying; every other
// modelled error code is final.
var codeClasses = map[string]errorClass{
	"ProvisionedThroughputExceededException": classThrottle,
	"KMSThrottlingException":                 classThrottle,
	"LimitExceededException":                 classThrottle,
	"ThrottlingException":                    classThrottle,
	"Throttling":                             classThrottle,
	"RequestLimitExceeded":                   classThrottle,
	"TooManyRequestsException":               classThrottle,
	"InternalFailure":                        classRetry,
	"InternalFailureException":               classRetry,
	"InternalServerError":                    classRetry,
	"ServiceUnavailable":                     classRetry,
	"ServiceUnavailableException":            classRetry,
	"RequestTimeout":                         classRetry,
	"RequestTimeoutException":                classRetry,
}

// classify reports whether err (a whole-call or entry error) may succeed on
// retry, and whether it is throttling.
func classify(err error) (retry, throttle bool) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch codeClasses[ae.ErrorCode()] {
		case classThrottle:
			return true, true
		case classRetry:
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

// Consumer errors.

// ErrCheckpointBehind is returned (wrapped) by CheckpointStore.Save when
// the checkpoint given is behind the one stored: another worker, or an
// older incarnation of this one, has moved the shard further.
var ErrCheckpointBehind = errors.New("kinesis: checkpoint is behind the stored one")

// ErrLeaseChanged is returned (wrapped) by LeaseStore.UpdateLease when the
// stored lease is no longer the one the caller read: another worker took,
// renewed or asked for it in the meantime.
var ErrLeaseChanged = errors.New("kinesis: lease changed since it was read")

// errAckFailed replaces a nil error given to Ack.Fail.
var errAckFailed = errors.New("kinesis: record acknowledgement failed")

// errInvalidCheckpoint is wrapped by the errors of Checkpoint.Validate.
var errInvalidCheckpoint = errors.New("kinesis: invalid checkpoint")

// Causes of a shard reader stopped by the lease manager.
var (
	errLeaseLost    = errors.New("kinesis: lease lost to another worker")
	errLeaseExpired = errors.New("kinesis: lease not renewed in time")
	errHandoff      = errors.New("kinesis: shard handed over to another worker")
)

// PermanentError marks a handler error that retrying cannot fix. Create it
// with Permanent.
type PermanentError struct {
	Err error
}

func (e *PermanentError) Error() string {
	if e.Err == nil {
		return "kinesis: permanent error"
	}
	return e.Err.Error()
}

// Unwrap returns the wrapped error.
func (e *PermanentError) Unwrap() error { return e.Err }

// Is reports whether target is a *PermanentError, so that
// errors.Is(err, &PermanentError{}) finds a permanent error anywhere in a
// chain.
func (e *PermanentError) Is(target error) bool {
	_, ok := target.(*PermanentError)
	return ok
}

// Permanent wraps err so that a consumer does not retry the handler: the
// record goes to the dead-letter handler at once. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// isPermanent reports whether err is marked permanent.
func isPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// ErrMissingEventID is wrapped by the dead-letter error of an event without
// an id.
var ErrMissingEventID = errors.New("kinesis: event has no id")

// ShardError is returned by Consumer.Run when reading a shard failed for
// good (for example the stream was deleted, access was denied, or another
// consumer moved the shard's checkpoint ahead: ErrCheckpointBehind). It
// unwraps to the cause, so errors.As finds the SDK's typed errors.
type ShardError struct {
	ShardID string
	Err     error
}

func (e *ShardError) Error() string {
	return withPrefix(fmt.Sprintf("shard %s: %v", e.ShardID, e.Err))
}

func (e *ShardError) Unwrap() error { return e.Err }

// sdkAttemptOnce is passed to every PutRecords call: it sets the SDK's
// RetryMaxAttempts to 1 for that call, so the SDK's retryer makes exactly
// one attempt and the producer's retry policy (WithPutRetry) is the only
// retry layer. A ProducerAPI other than *sdkkinesis.Client may ignore it.
var sdkAttemptOnce = []func(*sdkkinesis.Options){func(o *sdkkinesis.Options) { o.RetryMaxAttempts = 1 }}

// isSetupError reports whether err comes from the client's configuration
// rather than from the service or the network, so that no retry can fix
// it: a missing or invalid region or endpoint (the SDK fails to resolve
// the endpoint), credentials that cannot be obtained (the SDK fails to get
// an identity), or an endpoint URL the HTTP client cannot use (no scheme,
// no host). The SDK has no typed error for these, so their messages are
// matched; the error chain still holds the SDK's *smithy.OperationError.
func isSetupError(err error) bool {
	msg := err.Error()
	if strings.Contains(msg, "failed to resolve service endpoint") || strings.Contains(msg, "get identity:") {
		return true
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		m := ue.Err.Error()
		return strings.Contains(m, "unsupported protocol scheme") || strings.Contains(m, "no Host in request URL")
	}
	return false
}
