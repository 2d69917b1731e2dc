// Command genevents generates the event package's per-type code and the
// kinesis package's handler registrations from the one table in table.go.
//
// It runs from event/ through `go generate ./event/...`:
//
//	//go:generate go run ../internal/genevents -root ..
//
// and writes event/types_gen.go, event/<family>_gen.go, event/drift_gen.go,
// internal/stdjson/types_gen.go and kinesis/handlers_gen.go under the module
// root. TestGeneratedFilesUpToDate fails when those files are stale.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	root := flag.String("root", "..", "module root directory")
	flag.Parse()
	files, err := generate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "genevents:", err)
		os.Exit(1)
	}
	for _, f := range files {
		path := filepath.Join(*root, f.path)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, f.data) {
			continue
		}
		if err := os.WriteFile(path, f.data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "genevents:", err)
			os.Exit(1)
		}
	}
}
