package listen

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/delivery"
)

// Tail fans recorded attempts out to live `hookline tail` streams. A
// stream that cannot keep up loses attempts rather than slowing the engine;
// it is told how many. Safe for concurrent use.
type Tail struct {
	mu     sync.Mutex
	subs   map[*tailSub]struct{}
	closed <-chan struct{}
}

type tailSub struct {
	ch      chan TailEvent
	dropped atomic.Int64
	filter  app.TailFilter
}

// NewTail returns a tail whose streams end when closed is closed.
func NewTail(closed <-chan struct{}) *Tail {
	return &Tail{subs: map[*tailSub]struct{}{}, closed: closed}
}

// OnAttempt is the engine's attempt hook. It never blocks.
func (t *Tail) OnAttempt(r delivery.Result) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.subs) == 0 {
		return
	}
	a := r.Completion.Attempt
	e := TailEvent{
		AttemptID: a.ID, EventID: a.EventID, EventType: r.Task.Event.Type, EndpointID: a.EndpointID, URL: a.URL,
		Attempt: a.Attempt, Status: a.ResponseStatus, DurationMS: a.DurationMS, Error: a.Error,
		Created: a.Created.UnixMilli(), Succeeded: a.Succeeded(),
	}
	if !a.NextRetry.IsZero() {
		e.NextRetry = a.NextRetry.Unix()
	}
	e.Method = AttemptMethod(r.Task) // tailmethod.go
	for s := range t.subs {
		if !s.filter.Match(e.EndpointID, e.EventType, e.Succeeded) {
			continue
		}
		select {
		case s.ch <- e:
		default:
			s.dropped.Add(1)
		}
	}
}

// ServeStream answers GET /v1/tail with server-sent events, one "attempt"
// event per attempt, filtered by endpoint_id, type (a pattern such as
// invoice.*) and status=failed.
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
	s := &tailSub{ch: make(chan TailEvent, 1024), filter: f}
	t.mu.Lock()
	t.subs[s] = struct{}{}
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		delete(t.subs, s)
		t.mu.Unlock()
	}()

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
		case <-t.closed:
			return nil
		case <-keepalive.C:
			if n := s.dropped.Swap(0); n > 0 {
				fmt.Fprintf(w, "event: dropped\ndata: %d\n\n", n)
			} else {
				fmt.Fprint(w, ": keepalive\n\n")
			}
			flusher.Flush()
		case e := <-s.ch:
			b, _ := json.Marshal(e) // plain struct: cannot fail
			fmt.Fprintf(w, "event: attempt\ndata: %s\n\n", b)
			if n := s.dropped.Swap(0); n > 0 {
				fmt.Fprintf(w, "event: dropped\ndata: %d\n\n", n)
			}
			flusher.Flush()
		}
	}
}
