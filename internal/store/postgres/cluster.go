package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/hookline"
)

var _ hookline.Cluster = (*Store)(nil)

// ClaimRun claims job's run for this period: the row of cluster_jobs is
// inserted, or moved to now when its last run is at least every old, in one
// statement. Concurrent callers serialise on the row, and the losers see
// the winner's last_run, so exactly one gets true.
func (s *Store) ClaimRun(ctx context.Context, job, owner string, now time.Time, every time.Duration) (bool, error) {
	var one int
	err := s.pool.QueryRow(ctx, `INSERT INTO cluster_jobs (name, owner, last_run) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, last_run = excluded.last_run
		WHERE cluster_jobs.last_run <= $4
		RETURNING 1`, job, owner, ts(now), ts(now.Add(-every))).Scan(&one)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("claiming a run of %s: %w", job, err)
	}
	return true, nil
}

// Notify sends payload with pg_notify, which delivers it when the
// statement's transaction commits, to every session listening on channel.
func (s *Store) Notify(ctx context.Context, channel, payload string) error {
	if _, err := s.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, channel, payload); err != nil {
		return fmt.Errorf("notifying %s: %w", channel, err)
	}
	return nil
}

// Listen runs LISTEN on a connection of its own, outside the pool, since
// it holds the connection for as long as it listens.
func (s *Store) Listen(ctx context.Context, channel string, ready func(), fn func(payload string)) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("listening on %s: connecting: %w", channel, err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{channel}.Sanitize()); err != nil {
		return fmt.Errorf("listening on %s: %w", channel, err)
	}
	if ready != nil {
		ready()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("listening on %s: %w", channel, err)
		}
		fn(n.Payload)
	}
}
