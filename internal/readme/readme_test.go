package readme

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var goBlock = regexp.MustCompile("(?s)```go\n(.*?)```")

// Every Go snippet of README.md stands, to the letter, in a Go file of the
// repository that is compiled (here, or kinesislambda's for the Lambda
// section), indented by one tab as a function body or at the top level.
func TestReadmeSnippetsAreCompiledCode(t *testing.T) {
	root := filepath.Join("..", "..")
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard", "*.go").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	var sources []string
	for _, f := range strings.Fields(string(out)) {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, string(b))
	}
	blocks := goBlock.FindAllStringSubmatch(string(readme), -1)
	if len(blocks) == 0 {
		t.Fatal("README.md has no Go snippet")
	}
	for _, m := range blocks {
		snippet := m[1]
		indented := "\t" + strings.ReplaceAll(strings.TrimSuffix(snippet, "\n"), "\n", "\n\t") + "\n"
		indented = strings.ReplaceAll(indented, "\n\t\n", "\n\n")
		found := false
		for _, src := range sources {
			if strings.Contains(src, snippet) || strings.Contains(src, indented) {
				found = true
				break
			}
		}
		if !found {
			first, _, _ := strings.Cut(snippet, "\n")
			t.Errorf("README snippet starting %q is in no Go file of the repository: put it in internal/readme/snippets.go (or the module it needs) so it compiles", first)
		}
	}
}
