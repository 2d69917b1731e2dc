package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/rtdskit/rtds/connect/connecttest"
)

func init() {
	register(command{
		name:    "serve-connect",
		summary: "serve events as a local Data Streaming API, for rtds bridge and tests",
		run:     runServeConnect,
	})
}

const serveConnectUsage = `usage: rtds serve-connect --events FILE.ndjson [--listen 127.0.0.1:PORT]
                         [--app-key KEY --token-file FILE] [--keep-alive DURATION]
                         [--redirect] [--rate N]

Serves the events of FILE (newline-delimited RTDS event JSON, each with a
numeric "offset", increasing, as rtds gen writes them) the way Airship's
Data Streaming API does: POST /api/events streams them as NDJSON with
keep-alive blank lines, gzip when the client accepts it, start
(EARLIEST/LATEST) and resume_offset, filters by type, OFFSET_UPDATE
events when asked for. The stream stays open after the last event.
It is for development and tests, not a copy of Airship's service.

Without --app-key and --token-file any credentials are accepted. The
address it listens on is printed on standard error. It runs until SIGINT
or SIGTERM (exit status 130).

	rtds gen --count 10000 > events.ndjson
	rtds serve-connect --events events.ndjson --listen 127.0.0.1:8089 &
	rtds bridge --app-key K --token-file F --stream S --connect-url http://127.0.0.1:8089

Flags:
`

func runServeConnect(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "serve-connect", serveConnectUsage)
	events := fs.String("events", "", "the events to serve: an NDJSON `FILE` (required)")
	listen := fs.String("listen", "127.0.0.1:0", "the `ADDRESS` to listen on")
	appKey := fs.String("app-key", "", "require this app `KEY`")
	tokenFile := fs.String("token-file", "", "require the token in `FILE`")
	keepAlive := fs.Duration("keep-alive", time.Second, "send a blank line after this `DURATION` without events")
	redirect := fs.Bool("redirect", false, "answer requests without the affinity cookie with 307 + Set-Cookie")
	rate := fs.Int("rate", 0, "send at most `N` events per second per connection (0: no limit)")
	if ok, code := fs.parse(args); !ok {
		return code
	}
	switch {
	case *events == "":
		return fs.usageError("--events is required")
	case fs.NArg() > 0:
		return fs.usageError("unexpected arguments %q", fs.Args())
	case (*appKey == "") != (*tokenFile == ""):
		return fs.usageError("--app-key and --token-file go together")
	case *keepAlive <= 0:
		return fs.usageError("--keep-alive must be positive")
	case *rate < 0:
		return fs.usageError("--rate must not be negative")
	}
	cfg := connecttest.Config{AppKey: *appKey, KeepAlive: *keepAlive, LinesPerSecond: *rate}
	if *redirect {
		cfg.Redirect = connecttest.RedirectSameURL
	}
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			env.errorf("serve-connect", "--token-file: %v", err)
			return 1
		}
		cfg.Token = strings.TrimSpace(string(b))
	}
	s := connecttest.NewUnstarted(cfg)
	n, err := loadServeEvents(s, *events)
	if err != nil {
		env.errorf("serve-connect", "%v", err)
		return 1
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		env.errorf("serve-connect", "%v", err)
		return 1
	}
	s.Listener.Close()
	s.Listener = ln
	s.Start()
	defer s.Close()
	env.errorf("serve-connect", "serving %s at %s", plural(int64(n), "event"), s.URL)
	<-ctx.Done()
	env.errorf("serve-connect", "interrupted: %s sent", plural(s.Sent(), "line"))
	return 130
}

// loadServeEvents adds the file's events to s, reporting a bad line as
// file:line:.
func loadServeEvents(s *connecttest.Server, path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, maxLine+2)
	n, line := 0, 0
	for sc.Scan() {
		line++
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		if err := s.Append(sc.Bytes()); err != nil {
			return n, fmt.Errorf("%s:%d: %v", path, line, strings.TrimPrefix(err.Error(), "connecttest: event 0: "))
		}
		n++
	}
	if err := sc.Err(); err != nil {
		return n, fmt.Errorf("%s:%d: %v", path, line+1, err)
	}
	return n, nil
}
