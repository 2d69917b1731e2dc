package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/internal/testenv"
)

// Every command's --help goes to stdout with exit 0 (so `rtds put --help |
// less` works), and lists its flags as --flag.
func TestHelpGoesToStdoutWithDoubleDashFlags(t *testing.T) {
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, args := range [][]string{{name, "--help"}, {name, "-h"}, {"help", name}} {
				code, out, errs := runMain(t, args...)
				if code != 0 || errs != "" || !strings.HasPrefix(out, "usage: rtds "+name) {
					t.Errorf("%v: exit %d, stderr %q, stdout starts %.40q", args, code, errs, out)
				}
				if m := regexp.MustCompile(`(?m)^\s+-[a-z]`).FindString(out); m != "" {
					t.Errorf("%v: a flag printed with one dash (%q):\n%s", args, m, out)
				}
				if !strings.Contains(out, "\n  --") {
					t.Errorf("%v: no --flag listed:\n%s", args, out)
				}
			}
		})
	}
}

// A usage error is one line naming the problem, then the hint to --help,
// with exit 2; flags are named --flag.
func TestUsageErrorIsOneLineAndAHint(t *testing.T) {
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			code, out, errs := runMain(t, name, "--nope")
			want := "rtds " + name + ": flag provided but not defined: --nope\nrun 'rtds " + name + " --help'\n"
			if code != 2 || out != "" || errs != want {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and %q", code, out, errs, want)
			}
		})
	}
	code, _, errs := runMain(t, "put")
	if want := "rtds put: --stream is required\nrun 'rtds put --help'\n"; code != 2 || errs != want {
		t.Errorf("put without --stream: exit %d, stderr %q, want %q", code, errs, want)
	}
}

// Every command prefixes its messages "rtds CMD:" and writes positions as
// file:line:.
func TestOnePrefixAndPositionFormat(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := dir + "/in.ndjson"
	if err := os.WriteFile(file, []byte(tailEvents[0]+"\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCSVCommand(t, t.Context(), "", "--type", "OPEN", file)
	if code != 1 || !strings.HasPrefix(errs, "rtds csv: "+file+":2: ") {
		t.Errorf("csv: exit %d, stderr %q", code, errs)
	}
	code, _, errs = runGenCommand(t, t.Context(), "--count", "-1")
	if code != 2 || !strings.HasPrefix(errs, "rtds gen: ") {
		t.Errorf("gen: exit %d, stderr %q", code, errs)
	}
	code, _, errs = runMain(t, "tail", "--stream", "s", "--from", "yesterday")
	if code != 2 || !strings.HasPrefix(errs, "rtds tail: ") {
		t.Errorf("tail: exit %d, stderr %q", code, errs)
	}
}

// Put's summary goes to stderr (stdout is data) with counts in the
// singular when they are 1.
func TestPutSummaryOnStderrInTheSingular(t *testing.T) {
	t.Parallel()
	client, ep := testenv.Kinesalite(t)
	name, _ := testenv.CreateStream(t, client, 1)
	env, stdout, stderr := putEnv(ep, testEvent(1)+"\nnot json\n")
	if code := run(context.Background(), env, []string{"put", "--stream", name}); code != 1 {
		t.Errorf("exit %d, want 1 for the bad line", code)
	}
	want := "rtds put: 1 event, 1 Kinesis record, 1 request, 0 retries, 0 failures, 1 bad line\n"
	if stdout.Len() != 0 || !strings.HasSuffix(stderr.String(), want) {
		t.Errorf("stdout %q, stderr:\n%s\nwant the summary %q", stdout, stderr, want)
	}
}

// --type is the flag for event types everywhere: gen takes it (repeatable,
// comma-separated) and keeps --types as an alias.
func TestGenTypeFlagAndTypesAlias(t *testing.T) {
	t.Parallel()
	_, a, _ := runGenCommand(t, t.Context(), "--count", "50", "--type", "open", "--type", "CLOSE,uninstall")
	_, b, _ := runGenCommand(t, t.Context(), "--count", "50", "--types", "OPEN,CLOSE,UNINSTALL")
	if a == "" || a != b {
		t.Fatalf("--type and --types differ")
	}
	for _, l := range genLines(t, a) {
		ty, err := event.PeekType([]byte(l))
		if err != nil || (ty != event.TypeOpen && ty != event.TypeClose && ty != event.TypeUninstall) {
			t.Fatalf("event of type %s (%v)", ty, err)
		}
	}
}

// tail --type rejects an unknown type like gen does: exit 2, listing the
// known types.
func TestTailRejectsAnUnknownType(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"tail", "gen"} {
		args := []string{cmd, "--type", "NOPE"}
		if cmd == "tail" {
			args = append(args, "--stream", "s")
		}
		code, _, errs := runMain(t, args...)
		if code != 2 || !strings.Contains(errs, `unknown event type "NOPE"; known types: `) ||
			!strings.Contains(errs, "UNINSTALL") || !strings.Contains(errs, "run 'rtds "+cmd+" --help'") {
			t.Errorf("%s: exit %d, stderr %q", cmd, code, errs)
		}
	}
}

// csv --type TAG_CHANGE says once that the rows hold no tag data.
func TestCSVTagChangeSaysItHoldsNoTagData(t *testing.T) {
	t.Parallel()
	in := `{"id":"t1","type":"TAG_CHANGE","body":{"add":{"g":["a"]}}}` + "\n" +
		`{"id":"t2","type":"TAG_CHANGE","body":{"remove":{"g":["a"]}}}` + "\n"
	code, out, errs := runCSVCommand(t, t.Context(), in, "--type", "tag_change")
	if code != 0 || len(csvParse(t, out)) != 3 {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
	want := "rtds csv: note: TAG_CHANGE has no tag columns in the S3 CSV format; its rows hold the common columns only, no tag data\n"
	if errs != want {
		t.Errorf("stderr %q, want once %q", errs, want)
	}
}

// brokenBodyServer answers every Kinesis call with a JSON answer and a
// Content-Length larger than the body, then hangs up: the call fails and
// the SDK logs "failed to discard remaining HTTP response body".
func brokenBodyServer(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		body := `{"Shards":[]}`
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".PutRecords") {
			body = `{"FailedRecordCount":0,"Records":[{"SequenceNumber":"1","ShardId":"shardId-000000000000"}]}`
		}
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: 4096\r\n\r\n" + body)
		buf.Flush()
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// captureStderr runs f with os.Stderr redirected, returning what was
// written there.
func captureStderr(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	orig := os.Stderr
	os.Stderr = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	defer func() { os.Stderr = orig }()
	f()
	w.Close()
	os.Stderr = orig
	return <-done
}

// The SDK's own log lines never reach the terminal unless --debug is
// given; with --debug they go to stderr.
func TestSDKLogLinesOnlyWithDebug(t *testing.T) {
	ep := brokenBodyServer(t)
	const sdkLine = "failed to discard remaining HTTP response body"
	for _, debug := range []bool{false, true} {
		env, _, stderr := putEnv(ep, testEvent(1)+"\n")
		args := []string{"put", "--stream", "s"}
		if debug {
			args = append(args, "--debug")
		}
		process := captureStderr(t, func() { run(context.Background(), env, args) })
		if strings.Contains(process, sdkLine) {
			t.Errorf("debug=%v: the SDK logged to the process's stderr:\n%s", debug, process)
		}
		if got := strings.Contains(stderr.String(), sdkLine); got != debug {
			t.Errorf("debug=%v: SDK log line on the command's stderr: %v, want %v:\n%s", debug, got, debug, stderr)
		}
	}
}
