package e2e

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type job struct {
	ID         string `json:"id"`
	Object     string `json:"object"`
	Kind       string `json:"kind"`
	EndpointID string `json:"endpoint_id"`
	Status     string `json:"status"`
	Done       int    `json:"done"`
	Total      int    `json:"total"`
	Error      string `json:"error"`
}

// Recover resends every failed delivery of an endpoint in a window, as a
// job in the database: 202 at once, progress from GET /v1/jobs/{id}, and
// the job still reported after the node restarts.
func TestRecoverEndpoint(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), "--dev")
	rc := newReceiver(t)
	var healthy atomic.Bool
	rc.respond = func(int, *http.Request) (int, http.Header) {
		if healthy.Load() {
			return 200, nil
		}
		return 503, nil
	}
	// No retries: every delivery fails on its first attempt (and all 25
	// are attempted: the circuit breaker would hold them back after 10).
	ep := n.createEndpoint(map[string]any{"url": rc.URL + "/hook", "retry_schedule": []string{},
		"circuit_breaker": map[string]int{"failures": 1000}})
	other := n.createEndpoint(map[string]any{"url": rc.URL + "/other", "retry_schedule": []string{}, "enabled_events": []string{"other.thing"}})
	since := time.Now().Add(-time.Minute).Unix()
	const events = 25
	for i := range events {
		n.publish("invoice.paid", map[string]any{"i": i})
	}
	waitFor(t, 15*time.Second, "every first attempt to fail", func() bool {
		return len(n.attempts("/v1/endpoints/"+ep.ID+"/attempts")) == events
	})

	// Bad input names the field.
	for _, c := range []struct {
		body  map[string]any
		param string
	}{
		{map[string]any{}, "since"},
		{map[string]any{"since": "yesterday"}, "since"},
		{map[string]any{"since": since, "until": since - 10}, "since"},
		{map[string]any{"since": since, "until": []int{1}}, "until"},
	} {
		var e apiError
		status, _ := n.call("POST", "/v1/endpoints/"+ep.ID+"/recover", c.body, &e)
		if status != 400 {
			t.Fatalf("recover %v: status %d", c.body, status)
		}
	}
	if status, _ := n.call("POST", "/v1/endpoints/ep_nope/recover", map[string]any{"since": since}, nil); status != 404 {
		t.Fatalf("recover of an unknown endpoint: %d", status)
	}

	healthy.Store(true)
	var j job
	n.must(202, "POST", "/v1/endpoints/"+ep.ID+"/recover", map[string]any{"since": time.Unix(since, 0).UTC().Format(time.RFC3339)}, &j)
	if !strings.HasPrefix(j.ID, "job_") || j.Object != "job" || j.Kind != "recover" || j.EndpointID != ep.ID {
		t.Fatalf("recover answered %+v", j)
	}
	waitFor(t, 20*time.Second, "the job to finish", func() bool {
		n.must(200, "GET", "/v1/jobs/"+j.ID, nil, &j)
		return j.Status == "succeeded" || j.Status == "failed"
	})
	if j.Status != "succeeded" || j.Done != events || j.Total != events {
		t.Fatalf("job %+v, want %d of %d succeeded", j, events, events)
	}
	waitFor(t, 15*time.Second, "every resend to succeed", func() bool {
		ok := 0
		for _, a := range n.attempts("/v1/endpoints/" + ep.ID + "/attempts") {
			if a.ResponseStatus == 200 {
				ok++
			}
		}
		return ok == events
	})
	if as := n.attempts("/v1/endpoints/" + other.ID + "/attempts"); len(as) != 0 {
		t.Fatalf("the other endpoint got %d attempts", len(as))
	}

	// The job is in the database: a restarted node reports it.
	n.kill()
	n.restart()
	var again job
	n.must(200, "GET", "/v1/jobs/"+j.ID, nil, &again)
	if again != j {
		t.Fatalf("after restart %+v, want %+v", again, j)
	}
	if status, _ := n.call("GET", "/v1/jobs/job_nope", nil, nil); status != 404 {
		t.Fatalf("unknown job: %d", status)
	}
}
