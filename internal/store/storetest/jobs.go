package storetest

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

func runJobs(t *testing.T, open func(t *testing.T) hookline.Store) {
	t.Run("Jobs", func(t *testing.T) {
		t.Parallel()
		testJobs(t, newFixture(t, open))
	})
}

func newJob(created time.Time) *hookline.Job {
	return &hookline.Job{ID: hookline.NewID("job"), Kind: hookline.JobRecover, EndpointID: "ep_1",
		Since: created.Add(-time.Hour), Until: created, Status: hookline.JobPending, Created: created, Updated: created}
}

func normJob(j *hookline.Job) hookline.Job {
	c := *j
	c.Since, c.Until, c.LeaseExpires = normTime(c.Since), normTime(c.Until), normTime(c.LeaseExpires)
	c.Created, c.Updated = normTime(c.Created), normTime(c.Updated)
	return c
}

func testJobs(t *testing.T, f *fixture) {
	a, b := newJob(base), newJob(at(time.Second))
	for _, j := range []*hookline.Job{a, b} {
		if err := f.s.CreateJob(f.ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, f.s.CreateJob(f.ctx, a), hookline.ECONFLICT)
	got, err := f.s.Job(f.ctx, a.ID)
	if err != nil || !reflect.DeepEqual(normJob(got), normJob(a)) {
		t.Fatalf("Job = %+v, %v; want %+v", got, err, a)
	}
	_, err = f.s.Job(f.ctx, "job_missing")
	wantCode(t, err, hookline.ENOTFOUND)

	// Claims take the oldest unfinished job nobody holds.
	now := at(time.Minute)
	c1, err := f.s.ClaimJob(f.ctx, "n1", now, 30*time.Second)
	if err != nil || c1.ID != a.ID || c1.Status != hookline.JobRunning || c1.LeaseOwner != "n1" {
		t.Fatalf("first claim %+v, %v", c1, err)
	}
	sameTime(t, "LeaseExpires", c1.LeaseExpires, now.Add(30*time.Second))
	c2, err := f.s.ClaimJob(f.ctx, "n2", now, 30*time.Second)
	if err != nil || c2.ID != b.ID {
		t.Fatalf("second claim %+v, %v", c2, err)
	}
	_, err = f.s.ClaimJob(f.ctx, "n3", now, 30*time.Second)
	wantCode(t, err, hookline.ENOTFOUND)

	// Progress is written by the holder only.
	c1.Total, c1.Done, c1.Cursor, c1.Updated = 10, 4, "dlv_4", now
	c1.LeaseExpires = now.Add(time.Minute)
	if err := f.s.UpdateJob(f.ctx, "n1", c1); err != nil {
		t.Fatal(err)
	}
	wantCode(t, f.s.UpdateJob(f.ctx, "n2", c1), hookline.ECONFLICT)
	got, _ = f.s.Job(f.ctx, a.ID)
	if got.Total != 10 || got.Done != 4 || got.Cursor != "dlv_4" || got.Status != hookline.JobRunning {
		t.Fatalf("after update %+v", got)
	}

	// A lapsed lease lets another node take the job over, progress kept;
	// the old holder can no longer write.
	later := now.Add(2 * time.Minute)
	c3, err := f.s.ClaimJob(f.ctx, "n3", later, 30*time.Second)
	if err != nil || c3.ID != a.ID || c3.Done != 4 || c3.Cursor != "dlv_4" || c3.LeaseOwner != "n3" {
		t.Fatalf("takeover %+v, %v", c3, err)
	}
	wantCode(t, f.s.UpdateJob(f.ctx, "n1", c1), hookline.ECONFLICT)

	// A finished job is never claimed again.
	c3.Status, c3.Done, c3.Updated = hookline.JobSucceeded, 10, later
	if err := f.s.UpdateJob(f.ctx, "n3", c3); err != nil {
		t.Fatal(err)
	}
	if j, err := f.s.ClaimJob(f.ctx, "n4", later.Add(time.Hour), time.Second); err == nil && j.ID == a.ID {
		t.Fatal("claimed a finished job")
	}

	// Concurrent claimers never share a job.
	var jobs []*hookline.Job
	for range 8 {
		j := newJob(at(time.Hour))
		if err := f.s.CreateJob(f.ctx, j); err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, j)
	}
	var mu sync.Mutex
	seen := map[string]string{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := "w" + string(rune('a'+w))
			for {
				j, err := f.s.ClaimJob(f.ctx, owner, at(2*time.Hour), time.Hour)
				if hookline.ErrorCode(err) == hookline.ENOTFOUND {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if prev, ok := seen[j.ID]; ok {
					t.Errorf("job %s claimed by %s and %s", j.ID, prev, owner)
				}
				seen[j.ID] = owner
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != len(jobs)+1 { // the eight, and b, whose lease lapsed meanwhile
		t.Fatalf("claimed %d jobs, want %d", len(seen), len(jobs)+1)
	}
}
