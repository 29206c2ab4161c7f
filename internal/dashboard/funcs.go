package dashboard

import (
	"html/template"
	"strconv"
	"strings"
	"time"
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
