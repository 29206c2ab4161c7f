package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

const jobColumns = `id, kind, endpoint_id, since, until, status, total, done, cursor, error,
	lease_owner, lease_expires, created, updated`

func scanJob(sc scanner) (*hookline.Job, error) {
	var (
		j                                    hookline.Job
		since, until, leaseExp, created, upd int64
	)
	if err := sc.Scan(&j.ID, &j.Kind, &j.EndpointID, &since, &until, &j.Status, &j.Total, &j.Done, &j.Cursor,
		&j.Error, &j.LeaseOwner, &leaseExp, &created, &upd); err != nil {
		return nil, err
	}
	j.Since, j.Until, j.LeaseExpires = fromMS(since), fromMS(until), fromMS(leaseExp)
	j.Created, j.Updated = fromMS(created), fromMS(upd)
	return &j, nil
}

// CreateJob inserts j. Returns ECONFLICT if its id is taken.
func (s *Store) CreateJob(ctx context.Context, j *hookline.Job) error {
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO jobs (`+jobColumns+`) VALUES (`+placeholders(14)+`)`,
			j.ID, j.Kind, j.EndpointID, ms(j.Since), ms(j.Until), j.Status, j.Total, j.Done, j.Cursor, j.Error,
			j.LeaseOwner, ms(j.LeaseExpires), ms(j.Created), ms(j.Updated))
		return err
	})
	if err != nil {
		if hookline.ErrorCode(err) == hookline.ECONFLICT {
			return hookline.Errorf(hookline.ECONFLICT, "job %q already exists", j.ID)
		}
		return fmt.Errorf("creating job: %w", err)
	}
	return nil
}

// Job returns the job with that id, or ENOTFOUND.
func (s *Store) Job(ctx context.Context, id string) (*hookline.Job, error) {
	j, err := scanJob(s.r.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookline.NotFound("job", id)
	}
	if err != nil {
		return nil, fmt.Errorf("reading job: %w", err)
	}
	return j, nil
}

// ClaimJob leases the oldest unfinished job nobody holds to owner.
func (s *Store) ClaimJob(ctx context.Context, owner string, now time.Time, lease time.Duration) (*hookline.Job, error) {
	var j *hookline.Job
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		j, err = scanJob(tx.QueryRowContext(ctx, `UPDATE jobs SET status = 'running', lease_owner = ?, lease_expires = ?, updated = ?
			WHERE id = (SELECT id FROM jobs WHERE status IN ('pending', 'running') AND lease_expires < ? ORDER BY id LIMIT 1)
			RETURNING `+jobColumns, owner, ms(now.Add(lease)), ms(now), ms(now)))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) || hookline.ErrorCode(err) == hookline.ENOTFOUND {
		return nil, hookline.Errorf(hookline.ENOTFOUND, "no job to claim")
	}
	if err != nil {
		return nil, fmt.Errorf("claiming job: %w", err)
	}
	return j, nil
}

// UpdateJob writes a job's progress while owner holds it.
func (s *Store) UpdateJob(ctx context.Context, owner string, j *hookline.Job) error {
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE jobs SET status = ?, total = ?, done = ?, cursor = ?, error = ?,
			lease_expires = ?, updated = ? WHERE id = ? AND lease_owner = ?`,
			j.Status, j.Total, j.Done, j.Cursor, j.Error, ms(j.LeaseExpires), ms(j.Updated), j.ID, owner)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return hookline.Errorf(hookline.ECONFLICT, "job %s is not held by %s", j.ID, owner)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("updating job: %w", err)
	}
	return nil
}
