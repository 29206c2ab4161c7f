package app

import (
	"context"

	"github.com/hookline/hookline/internal/hookline"
)

// SecretKeys holds the key that seals secrets at rest (internal/server).
type SecretKeys interface {
	// RotateKey re-seals every secret under a new key, while serving.
	RotateKey(ctx context.Context) (KeyRotation, error)
}

// KeyRotation is the outcome of a key rotation.
type KeyRotation struct {
	KeyID    string `json:"key_id"`   // the new key's id (a hash prefix, not the key)
	Resealed int    `json:"resealed"` // secrets rewritten
	Source   string `json:"source"`   // the key file, or HOOKLINE_SECRET_KEY
	// Skipped names the values that did not open, left as they were
	// (hookline.Resealed.Skipped); while there are any the old keys stay.
	Skipped []string `json:"skipped"`
}

// RotateSecretKey re-seals every secret at rest under a new key. Returns
// EUNAVAILABLE when the server seals nothing, and ECONFLICT when the key
// comes from the environment, which the server cannot change.
func (a *App) RotateSecretKey(ctx context.Context) (KeyRotation, error) {
	if a.cfg.SecretKeys == nil {
		return KeyRotation{}, hookline.Errorf(hookline.EUNAVAILABLE, "this server seals no secrets")
	}
	return a.cfg.SecretKeys.RotateKey(ctx)
}
