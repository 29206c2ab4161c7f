package delivery

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

func TestParseSchedule(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in      string
		want    []time.Duration
		wantErr string
	}{
		{"5s,5m,1h", []time.Duration{5 * time.Second, 5 * time.Minute, time.Hour}, ""},
		{" 1s , 2s ", []time.Duration{time.Second, 2 * time.Second}, ""},
		{"", nil, ""},
		{"none", []time.Duration{}, ""}, // no retries: the first failure is final
		{"0s,,5s", nil, "entry 2 of 3 is empty"},
		{"1s,2s,", nil, "entry 3 of 3 is empty"},
		{"5x", nil, `"5x"`},
		{"1s,-2s", nil, "is negative"},
		{"0s,0s,5m", []time.Duration{0, 0, 5 * time.Minute}, ""}, // 0s retries at once
		{"1s,200h", nil, "longer than"},
	} {
		got, err := ParseSchedule(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseSchedule(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || FormatSchedule(got) != FormatSchedule(tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("ParseSchedule(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if s := FormatSchedule(DefaultSchedule); s != "5s,5m0s,30m0s,2h0m0s,5h0m0s,10h0m0s,14h0m0s,20h0m0s,24h0m0s" {
		t.Errorf("default schedule %s", s)
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"120", 2 * time.Minute, true},
		{"0", minRetryAfter, true},
		{"99999999", maxRetryAfter, true},
		{now.Add(10 * time.Minute).Format(http.TimeFormat), 10 * time.Minute, true},
		{"Mon, 23 Nov 2026 11:00:00 GMT", minRetryAfter, true}, // in the past
		{"soon", 0, false},
	} {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %s, %v; want %s, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestJitterStaysWithinBounds(t *testing.T) {
	t.Parallel()
	seen := map[bool]bool{}
	for range 1000 {
		d := jitter(100*time.Second, 0.2)
		if d < 80*time.Second || d > 120*time.Second {
			t.Fatalf("jitter(100s, 0.2) = %s", d)
		}
		seen[d > 100*time.Second] = true
	}
	if len(seen) != 2 {
		t.Error("jitter never moved the delay both ways in 1000 tries")
	}
	if d := jitter(time.Minute, 0); d != time.Minute {
		t.Errorf("no jitter changed the delay to %s", d)
	}
}

// judge turns each kind of answer into the delivery's next state.
func TestJudge(t *testing.T) {
	t.Parallel()
	e := New(Config{Schedule: []time.Duration{time.Minute, time.Hour}, Jitter: -1})
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	task := func(attempt int, schedule []time.Duration) *hookline.Task {
		return &hookline.Task{DeliveryID: "dlv_1", Attempt: attempt,
			Event:    &hookline.Event{ID: "evt_1"},
			Endpoint: &hookline.Endpoint{ID: "ep_1", URL: "https://example.com/hook", RetrySchedule: schedule}}
	}
	own := []time.Duration{0, 3 * time.Second} // an endpoint's retry_schedule
	for _, tt := range []struct {
		name      string
		attempt   int
		schedule  []time.Duration
		resp      Response
		status    string
		nextRetry time.Duration // 0: none
		disable   bool
		errHas    string
	}{
		{"2xx succeeds", 1, nil, Response{Status: 204}, hookline.DeliverySucceeded, 0, false, ""},
		{"5xx retries on the schedule", 1, nil, Response{Status: 503}, hookline.DeliveryPending, time.Minute, false, "HTTP 503"},
		{"second failure takes the second delay", 2, nil, Response{Status: 500}, hookline.DeliveryPending, time.Hour, false, "HTTP 500"},
		{"the schedule runs out", 3, nil, Response{Status: 500}, hookline.DeliveryFailed, 0, false, "gave up after 3 attempts"},
		{"Retry-After wins over the schedule", 1, nil, Response{Status: 429, RetryAfter: "30"}, hookline.DeliveryPending, 30 * time.Second, false, "HTTP 429"},
		{"a redirect is a failure", 1, nil, Response{Status: 301}, hookline.DeliveryPending, time.Minute, false, "redirects are not followed"},
		{"410 gives up and disables", 1, nil, Response{Status: 410}, hookline.DeliveryFailed, 0, true, "410 Gone"},
		{"no answer retries", 1, nil, Response{Err: errors.New("connection refused")}, hookline.DeliveryPending, time.Minute, false, "connection refused"},
		{"the endpoint's schedule: 0s retries at once", 1, own, Response{Status: 500}, hookline.DeliveryPending, 0, false, "HTTP 500"},
		{"the endpoint's schedule: second delay", 2, own, Response{Status: 500}, hookline.DeliveryPending, 3 * time.Second, false, "HTTP 500"},
		{"the endpoint's schedule runs out", 3, own, Response{Status: 500}, hookline.DeliveryFailed, 0, false, "gave up after 3 attempts"},
		{"an empty schedule never retries", 1, []time.Duration{}, Response{Status: 500}, hookline.DeliveryFailed, 0, false, "gave up after 1 attempt"},
	} {
		c := e.judge(task(tt.attempt, tt.schedule), tt.resp, now, 12*time.Millisecond)
		a := c.Attempt
		if c.Status != tt.status || (c.DisableEndpoint != "") != tt.disable || !strings.Contains(a.Error, tt.errHas) {
			t.Errorf("%s: status %q disable %q error %q", tt.name, c.Status, c.DisableEndpoint, a.Error)
		}
		if strings.Contains(a.Error, " 1 attempts") {
			t.Errorf("%s: error %q: one attempt is singular", tt.name, a.Error)
		}
		var wantNext time.Time
		if tt.nextRetry > 0 || tt.status == hookline.DeliveryPending {
			wantNext = now.Add(tt.nextRetry)
		}
		if !a.NextRetry.Equal(wantNext) {
			t.Errorf("%s: next retry %s, want %s", tt.name, a.NextRetry, wantNext)
		}
		if a.Attempt != tt.attempt || a.DurationMS != 12 || a.ResponseStatus != tt.resp.Status || a.EventID != "evt_1" || a.URL != "https://example.com/hook" {
			t.Errorf("%s: attempt record %+v", tt.name, a)
		}
	}
}
