package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/rtdskit/rtds/internal/faultproxy"
	"github.com/rtdskit/rtds/internal/testenv"
)

// unreachablePuts creates a one-shard kinesalite stream and a proxy to it
// that hangs up every PutRecords call (and forwards the rest).
func unreachablePuts(t *testing.T) (*sdkkinesis.Client, string, *faultproxy.Proxy) {
	t.Helper()
	client, ep := testenv.Kinesalite(t)
	name, _ := testenv.CreateStream(t, client, 1)
	proxy, err := faultproxy.New(ep, faultproxy.WithConfig(faultproxy.Config{Ops: []string{"PutRecords"}, Unreachable: true}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	return client, name, proxy
}

// bigEvent is an UNINSTALL event's JSON padded to exactly n bytes.
func bigEvent(t *testing.T, id string, n int) string {
	t.Helper()
	head := `{"id":"` + id + `","type":"UNINSTALL","device":{"channel":"big"},"body":{"pad":"`
	tail := `"}}`
	if n < len(head)+len(tail) {
		t.Fatal("too small")
	}
	return head + strings.Repeat("p", n-len(head)-len(tail)) + tail
}

// A line over the record limit is reported with its position and skipped,
// and every later line is still read and sent.
func TestPutSkipsALineOverTheRecordLimitAndReadsOn(t *testing.T) {
	t.Parallel()
	client, ep := testenv.Kinesalite(t)
	name, _ := testenv.CreateStream(t, client, 1)
	big := bigEvent(t, "big", 1048653)
	in := testEvent(1) + "\n" + testEvent(2) + "\n" + big + "\n" + testEvent(4) + "\n"
	env, _, stderr := putEnv(ep, in)
	code := run(context.Background(), env, []string{"put", "--stream", name})
	if code != 1 {
		t.Errorf("exit %d, want 1 for the skipped line; stderr:\n%s", code, stderr)
	}
	for _, want := range []string{
		"rtds put: stdin:3: line of 1048653 bytes is over the 1048576-byte record limit; skipped",
		"rtds put: 3 events,",
		"1 bad line",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	got := readLines(t, client, name)
	for _, i := range []int{1, 2, 4} {
		if got[testEvent(i)] != 1 {
			t.Errorf("event %d stored %d times, want once", i, got[testEvent(i)])
		}
	}
	if len(got) != 3 {
		t.Errorf("stream holds %d records, want 3", len(got))
	}
}

// patternReader yields n bytes of 'x' and then rest, without holding
// either in memory.
type patternReader struct {
	n    int64
	rest *strings.Reader
}

func (r *patternReader) Read(p []byte) (int, error) {
	if r.n > 0 {
		k := min(int64(len(p)), r.n)
		for i := range k {
			p[i] = 'x'
		}
		r.n -= k
		return int(k), nil
	}
	return r.rest.Read(p)
}

// A huge line is discarded as it is read: memory does not grow with it.
func TestPutDiscardsAHugeLineWithoutHoldingIt(t *testing.T) {
	const huge = 256 << 20
	in := &patternReader{n: huge, rest: strings.NewReader("\n" + testEvent(1) + "\n")}
	out := make(chan inputLine, 4)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	go readInputLines(context.Background(), in, 0, "stdin", out)
	var lines []inputLine
	for l := range out {
		lines = append(lines, l)
		if l.eof {
			break
		}
	}
	runtime.ReadMemStats(&after)
	if len(lines) != 3 || !lines[0].tooLong || lines[0].size != huge || lines[0].data != nil ||
		string(lines[1].data) != testEvent(1) || lines[1].n != 2 || !lines[2].eof {
		t.Fatalf("lines: %+v", lines)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("reading a %d MiB line allocated %d MiB", huge>>20, alloc>>20)
	}
}

// Undelivered records are reported with file:line and event id; after 10,
// the count of the rest.
func TestPutReportsUndeliveredEventsByLineAndID(t *testing.T) {
	t.Parallel()
	// Every PutRecords call hangs up: the records expire after --ttl.
	_, name, proxy := unreachablePuts(t)
	var in strings.Builder
	for i := 1; i <= 13; i++ {
		in.WriteString(testEvent(i) + "\n")
	}
	env, _, stderr := putEnv(proxy.URL(), in.String())
	code := run(context.Background(), env, []string{"put", "--stream", name, "--ttl", "1s"})
	if code != 1 {
		t.Errorf("exit %d, want 1; stderr:\n%s", code, stderr)
	}
	errs := stderr.String()
	if n := strings.Count(errs, "not delivered: "); n != 10 {
		t.Errorf("%d failure lines, want 10:\n%s", n, errs)
	}
	// Each failure line names its line and that line's event id.
	ms := regexp.MustCompile(`rtds put: stdin:(\d+): event (\S+) not delivered: --ttl passed after \d+ attempts?: `).FindAllStringSubmatch(errs, -1)
	if len(ms) != 10 {
		t.Errorf("%d failure lines name a line, an event and the cause, want 10", len(ms))
	}
	for _, m := range ms {
		if n, _ := strconv.Atoi(m[1]); m[2] != eventID(n) {
			t.Errorf("line %s reported with event %s, want %s", m[1], m[2], eventID(n))
		}
	}
	for _, want := range []string{
		"rtds put: ... and 3 more undelivered events not shown",
		"13 failures",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
}

func eventID(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

// hermeticAWS keeps the process's own AWS configuration (variables, files,
// the instance metadata service) out of a test that checks what is missing.
func hermeticAWS(t *testing.T) {
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KINESIS", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent/rtds-test-config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/rtds-test-credentials")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// accessDenied is an endpoint that denies every call.
func accessDenied(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-ErrorType", "AccessDeniedException")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"__type":"AccessDeniedException","message":"User: arn:aws:iam::1:user/x is not authorized to perform: kinesis:ListShards"}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// misconfigurations are what no retry fixes; want is the line's cause.
func misconfigurations(t *testing.T) []struct {
	name string
	vars map[string]string
	want string
	took time.Duration // at most
} {
	ok := func(ep string) map[string]string {
		return map[string]string{"AWS_ENDPOINT_URL_KINESIS": ep, "AWS_REGION": testenv.Region,
			"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret"}
	}
	noRegion, noCreds, badURL := ok("http://127.0.0.1:1"), ok("http://127.0.0.1:1"), ok("localhost:4567")
	delete(noRegion, "AWS_REGION")
	delete(noCreds, "AWS_ACCESS_KEY_ID")
	return []struct {
		name string
		vars map[string]string
		want string
		took time.Duration
	}{
		{"missing region", noRegion, "no AWS region: set AWS_REGION", 3 * time.Second},
		{"missing credentials", noCreds, "no AWS credentials found", credentialsBudget + 2*time.Second},
		{"invalid endpoint URL", badURL, `invalid endpoint URL "localhost:4567"`, 3 * time.Second},
		{"access denied", ok(accessDenied(t)), "access denied: User: arn:aws:iam::1:user/x is not authorized", 3 * time.Second},
		{"unreachable endpoint", ok("http://127.0.0.1:1"), "no answer from http://127.0.0.1:1 within 5s: dial tcp 127.0.0.1:1", connectBudget + 3*time.Second},
	}
}

// Put fails on the first attempt, in one line, when the configuration
// cannot work; an endpoint that never answers fails after connectBudget.
func TestPutFailsAtOnceOnMisconfiguration(t *testing.T) {
	hermeticAWS(t)
	for _, tc := range misconfigurations(t) {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			env := &cmdEnv{stdin: strings.NewReader(testEvent(1) + "\n"), stdout: &stdout, stderr: &stderr,
				getenv: func(k string) string { return tc.vars[k] }}
			start := time.Now()
			code := run(context.Background(), env, []string{"put", "--stream", "s"})
			took := time.Since(start)
			if code != 1 || took > tc.took {
				t.Errorf("exit %d after %v, want 1 within %v; stderr:\n%s", code, took, tc.took, &stderr)
			}
			if lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n"); len(lines) != 1 ||
				!strings.HasPrefix(lines[0], "rtds put: "+tc.want) {
				t.Errorf("stderr is not one line starting %q:\n%s", "rtds put: "+tc.want, &stderr)
			}
		})
	}
}

// Once the endpoint has answered, put retries a connection loss without a
// limit, shows the cause while it waits, and delivers everything when the
// endpoint is back.
func TestPutRetriesAfterTheFirstAnswerAndShowsTheCause(t *testing.T) {
	t.Parallel()
	client, name, proxy := unreachablePuts(t)
	heal := time.AfterFunc(drainProgressEvery+time.Second, func() { proxy.SetConfig(faultproxy.Config{}) })
	defer heal.Stop()
	env, _, stderr := putEnv(proxy.URL(), testEvent(1)+"\n"+testEvent(2)+"\n")
	if code := run(context.Background(), env, []string{"put", "--stream", name}); code != 0 {
		t.Errorf("exit %d, want 0; stderr:\n%s", code, stderr)
	}
	errs := stderr.String()
	if !strings.Contains(errs, "rtds put: delivering: 0 of 2 events delivered") || !strings.Contains(errs, "; retrying: ") {
		t.Errorf("no progress line with the retried cause:\n%s", errs)
	}
	if !strings.Contains(errs, "rtds put: 2 events,") || !strings.Contains(errs, " 0 failures") {
		t.Errorf("summary:\n%s", errs)
	}
	if got := readLines(t, client, name); len(got) != 2 {
		t.Errorf("stream holds %d records, want 2", len(got))
	}
}

// The Kinesis client makes one attempt per call: the producer and the
// consumer retry, so retries are not multiplied by the SDK's.
func TestAWSClientDoesNotRetry(t *testing.T) {
	env, _, _ := putEnv("http://127.0.0.1:1", "")
	aw, err := newAWS(context.Background(), env, false)
	if err != nil {
		t.Fatal(err)
	}
	if n := aw.client.Options().Retryer.MaxAttempts(); n != 1 {
		t.Errorf("the SDK client makes up to %d attempts, want 1", n)
	}
}

// A permanent error on PutRecords after the first answer (here: ListShards
// allowed, PutRecords denied) stops put: one line says why, not one line
// per event.
func TestPutStopsOnAPermanentPutRecordsError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".ListShards") {
			io.WriteString(w, `{"Shards":[]}`)
			return
		}
		w.Header().Set("X-Amzn-ErrorType", "AccessDeniedException")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"__type":"AccessDeniedException","message":"not authorized to perform: kinesis:PutRecords"}`)
	}))
	defer srv.Close()
	var in strings.Builder
	for i := 1; i <= 50; i++ {
		in.WriteString(testEvent(i) + "\n")
	}
	env, _, stderr := putEnv(srv.URL, in.String())
	if code := run(context.Background(), env, []string{"put", "--stream", "s"}); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	errs := stderr.String()
	if strings.Contains(errs, "not delivered:") || !regexp.MustCompile(
		`(?m)^rtds put: access denied: not authorized to perform: kinesis:PutRecords; \d+ events? not delivered\n$`).MatchString(errs) {
		t.Errorf("stderr:\n%s\nwant one line saying access is denied", errs)
	}
}
