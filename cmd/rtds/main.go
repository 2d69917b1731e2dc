// Command rtds is the command-line face of the rtds library: generate
// synthetic RTDS events, convert them to the S3 CSV format, send them to a
// Kinesis stream and read them back.
//
//	rtds gen --count 1000 | rtds csv --type OPEN
//	rtds gen --count 100000 | rtds put --stream events --aggregate
//	rtds tail --stream events --from trim_horizon --format pretty
//
// Run `rtds help` for the list of commands and `rtds CMD --help` for one.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/rtdskit/rtds/connect"
	"github.com/rtdskit/rtds/kinesis"
)

// command is one subcommand. Each lives in its own file and registers
// itself from init.
type command struct {
	name    string
	summary string
	// usage is optional extra text for `rtds help`; each command prints its
	// own full usage on --help.
	usage string
	run   func(ctx context.Context, env *cmdEnv, args []string) int
}

// cmdEnv is everything a command may touch outside its arguments, so tests
// run commands in-process.
type cmdEnv struct {
	stdin            io.Reader
	stdout, stderr   io.Writer
	stdinIsTerminal  bool
	stderrIsTerminal bool
	getenv           func(string) string

	// putOptions are added to put's producer options (tests: a small
	// buffer).
	putOptions []kinesis.ProducerOption
	// connectOptions are added to bridge's Data Streaming API client
	// options (tests: short retries).
	connectOptions []connect.Option
	// httpClient, when set, is the Kinesis client's (tests: the
	// kinesis-local fan-out shim).
	httpClient *http.Client

	mu        sync.Mutex
	lastWords func(w io.Writer) // see setLastWords
}

var commands = map[string]command{}

// register adds c to the command table; a duplicate name is a programming
// error.
func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("rtds: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

func main() {
	// The first SIGINT or SIGTERM cancels ctx (cause errInterrupted):
	// commands stop reading, finish what they can and say what happened. A
	// second one ends the process at once, after the command's last words
	// (what may be lost).
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	env := &cmdEnv{
		stdin:            os.Stdin,
		stdout:           os.Stdout,
		stderr:           os.Stderr,
		stdinIsTerminal:  isTerminal(os.Stdin),
		stderrIsTerminal: isTerminal(os.Stderr),
		getenv:           os.Getenv,
	}
	go func() {
		<-sigs
		cancel(errInterrupted)
		<-sigs
		env.interruptedTwice()
		os.Exit(130)
	}()
	code := run(ctx, env, os.Args[1:])
	os.Exit(code)
}

// errInterrupted is the cause of a context cancelled by SIGINT or SIGTERM.
var errInterrupted = errors.New("interrupted")

// setLastWords sets what to print when a second interrupt ends the
// process; nil prints nothing.
func (env *cmdEnv) setLastWords(f func(w io.Writer)) {
	env.mu.Lock()
	env.lastWords = f
	env.mu.Unlock()
}

// interruptedTwice prints the last words, if any.
func (env *cmdEnv) interruptedTwice() {
	env.mu.Lock()
	f := env.lastWords
	env.mu.Unlock()
	if f != nil {
		f(env.stderr)
	}
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// versionString is the module version and VCS commit the binary was
// built from.
func versionString() string {
	bi, _ := debug.ReadBuildInfo()
	return formatVersion(bi)
}

func formatVersion(bi *debug.BuildInfo) string {
	if bi == nil {
		return "rtds (unknown version) " + runtime.Version()
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	out := "rtds " + v
	if rev != "" {
		out += " (commit " + rev + modified + ")"
	}
	return out + " " + runtime.Version()
}

// run dispatches args[0] to its command and returns the exit status: 0 on
// success, 1 when the command failed, 2 for a usage error.
func run(ctx context.Context, env *cmdEnv, args []string) int {
	if env.getenv == nil {
		env.getenv = func(string) string { return "" }
	}
	// Commands write to stderr from several goroutines (progress, outcomes,
	// the input loop): one line at a time.
	if _, ok := env.stderr.(*lockedWriter); !ok {
		env.stderr = &lockedWriter{w: env.stderr}
	}
	if len(args) == 0 {
		usage(env.stderr)
		return 2
	}
	switch args[0] {
	case "--version", "-version", "version":
		fmt.Fprintln(env.stdout, versionString())
		return 0
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return c.run(ctx, env, []string{"--help"})
			}
			fmt.Fprintf(env.stderr, "rtds: unknown command %q\nrun 'rtds --help'\n", args[1])
			return 2
		}
		usage(env.stdout)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.stderr, "rtds: unknown command %q\nrun 'rtds --help'\n", args[0])
		return 2
	}
	return c.run(ctx, env, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: rtds COMMAND [flags] [args]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Airship Real-Time Data Streaming events on Amazon Kinesis.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	width := 6
	for _, n := range names {
		width = max(width, len(n))
	}
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s %s\n", width, n, commands[n].summary)
		if u := commands[n].usage; u != "" {
			for _, l := range strings.Split(strings.TrimRight(u, "\n"), "\n") {
				fmt.Fprintf(w, "  %*s %s\n", width, "", l)
			}
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'rtds COMMAND --help' for a command's flags, 'rtds --version' for the version.")
}

// isTerminal reports whether f is a terminal, without a dependency on
// x/term: a character device other than the null device (the usual
// redirect that is also a character device).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(fi, null) {
		return false
	}
	return true
}
