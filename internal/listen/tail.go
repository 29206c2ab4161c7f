package listen

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/hookline/hookline/internal/app"
)

// tailBuffer is how many attempts a `hookline tail` stream holds for a
// reader that falls behind before it loses some.
const tailBuffer = 1024

// Tail serves the application's live tail of attempts (app.Tail) to
// `hookline tail` streams.
type Tail struct {
	app *app.App
}

// NewTail returns the `hookline tail` surface of a's live tail; its streams
// end when that tail closes.
func NewTail(a *app.App) *Tail { return &Tail{app: a} }

// ServeStream answers GET /v1/tail with server-sent events, one "attempt"
// event per attempt, filtered by endpoint_id, type (a pattern such as
// invoice.*) and status=failed, and a "dropped" event telling how many a
// stream that could not keep up lost.
func (t *Tail) ServeStream(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f, err := app.ParseTailFilter(q.Get("endpoint_id"), q.Get("type"), q.Get("status"))
	if err != nil {
		return err
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		return fmt.Errorf("streaming: response writer cannot flush")
	}
	s := t.app.Tail().Subscribe(f, tailBuffer)
	defer s.Close()

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": tailing attempts\n\n")
	flusher.Flush()
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-s.Done():
			return nil
		case <-keepalive.C:
			if n := s.Dropped(); n > 0 {
				fmt.Fprintf(w, "event: dropped\ndata: %d\n\n", n)
			} else {
				fmt.Fprint(w, ": keepalive\n\n")
			}
			flusher.Flush()
		case a := <-s.Attempts():
			b, _ := json.Marshal(newTailEvent(a)) // plain struct: cannot fail
			fmt.Fprintf(w, "event: attempt\ndata: %s\n\n", b)
			if n := s.Dropped(); n > 0 {
				fmt.Fprintf(w, "event: dropped\ndata: %d\n\n", n)
			}
			flusher.Flush()
		}
	}
}

// newTailEvent is ta as `hookline tail` receives it.
func newTailEvent(ta app.TailAttempt) TailEvent {
	a := &ta.Attempt
	e := TailEvent{
		AttemptID: a.ID, EventID: a.EventID, EventType: ta.EventType, EndpointID: a.EndpointID, URL: a.URL,
		Method: ta.Method, Attempt: a.Attempt, Status: a.ResponseStatus, DurationMS: a.DurationMS, Error: a.Error,
		Created: a.Created.UnixMilli(), Succeeded: a.Succeeded(),
	}
	if !a.NextRetry.IsZero() {
		e.NextRetry = a.NextRetry.Unix()
	}
	return e
}
