package sqlite_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlite"
)

// TestReopen checks what Open does to a file an earlier process left: the
// migrations are not applied again, the data is there, and the earlier
// process's leases are released so its deliveries can be claimed at once.
func TestReopen(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "hookline.db")
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ep := &hookline.Endpoint{ID: hookline.NewID("ep"), URL: "https://example.test/", EnabledEvents: []string{"*"},
		Status: hookline.EndpointEnabled, SignatureScheme: hookline.SchemeStandard, Secret: "whsec_x", Created: now, Updated: now}
	if err := s.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	ev := &hookline.Event{ID: hookline.NewID("evt"), Type: "a.b", Created: now, Payload: []byte(`{}`)}
	ps, err := s.PublishEvents(ctx, []*hookline.Event{ev},
		hookline.PublishOptions{Now: now, LeaseOwner: "crashed-node", LeaseExpires: now.Add(time.Hour)})
	if err != nil || len(ps[0].Tasks) != 1 {
		t.Fatalf("PublishEvents: %v, %+v", err, ps)
	}
	if err := s.SetSetting(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = sqlite.OpenWith(ctx, path, sqlite.Options{Synchronous: "normal"})
	if err != nil {
		t.Fatalf("reopening: %v", err)
	}
	defer s.Close()
	if v, err := s.Setting(ctx, "k"); err != nil || v != "v" {
		t.Fatalf("Setting after reopen = %q, %v", v, err)
	}
	// Well before the old lease would lapse, the delivery is claimable.
	tasks, err := s.ClaimTasks(ctx, "new-node", now.Add(time.Second), time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 1 || tasks[0].DeliveryID != ps[0].Tasks[0].DeliveryID || tasks[0].Attempt != 1 {
		t.Fatalf("after reopen claimed %+v, want the crashed node's delivery", tasks)
	}
}

func TestOpenOptions(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		sync string
		ok   bool
	}{{"", true}, {"FULL", true}, {"normal", true}, {"OFF", false}, {"bogus", false}} {
		t.Run(c.sync, func(t *testing.T) {
			t.Parallel()
			s, err := sqlite.OpenWith(t.Context(), filepath.Join(t.TempDir(), "h.db"), sqlite.Options{Synchronous: c.sync})
			if (err == nil) != c.ok {
				t.Fatalf("OpenWith(Synchronous=%q) error %v, want ok=%v", c.sync, err, c.ok)
			}
			if s != nil {
				s.Close()
			}
		})
	}
	if _, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "missing-dir", "sub", "h.db")); err == nil {
		t.Fatal("Open in a missing directory succeeded")
	}
}
