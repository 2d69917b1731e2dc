package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rtdskit/rtds/connect"
	"github.com/rtdskit/rtds/connect/connecttest"
	"github.com/rtdskit/rtds/internal/faultproxy"
	"github.com/rtdskit/rtds/internal/testenv"
	"github.com/rtdskit/rtds/kinesis"
)

const (
	bridgeAppKey = "APPKEY0123"
	bridgeToken  = "tok-DO-NOT-PRINT"
)

// bridgeEvent is event i (offset i): OPEN when i is a multiple of 3, else
// UNINSTALL.
func bridgeEvent(i int) string {
	e := testEvent(i)
	if i%3 == 0 {
		e = strings.Replace(e, `"UNINSTALL"`, `"OPEN"`, 1)
	}
	return e
}

func bridgeEvents(from, to int) [][]byte {
	var out [][]byte
	for i := from; i <= to; i++ {
		out = append(out, []byte(bridgeEvent(i)))
	}
	return out
}

// bridgeSetup is a local Data Streaming API, a token file and a cmdEnv
// pointing at Kinesis endpoint ep (and DynamoDB at ddb, if not "").
// The API sends at most linesPerSecond events per second (0: no limit).
func bridgeSetup(t *testing.T, ep, ddb string, events [][]byte, linesPerSecond int) (*connecttest.Server, string, func() (*cmdEnv, *syncBuffer)) {
	t.Helper()
	s, err := connecttest.NewServer(connecttest.Config{AppKey: bridgeAppKey, Token: bridgeToken, Redirect: connecttest.RedirectSameURL,
		LinesPerSecond: linesPerSecond}, events...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(bridgeToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"AWS_ENDPOINT_URL_KINESIS":  ep,
		"AWS_ENDPOINT_URL_DYNAMODB": ddb,
		"AWS_REGION":                testenv.Region,
		"AWS_ACCESS_KEY_ID":         "AKIDTEST",
		"AWS_SECRET_ACCESS_KEY":     "secret",
	}
	newEnv := func() (*cmdEnv, *syncBuffer) {
		stderr := newSyncBuffer()
		fast := kinesis.Retry{InitialInterval: 10 * time.Millisecond, MaxInterval: 50 * time.Millisecond, Multiplier: 2}
		return &cmdEnv{stdin: strings.NewReader(""), stdout: stderr, stderr: stderr, getenv: func(k string) string { return vars[k] },
			connectOptions: []connect.Option{connect.WithRetry(fast), connect.WithLimitRetry(fast)}}, stderr
	}
	return s, tokenFile, newEnv
}

// storedOffset is the offset in a file checkpoint, "" when none.
func storedOffset(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var of offsetFile
	if err := json.Unmarshal(b, &of); err != nil {
		t.Errorf("checkpoint %s: %v", path, err)
	}
	return of.Offset
}

// The bridge forwards every selected event's bytes unchanged, never an
// OFFSET_UPDATE, follows the 307 with its cookie, reports each 402, stores
// the offset (moved past the filtered-out tail by OFFSET_UPDATE) and, run
// again, resumes after it.
func TestBridgeForwardsAndResumes(t *testing.T) {
	t.Parallel()
	client, ep := testenv.Kinesalite(t)
	name, _ := testenv.CreateStream(t, client, 2)
	s, tokenFile, newEnv := bridgeSetup(t, ep, "", bridgeEvents(1, 300), 0)
	s.Inject(connecttest.Fault{Status: 402}, connecttest.Fault{Status: 402})
	cp := filepath.Join(t.TempDir(), "offset.json")
	args := []string{"bridge", "--app-key", bridgeAppKey, "--token-file", tokenFile, "--stream", name,
		"--connect-url", s.URL, "--type", "UNINSTALL", "--checkpoint", "file://" + cp}

	runUntil := func(offset string) (int, string) {
		env, stderr := newEnv()
		ctx, cancel := context.WithCancelCause(context.Background())
		defer cancel(nil)
		go func() {
			waitFor(t, 30*time.Second, "offset "+offset, func() bool { return storedOffset(t, cp) == offset })
			cancel(errInterrupted)
		}()
		return run(ctx, env, args), stderr.String()
	}
	code, stderr := runUntil("300") // 299 is the last UNINSTALL: an OFFSET_UPDATE moves it to 300
	if code != 130 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	if n := strings.Count(stderr, "connection limit is reached (HTTP 402)"); n != 2 {
		t.Errorf("402 reported %d times, want 2; stderr:\n%s", n, stderr)
	}
	if !strings.Contains(stderr, "rtds bridge: 200 events,") || !strings.Contains(stderr, "offset 300 stored in file://"+cp) {
		t.Errorf("summary missing; stderr:\n%s", stderr)
	}
	if strings.Contains(stderr, bridgeToken) {
		t.Error("the token was printed")
	}
	var body map[string]any
	reqs := s.Requests()
	json.Unmarshal(reqs[len(reqs)-1].Body, &body)
	if fmt.Sprint(body) != "map[enable_offset_updates:true filters:[map[types:[UNINSTALL]]] start:EARLIEST]" {
		t.Errorf("request body %v", body)
	}
	if ck := reqs[len(reqs)-1].Header.Get("Cookie"); ck == "" {
		t.Error("the 307's cookie was not sent back")
	}

	// Restarted, the bridge resumes after the stored offset.
	s.Append(bridgeEvents(301, 320)...)
	code, stderr = runUntil("320")
	if code != 130 || !strings.Contains(stderr, "resuming after offset 300") || !strings.Contains(stderr, "rtds bridge: 14 events,") {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	reqs = s.Requests()
	if b := string(reqs[len(reqs)-1].Body); !strings.Contains(b, `"resume_offset":"300"`) {
		t.Errorf("restart request %s", b)
	}

	got := readLines(t, client, name)
	want := 0
	for i := 1; i <= 320; i++ {
		n := got[bridgeEvent(i)]
		if i%3 == 0 && n != 0 || i%3 != 0 && n != 1 {
			t.Errorf("event %d is in the stream %d times", i, n)
		}
		if i%3 != 0 {
			want++
		}
	}
	if len(got) != want {
		t.Errorf("%d distinct records, want %d", len(got), want)
	}
}

// A refused token stops the bridge at once with the API's answer, and
// the token is never printed.
func TestBridgeUnauthorizedStops(t *testing.T) {
	t.Parallel()
	client, ep := testenv.Kinesalite(t)
	name, _ := testenv.CreateStream(t, client, 1)
	s, _, newEnv := bridgeSetup(t, ep, "", bridgeEvents(1, 3), 0)
	bad := filepath.Join(t.TempDir(), "token")
	os.WriteFile(bad, []byte("wrong-"+bridgeToken), 0o600)
	env, stderr := newEnv()
	code := run(context.Background(), env, []string{"bridge", "--app-key", bridgeAppKey, "--token-file", bad,
		"--stream", name, "--connect-url", s.URL})
	out := stderr.String()
	if code != 1 || !strings.Contains(out, "rtds bridge: Data Streaming API: connect: HTTP 401 Unauthorized") || strings.Contains(out, bridgeToken) {
		t.Errorf("exit %d; stderr:\n%s", code, out)
	}
}

func TestBridgeUsage(t *testing.T) {
	t.Parallel()
	base := []string{"bridge", "--app-key", "K", "--token-file", "/nonexistent", "--stream", "s"}
	tests := []struct {
		name, reason string
		args         []string
		want         string
	}{
		{"no app key", "required", []string{"bridge", "--token-file", "f", "--stream", "s"}, "--app-key is required"},
		{"no token file", "required", []string{"bridge", "--app-key", "k", "--stream", "s"}, "--token-file is required"},
		{"no stream", "required", []string{"bridge", "--app-key", "k", "--token-file", "f"}, "--stream is required"},
		{"region and url", "one base URL", append(base, "--connect-region", "eu", "--connect-url", "http://127.0.0.1:1"), "exclusive"},
		{"bad region", "na or eu", append(base, "--connect-region", "us"), "want na or eu"},
		{"bad checkpoint", "two schemes", append(base, "--checkpoint", "s3://b"), "want file://PATH or dynamodb://TABLE"},
		{"bad key", "three keys", append(base, "--partition-key", "device"), "want channel, named_user or id"},
		{"bad type", "known types", append(base, "--type", "NOPE"), "unknown event type"},
		{"bad start", "two positions", append(base, "--start", "now"), "want earliest or latest"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runMain(t, tc.args...)
			if code != 2 || stdout != "" || !strings.Contains(stderr, tc.want) || !strings.HasSuffix(stderr, "run 'rtds bridge --help'\n") ||
				strings.Count(stderr, "\n") != 2 {
				t.Errorf("%s: exit %d, stderr %q; want 2 and one line with %q", tc.reason, code, stderr, tc.want)
			}
		})
	}
	code, stdout, _ := runMain(t, "bridge", "--help")
	if code != 0 || !strings.Contains(stdout, "--checkpoint") || !strings.Contains(stdout, "--connect-region") {
		t.Errorf("--help: exit %d, stdout %q", code, stdout)
	}
}

// rtds serve-connect serves a file's events to a Data Streaming API
// client until interrupted, and reports a bad line as file:line:.
func TestServeConnect(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "events.ndjson")
	os.WriteFile(file, []byte(bridgeEvent(1)+"\n\n"+bridgeEvent(2)+"\n"), 0o644)
	stderr := newSyncBuffer()
	env := &cmdEnv{stdin: strings.NewReader(""), stdout: stderr, stderr: stderr, getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan int)
	go func() { done <- run(ctx, env, []string{"serve-connect", "--events", file}) }()
	waitFor(t, 10*time.Second, "the server", func() bool { return strings.Contains(stderr.String(), "serving 2 events at ") })
	url := strings.TrimSpace(strings.SplitAfter(stderr.String(), "serving 2 events at ")[1])
	c, err := connect.New("k", "t", connect.WithBaseURL(url), connect.WithStart(connect.StartEarliest))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for e, err := range c.Events(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Offset)
		if len(got) == 2 {
			break
		}
	}
	cancel(errInterrupted)
	if code := <-done; code != 130 || fmt.Sprint(got) != "[1 2]" {
		t.Errorf("exit %d, offsets %v; stderr:\n%s", code, got, stderr)
	}

	os.WriteFile(file, []byte(bridgeEvent(2)+"\n"+bridgeEvent(1)+"\n"), 0o644)
	code, _, errOut := runMain(t, "serve-connect", "--events", file)
	if code != 1 || !strings.HasPrefix(errOut, "rtds serve-connect: "+file+":2: offset 1 is not above 2") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// When Kinesis refuses events for good, the bridge stops (exit 1), says
// which were not delivered, and the stored offset stays before the first
// of them: every event up to it is in the stream.
func TestBridgeNeverStoresAnOffsetPastAnUndeliveredEvent(t *testing.T) {
	t.Parallel()
	client, ep := testenv.Kinesalite(t)
	name, _ := testenv.CreateStream(t, client, 2)
	proxy, err := faultproxy.New(ep)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	const n = 3000
	s, tokenFile, newEnv := bridgeSetup(t, proxy.URL(), "", bridgeEvents(1, n), 3000)
	cp := filepath.Join(t.TempDir(), "offset.json")
	env, stderr := newEnv()
	// One attempt per record: an entry the proxy fails is not delivered.
	env.putOptions = []kinesis.ProducerOption{kinesis.WithPutRetry(kinesis.Retry{MaxAttempts: 1,
		InitialInterval: time.Millisecond, MaxInterval: time.Millisecond, Multiplier: 1})}
	ctx, cancel := context.WithTimeoutCause(context.Background(), 60*time.Second, errInterrupted)
	defer cancel()
	go func() {
		waitFor(t, 30*time.Second, "a stored offset", func() bool { return storedOffset(t, cp) != "" })
		if err := proxy.SetConfig(faultproxy.Config{Ops: []string{"PutRecords"}, FailEntries: 0.05,
			EntryErrorCode: faultproxy.CodeInternalFailure}); err != nil {
			t.Error(err)
		}
	}()
	code := run(ctx, env, []string{"bridge", "--app-key", bridgeAppKey, "--token-file", tokenFile,
		"--stream", name, "--connect-url", s.URL, "--checkpoint", "file://" + cp, "--aggregate=false", "--checkpoint-interval", "10ms"})
	out := stderr.String()
	if code != 1 || !strings.Contains(out, "not delivered: InternalFailure: Internal service failure (injected by faultproxy). (1 attempt)") {
		t.Fatalf("exit %d; stderr:\n%s", code, out)
	}
	stored, _ := strconv.Atoi(storedOffset(t, cp))
	got := readLines(t, client, name)
	firstMissing := 0
	for i := 1; i <= n; i++ {
		if got[bridgeEvent(i)] == 0 {
			firstMissing = i
			break
		}
	}
	t.Logf("stored offset %d, first event missing from the stream %d", stored, firstMissing)
	if firstMissing == 0 || stored >= firstMissing {
		t.Errorf("stored offset %d, first missing event %d: the offset passed an undelivered event", stored, firstMissing)
	}
}

// When the API refuses the bridge for good after some events (a reconnect
// answered 401), the events read are still delivered and their offset
// stored; the exit status is 1.
func TestBridgeDeliversWhatItReadWhenTheAPIStops(t *testing.T) {
	t.Parallel()
	client, ep := testenv.Kinesalite(t)
	name, _ := testenv.CreateStream(t, client, 1)
	s, tokenFile, newEnv := bridgeSetup(t, ep, "", bridgeEvents(1, 200), 0)
	s.Inject(connecttest.Fault{Disconnect: true, After: 150, MidLine: true}, connecttest.Fault{Status: 401})
	cp := filepath.Join(t.TempDir(), "offset.json")
	env, stderr := newEnv()
	code := run(context.Background(), env, []string{"bridge", "--app-key", bridgeAppKey, "--token-file", tokenFile,
		"--stream", name, "--connect-url", s.URL, "--checkpoint", "file://" + cp})
	out := stderr.String()
	if code != 1 || !strings.Contains(out, "HTTP 401") || !strings.Contains(out, "rtds bridge: 150 events,") ||
		!strings.Contains(out, "rtds bridge: Data Streaming API: connect: stream dropped: ") {
		t.Fatalf("exit %d; stderr:\n%s", code, out)
	}
	if off := storedOffset(t, cp); off != "150" {
		t.Errorf("stored offset %q, want 150", off)
	}
	got := readLines(t, client, name)
	for i := 1; i <= 150; i++ {
		if got[bridgeEvent(i)] != 1 {
			t.Errorf("event %d is in the stream %d times", i, got[bridgeEvent(i)])
		}
	}
}
