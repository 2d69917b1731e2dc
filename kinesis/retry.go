package kinesis

import (
	"context"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// Retry is a retry policy: exponential backoff with jitter, and a limit on
// attempts. It is the one shape for every retry in this package: the
// producer's PutRecords retries (WithPutRetry), the consumer's handler
// retries (WithHandlerRetry), and the calls the consumer makes on its own
// (ListShards, GetShardIterator, GetRecords, checkpoint and lease calls:
// DefaultCallRetry). It is built on github.com/cenkalti/backoff/v4.
//
// Start from a Default*Retry value and change the fields you need; every
// field is used as given (there is no zero-means-default), and an invalid
// policy is reported by the constructor that receives it.
//
// The wait before retry n (n = 1 for the first retry) is drawn uniformly
// from [w·(1−Jitter), w·(1+Jitter)], where w = InitialInterval ·
// Multiplier^(n−1), capped at MaxInterval before the jitter is applied.
type Retry struct {
	// MaxAttempts is the most attempts, the first one included; 0 means no
	// limit other than the caller's (the record TTL for puts, Run's context
	// for the consumer), and 1 means no retry.
	MaxAttempts int
	// InitialInterval is the wait before the first retry; more than 0.
	InitialInterval time.Duration
	// MaxInterval caps the wait before jitter; at least InitialInterval.
	MaxInterval time.Duration
	// Multiplier grows the wait after each retry; at least 1.
	Multiplier float64
	// Jitter is the randomization factor, from 0 (none) to 1 (waits from 0
	// to twice the computed wait).
	Jitter float64
}

var (
	// DefaultPutRetry is the producer's default policy for failed
	// PutRecords entries and requests (WithPutRetry): no attempt limit
	// other than the record TTL, 100 ms doubling to 5 s, ±50%.
	DefaultPutRetry = Retry{MaxAttempts: 0, InitialInterval: 100 * time.Millisecond, MaxInterval: 5 * time.Second, Multiplier: 2, Jitter: 0.5}
	// DefaultHandlerRetry is the consumer's default policy for a failing
	// handler (WithHandlerRetry): 3 attempts, 100 ms doubling to 5 s,
	// ±50%; then the record is dead-lettered.
	DefaultHandlerRetry = Retry{MaxAttempts: 3, InitialInterval: 100 * time.Millisecond, MaxInterval: 5 * time.Second, Multiplier: 2, Jitter: 0.5}
	// DefaultCallRetry is the policy of the calls the consumer makes on its
	// own (ListShards, GetShardIterator, GetRecords, checkpoint and lease
	// store calls) and of a failing dead-letter handler: retried until
	// they succeed or Run stops, 100 ms doubling to 5 s, ±50%. Errors that
	// retrying cannot fix (a missing stream, access denied) are not
	// retried.
	DefaultCallRetry = Retry{MaxAttempts: 0, InitialInterval: 100 * time.Millisecond, MaxInterval: 5 * time.Second, Multiplier: 2, Jitter: 0.5}
)

// Validate reports the first field of r that breaks the rules above.
func (r Retry) Validate() error {
	switch {
	case r.MaxAttempts < 0:
		return fmt.Errorf("MaxAttempts %d is negative (0 means no limit)", r.MaxAttempts)
	case r.InitialInterval <= 0:
		return fmt.Errorf("InitialInterval %v must be positive", r.InitialInterval)
	case r.MaxInterval < r.InitialInterval:
		return fmt.Errorf("MaxInterval %v is below InitialInterval %v", r.MaxInterval, r.InitialInterval)
	case r.Multiplier < 1:
		return fmt.Errorf("Multiplier %v is below 1", r.Multiplier)
	case r.Jitter < 0 || r.Jitter > 1:
		return fmt.Errorf("Jitter %v is outside [0, 1]", r.Jitter)
	}
	return nil
}

// validate is Validate naming the option the policy came from.
func (r Retry) validate(option string) error {
	if err := r.Validate(); err != nil {
		return errorf("%s: %w", option, err)
	}
	return nil
}

// newBackOff returns a fresh backoff for one sequence of retries. It never
// returns backoff.Stop: the attempt limit is checked with exhausted, and the
// time limits belong to the caller.
func (r Retry) newBackOff() backoff.BackOff {
	return backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(r.InitialInterval),
		backoff.WithMaxInterval(r.MaxInterval),
		backoff.WithMultiplier(r.Multiplier),
		backoff.WithRandomizationFactor(r.Jitter),
		backoff.WithMaxElapsedTime(0),
	)
}

// exhausted reports whether no attempt may follow attempt number n (1 for
// the first).
func (r Retry) exhausted(n int) bool { return r.MaxAttempts > 0 && n >= r.MaxAttempts }

// Retrier runs one sequence of retries under a Retry policy: Next after
// each failed attempt, Reset after a success. A Retrier is not safe for
// concurrent use.
type Retrier struct {
	policy  Retry
	bo      backoff.BackOff
	attempt int // attempts made so far
}

// Start returns a Retrier for one sequence of attempts under r.
func (r Retry) Start() *Retrier { return &Retrier{policy: r} }

// Next counts a failed attempt and returns the wait before the next one;
// ok is false when the policy allows no more attempts.
func (t *Retrier) Next() (d time.Duration, ok bool) {
	t.attempt++
	if t.policy.exhausted(t.attempt) {
		return 0, false
	}
	if t.bo == nil {
		t.bo = t.policy.newBackOff()
	}
	return t.bo.NextBackOff(), true
}

// Attempts returns the failed attempts counted by Next since the start or
// the last Reset.
func (t *Retrier) Attempts() int { return t.attempt }

// Reset starts the sequence again, after a success.
func (t *Retrier) Reset() {
	t.attempt = 0
	if t.bo != nil {
		t.bo.Reset()
	}
}

// sleepCtx waits d or until ctx is done; it reports whether d elapsed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
