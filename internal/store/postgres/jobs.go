package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/hookline"
)

const jobColumns = `id, kind, endpoint_id, since, until, status, total, done, cursor, error,
	lease_owner, lease_expires, created, updated`

func scanJob(row pgx.Row) (*hookline.Job, error) {
	var (
		j                             hookline.Job
		leaseExp                      *time.Time
		since, until, created, update time.Time
	)
	if err := row.Scan(&j.ID, &j.Kind, &j.EndpointID, &since, &until, &j.Status, &j.Total, &j.Done, &j.Cursor,
		&j.Error, &j.LeaseOwner, &leaseExp, &created, &update); err != nil {
		return nil, err
	}
	j.Since, j.Until, j.LeaseExpires = since.UTC(), until.UTC(), fromTS(leaseExp)
	j.Created, j.Updated = created.UTC(), update.UTC()
	return &j, nil
}

// CreateJob inserts j. Returns ECONFLICT if its id is taken.
func (s *Store) CreateJob(ctx context.Context, j *hookline.Job) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO jobs (`+jobColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		j.ID, j.Kind, j.EndpointID, ts(j.Since), ts(j.Until), j.Status, j.Total, j.Done, j.Cursor, j.Error,
		j.LeaseOwner, ts(j.LeaseExpires), ts(j.Created), ts(j.Updated))
	if err != nil {
		if hookline.ErrorCode(translate(err)) == hookline.ECONFLICT {
			return hookline.Errorf(hookline.ECONFLICT, "job %q already exists", j.ID)
		}
		return fmt.Errorf("creating job: %w", err)
	}
	return nil
}

// Job returns the job with that id, or ENOTFOUND.
func (s *Store) Job(ctx context.Context, id string) (*hookline.Job, error) {
	j, err := scanJob(s.pool.QueryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = $1`, id))
	if err != nil {
		if hookline.ErrorCode(translate(err)) == hookline.ENOTFOUND {
			return nil, hookline.NotFound("job", id)
		}
		return nil, fmt.Errorf("reading job: %w", err)
	}
	return j, nil
}

// ClaimJob leases the oldest unfinished job nobody holds to owner; SKIP
// LOCKED keeps two nodes from taking the same one.
func (s *Store) ClaimJob(ctx context.Context, owner string, now time.Time, lease time.Duration) (*hookline.Job, error) {
	j, err := scanJob(s.pool.QueryRow(ctx, `UPDATE jobs SET status = 'running', lease_owner = $1, lease_expires = $2, updated = $3
		WHERE id = (SELECT id FROM jobs WHERE status IN ('pending', 'running')
			AND (lease_expires IS NULL OR lease_expires < $3) ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
		RETURNING `+jobColumns, owner, ts(now.Add(lease)), ts(now)))
	if err != nil {
		if hookline.ErrorCode(translate(err)) == hookline.ENOTFOUND {
			return nil, hookline.Errorf(hookline.ENOTFOUND, "no job to claim")
		}
		return nil, fmt.Errorf("claiming job: %w", err)
	}
	return j, nil
}

// UpdateJob writes a job's progress while owner holds it.
func (s *Store) UpdateJob(ctx context.Context, owner string, j *hookline.Job) error {
	tag, err := s.pool.Exec(ctx, `UPDATE jobs SET status = $3, total = $4, done = $5, cursor = $6, error = $7,
		lease_expires = $8, updated = $9 WHERE id = $1 AND lease_owner = $2`,
		j.ID, owner, j.Status, j.Total, j.Done, j.Cursor, j.Error, ts(j.LeaseExpires), ts(j.Updated))
	if err != nil {
		return fmt.Errorf("updating job: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return hookline.Errorf(hookline.ECONFLICT, "job %s is not held by %s", j.ID, owner)
	}
	return nil
}
