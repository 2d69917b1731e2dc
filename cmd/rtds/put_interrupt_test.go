package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rtdskit/rtds/internal/faultproxy"
	"github.com/rtdskit/rtds/internal/testenv"
	"github.com/rtdskit/rtds/kinesis"
)

// waitFor polls cond every 20 ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// An interrupted put stops reading, delivers what it read (printing
// progress while it drains, also to a non-terminal), says where to resume
// and exits 130. The line it was waiting to send is not a bad line.
func TestPutInterruptedSaysWhereToResume(t *testing.T) {
	t.Parallel()
	client, name, proxy := unreachablePuts(t)
	const n = 5000 // about 1.5 MB: more than the 1 MiB buffer below
	var in strings.Builder
	for i := 1; i <= n; i++ {
		in.WriteString(testEvent(i) + "\n")
	}
	env, _, stderr := putEnv(proxy.URL(), in.String())
	env.putOptions = []kinesis.ProducerOption{kinesis.WithBufferBytes(1 << 20)}
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		// Interrupt once put is blocked on a full buffer, and let the
		// endpoint come back after a few progress lines.
		waitFor(t, 20*time.Second, "a PutRecords call", func() bool { return proxy.Stats().Calls["PutRecords"] > 0 })
		time.Sleep(time.Second)
		cancel(errInterrupted)
		time.Sleep(2*drainProgressEvery + time.Second)
		proxy.SetConfig(faultproxy.Config{})
	}()
	code := run(ctx, env, []string{"put", "--stream", name})
	errs := stderr.String()
	if code != 130 {
		t.Errorf("exit %d, want 130; stderr:\n%s", code, errs)
	}
	m := regexp.MustCompile(`rtds put: interrupted: (\d+) lines read, (\d+) events delivered; resume from stdin:(\d+)\n`).FindStringSubmatch(errs)
	if m == nil {
		t.Fatalf("no interrupted line with the resume position:\n%s", errs)
	}
	read, _ := strconv.Atoi(m[1])
	delivered, _ := strconv.Atoi(m[2])
	resume, _ := strconv.Atoi(m[3])
	if read == 0 || read >= n || delivered != read || resume != read+1 {
		t.Errorf("read %d, delivered %d, resume at %d: want all read lines delivered and to resume after them", read, delivered, resume)
	}
	if strings.Contains(errs, "bad line") || strings.Contains(errs, "context canceled") {
		t.Errorf("the interrupted line is reported as bad:\n%s", errs)
	}
	if c := strings.Count(errs, "rtds put: delivering: "); c < 2 {
		t.Errorf("%d progress lines while draining, want one every %v:\n%s", c, drainProgressEvery, errs)
	}
	got := readLines(t, client, name)
	for i := 1; i <= read; i++ {
		if got[testEvent(i)] != 1 {
			t.Fatalf("line %d stored %d times, want once", i, got[testEvent(i)])
		}
	}
	if len(got) != read {
		t.Errorf("stream holds %d records, want the %d lines read", len(got), read)
	}
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// rtdsBinary builds the command once per test run.
func rtdsBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "rtds-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "rtds")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	lockedWriter
	b bytes.Buffer
}

func newSyncBuffer() *syncBuffer {
	s := &syncBuffer{}
	s.w = &s.b
	return s
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A second SIGINT while put drains ends it at once (exit 130), saying
// which lines may not have been delivered.
func TestPutSecondInterruptExitsAtOnce(t *testing.T) {
	t.Parallel()
	bin := rtdsBinary(t)
	_, name, proxy := unreachablePuts(t)
	cmd := exec.Command(bin, "put", "--stream", name)
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL_KINESIS="+proxy.URL(), "AWS_REGION="+testenv.Region,
		"AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=secret", "AWS_PROFILE=", "AWS_ENDPOINT_URL=")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stderr := newSyncBuffer()
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	for i := 1; i <= 10; i++ {
		fmt.Fprintln(stdin, testEvent(i))
	}
	// stdin stays open: put waits for more lines while its records fail.
	waitFor(t, 20*time.Second, "a PutRecords call", func() bool { return proxy.Stats().Calls["PutRecords"] > 0 })
	cmd.Process.Signal(syscall.SIGINT)
	waitFor(t, 10*time.Second, "the drain's progress", func() bool { return strings.Contains(stderr.String(), "rtds put: delivering:") })
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatalf("put still running 3s after the second SIGINT; stderr:\n%s", stderr.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit %d, want 130", code)
	}
	want := "rtds put: interrupted again: exiting; 10 lines read, 0 events delivered; 10 events from stdin:1 on may not have been delivered: resume from stdin:1\n"
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
	}
}

// rtds --version names the module version and the commit it was built from.
func TestVersionNamesModuleAndCommit(t *testing.T) {
	t.Parallel()
	format := regexp.MustCompile(`^rtds \S+( \(commit [0-9a-f]{40}(\+dirty)?\))? go\S+\n$`)
	code, out, errs := runMain(t, "--version")
	if code != 0 || errs != "" || !format.MatchString(out) {
		t.Errorf("in-process: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	b, err := exec.Command(rtdsBinary(t), "--version").Output()
	if err != nil || !format.Match(b) {
		t.Errorf("built binary: %q (%v), want the module version and Go version", b, err)
	}
	bi := &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: strings.Repeat("ab", 20)}, {Key: "vcs.modified", Value: "true"}}}
	if got, want := formatVersion(bi), "rtds v1.2.3 (commit "+strings.Repeat("ab", 20)+"+dirty) "+runtime.Version(); got != want {
		t.Errorf("formatVersion = %q, want %q", got, want)
	}
}
