package server_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/server"
	"github.com/hookline/hookline/internal/testutil"
)

// TestReadmeAPITableListsEveryRoute keeps the README's route table (under
// "## API") and the route map in step: a route added to the map without a
// row, or a route left in the table after it went from the map, fails here.
// A cell names routes as `METHOD /path`, `GET/PATCH/DELETE /path` for
// several methods on one path, or `/path` for a route that takes any
// method; only the first column counts.
func TestReadmeAPITableListsEveryRoute(t *testing.T) {
	t.Parallel()
	var real []string
	for _, r := range server.Routes() {
		real = append(real, r.Pattern)
	}
	testutil.SameSet(t, "route", readmeRoutes(t), real, 60)
}

// readmeRoutes returns the route patterns the first column of the README's
// API table names, as the route map writes them.
func readmeRoutes(t *testing.T) []string {
	t.Helper()
	routeRE := regexp.MustCompile("`((?:[A-Z]+/)*[A-Z]+ )?(/[^` ]*)`")
	var out []string
	for _, cell := range testutil.ReadmeTable(t, "## API", "| route | |\n|---|---|") {
		matches := routeRE.FindAllStringSubmatch(cell, -1)
		if len(matches) == 0 {
			t.Errorf("a row of the README's API table names no route: %s", cell)
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
