package app

import (
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
)

// TailFilter is which attempts a live tail (`hookline tail`, GET
// /v1/tail) shows.
type TailFilter struct {
	// EndpointID, when set, keeps one endpoint's attempts.
	EndpointID string
	// Type, when set, is an event type or a prefix pattern such as
	// invoice.*.
	Type string
	// FailedOnly keeps the attempts that did not succeed.
	FailedOnly bool
}

// ParseTailFilter checks a tail's filters as they arrive: status is
// "failed", "all" or empty, type an event type or pattern.
func ParseTailFilter(endpointID, typ, status string) (TailFilter, error) {
	f := TailFilter{EndpointID: endpointID, Type: typ}
	switch status {
	case "", "all":
	case "failed":
		f.FailedOnly = true
	default:
		return TailFilter{}, hookline.Invalid("status", "status must be \"failed\" or \"all\"")
	}
	if typ != "" && !hookline.ValidEventPattern(typ) {
		return TailFilter{}, hookline.Invalid("type", "%q is not an event type or a prefix wildcard like \"invoice.*\"", typ)
	}
	return f, nil
}

// Match reports whether the filter keeps an attempt at an event of
// eventType to endpointID that succeeded or not.
func (f TailFilter) Match(endpointID, eventType string, succeeded bool) bool {
	return (f.EndpointID == "" || f.EndpointID == endpointID) &&
		(f.Type == "" || hookline.MatchEvent([]string{f.Type}, eventType)) &&
		(!f.FailedOnly || !succeeded)
}

// TailAttempt is a recorded attempt as the live tails show it.
type TailAttempt struct {
	// Attempt is the attempt without its response body: the tails never
	// show it, and a subscriber's buffer of attempts should not hold it.
	Attempt hookline.Attempt
	// EventType is the type of the event attempted; "" when unknown.
	EventType string
	// Method is the HTTP method of the attempt: POST for events, the
	// method a forwarded inbound request arrived with (PUT, say).
	Method string
}

// NewTailAttempt is attempt a, at an event of eventType made with method,
// as the tails show it.
func NewTailAttempt(a *hookline.Attempt, eventType, method string) TailAttempt {
	ta := TailAttempt{Attempt: *a, EventType: eventType, Method: method}
	ta.Attempt.ResponseBody = ""
	return ta
}

// attemptMethod is the HTTP method an attempt of t was made with: the
// method a captured inbound request arrived with when t forwards one (as
// delivery.ForwardSender sends it, POST when none was recorded), else POST,
// the method of every event delivery.
func attemptMethod(t *hookline.Task) string {
	if t != nil && t.Request != nil && t.Request.Method != "" {
		return t.Request.Method
	}
	return http.MethodPost
}

// Tail is the live tail of attempts: the one fan-out of the engine's
// attempt hook that every surface watching attempts subscribes to (the
// dashboard's live tail, GET /v1/tail for `hookline tail`). Each surface
// encodes what it receives for its own transport.
//
// A subscriber that cannot keep up loses attempts rather than slowing the
// engine, and can ask how many it lost. While nobody subscribes, an
// attempt costs the engine one atomic load. Safe for concurrent use.
type Tail struct {
	// watching counts the subscriptions, so that the engine's path skips
	// the lock and the copy while there are none.
	watching atomic.Int64
	// prepared counts the attempts turned into TailAttempts: none while
	// nobody watches (tail_test.go checks it).
	prepared atomic.Int64

	mu   sync.Mutex
	subs map[*TailSubscription]struct{}

	closeOnce sync.Once
	closed    chan struct{}
}

// NewTail returns a live tail with no subscribers. Feed it with OnAttempt;
// Close ends its subscriptions.
func NewTail() *Tail {
	return &Tail{subs: map[*TailSubscription]struct{}{}, closed: make(chan struct{})}
}

// OnAttempt is the engine's attempt hook: it offers r's attempt to every
// subscriber whose filter keeps it, without waiting; a subscriber whose
// buffer is full misses it and counts it as dropped.
func (t *Tail) OnAttempt(r delivery.Result) {
	if t.watching.Load() == 0 {
		return
	}
	t.prepared.Add(1)
	typ := ""
	if r.Task != nil && r.Task.Event != nil {
		typ = r.Task.Event.Type
	}
	ta := NewTailAttempt(&r.Completion.Attempt, typ, attemptMethod(r.Task))
	succeeded := ta.Attempt.Succeeded()
	t.mu.Lock()
	defer t.mu.Unlock()
	for s := range t.subs {
		if !s.filter.Match(ta.Attempt.EndpointID, ta.EventType, succeeded) {
			continue
		}
		select {
		case s.ch <- ta:
		default:
			s.dropped.Add(1)
		}
	}
}

// Subscribe starts a subscription to the attempts f keeps, buffering up to
// buffer of them (at least 1) for a reader that falls behind. Close it when
// done.
func (t *Tail) Subscribe(f TailFilter, buffer int) *TailSubscription {
	s := &TailSubscription{tail: t, ch: make(chan TailAttempt, max(buffer, 1)), filter: f}
	t.mu.Lock()
	t.subs[s] = struct{}{}
	t.mu.Unlock()
	t.watching.Add(1)
	return s
}

// Close ends every subscription, present and future: their Done channels
// close. It may be called more than once.
func (t *Tail) Close() {
	t.closeOnce.Do(func() { close(t.closed) })
}

// TailSubscription is one subscriber's view of a Tail.
type TailSubscription struct {
	tail      *Tail
	ch        chan TailAttempt
	filter    TailFilter
	dropped   atomic.Int64
	closeOnce sync.Once
}

// Attempts delivers the attempts the subscription's filter keeps, in the
// order they were recorded.
func (s *TailSubscription) Attempts() <-chan TailAttempt { return s.ch }

// Dropped returns how many attempts the subscription lost because its
// buffer was full since the last call, and starts counting again.
func (s *TailSubscription) Dropped() int64 { return s.dropped.Swap(0) }

// Done is closed when the tail closes (the server stops).
func (s *TailSubscription) Done() <-chan struct{} { return s.tail.closed }

// Close ends the subscription. It may be called more than once.
func (s *TailSubscription) Close() {
	s.closeOnce.Do(func() {
		t := s.tail
		t.mu.Lock()
		delete(t.subs, s)
		t.mu.Unlock()
		t.watching.Add(-1)
	})
}

// Tail is the application's live tail of attempts.
func (a *App) Tail() *Tail { return a.cfg.Tail }
