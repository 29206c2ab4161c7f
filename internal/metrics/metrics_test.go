package metrics

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

func TestStatusClass(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]string{0: "none", 200: "2xx", 204: "2xx", 302: "3xx", 410: "4xx", 503: "5xx", 99: "other", 600: "other"} {
		if got := StatusClass(status); got != want {
			t.Errorf("StatusClass(%d) = %q, want %q", status, got, want)
		}
	}
}

// TestInboundHelpNamesTheVerdicts keeps the HELP of
// hookline_inbound_requests_total to the label values a scrape shows: a
// verdict counted must be named there, and one that is never counted
// (an old "bad_signature") must not be.
func TestInboundHelpNamesTheVerdicts(t *testing.T) {
	t.Parallel()
	m := New(Config{
		Backlog:  func(context.Context) (hookline.Backlog, error) { return hookline.Backlog{}, nil },
		CacheFor: time.Second,
		Now:      time.Now,
	})
	// The verdicts the application reports (app.Config.OnIngest).
	verdicts := []string{hookline.RequestAccepted, hookline.RequestRejected, hookline.RequestDuplicate}
	for _, v := range verdicts {
		m.InboundRequest("stripe", v)
	}
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	var help string
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "# HELP hookline_inbound_requests_total ") {
			help = line
		}
	}
	if help == "" {
		t.Fatalf("no HELP line for hookline_inbound_requests_total in:\n%s", body)
	}
	for _, v := range verdicts {
		if !strings.Contains(body, `hookline_inbound_requests_total{source="stripe",verdict="`+v+`"} 1`) {
			t.Errorf("verdict %q is not counted", v)
		}
		if !strings.Contains(help, " "+v) {
			t.Errorf("HELP does not name verdict %q: %s", v, help)
		}
	}
	if strings.Contains(help, "bad_signature") {
		t.Errorf("HELP names bad_signature, a verdict never counted: %s", help)
	}
}
