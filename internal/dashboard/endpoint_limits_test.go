package dashboard

import (
	"context"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlite"
)

// newSQLiteApp is the application layer over a real SQLite store in a
// temporary directory, closed when the test ends, and that store.
func newSQLiteApp(t *testing.T) (*app.App, *sqlite.Store) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return app.New(app.Config{Store: st, Dev: true}), st
}

// TestEndpointLimitsFormToStore sends the endpoint form's limit boxes
// through readForm to app.CreateEndpoint and app.UpdateEndpoint on a real
// SQLite store, and reads back what is stored: the endpoint's own limits,
// zero where it takes the server's (the API shows the defaults in force,
// so only the store tells an override cleared from one set to the default).
func TestEndpointLimitsFormToStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, st := newSQLiteApp(t)
	post := func(form url.Values, cur *hookline.Endpoint) (*hookline.Endpoint, error) {
		form.Set("url", "http://127.0.0.1:9/hooks")
		form.Set("events", "*")
		form.Set("scheme", hookline.SchemeStandard)
		r := httptest.NewRequest("POST", "/endpoints", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		_, p, err := readForm(r, cur)
		if err != nil {
			return nil, err
		}
		if cur == nil {
			e, _, err := a.CreateEndpoint(ctx, p, app.ByDashboard)
			return e, err
		}
		return a.UpdateEndpoint(ctx, cur.ID, p, app.ByDashboard)
	}
	boxes := func(conc, timeout, ordering, rate, burst, failures string) url.Values {
		return url.Values{"max_concurrency": {conc}, "timeout_seconds": {timeout}, "ordering": {ordering},
			"rate_limit_per_second": {rate}, "rate_limit_burst": {burst}, "breaker_failures": {failures}}
	}
	type stored struct {
		conc     int
		timeout  time.Duration
		ordering string
		rate     *hookline.RateLimit
		failures int
	}
	read := func(id string) stored {
		e, err := st.Endpoint(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return stored{e.MaxConcurrency, e.Timeout, e.Ordering, e.RateLimit, e.BreakerFailures}
	}
	same := func(a, b stored) bool {
		return a.conc == b.conc && a.timeout == b.timeout && a.ordering == b.ordering && a.failures == b.failures &&
			(a.rate == nil) == (b.rate == nil) && (a.rate == nil || *a.rate == *b.rate)
	}

	e, err := post(boxes(" 3 ", "42", "fifo", "2.5", "7", "4"), nil)
	if err != nil {
		t.Fatalf("creating with every limit: %v", err)
	}
	all := stored{3, 42 * time.Second, hookline.OrderingFIFO, &hookline.RateLimit{PerSecond: 2.5, Burst: 7}, 4}
	for _, step := range []struct {
		name string
		form url.Values
		want stored
	}{
		{"created with every limit", nil, all},
		{"a form without the boxes keeps them", url.Values{}, all},
		{"the same boxes again keep them", boxes("3", "42", "fifo", "2.5", "7", "4"), all},
		{"a rate without a burst", boxes("3", "42", "fifo", "20", "", "4"),
			stored{3, 42 * time.Second, hookline.OrderingFIFO, &hookline.RateLimit{PerSecond: 20}, 4}},
		{"empty boxes are the server's", boxes("", " ", "unordered", "", "", ""), stored{}},
		{"0 failures is the server's", boxes("1000", "300", "unordered", "100000", "100000", "0"),
			stored{1000, 300 * time.Second, "", &hookline.RateLimit{PerSecond: 100000, Burst: 100000}, 0}},
	} {
		if step.form != nil {
			if e, err = post(step.form, e); err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
		}
		if got := read(e.ID); !same(got, step.want) {
			t.Fatalf("%s: stored %+v (rate %+v), want %+v (rate %+v)", step.name, got, got.rate, step.want, step.want.rate)
		}
	}

	// What is no number goes to the app as a string, which refuses it as
	// it refuses one sent to the API, naming the API's field; nothing is
	// stored.
	before := read(e.ID)
	for _, tc := range []struct {
		form  url.Values
		param string
	}{
		{boxes("ten", "", "", "", "", ""), "max_concurrency"},
		{boxes("", "1e9", "", "", "", ""), "timeout_seconds"},
		{boxes("", "", "FIFO", "", "", ""), "ordering"},
		{boxes("", "", "", "fast", "", ""), "rate_limit.per_second"},
		{boxes("", "", "", "", "5", ""), "rate_limit.per_second"},
		{boxes("", "", "", "5", "2.5", ""), "rate_limit.burst"},
		{boxes("", "", "", "", "", "-1"), "circuit_breaker.failures"},
		{boxes("", "", "", "", "", "{}"), "circuit_breaker.failures"},
	} {
		_, err := post(tc.form, e)
		if hookline.ErrorCode(err) != hookline.EINVALID || hookline.ErrorParam(err) != tc.param {
			t.Errorf("%v: %v, want %s naming %s", tc.form, err, hookline.EINVALID, tc.param)
		}
	}
	if got := read(e.ID); !same(got, before) {
		t.Fatalf("refused forms changed the endpoint to %+v, was %+v", got, before)
	}
}
