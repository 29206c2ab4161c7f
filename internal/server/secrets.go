package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/seal"
)

// SecretKeyFile is the file in the data directory that keeps the key
// sealing secrets at rest when HOOKLINE_SECRET_KEY is not set: mode 0600,
// made on first start, one hex key a line, the current first.
const SecretKeyFile = "secret_key"

// secretKeys holds the keyring that seals secrets at rest and where its
// keys come from; it rotates them (hookline secrets rotate-key).
type secretKeys struct {
	ring *seal.Keyring
	// file is the key file, "" when the keys come from HOOKLINE_SECRET_KEY.
	file  string
	store hookline.Store
	log   *slog.Logger
	mu    sync.Mutex // one rotation at a time
}

var _ app.SecretKeys = (*secretKeys)(nil)

// loadSecretKeys reads the keys from HOOKLINE_SECRET_KEY (cfg.SecretKey),
// else from the key file in the data directory, made on first start.
func loadSecretKeys(cfg Config) (*secretKeys, error) {
	if cfg.SecretKey != "" {
		keys, err := seal.ParseKeys(cfg.SecretKey)
		if err != nil {
			return nil, fmt.Errorf("HOOKLINE_SECRET_KEY: %w (make one with: openssl rand -hex 32)", err)
		}
		ring, err := seal.NewKeyring(keys...)
		if err != nil {
			return nil, fmt.Errorf("HOOKLINE_SECRET_KEY: %w", err)
		}
		return &secretKeys{ring: ring}, nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("--data %s: %w", cfg.DataDir, err)
	}
	path := filepath.Join(cfg.DataDir, SecretKeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := writeKeyFile(path, seal.NewKey()); err != nil {
			return nil, err
		}
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the secret key: %w", err)
	}
	if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s is readable by others (mode %s): chmod 600 it", path, info.Mode().Perm())
	}
	keys, err := seal.ParseKeys(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ring, err := seal.NewKeyring(keys...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &secretKeys{ring: ring, file: path}, nil
}

// writeKeyFile replaces the key file with keys, the current first, durably:
// a crash leaves the old file or the new one, never neither.
func writeKeyFile(path string, keys ...[]byte) error {
	lines := make([]string, len(keys))
	for i, k := range keys {
		lines[i] = seal.EncodeKey(k)
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("writing the secret key: %w", err)
	}
	_, err = f.WriteString(strings.Join(lines, "\n") + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		if d, derr := os.Open(filepath.Dir(path)); derr == nil {
			err = d.Sync()
			d.Close()
		}
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing the secret key: %w", err)
	}
	return nil
}

// reseal seals, under the current key, whatever the store keeps plain (a
// database from before sealing) or under an older key. A value that does
// not open (sealed under a key this node lacks, copied from another row,
// altered) is left as it is and logged by table, column and row, never its
// value: that endpoint's deliveries fail until its secret is rotated, and
// the rest of the server runs.
func (k *secretKeys) reseal(ctx context.Context) (hookline.Resealed, error) {
	r, err := k.store.ResealSecrets(ctx)
	if err != nil {
		return hookline.Resealed{}, fmt.Errorf("sealing secrets at rest under key %s: %w", k.ring.CurrentID(), err)
	}
	for _, s := range r.Skipped {
		k.log.Warn("a sealed secret does not open and was left as it is: rotate that endpoint's or source's secret", "value", s, "key_id", k.ring.CurrentID())
	}
	return r, nil
}

// RotateKey makes a new current key (with a key file) and re-seals every
// secret under it, while the server runs: the old key keeps opening until
// the re-seal is done, then is dropped, unless a value did not open and
// was skipped: then the old keys stay in the ring and the key file, as
// that value may be one of theirs put back where it was sealed; the answer
// lists what was skipped, and a later rotate-key that skips none drops
// them. With HOOKLINE_SECRET_KEY the
// server cannot change its environment: it re-seals under the first key
// given, so that the others can then be removed.
func (k *secretKeys) RotateKey(ctx context.Context) (app.KeyRotation, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.file == "" && len(k.ring.Keys()) == 1 {
		return app.KeyRotation{}, &hookline.Error{Code: hookline.ECONFLICT, Message: "this server's key comes from HOOKLINE_SECRET_KEY, " +
			"which it cannot change: put a new key before the old one (HOOKLINE_SECRET_KEY=<new>,<old>; make one with openssl rand -hex 32), " +
			"and restart every node with it (each start re-seals every secret under the first key), then drop the old key"}
	}
	if k.file != "" {
		next := seal.NewKey()
		if err := writeKeyFile(k.file, append([][]byte{next}, k.ring.Keys()...)...); err != nil {
			return app.KeyRotation{}, err
		}
		if err := k.ring.Rotate(next); err != nil {
			return app.KeyRotation{}, err
		}
	}
	r, err := k.reseal(ctx)
	if err != nil {
		return app.KeyRotation{}, err
	}
	if len(r.Skipped) == 0 {
		k.ring.Retire()
	}
	if k.file != "" {
		if err := writeKeyFile(k.file, k.ring.Keys()...); err != nil {
			return app.KeyRotation{}, err
		}
	}
	k.log.Info("secrets re-sealed under a new key", "key_id", k.ring.CurrentID(), "resealed", r.Count,
		"skipped", len(r.Skipped), "old_keys_kept", len(r.Skipped) > 0)
	out := app.KeyRotation{KeyID: k.ring.CurrentID(), Resealed: r.Count, Source: "HOOKLINE_SECRET_KEY", Skipped: r.Skipped}
	if k.file != "" {
		out.Source = k.file
	}
	return out, nil
}
