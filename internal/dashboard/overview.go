package dashboard

import (
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// The overview page: deliveries, success rate, latency and backlog over
// the last hour and day.

type overviewData struct {
	Hour, Day       window
	Pending         int64
	OldestAge       string
	LastHourSuccess string
	LastHourP95     string
	LastHourCount   int64
}

type window struct {
	Label                        string
	Deliveries, Success, Latency template.HTML
	Backlog, Oldest              template.HTML
}

func (d *Dashboard) Overview(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	now := d.app.Now().UTC()
	data := overviewData{}
	b, err := d.app.Backlog(ctx)
	if err != nil {
		return err
	}
	data.Pending = b.Pending
	data.OldestAge = "—"
	if b.Pending > 0 {
		data.OldestAge = shortDuration(b.OldestAge(now))
	}
	var total hookline.StatsBucket
	for _, wnd := range []struct {
		dst   *window
		label string
		span  time.Duration
		step  time.Duration
	}{
		{&data.Hour, "Last hour", time.Hour, time.Minute},
		{&data.Day, "Last 24 hours", 24 * time.Hour, 30 * time.Minute},
	} {
		// Align to whole steps so that buckets do not shift on every load.
		to := now.Truncate(wnd.step).Add(wnd.step)
		f := hookline.StatsFilter{From: to.Add(-wnd.span), To: to, Step: wnd.step}
		stats, err := d.app.AttemptStats(ctx, f)
		if err != nil {
			return err
		}
		backlog, err := d.app.BacklogStats(ctx, f)
		if err != nil {
			return err
		}
		if wnd.span == time.Hour {
			for _, s := range stats {
				total.Add(s)
			}
		}
		*wnd.dst = renderWindow(wnd.label, f, stats, backlog)
	}
	data.LastHourCount = total.Attempts
	data.LastHourSuccess, data.LastHourP95 = "—", "—"
	if total.Attempts > 0 {
		data.LastHourSuccess = strconv.FormatFloat(total.SuccessRate()*100, 'f', 1, 64) + "%"
		data.LastHourP95 = strconv.FormatFloat(total.Quantile(0.95), 'f', 0, 64) + " ms"
	}
	return d.Render(w, r, http.StatusOK, "overview", "Overview", data)
}

func shortDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return d.Truncate(time.Second).String()
	case d < time.Hour:
		return d.Truncate(time.Second).String()
	default:
		return d.Truncate(time.Minute).String()
	}
}
