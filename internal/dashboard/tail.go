package dashboard

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/hookline"
)

// tailAttempt is an attempt as the live tail shows it: no response body
// and nothing secret, only what identifies it and how it went.
type tailAttempt struct {
	ID         string `json:"id"`
	EventID    string `json:"event_id"`
	EventType  string `json:"event_type"`
	EndpointID string `json:"endpoint_id"`
	URL        string `json:"url"`
	Attempt    int    `json:"attempt"`
	Status     int    `json:"status"`
	DurationMS int64  `json:"duration_ms"`
	Outcome    string `json:"outcome"`
	Error      string `json:"error,omitempty"`
	Created    string `json:"created"`
}

// tailBuffer is how many attempts a browser's stream holds for a reader
// that falls behind before it misses some.
const tailBuffer = 256

func newTailAttempt(ta app.TailAttempt) tailAttempt {
	a := &ta.Attempt
	outcome := "failed"
	switch {
	case a.Succeeded():
		outcome = "succeeded"
	case !a.NextRetry.IsZero():
		outcome = "retrying"
	}
	return tailAttempt{
		ID: a.ID, EventID: a.EventID, EventType: ta.EventType, EndpointID: a.EndpointID, URL: a.URL,
		Attempt: a.Attempt, Status: a.ResponseStatus, DurationMS: a.DurationMS, Outcome: outcome,
		Error: a.Error, Created: a.Created.UTC().Format("2006-01-02 15:04:05Z"),
	}
}

// TailStream is the Server-Sent Events stream of attempts, every one the
// application's live tail (app.Tail) records; one a slow browser misses is
// not announced, the page showing the attempts as they come. A stream
// outlives the request that opened it, so it ends with its session: at
// the session's expiry, and at the first ping after a sign-out or a
// change of the admin key (each ping asks the application again).
func (d *Dashboard) TailStream(w http.ResponseWriter, r *http.Request) {
	s, ok := d.session(r)
	if !ok {
		http.Error(w, "sign in first", http.StatusUnauthorized)
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	sub := d.app.Tail().Subscribe(app.TailFilter{}, tailBuffer)
	defer sub.Close()
	// Tell the browser to come back quickly if the stream drops, and
	// flush the headers so EventSource reports "open".
	fmt.Fprint(w, "retry: 2000\n: connected\n\n")
	if err := rc.Flush(); err != nil {
		return
	}
	ping := time.NewTicker(d.cfg.TailRecheck)
	defer ping.Stop()
	expiry := time.NewTimer(time.Until(s.expires))
	defer expiry.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-sub.Done():
			return
		case <-expiry.C:
			return
		case <-ping.C:
			if _, err := d.app.Session(r.Context(), s.token); err != nil {
				if hookline.ErrorCode(err) != hookline.ENOTFOUND {
					d.cfg.Logger.Error("checking a live tail's session", "err", err)
				}
				return
			}
			fmt.Fprint(w, ": ping\n\n")
		case a := <-sub.Attempts():
			b, _ := json.Marshal(newTailAttempt(a)) // plain struct: cannot fail
			fmt.Fprintf(w, "event: attempt\ndata: %s\n\n", b)
		}
		// A stream has no write deadline beyond the server's; keep each
		// write bounded so a stalled reader is dropped.
		_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// TailPage is GET /tail: the last attempts, then the live stream.

func (d *Dashboard) TailPage(w http.ResponseWriter, r *http.Request) error {
	recent, _, err := d.app.ListAttempts(r.Context(), hookline.AttemptFilter{Page: hookline.Page{Limit: 20}})
	if err != nil {
		return err
	}
	rows := make([]tailAttempt, len(recent))
	for i, a := range recent {
		rows[i] = newTailAttempt(app.NewTailAttempt(a, "", ""))
	}
	return d.Render(w, r, http.StatusOK, "tail", "Live tail", rows)
}
