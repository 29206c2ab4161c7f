package delivery

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlite"
)

// stallingStore hangs every Resend after the first `after`, as a node that
// died mid-job would stop: no more progress, no release of its lease.
type stallingStore struct {
	hookline.Store
	after   int64
	resends atomic.Int64
	release chan struct{}
}

func (s *stallingStore) Resend(ctx context.Context, eventID, endpointID string, now time.Time) ([]*hookline.Delivery, error) {
	if s.resends.Add(1) > s.after {
		<-s.release
		return nil, context.Canceled
	}
	return s.Store.Resend(ctx, eventID, endpointID, now)
}

type countingStore struct {
	hookline.Store
	resends atomic.Int64
}

func (s *countingStore) Resend(ctx context.Context, eventID, endpointID string, now time.Time) ([]*hookline.Delivery, error) {
	s.resends.Add(1)
	return s.Store.Resend(ctx, eventID, endpointID, now)
}

// A recover job whose node stops mid-way is resumed by another from the
// last step it recorded: nothing before the cursor is resent again, and
// every failed delivery ends up pending.
func TestRecoverJobResumesAfterANodeDies(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hookline.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Now().Truncate(time.Millisecond)
	ep := &hookline.Endpoint{ID: hookline.NewID("ep"), URL: "https://example.test/", EnabledEvents: []string{"*"},
		Status: hookline.EndpointEnabled, SignatureScheme: hookline.SchemeStandard, Secret: "whsec_x", Created: now, Updated: now}
	if err := st.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	const n = 25
	var events []*hookline.Event
	for range n {
		id := hookline.NewID("evt")
		p, _ := hookline.NewEventPayload(id, "a.b", now, "", []byte(`{}`))
		events = append(events, &hookline.Event{ID: id, Type: "a.b", Created: now, Payload: p})
	}
	if _, err := st.PublishEvents(ctx, events, hookline.PublishOptions{Now: now}); err != nil {
		t.Fatal(err)
	}
	tasks, err := st.ClaimTasks(ctx, hookline.ClaimRequest{Owner: "w", Now: now.Add(time.Second), Lease: time.Minute, Limit: 100, MaxConcurrency: hookline.MaxMaxConcurrency})
	if err != nil || len(tasks) != n {
		t.Fatalf("claimed %d, %v", len(tasks), err)
	}
	var cs []hookline.Completion
	for _, tk := range tasks {
		cs = append(cs, hookline.Completion{Status: hookline.DeliveryFailed, Attempt: hookline.Attempt{
			ID: hookline.NewID("atm"), DeliveryID: tk.DeliveryID, EventID: tk.Event.ID, EndpointID: ep.ID,
			Attempt: 1, Created: now, ResponseStatus: 500}})
	}
	if err := st.CompleteTasks(ctx, "w", cs); err != nil {
		t.Fatal(err)
	}

	dying := &stallingStore{Store: st, after: 7, release: make(chan struct{})}
	a := NewJobRunner(JobsConfig{Store: dying, Owner: "node_a", Lease: 300 * time.Millisecond, Batch: 5, Poll: 20 * time.Millisecond})
	j := &hookline.Job{ID: hookline.NewID("job"), Kind: hookline.JobRecover, EndpointID: ep.ID,
		Since: now.Add(-time.Hour), Until: now.Add(time.Second), Status: hookline.JobPending, Created: now, Updated: now}
	if err := st.CreateJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	a.Start()
	waitUntil(t, func() bool { return dying.resends.Load() > 7 }) // stalled inside its second step
	got, _ := st.Job(ctx, j.ID)
	if got.Done != 5 || got.Total != n || got.LeaseOwner != "node_a" {
		t.Fatalf("before the takeover %+v", got)
	}

	alive := &countingStore{Store: st}
	b := NewJobRunner(JobsConfig{Store: alive, Owner: "node_b", Lease: 300 * time.Millisecond, Batch: 5, Poll: 20 * time.Millisecond})
	b.Start()
	defer b.Stop()
	waitUntil(t, func() bool {
		got, _ = st.Job(ctx, j.ID)
		return got.Finished()
	})
	// node_a resent 7 before it stalled, 5 of them recorded; the other two
	// are pending again already, so node_b has 18 left and the job counts
	// 23 it resent itself (what a step cut off did is not counted).
	if got.Status != hookline.JobSucceeded || got.Done != n-2 || got.Total != n || got.LeaseOwner != "node_b" {
		t.Fatalf("after the takeover %+v", got)
	}
	if r := alive.resends.Load(); r != n-7 {
		t.Fatalf("node_b resent %d, want %d: it should go on from the recorded cursor", r, n-7)
	}
	left, err := st.FailedDeliveries(ctx, ep.ID, now.Add(-time.Hour), now.Add(time.Hour), "", 100)
	if err != nil || len(left) != 0 {
		t.Fatalf("%d failed deliveries left, %v", len(left), err)
	}
	close(dying.release) // node_a wakes up and finds its job gone
	a.Stop()
	if got, _ := st.Job(ctx, j.ID); got.LeaseOwner != "node_b" || got.Status != hookline.JobSucceeded {
		t.Fatalf("the old owner overwrote the job: %+v", got)
	}
}

func waitUntil(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
