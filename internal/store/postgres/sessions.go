package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// CreateSession stores s. Returns ECONFLICT if its IDHash exists.
func (s *Store) CreateSession(ctx context.Context, sess *hookline.Session) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO dashboard_sessions (id_hash, key_id, created, expires) VALUES ($1, $2, $3, $4)`,
		sess.IDHash, sess.KeyID, ts(sess.Created), ts(sess.Expires))
	if err != nil {
		if hookline.ErrorCode(translate(err)) == hookline.ECONFLICT {
			return hookline.Errorf(hookline.ECONFLICT, "the session already exists")
		}
		return fmt.Errorf("creating session: %w", err)
	}
	return nil
}

// Session returns the unexpired session of idHash signed in with keyID.
func (s *Store) Session(ctx context.Context, idHash, keyID string, now time.Time) (*hookline.Session, error) {
	var out hookline.Session
	err := s.pool.QueryRow(ctx, `SELECT id_hash, key_id, created, expires FROM dashboard_sessions
		WHERE id_hash = $1 AND key_id = $2 AND expires > $3`, idHash, keyID, ts(now)).Scan(&out.IDHash, &out.KeyID, &out.Created, &out.Expires)
	if err != nil {
		if hookline.ErrorCode(translate(err)) == hookline.ENOTFOUND {
			return nil, hookline.Errorf(hookline.ENOTFOUND, "no such session")
		}
		return nil, fmt.Errorf("reading session: %w", err)
	}
	out.Created, out.Expires = out.Created.UTC(), out.Expires.UTC()
	return &out, nil
}

// DeleteSession removes a session; a missing one is no error.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM dashboard_sessions WHERE id_hash = $1`, idHash); err != nil {
		return fmt.Errorf("deleting session: %w", err)
	}
	return nil
}

// PurgeSessions removes the sessions expired at now or of another key.
func (s *Store) PurgeSessions(ctx context.Context, keyID string, now time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM dashboard_sessions WHERE expires <= $1 OR key_id <> $2`, ts(now), keyID)
	if err != nil {
		return 0, fmt.Errorf("purging sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}
