package server_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/server"
)

// TestReadmeAPITableListsEveryRoute keeps the README's route table (under
// "## API") and the route map in step: a route added to the map without a
// row, or a route left in the table after it went from the map, fails here.
// A cell names routes as `METHOD /path`, `GET/PATCH/DELETE /path` for
// several methods on one path, or `/path` for a route that takes any
// method; only the first column counts.
func TestReadmeAPITableListsEveryRoute(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := readmeRoutes(t, string(readme))

	var real []string
	for _, r := range server.Routes() {
		real = append(real, r.Pattern)
	}
	if len(real) < 60 {
		t.Fatalf("the route map has %d routes; the test would prove little", len(real))
	}
	for _, p := range real {
		if !slices.Contains(documented, p) {
			t.Errorf("route %q is missing from the README's API table", p)
		}
	}
	for _, p := range documented {
		if !slices.Contains(real, p) {
			t.Errorf("the README's API table lists %q, which the route map does not have", p)
		}
	}
	sorted := slices.Sorted(slices.Values(documented))
	if len(slices.Compact(slices.Clone(sorted))) != len(sorted) {
		t.Errorf("the README's API table lists a route twice: %v", sorted)
	}
}

// readmeRoutes returns the route patterns the first column of the README's
// API table names, as the route map writes them.
func readmeRoutes(t *testing.T, readme string) []string {
	t.Helper()
	_, section, ok := strings.Cut(readme, "\n## API\n")
	if !ok {
		t.Fatal(`README.md has no "## API" section`)
	}
	_, table, ok := strings.Cut(section, "\n| route | |\n|---|---|\n")
	if !ok {
		t.Fatal(`the API section has no "| route | |" table`)
	}
	routeRE := regexp.MustCompile("`((?:[A-Z]+/)*[A-Z]+ )?(/[^` ]*)`")
	var out []string
	for _, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "|") {
			break
		}
		first := strings.SplitN(line, "|", 3)[1]
		matches := routeRE.FindAllStringSubmatch(first, -1)
		if len(matches) == 0 {
			t.Errorf("a row of the README's API table names no route: %s", line)
		}
		for _, m := range matches {
			methods, path := strings.TrimSpace(m[1]), m[2]
			if methods == "" {
				out = append(out, path)
				continue
			}
			for _, method := range strings.Split(methods, "/") {
				out = append(out, method+" "+path)
			}
		}
	}
	return out
}
