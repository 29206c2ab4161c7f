package cli

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestReadmeServeTableListsEveryFlag keeps the README's table of `serve`
// flags and the real flags in step: a flag added without a row, or a row
// left after its flag went, fails here.
func TestReadmeServeTableListsEveryFlag(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	// The table under "## Serve": rows from its header to the first
	// line that is not a row.
	_, section, ok := strings.Cut(string(readme), "\n## Serve\n")
	if !ok {
		t.Fatal(`README.md has no "## Serve" section`)
	}
	_, table, ok := strings.Cut(section, "\n| flag | default | meaning |\n")
	if !ok {
		t.Fatal(`the Serve section has no "| flag | default | meaning |" table`)
	}
	flagRE := regexp.MustCompile("`--([a-z0-9-]+)`")
	var documented []string
	for _, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "|") {
			break
		}
		first := strings.SplitN(line, "|", 3)[1] // the flag column
		for _, m := range flagRE.FindAllStringSubmatch(first, -1) {
			documented = append(documented, m[1])
		}
	}

	root, _ := newRoot(Env{Getenv: func(string) string { return "" }})
	serve, _, err := root.Find([]string{"serve"})
	if err != nil {
		t.Fatal(err)
	}
	var real []string
	serve.LocalFlags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden && f.Name != "help" {
			real = append(real, f.Name)
		}
	})
	if len(real) < 20 {
		t.Fatalf("serve has %d flags; the test would prove little", len(real))
	}
	for _, name := range real {
		if !slices.Contains(documented, name) {
			t.Errorf("serve --%s is missing from the README's table of serve flags", name)
		}
	}
	for _, name := range documented {
		if !slices.Contains(real, name) {
			t.Errorf("the README's table of serve flags lists --%s, which serve does not have", name)
		}
	}
	slices.Sort(documented)
	if dup := slices.Compact(slices.Clone(documented)); len(dup) != len(documented) {
		t.Errorf("the README's table lists a flag twice: %v", documented)
	}
}

// TestReadmeLayoutListsEveryPackage keeps the README's Layout table and the
// module's packages in step: a directory holding Go files without a row,
// or a row naming a directory that holds none, fails here.
func TestReadmeLayoutListsEveryPackage(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Layout\n")
	if !ok {
		t.Fatal(`README.md has no "## Layout" section`)
	}
	_, table, ok := strings.Cut(section, "\n| package | owns |\n|---|---|\n")
	if !ok {
		t.Fatal(`the Layout section has no "| package | owns |" table`)
	}
	pathRE := regexp.MustCompile("`([a-z][a-z0-9/]*)`")
	var documented []string
	for _, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "|") {
			break
		}
		first := strings.SplitN(line, "|", 3)[1]
		for _, m := range pathRE.FindAllStringSubmatch(first, -1) {
			documented = append(documented, m[1])
		}
	}

	// The packages: directories holding a .go file, outside testdata and
	// hidden directories, as the go command sees them.
	var real []string
	root := "../.."
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(d.Name(), ".go") {
			rel, err := filepath.Rel(root, filepath.Dir(path))
			if err != nil {
				return err
			}
			if rel = filepath.ToSlash(rel); !slices.Contains(real, rel) {
				real = append(real, rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(real) < 20 {
		t.Fatalf("found %d packages; the test would prove little", len(real))
	}
	for _, p := range real {
		if !slices.Contains(documented, p) {
			t.Errorf("package %s is missing from the README's Layout table", p)
		}
	}
	for _, p := range documented {
		if !slices.Contains(real, p) {
			t.Errorf("the README's Layout table lists %s, which holds no Go package", p)
		}
	}
}
