package cli

import (
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/hookline/hookline/internal/testutil"
)

// TestReadmeServeTableListsEveryFlag keeps the README's table of `serve`
// flags and the real flags in step: a flag added without a row, or a row
// left after its flag went, fails here.
func TestReadmeServeTableListsEveryFlag(t *testing.T) {
	t.Parallel()
	flagRE := regexp.MustCompile("`--([a-z0-9-]+)`")
	var documented []string
	for _, cell := range testutil.ReadmeTable(t, "## Serve", "| flag | default | meaning |") {
		for _, m := range flagRE.FindAllStringSubmatch(cell, -1) {
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
	testutil.SameSet(t, "serve flag", documented, real, 20)
}

// TestReadmeLayoutListsEveryPackage keeps the README's Layout table and the
// module's packages in step: a directory holding Go files without a row,
// or a row naming a directory that holds none, fails here.
func TestReadmeLayoutListsEveryPackage(t *testing.T) {
	t.Parallel()
	pathRE := regexp.MustCompile("`([a-z][a-z0-9/]*)`")
	var documented []string
	for _, cell := range testutil.ReadmeTable(t, "## Layout", "| package | owns |\n|---|---|") {
		for _, m := range pathRE.FindAllStringSubmatch(cell, -1) {
			documented = append(documented, m[1])
		}
	}

	// The packages: directories holding a .go file, outside testdata and
	// hidden directories, as the go command sees them.
	var real []string
	root := "../.."
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
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
	testutil.SameSet(t, "package", documented, real, 20)
}
