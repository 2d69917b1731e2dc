package connect

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

var (
	// ErrUnauthorized matches (errors.Is) a *StatusError for HTTP 401 or
	// 403: the token, app key or master secret was refused. It is permanent:
	// Events ends with it at once.
	ErrUnauthorized = errors.New("connect: unauthorized")
	// ErrConnectionLimit matches a *StatusError for HTTP 402: the app key's
	// connection limit is reached, usually because another reader holds the
	// stream. It is retried (WithLimitRetry) and reported on every attempt
	// (HookRetry, the logger); Events ends with it only when the policy's
	// attempts are exhausted.
	ErrConnectionLimit = errors.New("connect: connection limit reached")
	// ErrBusy is returned when Events or Run is called on a Client that is
	// already reading: a Client reads one stream at a time.
	ErrBusy = errors.New("connect: client is already reading the stream")
)

// maxBodyExcerpt is how much of an error answer's body a StatusError keeps.
const maxBodyExcerpt = 512

// StatusError is an answer other than 200 (or a followed 307). Body is an
// excerpt of the answer's body (at most 512 bytes), which for Airship is a
// JSON object {"error", "error_code", "details"}.
type StatusError struct {
	StatusCode int
	Body       string
	// OperationID is the UA-Operation-Id header, when sent: quote it to
	// Airship's support.
	OperationID string
	// Message explains what to do about it, when known.
	Message string

	retryAfter string // the Retry-After header
}

func (e *StatusError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "connect: HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		b.WriteString(" (" + e.Message + ")")
	}
	if e.Body != "" {
		b.WriteString(": " + e.Body)
	}
	if e.OperationID != "" {
		b.WriteString(" [operation " + e.OperationID + "]")
	}
	return b.String()
}

// Is matches ErrUnauthorized for 401 and 403 and ErrConnectionLimit for 402.
func (e *StatusError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
	case ErrConnectionLimit:
		return e.StatusCode == http.StatusPaymentRequired
	}
	return false
}

// Temporary reports whether retrying may help: 402, 408, 429 and 5xx.
func (e *StatusError) Temporary() bool {
	switch {
	case e.StatusCode == http.StatusPaymentRequired, e.StatusCode == http.StatusRequestTimeout,
		e.StatusCode == http.StatusTooManyRequests, e.StatusCode >= 500:
		return true
	}
	return false
}

// statusMessage is the advice for a status, if any.
func statusMessage(code int) string {
	switch code {
	case http.StatusUnauthorized, http.StatusForbidden:
		return "check the app key and the token, or the master secret"
	case http.StatusPaymentRequired:
		return "the app key's connection limit is reached: another reader holds the stream"
	case http.StatusBadRequest:
		return "the request was refused; check the filters and the start position"
	case http.StatusTooManyRequests:
		return "rate limited"
	}
	return ""
}

// excerpt is the start of body as one line of valid UTF-8.
func excerpt(body []byte) string {
	if len(body) > maxBodyExcerpt {
		body = body[:maxBodyExcerpt]
		for len(body) > 0 && !utf8.Valid(body) {
			body = body[:len(body)-1]
		}
		body = append(body[:len(body):len(body)], "..."...)
	}
	s := strings.Join(strings.Fields(string(body)), " ")
	return s
}
