package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// JobsConfig configures a JobRunner. Zero fields take the defaults noted.
type JobsConfig struct {
	Store  hookline.Store
	Engine *Engine // woken as resent deliveries become due; may be nil
	// Owner names this node in job leases (the engine's owner).
	Owner string
	// Lease is how long a claimed job stays ours without progress (30 s):
	// after it, another node (or this one restarted) goes on with it.
	Lease time.Duration
	// Poll is how often unclaimed jobs are looked for (1 s).
	Poll time.Duration
	// Batch is how many deliveries one step resends (200).
	Batch  int
	Logger *slog.Logger
	Now    func() time.Time
}

// JobRunner runs the background jobs kept in the store (recover), one at a
// time per node. Progress is written after every step, with the cursor, so
// a job survives a restart: a node that dies lets its lease lapse and any
// node resumes from the last step recorded. A step cut off by a crash is
// resent again on resume, which is at least once, as every delivery is.
type JobRunner struct {
	cfg      JobsConfig
	kick     chan struct{}
	stopping chan struct{}
	done     sync.WaitGroup
	start    sync.Once
	stop     sync.Once
}

// NewJobRunner returns a runner; it does nothing until Start.
func NewJobRunner(cfg JobsConfig) *JobRunner {
	if cfg.Lease <= 0 {
		cfg.Lease = 30 * time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 200
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &JobRunner{cfg: cfg, kick: make(chan struct{}, 1), stopping: make(chan struct{})}
}

// Kick makes the runner look for a job at once.
func (r *JobRunner) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Start starts the loop that claims and runs jobs. Call it once.
func (r *JobRunner) Start() {
	r.start.Do(func() {
		r.done.Add(1)
		go r.loop()
	})
}

// Stop stops the loop; a job in progress records its step and lets its
// lease go, so the next node (or start) resumes it at once. It is safe to
// call more than once.
func (r *JobRunner) Stop() {
	r.stop.Do(func() { close(r.stopping) })
	r.done.Wait()
}

func (r *JobRunner) loop() {
	defer r.done.Done()
	tick := time.NewTicker(r.cfg.Poll)
	defer tick.Stop()
	for {
		for r.runOne() {
		}
		select {
		case <-r.stopping:
			return
		case <-r.kick:
		case <-tick.C:
		}
	}
}

// runOne claims and runs one job; it reports whether there was one.
func (r *JobRunner) runOne() bool {
	select {
	case <-r.stopping:
		return false
	default:
	}
	ctx := context.Background()
	j, err := r.cfg.Store.ClaimJob(ctx, r.cfg.Owner, r.cfg.Now(), r.cfg.Lease)
	if hookline.ErrorCode(err) == hookline.ENOTFOUND {
		return false
	}
	if err != nil {
		r.cfg.Logger.Error("claiming a job", "err", err)
		return false
	}
	r.cfg.Logger.Info("job started", "job", j.ID, "kind", j.Kind, "endpoint", j.EndpointID, "done", j.Done, "total", j.Total)
	if err := r.recover(ctx, j); err != nil {
		if hookline.ErrorCode(err) == hookline.ECONFLICT {
			r.cfg.Logger.Warn("job taken over by another node", "job", j.ID)
			return true
		}
		j.Status, j.Error, j.Updated = hookline.JobFailed, hookline.ErrorMessage(err), r.cfg.Now()
		r.cfg.Logger.Error("job failed", "job", j.ID, "err", err)
		if err := r.cfg.Store.UpdateJob(ctx, r.cfg.Owner, j); err != nil {
			r.cfg.Logger.Error("recording a failed job", "job", j.ID, "err", err)
		}
		return true
	}
	if j.Finished() {
		r.cfg.Logger.Info("job finished", "job", j.ID, "resent", j.Done)
	}
	return true
}

// save records j's progress and renews its lease.
func (r *JobRunner) save(ctx context.Context, j *hookline.Job) error {
	j.Updated = r.cfg.Now()
	j.LeaseExpires = j.Updated.Add(r.cfg.Lease)
	return r.cfg.Store.UpdateJob(ctx, r.cfg.Owner, j)
}

// recover counts the failed deliveries first (a fresh job), so progress
// has a real total, then resends them a step at a time in id order: a
// resent delivery that fails again at once is behind the cursor and not
// picked up twice.
func (r *JobRunner) recover(ctx context.Context, j *hookline.Job) error {
	st := r.cfg.Store
	if j.Cursor == "" && j.Done == 0 {
		total, after := 0, ""
		for {
			page, err := st.FailedDeliveries(ctx, j.EndpointID, j.Since, j.Until, after, 1000)
			if err != nil {
				return fmt.Errorf("counting failed deliveries: %w", err)
			}
			total += len(page)
			if len(page) < 1000 {
				break
			}
			after = page[len(page)-1].ID
		}
		j.Total = total
		if err := r.save(ctx, j); err != nil {
			return err
		}
	}
	for {
		select {
		case <-r.stopping:
			j.LeaseExpires = time.Time{} // let it go: whoever starts next resumes it at once
			j.Updated = r.cfg.Now()
			return st.UpdateJob(ctx, r.cfg.Owner, j)
		default:
		}
		page, err := st.FailedDeliveries(ctx, j.EndpointID, j.Since, j.Until, j.Cursor, r.cfg.Batch)
		if err != nil {
			return fmt.Errorf("listing failed deliveries: %w", err)
		}
		for _, d := range page {
			if _, err := st.Resend(ctx, d.EventID, d.EndpointID, r.cfg.Now()); err != nil {
				return fmt.Errorf("resending %s: %w", d.ID, err)
			}
			j.Done++
			j.Cursor = d.ID
		}
		if r.cfg.Engine != nil && len(page) > 0 {
			r.cfg.Engine.Wake()
		}
		j.Total = max(j.Total, j.Done) // failures that arrived in the window since the count
		if len(page) < r.cfg.Batch {
			j.Status = hookline.JobSucceeded
		}
		if err := r.save(ctx, j); err != nil {
			return err
		}
		if j.Finished() {
			return nil
		}
	}
}
