package delivery

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// DefaultSchedule is the delay before each retry: nine retries over about
// three and a half days, then the delivery is given up.
var DefaultSchedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
	10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour,
}

// ParseSchedule parses a comma-separated list of Go durations ("0s,5m,1h"),
// each checked as an endpoint's retry_schedule entry is: 0s retries at
// once. "none" is an empty schedule (no retries), "" none given (nil: the
// default); an empty entry is refused (hookline.SplitRetrySchedule).
func ParseSchedule(s string) ([]time.Duration, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	entries, err := hookline.SplitRetrySchedule(s)
	if err != nil {
		return nil, err
	}
	out := make([]time.Duration, len(entries))
	for i, part := range entries {
		d, err := hookline.ParseRetryDelay(part)
		if err != nil {
			return nil, fmt.Errorf("retry schedule entry %w", err)
		}
		out[i] = d
	}
	return out, nil
}

// FormatSchedule is the inverse of ParseSchedule.
func FormatSchedule(s []time.Duration) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = d.String()
	}
	return strings.Join(parts, ",")
}

// jitter spreads d by ±fraction, so that endpoints that failed together do
// not get retried together.
func jitter(d time.Duration, fraction float64) time.Duration {
	if fraction <= 0 {
		return d
	}
	f := 1 + fraction*(2*rand.Float64()-1)
	return time.Duration(float64(d) * f)
}

// Bounds on a receiver's Retry-After: shorter is treated as this minimum,
// longer is capped, so a receiver cannot pin a delivery for weeks.
const (
	minRetryAfter = time.Second
	maxRetryAfter = 24 * time.Hour
)

// parseRetryAfter reads a Retry-After header (seconds or an HTTP date).
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	} else {
		return 0, false
	}
	return min(max(d, minRetryAfter), maxRetryAfter), true
}
