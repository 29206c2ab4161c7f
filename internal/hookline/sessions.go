package hookline

import (
	"context"
	"time"
)

// Session is a browser signed in to the dashboard, kept server-side so
// that signing out, changing the admin key or the clock can end it. The
// store never holds the token the browser's cookie carries, only its
// SHA-256: reading the database gives no one a session.
type Session struct {
	// IDHash is the SHA-256 (hex) of the session's token.
	IDHash string
	// KeyID names the admin API key the session signed in with; a session
	// of another key is not one (a changed key ends every session).
	KeyID   string
	Created time.Time
	Expires time.Time
}

// SessionStore keeps dashboard sessions.
type SessionStore interface {
	// CreateSession stores s. Returns ECONFLICT if its IDHash exists.
	CreateSession(ctx context.Context, s *Session) error
	// Session returns the session whose IDHash is idHash if it signed in
	// with keyID and has not expired at now; ENOTFOUND otherwise.
	Session(ctx context.Context, idHash, keyID string, now time.Time) (*Session, error)
	// DeleteSession removes a session (sign-out); a missing one is no error.
	DeleteSession(ctx context.Context, idHash string) error
	// PurgeSessions removes every session expired at now or signed in with
	// a key other than keyID, and returns how many it removed.
	PurgeSessions(ctx context.Context, keyID string, now time.Time) (int64, error)
}
