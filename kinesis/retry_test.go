package kinesis

import (
	"strings"
	"testing"
	"time"
)

func TestRetryValidateNamesTheField(t *testing.T) {
	ok := Retry{MaxAttempts: 3, InitialInterval: time.Millisecond, MaxInterval: time.Second, Multiplier: 2, Jitter: 0.5}
	for _, r := range []Retry{DefaultPutRetry, DefaultHandlerRetry, DefaultCallRetry, ok} {
		if err := r.Validate(); err != nil {
			t.Errorf("%+v: %v", r, err)
		}
	}
	for field, r := range map[string]Retry{
		"MaxAttempts":     {MaxAttempts: -1, InitialInterval: time.Millisecond, MaxInterval: time.Second, Multiplier: 2},
		"InitialInterval": {MaxInterval: time.Second, Multiplier: 2},
		"MaxInterval":     {InitialInterval: time.Second, MaxInterval: time.Millisecond, Multiplier: 2},
		"Multiplier":      {InitialInterval: time.Millisecond, MaxInterval: time.Second, Multiplier: 0.5},
		"Jitter":          {InitialInterval: time.Millisecond, MaxInterval: time.Second, Multiplier: 2, Jitter: 1.5},
	} {
		err := r.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), field) {
			t.Errorf("%s: Validate() = %v, want an error naming %s", field, err, field)
		}
	}
	if err := (Retry{}).validate("WithPutRetry"); err == nil || !strings.HasPrefix(err.Error(), "kinesis: WithPutRetry: InitialInterval") {
		t.Errorf("validate = %v, want it to name the option once after one prefix", err)
	}
}

// The waits grow by Multiplier up to MaxInterval, each within ±Jitter;
// MaxAttempts counts the first attempt; Reset starts again.
func TestRetrierFollowsItsPolicy(t *testing.T) {
	r := Retry{MaxAttempts: 5, InitialInterval: 100 * time.Millisecond, MaxInterval: 400 * time.Millisecond, Multiplier: 2, Jitter: 0.5}
	for range 50 {
		rt := r.Start()
		want := []time.Duration{100, 200, 400, 400}
		for i, w := range want {
			d, ok := rt.Next()
			w *= time.Millisecond
			if !ok || d < w/2 || d > w*3/2 {
				t.Fatalf("wait %d = %v, %v; want within ±50%% of %v", i+1, d, ok, w)
			}
		}
		if d, ok := rt.Next(); ok {
			t.Fatalf("a 6th attempt allowed (wait %v) with MaxAttempts 5", d)
		}
		if rt.Attempts() != 5 {
			t.Fatalf("Attempts() = %d, want 5", rt.Attempts())
		}
		rt.Reset()
		if d, ok := rt.Next(); !ok || d < 50*time.Millisecond || d > 150*time.Millisecond || rt.Attempts() != 1 {
			t.Fatalf("after Reset: %v, %v, %d attempts", d, ok, rt.Attempts())
		}
	}
	exact := Retry{InitialInterval: time.Second, MaxInterval: time.Second, Multiplier: 1}.Start()
	for range 10 {
		if d, ok := exact.Next(); !ok || d != time.Second {
			t.Fatalf("no jitter, no limit: %v, %v", d, ok)
		}
	}
}
