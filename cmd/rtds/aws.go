package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
)

// Budgets for the checks before a command moves data. They are short on
// purpose: nothing has worked yet, so a failure most likely means the
// configuration is wrong, and saying so at once beats retrying.
const (
	// connectBudget is how long rtds keeps trying to get a first answer
	// from the Kinesis endpoint (connection refused, timeouts, 5xx,
	// throttling) before it reports the endpoint unreachable. After the
	// first answer, put retries transient errors without a limit.
	connectBudget = 5 * time.Second
	// credentialsBudget bounds looking up credentials (the default chain
	// may ask the EC2 instance metadata service).
	credentialsBudget = 5 * time.Second
)

// awsSetup is a Kinesis client built from the standard AWS configuration,
// with what rtds reports about it.
type awsSetup struct {
	cfg      aws.Config // the loaded configuration, for other services' clients (export, bridge)
	client   *sdkkinesis.Client
	endpoint string // the endpoint as configured, or the region's default
	log      *slog.Logger
}

// newAWS builds the Kinesis client put and tail use, reading the standard
// AWS variables through env (so tests run in-process). It fails with one
// line a user can act on when the region, the endpoint URL or the
// credentials are missing or invalid: none of them gets better by
// retrying.
//
// The client does not retry (aws.NopRetryer): the library's producer and
// consumer retry on their own, so there is one retry layer, not two
// multiplied. The SDK's own log lines go to log (a no-op without --debug).
func newAWS(ctx context.Context, env *cmdEnv, debug bool) (*awsSetup, error) {
	log := slog.New(slog.DiscardHandler)
	var sdkLog logging.Logger = logging.Nop{}
	if debug {
		log = slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		sdkLog = logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
			log.Debug(fmt.Sprintf(format, v...), "source", "aws-sdk", "class", string(c))
		})
	}
	opts := []func(*config.LoadOptions) error{config.WithLogger(sdkLog)}
	if r := firstEnv(env, "AWS_REGION", "AWS_DEFAULT_REGION"); r != "" {
		opts = append(opts, config.WithRegion(r))
	}
	if id, secret := env.getenv("AWS_ACCESS_KEY_ID"), env.getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(id, secret, env.getenv("AWS_SESSION_TOKEN"))))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("no AWS region: set AWS_REGION (or a region in your AWS profile)")
	}
	endpoint := firstEnv(env, "AWS_ENDPOINT_URL_KINESIS", "AWS_ENDPOINT_URL")
	if endpoint != "" {
		if err := checkEndpoint(endpoint); err != nil {
			return nil, err
		}
	}
	if err := checkCredentials(ctx, cfg); err != nil {
		return nil, err
	}
	client := sdkkinesis.NewFromConfig(cfg, func(o *sdkkinesis.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.Retryer = aws.NopRetryer{}
		o.Logger = sdkLog
		if env.httpClient != nil {
			o.HTTPClient = env.httpClient
		}
	})
	shown := endpoint
	if shown == "" {
		shown = "kinesis." + cfg.Region + ".amazonaws.com"
	}
	return &awsSetup{cfg: cfg, client: client, endpoint: shown, log: log}, nil
}

// checkEndpoint reports an endpoint URL the SDK cannot use.
func checkEndpoint(s string) error {
	u, err := url.Parse(s)
	if err == nil && (u.Scheme != "http" && u.Scheme != "https" || u.Host == "") {
		err = errors.New("want http:// or https:// and a host, e.g. http://localhost:4567")
	}
	if err != nil {
		return fmt.Errorf("invalid endpoint URL %q (AWS_ENDPOINT_URL_KINESIS or AWS_ENDPOINT_URL): %v", s, err)
	}
	return nil
}

// checkCredentials looks the credentials up once, so missing credentials
// are reported before any request instead of failing each one.
func checkCredentials(ctx context.Context, cfg aws.Config) error {
	if cfg.Credentials == nil {
		return errors.New("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE")
	}
	ctx, cancel := context.WithTimeout(ctx, credentialsBudget)
	defer cancel()
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		if ctx.Err() != nil && context.Cause(ctx) == errInterrupted {
			return context.Cause(ctx)
		}
		return errors.New("no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE")
	}
	return nil
}

// preflight makes the first request (ListShards, which the producer and the
// consumer both need) so that what cannot work is reported in one line
// before any data moves: a missing stream, denied access, rejected
// credentials at once; an endpoint that does not answer after
// connectBudget.
func (a *awsSetup) preflight(ctx context.Context, stream string) error {
	in := &sdkkinesis.ListShardsInput{MaxResults: aws.Int32(1)}
	if strings.HasPrefix(stream, "arn:") {
		in.StreamARN = aws.String(stream)
	} else {
		in.StreamName = aws.String(stream)
	}
	start := time.Now()
	wait := 250 * time.Millisecond
	for {
		left := connectBudget - time.Since(start)
		callCtx, cancel := context.WithTimeout(ctx, max(left, time.Second))
		_, err := a.client.ListShards(callCtx, in)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		a.log.Debug("first request failed", "error", err)
		if !transient(err) {
			return describeAWSError(err, stream)
		}
		left = connectBudget - time.Since(start)
		if left <= 0 {
			return fmt.Errorf("no answer from %s within %v: %v (is the endpoint right? AWS_ENDPOINT_URL_KINESIS)",
				a.endpoint, connectBudget, errorCause(err))
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(min(wait, left)):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// transient reports whether err may go away by itself: throttling, a 5xx
// answer, or no answer at all (a network error).
func transient(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ProvisionedThroughputExceededException", "LimitExceededException", "ThrottlingException",
			"Throttling", "RequestLimitExceeded", "InternalFailure", "ServiceUnavailable",
			"KMSThrottlingException", "RequestTimeout", "RequestTimeoutException":
			return true
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		if s := re.HTTPStatusCode(); s >= 500 || s == 429 {
			return true
		}
		if re.HTTPStatusCode() != 0 {
			return false
		}
	}
	if ae != nil {
		return false
	}
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ne) || errors.As(err, &oe) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) || errors.Is(err, context.DeadlineExceeded)
}

// permanent reports whether err is an answer saying the request can never
// succeed as configured: access denied, credentials rejected, the stream
// missing, its KMS key unusable.
func permanent(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException",
		"IncompleteSignature", "MissingAuthenticationToken", "ExpiredTokenException",
		"ResourceNotFoundException", "KMSAccessDeniedException", "KMSDisabledException",
		"KMSInvalidStateException", "KMSNotFoundException", "KMSOptInRequired":
		return true
	}
	return false
}

// describeAWSError is err as one line a user can act on.
func describeAWSError(err error, stream string) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		msg := ae.ErrorMessage()
		switch ae.ErrorCode() {
		case "AccessDeniedException":
			return fmt.Errorf("access denied: %s", msg)
		case "ResourceNotFoundException":
			return fmt.Errorf("stream %s not found: %s", stream, msg)
		case "UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignature",
			"MissingAuthenticationToken", "ExpiredTokenException":
			return fmt.Errorf("credentials rejected (%s): %s", ae.ErrorCode(), msg)
		}
		if msg == "" {
			return errors.New(ae.ErrorCode())
		}
		return fmt.Errorf("%s: %s", ae.ErrorCode(), msg)
	}
	return errorCause(err)
}

// errorCause strips the SDK's wrapping ("operation error Kinesis:
// PutRecords, https response error StatusCode: 0, RequestID: , request send
// failed, Post ...:") down to the cause a user reads.
func errorCause(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if m := ae.ErrorMessage(); m != "" {
			return fmt.Errorf("%s: %s", ae.ErrorCode(), m)
		}
		return errors.New(ae.ErrorCode())
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != 0 {
		return fmt.Errorf("HTTP %d: %v", re.HTTPStatusCode(), re.Err)
	}
	return err
}

func firstEnv(env *cmdEnv, names ...string) string {
	for _, n := range names {
		if v := env.getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// dynamoDB returns a DynamoDB client (for --checkpoint dynamodb://TABLE)
// from the loaded configuration, at AWS_ENDPOINT_URL_DYNAMODB (or
// AWS_ENDPOINT_URL) when one is set.
func (a *awsSetup) dynamoDB(env *cmdEnv) (*dynamodb.Client, error) {
	endpoint := firstEnv(env, "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL")
	if endpoint != "" {
		if err := checkEndpoint(endpoint); err != nil {
			return nil, errors.New(strings.ReplaceAll(err.Error(), "AWS_ENDPOINT_URL_KINESIS", "AWS_ENDPOINT_URL_DYNAMODB"))
		}
	}
	return dynamodb.NewFromConfig(a.cfg, func(o *dynamodb.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}
