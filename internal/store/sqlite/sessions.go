package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// CreateSession stores s. Returns ECONFLICT if its IDHash exists.
func (s *Store) CreateSession(ctx context.Context, sess *hookline.Session) error {
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO dashboard_sessions (id_hash, key_id, created, expires) VALUES (?, ?, ?, ?)`,
			sess.IDHash, sess.KeyID, ms(sess.Created), ms(sess.Expires))
		return err
	})
	if err != nil {
		if hookline.ErrorCode(err) == hookline.ECONFLICT {
			return hookline.Errorf(hookline.ECONFLICT, "the session already exists")
		}
		return fmt.Errorf("creating session: %w", err)
	}
	return nil
}

// Session returns the unexpired session of idHash signed in with keyID.
func (s *Store) Session(ctx context.Context, idHash, keyID string, now time.Time) (*hookline.Session, error) {
	var (
		out              hookline.Session
		created, expires int64
	)
	err := s.r.QueryRowContext(ctx, `SELECT id_hash, key_id, created, expires FROM dashboard_sessions
		WHERE id_hash = ? AND key_id = ? AND expires > ?`, idHash, keyID, ms(now)).Scan(&out.IDHash, &out.KeyID, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookline.Errorf(hookline.ENOTFOUND, "no such session")
	}
	if err != nil {
		return nil, fmt.Errorf("reading session: %w", err)
	}
	out.Created, out.Expires = fromMS(created), fromMS(expires)
	return &out, nil
}

// DeleteSession removes a session; a missing one is no error.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM dashboard_sessions WHERE id_hash = ?`, idHash)
		return err
	})
	if err != nil {
		return fmt.Errorf("deleting session: %w", err)
	}
	return nil
}

// PurgeSessions removes the sessions expired at now or of another key.
func (s *Store) PurgeSessions(ctx context.Context, keyID string, now time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM dashboard_sessions WHERE expires <= ? OR key_id <> ?`, ms(now), keyID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purging sessions: %w", err)
	}
	return n, nil
}
