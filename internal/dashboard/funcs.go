package dashboard

import (
	"html/template"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

const pageSize = 25

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"pct":       func(v float64) string { return strconv.FormatFloat(v*100, 'f', 1, 64) + "%" },
	"ms":        func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) + " ms" },
	"join":      strings.Join,
	"list":      func(v ...any) []any { return v },
	"emptyTail": func() tailAttempt { return tailAttempt{} },
	// An endpoint's delivery options as its page shows them: the filter's
	// JSON, the static headers by name only (their values are secrets).
	"filterJSON":    func(f *hookline.Filter) string { return string(f.JSON()) },
	"headerNames":   func(h hookline.Headers) []string { return slices.Sorted(maps.Keys(h)) },
	"retrySchedule": retryScheduleText,
	"statusClass": func(status int) string {
		switch {
		case status >= 200 && status < 300:
			return "ok"
		case status == 0:
			return "none"
		default:
			return "bad"
		}
	},
}

// retryScheduleText words an endpoint's retry_schedule: nil is the
// server's, empty is no retries.
func retryScheduleText(s []time.Duration) string {
	switch {
	case s == nil:
		return "the server's"
	case len(s) == 0:
		return "no retries"
	}
	return strings.Join(hookline.FormatRetrySchedule(s), ", ")
}
