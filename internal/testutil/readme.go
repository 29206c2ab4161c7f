package testutil

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// ReadmeTable returns the first cell of each row of the README's table
// whose header line is header (the line after it, the |---| one,
// included in header when the table has one), in the section titled
// section ("## Serve"), up to the first line that is not a row. The
// README's tables that list what the code has (serve flags, routes,
// packages) are kept in step by tests that read them with it.
func ReadmeTable(t testing.TB, section, header string) []string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	readme, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, body, ok := strings.Cut(string(readme), "\n"+section+"\n")
	if !ok {
		t.Fatalf("README.md has no %q section", section)
	}
	_, table, ok := strings.Cut(body, "\n"+header+"\n")
	if !ok {
		t.Fatalf("the %s section has no %q table", section, header)
	}
	var cells []string
	for _, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells = append(cells, strings.SplitN(line, "|", 3)[1])
	}
	return cells
}

// SameSet fails t unless documented (what a README table names) and real
// (what the code has) hold the same items, each once, naming in its
// errors what is missing where; what says what the items are ("route",
// "serve flag"). Real must hold at least min items, or the comparison
// would prove little.
func SameSet(t testing.TB, what string, documented, real []string, min int) {
	t.Helper()
	if len(real) < min {
		t.Fatalf("the code has %d items (%s); the test would prove little", len(real), what)
	}
	for _, x := range real {
		if !slices.Contains(documented, x) {
			t.Errorf("%s %q is missing from the README's table", what, x)
		}
	}
	for _, x := range documented {
		if !slices.Contains(real, x) {
			t.Errorf("the README's table lists %s %q, which the code does not have", what, x)
		}
	}
	sorted := slices.Sorted(slices.Values(documented))
	if len(slices.Compact(slices.Clone(sorted))) != len(sorted) {
		t.Errorf("the README's table lists a %s twice: %v", what, sorted)
	}
}
