package app

import (
	"context"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// MaxRecoverWindow bounds how far back a recover may reach.
const MaxRecoverWindow = 90 * 24 * time.Hour

// Recover stores a job that resends every failed delivery of the endpoint
// created in [since, until) (until zero, or later than now, means now) and
// hands it to the job runner; any node reports its progress (Job) and runs
// it on. The API's recover and the dashboard's bulk resend both come here.
// Errors are EINVALID naming since, or ENOTFOUND for the endpoint.
func (a *App) Recover(ctx context.Context, endpointID string, since, until time.Time) (*hookline.Job, error) {
	now := a.cfg.Now()
	if until.IsZero() || until.After(now) {
		until = now // nothing failed later than now; the job's window says what it covered
	}
	switch {
	case since.IsZero():
		return nil, hookline.Invalid("since", "since is required")
	case !since.Before(until):
		return nil, hookline.Invalid("since", "since must be before until (%s)", until.UTC().Format(time.RFC3339))
	case since.Before(now.Add(-MaxRecoverWindow)):
		return nil, hookline.Invalid("since", "since may reach back at most %d days", int(MaxRecoverWindow/(24*time.Hour)))
	}
	if _, err := a.cfg.Store.Endpoint(ctx, endpointID); err != nil {
		return nil, err
	}
	if a.cfg.Jobs == nil {
		return nil, hookline.Errorf(hookline.EUNAVAILABLE, "this node runs no jobs")
	}
	j := &hookline.Job{ID: hookline.NewID("job"), Kind: hookline.JobRecover, EndpointID: endpointID,
		Since: since, Until: until, Status: hookline.JobPending, Created: now, Updated: now}
	if err := a.cfg.Store.CreateJob(ctx, j); err != nil {
		return nil, err
	}
	a.cfg.Jobs.Kick()
	a.cfg.Logger.Info("recover started", "job", j.ID, "endpoint", endpointID, "since", since, "until", until)
	return j, nil
}

// Job returns the job id, as stored by whichever node runs it.
func (a *App) Job(ctx context.Context, id string) (*hookline.Job, error) {
	return a.cfg.Store.Job(ctx, id)
}
