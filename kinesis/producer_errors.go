package kinesis

import (
	"errors"
	"net/url"
	"strings"

	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
)

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
