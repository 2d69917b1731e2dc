package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rtdskit/rtds/internal/faultproxy"
)

// Tail fails with exit 1 and the cause, within seconds, when the
// configuration cannot work, with --idle-exit or without.
func TestTailFailsFastOnMisconfiguration(t *testing.T) {
	hermeticAWS(t)
	for _, tc := range misconfigurations(t) {
		for _, idle := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/idle-exit=%v", tc.name, idle), func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				env := &cmdEnv{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
					getenv: func(k string) string { return tc.vars[k] }}
				args := []string{"tail", "--stream", "s"}
				if idle {
					args = append(args, "--idle-exit", "1s")
				}
				// Without the fix tail runs until this ends it.
				ctx, cancel := context.WithTimeout(context.Background(), tc.took+10*time.Second)
				defer cancel()
				start := time.Now()
				code := run(ctx, env, args)
				took := time.Since(start)
				if code != 1 || took > tc.took {
					t.Errorf("exit %d after %v, want 1 within %v; stderr:\n%s", code, took, tc.took, &stderr)
				}
				if !strings.HasPrefix(stderr.String(), "rtds tail: "+tc.want) || stdout.Len() != 0 {
					t.Errorf("stderr does not start %q:\n%s", "rtds tail: "+tc.want, &stderr)
				}
			})
		}
	}
}

// --idle-exit counts from when every shard reached the tip: a backlog that
// takes longer to read than the idle time is still read in full.
func TestTailIdleExitCountsFromTheTip(t *testing.T) {
	var recs [][]byte
	for _, e := range tailEvents {
		recs = append(recs, []byte(e))
	}
	stream, ep, _ := tailStream(t, recs...)
	// Every GetRecords answer takes 700 ms, more than the idle time.
	proxy, err := faultproxy.New(ep, faultproxy.WithConfig(faultproxy.Config{Ops: []string{"GetRecords"}, Latency: 700 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	env, stdout, stderr := putEnv(proxy.URL(), "")
	start := time.Now()
	code := run(context.Background(), env, []string{"tail", "--stream", stream, "--format", "ndjson", "--idle-exit", "300ms"})
	if code != 0 {
		t.Errorf("exit %d; stderr:\n%s", code, stderr)
	}
	if want := strings.Join(tailEvents, "\n") + "\n"; stdout.String() != want {
		t.Errorf("stdout:\n%s\nwant every event:\n%s", stdout, want)
	}
	// Two answers (the records, then the tip) before idle time starts.
	if took := time.Since(start); took < 2*700*time.Millisecond+300*time.Millisecond {
		t.Errorf("exited after %v, before reaching the tip and idling", took)
	}
}
