package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// SessionTTL is how long a dashboard sign-in lasts.
const SessionTTL = 12 * time.Hour

// AdminKeyID names an admin API key, given the SHA-256 of the key, for
// the sessions it signs in: a hash of the hash, so that the sessions table
// holds nothing the API accepts.
func AdminKeyID(keyHash [32]byte) string {
	sum := sha256.Sum256(append([]byte("hookline dashboard sessions\x00"), keyHash[:]...))
	return hex.EncodeToString(sum[:16])
}

// sessionHash is what the store keeps of a session token: its SHA-256.
// The token has 130 random bits, so a fast hash suffices to make the
// stored value useless as a cookie.
func sessionHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// StartSession records a dashboard sign-in made with the admin key and
// returns the token for the browser's cookie and when the session
// expires. Only the token's hash is stored.
func (a *App) StartSession(ctx context.Context) (token string, expires time.Time, err error) {
	token = rand.Text()
	now := a.cfg.Now()
	s := &hookline.Session{IDHash: sessionHash(token), KeyID: a.cfg.AdminKeyID, Created: now, Expires: now.Add(SessionTTL)}
	if err := a.cfg.Store.CreateSession(ctx, s); err != nil {
		return "", time.Time{}, fmt.Errorf("starting a dashboard session: %w", err)
	}
	return token, s.Expires, nil
}

// Session returns the session of a cookie's token: one that exists, has
// not expired and signed in with the current admin key; ENOTFOUND
// otherwise.
func (a *App) Session(ctx context.Context, token string) (*hookline.Session, error) {
	if token == "" {
		return nil, hookline.Errorf(hookline.ENOTFOUND, "no such session")
	}
	return a.cfg.Store.Session(ctx, sessionHash(token), a.cfg.AdminKeyID, a.cfg.Now())
}

// EndSession signs a session out: its token stops working at once.
func (a *App) EndSession(ctx context.Context, token string) error {
	if err := a.cfg.Store.DeleteSession(ctx, sessionHash(token)); err != nil {
		return fmt.Errorf("ending a dashboard session: %w", err)
	}
	return nil
}

// PurgeSessions removes expired sessions and those signed in with another
// admin key (which Session already refuses), and returns how many.
func (a *App) PurgeSessions(ctx context.Context) (int64, error) {
	n, err := a.cfg.Store.PurgeSessions(ctx, a.cfg.AdminKeyID, a.cfg.Now())
	if err != nil {
		return 0, fmt.Errorf("purging dashboard sessions: %w", err)
	}
	return n, nil
}
