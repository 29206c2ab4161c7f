package dashboard

import (
	"context"
	"sync"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// job is a bulk resend of an endpoint's failed deliveries over a time
// range, run in the background with its progress kept in memory.
type job struct {
	ID         string    `json:"id"`
	EndpointID string    `json:"endpoint_id"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Total      int       `json:"total"`  // failed deliveries found in the range
	Resent     int       `json:"resent"` // made pending again so far
	Done       bool      `json:"done"`   // finished, or stopped by an error
	Error      string    `json:"error,omitempty"`
	Started    time.Time `json:"started"`
}

// Percent is the progress for the page's bar.
func (j job) Percent() int {
	if j.Total == 0 {
		if j.Done {
			return 100
		}
		return 0
	}
	return j.Resent * 100 / j.Total
}

type jobs struct {
	d  *Dashboard
	mu sync.Mutex
	m  map[string]*job
}

func newJobs(d *Dashboard) *jobs { return &jobs{d: d, m: map[string]*job{}} }

func (js *jobs) get(id string) (job, bool) {
	js.mu.Lock()
	defer js.mu.Unlock()
	j, ok := js.m[id]
	if !ok {
		return job{}, false
	}
	return *j, true
}

func (js *jobs) update(j *job, fn func(j *job)) {
	js.mu.Lock()
	fn(j)
	js.mu.Unlock()
}

// start runs a bulk resend in the background and returns its id.
func (js *jobs) start(endpointID string, from, to time.Time) string {
	j := &job{ID: hookline.NewID("job"), EndpointID: endpointID, From: from, To: to, Started: js.d.app.Now()}
	js.mu.Lock()
	// Keep the last hundred jobs: progress pages of older ones 404.
	if len(js.m) >= 100 {
		var oldest string
		for id := range js.m {
			if oldest == "" || id < oldest {
				oldest = id
			}
		}
		delete(js.m, oldest)
	}
	js.m[j.ID] = j
	js.mu.Unlock()
	go js.run(j)
	return j.ID
}

// run resends the job's deliveries (app.ResendFailed), keeping its
// progress for the page, until done or the dashboard closes.
func (js *jobs) run(j *job) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-js.d.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	n, err := js.d.app.ResendFailed(ctx, j.EndpointID, j.From, j.To, func(total, resent int) {
		js.update(j, func(j *job) { j.Total, j.Resent = total, resent })
	})
	if err != nil {
		js.update(j, func(j *job) { j.Done, j.Error = true, hookline.ErrorMessage(err) })
		js.d.cfg.Logger.Error("bulk resend", "job", j.ID, "err", err)
		return
	}
	js.update(j, func(j *job) { j.Done = true })
	js.d.cfg.Logger.Info("bulk resend finished", "job", j.ID, "endpoint", j.EndpointID, "resent", n)
}
