package app_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
)

// attempt is a recorded attempt at an event of typ to endpoint, answered
// with status, as the engine's hook reports it.
func attempt(id, endpoint, typ string, status int) delivery.Result {
	return delivery.Result{
		Task: &hookline.Task{Event: &hookline.Event{ID: "evt_" + id, Type: typ}},
		Completion: hookline.Completion{Attempt: hookline.Attempt{
			ID: id, EventID: "evt_" + id, EndpointID: endpoint, Attempt: 1, URL: "http://127.0.0.1:1/hook",
			ResponseStatus: status, ResponseBody: "a body the tails never show", Created: time.Now(),
		}},
	}
}

// received drains what s holds now.
func received(s *app.TailSubscription) []app.TailAttempt {
	var out []app.TailAttempt
	for {
		select {
		case a := <-s.Attempts():
			out = append(out, a)
		default:
			return out
		}
	}
}

func ids(as []app.TailAttempt) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Attempt.ID
	}
	return out
}

// TestTailFilters: each subscriber gets the attempts its filter keeps, in
// order, without response bodies, with the event's type and the method.
func TestTailFilters(t *testing.T) {
	t.Parallel()
	feed := []delivery.Result{
		attempt("a1", "ep_1", "invoice.paid", 200),
		attempt("a2", "ep_2", "invoice.paid", 500),
		attempt("a3", "ep_1", "charge.failed", 0),
		attempt("a4", "ep_2", "invoice.created", 204),
	}
	for _, tc := range []struct {
		name   string
		filter app.TailFilter
		want   []string
	}{
		{"everything", app.TailFilter{}, []string{"a1", "a2", "a3", "a4"}},
		{"one endpoint", app.TailFilter{EndpointID: "ep_1"}, []string{"a1", "a3"}},
		{"a type pattern", app.TailFilter{Type: "invoice.*"}, []string{"a1", "a2", "a4"}},
		{"failed only", app.TailFilter{FailedOnly: true}, []string{"a2", "a3"}},
		{"all three", app.TailFilter{EndpointID: "ep_2", Type: "invoice.*", FailedOnly: true}, []string{"a2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tail := app.NewTail()
			defer tail.Close()
			s := tail.Subscribe(tc.filter, 16)
			defer s.Close()
			for _, r := range feed {
				tail.OnAttempt(r)
			}
			got := received(s)
			if fmt.Sprint(ids(got)) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v, want %v", ids(got), tc.want)
			}
			for _, a := range got {
				if a.Attempt.ResponseBody != "" || a.EventType == "" || a.Method != "POST" {
					t.Errorf("attempt %s: body %q, type %q, method %q; want no body, the event's type, POST",
						a.Attempt.ID, a.Attempt.ResponseBody, a.EventType, a.Method)
				}
			}
			if n := s.Dropped(); n != 0 {
				t.Errorf("dropped %d with room to spare", n)
			}
		})
	}
}

// TestTailSlowSubscriberDrops: a subscriber that does not read keeps what
// its buffer holds, loses the rest and is told how many, once; a reading
// subscriber loses nothing meanwhile; and the engine's hook never waits.
func TestTailSlowSubscriberDrops(t *testing.T) {
	t.Parallel()
	tail := app.NewTail()
	defer tail.Close()
	slow := tail.Subscribe(app.TailFilter{}, 3)
	defer slow.Close()
	fast := tail.Subscribe(app.TailFilter{}, 3)
	defer fast.Close()

	var fastGot []app.TailAttempt
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 10 {
			tail.OnAttempt(attempt(hookline.NewID("atm"), "ep_1", "a.b", 200))
			fastGot = append(fastGot, received(fast)...)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("OnAttempt blocked on a subscriber that does not read")
	}
	if len(fastGot) != 10 || fast.Dropped() != 0 {
		t.Errorf("the reading subscriber got %d of 10 attempts", len(fastGot))
	}
	if got := received(slow); len(got) != 3 || got[0].Attempt.ID != fastGot[0].Attempt.ID {
		t.Errorf("the slow subscriber kept %v, want the first 3 of %v", ids(got), ids(fastGot))
	}
	if n := slow.Dropped(); n != 7 {
		t.Errorf("the slow subscriber is told it lost %d, want 7", n)
	}
	if n := slow.Dropped(); n != 0 {
		t.Errorf("asked again, it is told %d more, want 0", n)
	}
}

// TestTailPreparesNothingUnwatched: while nobody subscribes the engine's
// hook does no work for the tail; it starts with the first subscriber and
// stops after the last one leaves.
func TestTailPreparesNothingUnwatched(t *testing.T) {
	t.Parallel()
	tail := app.NewTail()
	defer tail.Close()
	r := attempt("a1", "ep_1", "a.b", 200)
	for range 100 {
		tail.OnAttempt(r)
	}
	if n := tail.Prepared(); n != 0 {
		t.Fatalf("prepared %d attempts with no subscriber", n)
	}
	s := tail.Subscribe(app.TailFilter{}, 1)
	tail.OnAttempt(r)
	if n := tail.Prepared(); n != 1 {
		t.Fatalf("prepared %d attempts for one subscriber, want 1", n)
	}
	s.Close()
	s.Close() // closing twice leaves the count right
	for range 100 {
		tail.OnAttempt(r)
	}
	if n := tail.Prepared(); n != 1 {
		t.Fatalf("prepared %d attempts after the subscriber left, want still 1", n)
	}
}

// TestTailCloseEndsSubscriptions: closing the tail ends the subscriptions
// open then and any made afterwards.
func TestTailCloseEndsSubscriptions(t *testing.T) {
	t.Parallel()
	tail := app.NewTail()
	before := tail.Subscribe(app.TailFilter{}, 1)
	defer before.Close()
	select {
	case <-before.Done():
		t.Fatal("a subscription is done before the tail closed")
	default:
	}
	tail.Close()
	tail.Close() // twice is fine
	after := tail.Subscribe(app.TailFilter{}, 1)
	defer after.Close()
	for name, s := range map[string]*app.TailSubscription{"open": before, "made after": after} {
		select {
		case <-s.Done():
		case <-time.After(10 * time.Second):
			t.Errorf("the %s subscription is not done after the tail closed", name)
		}
	}
}

// BenchmarkTailOnAttempt is the engine's cost of the live tail per
// attempt, with nobody watching and with watchers (one reading, one that
// never reads and so drops).
func BenchmarkTailOnAttempt(b *testing.B) {
	r := attempt("atm_1", "ep_1", "invoice.paid", 200)
	r.Completion.Attempt.ResponseBody = string(make([]byte, 1024))
	for _, watchers := range []int{0, 1, 8} {
		b.Run(fmt.Sprintf("subscribers=%d", watchers), func(b *testing.B) {
			tail := app.NewTail()
			defer tail.Close()
			for i := range watchers {
				s := tail.Subscribe(app.TailFilter{FailedOnly: i%2 == 1}, 1024)
				defer s.Close()
				if i == 0 {
					go func() {
						for {
							select {
							case <-s.Attempts():
							case <-s.Done():
								return
							}
						}
					}()
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				tail.OnAttempt(r)
			}
		})
	}
}
