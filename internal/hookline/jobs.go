package hookline

import (
	"context"
	"time"
)

// Job kinds.
const (
	// JobRecover resends every failed delivery of one endpoint created in
	// [Since, Until): POST /v1/endpoints/{id}/recover and the dashboard's
	// bulk resend.
	JobRecover = "recover"
)

// Job statuses.
const (
	JobPending   = "pending"   // stored, not yet picked up by a node
	JobRunning   = "running"   // a node is working on it (or its lease lapsed and another will)
	JobSucceeded = "succeeded" // all done
	JobFailed    = "failed"    // stopped by an error (Error says which)
)

// Job is background work kept in the store, so that any node can report
// its progress and a restart resumes it where it stopped.
type Job struct {
	ID           string // job_…
	Kind         string // JobRecover
	EndpointID   string
	Since, Until time.Time
	Status       string
	Total        int    // the work found (failed deliveries in the window)
	Done         int    // the work done so far
	Cursor       string // the id of the last delivery handled, where a resumed job goes on from
	Error        string
	// LeaseOwner holds the job until LeaseExpires; after that any node
	// may take it over.
	LeaseOwner   string
	LeaseExpires time.Time
	Created      time.Time
	Updated      time.Time
}

// Finished reports whether the job has reached a final status.
func (j *Job) Finished() bool { return j.Status == JobSucceeded || j.Status == JobFailed }

// JobStore keeps jobs.
type JobStore interface {
	// CreateJob inserts j (ID, Kind, Status and times set). Returns
	// ECONFLICT if the id exists.
	CreateJob(ctx context.Context, j *Job) error
	// Job returns the job with that id, or ENOTFOUND.
	Job(ctx context.Context, id string) (*Job, error)
	// ClaimJob leases the oldest unfinished job that nobody holds (or whose
	// lease has lapsed at now) to owner until now+lease, marks it running
	// and returns it. Returns ENOTFOUND when there is none.
	ClaimJob(ctx context.Context, owner string, now time.Time, lease time.Duration) (*Job, error)
	// UpdateJob writes j's Status, Total, Done, Cursor, Error,
	// LeaseExpires and Updated while owner still holds its lease; returns
	// ECONFLICT if it does not (the lease lapsed and another node took
	// the job).
	UpdateJob(ctx context.Context, owner string, j *Job) error
}
