package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func runMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cmdEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
	code = run(t.Context(), env, args)
	return code, out.String(), errb.String()
}

func TestHelpListsEveryCommand(t *testing.T) {
	if len(commands) < 2 {
		t.Fatalf("only %d commands registered", len(commands))
	}
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}, {"-help"}} {
		code, out, errs := runMain(t, args...)
		if code != 0 || errs != "" {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errs)
		}
		if !strings.HasPrefix(out, "usage: rtds COMMAND") {
			t.Errorf("%v: output does not start with the usage line:\n%s", args, out)
		}
		for name, c := range commands {
			line := "  " + name + " "
			i := strings.Index(out, line)
			if i < 0 || !strings.Contains(out[i:], c.summary) {
				t.Errorf("%v: command %q or its summary missing:\n%s", args, name, out)
			}
		}
		// Listed in name order.
		names := make([]string, 0, len(commands))
		for n := range commands {
			names = append(names, n)
		}
		slices.Sort(names)
		for i := 1; i < len(names); i++ {
			if strings.Index(out, "  "+names[i-1]+" ") > strings.Index(out, "  "+names[i]+" ") {
				t.Errorf("%v: %s listed after %s", args, names[i-1], names[i])
			}
		}
	}
}

func TestNoCommandIsAUsageError(t *testing.T) {
	code, out, errs := runMain(t)
	if code != 2 || out != "" || !strings.Contains(errs, "usage: rtds COMMAND") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 2 and the usage on stderr", code, out, errs)
	}
}

func TestUnknownCommand(t *testing.T) {
	tests := []struct {
		name   string
		reason string
		args   []string
	}{
		{name: "command", reason: "a typo names no command", args: []string{"gne", "--count", "1"}},
		{name: "help topic", reason: "help for a command that does not exist", args: []string{"help", "gne"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errs := runMain(t, tc.args...)
			if code != 2 || out != "" || !strings.Contains(errs, `unknown command "gne"`) {
				t.Errorf("%s: exit %d, stdout %q, stderr %q; want 2 and the name on stderr", tc.reason, code, out, errs)
			}
		})
	}
}

// TestEveryCommandHasHelp runs `rtds CMD --help` and `rtds help CMD` for
// every registered command.
func TestEveryCommandHasHelp(t *testing.T) {
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			code, out, errs := runMain(t, name, "--help")
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			if usage := "usage: rtds " + name; !strings.Contains(out+errs, usage) {
				t.Errorf("--help output lacks %q:\n%s%s", usage, out, errs)
			}
			code2, out2, errs2 := runMain(t, "help", name)
			if code2 != 0 || out2+errs2 != out+errs {
				t.Errorf("rtds help %s (exit %d) differs from rtds %s --help", name, code2, name)
			}
		})
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("registering a name twice did not panic")
		}
	}()
	register(command{name: "gen"})
}

func TestIsTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for name, file := range map[string]*os.File{"regular file": f, "null device": null, "pipe": r} {
		if isTerminal(file) {
			t.Errorf("%s reported as a terminal", name)
		}
	}
	if tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0); err == nil {
		defer tty.Close()
		if !isTerminal(tty) {
			t.Error("/dev/tty not reported as a terminal")
		}
	}
}
