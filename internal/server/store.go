package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/postgres"
	"github.com/hookline/hookline/internal/store/sqlite"
)

// ScaleOut is the part of Config that chooses the database and tunes a
// node that shares it with others. It is embedded in Config.
type ScaleOut struct {
	// DB is the database: empty for the SQLite file in DataDir, or a
	// postgres:// (postgresql://) URL, which any number of nodes may share
	// (HOOKLINE_DB).
	DB string
	// NoJournal makes the SQLite store write publishes straight into the
	// database, without its journal (sqlite.Options.NoJournal): for
	// measuring what the journal gains.
	NoJournal bool
	// NoMigrate leaves the PostgreSQL schema alone at start, for
	// deployments that run `hookline migrate` as a step of their own.
	// SQLite is always migrated: its file belongs to this one process.
	NoMigrate bool
	// Retention is how long events, deliveries, attempts and the like are
	// kept; zero or negative keeps everything. `hookline serve` defaults it
	// to DefaultRetention.
	Retention time.Duration
	// Lease is how long a claimed delivery stays this node's before
	// another may take it; default the engine's (2×Timeout + 30 s). A dead
	// node's work is picked up this long after it died.
	Lease time.Duration
}

// DefaultRetention is how long data is kept unless --retention says else.
const DefaultRetention = 30 * 24 * time.Hour

// UsesPostgres reports whether db names a PostgreSQL database: a
// postgres:// or postgresql:// URL, or a libpq keyword/value string
// ("host=… dbname=…").
func UsesPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") || keywordDSN.MatchString(db)
}

var keywordDSN = regexp.MustCompile(`^\s*[a-z_]+\s*=`)

func (s *ScaleOut) validate(timeout time.Duration) error {
	if s.DB != "" && !UsesPostgres(s.DB) {
		return fmt.Errorf("--db %q: want a postgres:// URL (or libpq key=value string), or nothing for SQLite in --data", redactDSN(s.DB))
	}
	if s.Lease != 0 && s.Lease < timeout+time.Second {
		return fmt.Errorf("--lease %s: must be at least --timeout plus 1s (%s), or an attempt could outlive its lease", s.Lease, timeout+time.Second)
	}
	return nil
}

// kvPassword is the password of a libpq key=value DSN, quoted or not.
var kvPassword = regexp.MustCompile(`(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// redactDSN hides a password in a DSN for messages, in the URL form
// (user:password@) and in the key=value form (password=…).
func redactDSN(dsn string) string {
	dsn = kvPassword.ReplaceAllString(dsn, "${1}xxxxx")
	if i := strings.Index(dsn, "://"); i >= 0 {
		if at := strings.LastIndex(dsn, "@"); at > i {
			if colon := strings.Index(dsn[i+3:at], ":"); colon >= 0 {
				return dsn[:i+3+colon+1] + "xxxxx" + dsn[at:]
			}
		}
	}
	return dsn
}

// openStore opens the database cfg names. SQLite lives in the data
// directory, which it locks, so that two servers never share the file;
// PostgreSQL needs no data directory, and its schema is migrated unless
// cfg.NoMigrate. The returned func closes the store and unlocks.
func openStore(ctx context.Context, cfg Config, log *slog.Logger, sealer hookline.SecretSealer) (hookline.Store, func(), error) {
	if UsesPostgres(cfg.DB) {
		// The pool is sized by the store (postgres.DefaultMaxConns).
		s, err := postgres.OpenWith(ctx, cfg.DB, postgres.Options{SkipMigrate: cfg.NoMigrate, Sealer: sealer})
		if err != nil {
			return nil, nil, fmt.Errorf("--db %s: %w", redactDSN(cfg.DB), err)
		}
		return s, func() { s.Close() }, nil
	}
	if err := privateDir(cfg.DataDir, log); err != nil {
		return nil, nil, err
	}
	unlock, err := lockDir(cfg.DataDir)
	if err != nil {
		return nil, nil, err
	}
	s, err := sqlite.OpenWith(ctx, filepath.Join(cfg.DataDir, "hookline.db"), sqlite.Options{NoJournal: cfg.NoJournal, Logger: log, Sealer: sealer})
	if err != nil {
		unlock()
		return nil, nil, fmt.Errorf("opening the database in %s: %w", cfg.DataDir, err)
	}
	return s, func() { s.Close(); unlock() }, nil
}

// privateDir makes the data directory with mode 0700, or narrows the mode
// of one that exists with a wider one, saying so: it holds the database,
// the journal and the API key.
func privateDir(dir string, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("--data %s: %w", dir, err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("--data %s: %w", dir, err)
	}
	if st.Mode().Perm()&^0o700 == 0 {
		return nil
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("--data %s: narrowing its mode to 0700: %w", dir, err)
	}
	log.Warn("data directory was open to others; its mode is now 0700", "dir", dir, "was", fmt.Sprintf("%04o", st.Mode().Perm()))
	return nil
}

// tuneRuntime gives the process one Go processor (P) more than it has
// CPUs for when the store asks for it: the SQLite store flushes on a
// low-priority thread, and the P that thread holds while the kernel runs
// the others first would otherwise be missing for requests and attempts.
// Setting it stops the runtime from following later changes of the
// container's CPU limit, so it is only done for a process `hookline serve`
// owns and whose GOMAXPROCS is not set (cfg.TuneRuntime).
func tuneRuntime(cfg Config, t hookline.Tuning) {
	if cfg.TuneRuntime && t.SpareProcessor {
		runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + 1)
	}
}

// Migrate brings the schema of the database cfg names up to date and
// returns the versions of the migrations it applied, none on an up-to-date
// database, which it leaves unchanged. For SQLite it takes the data
// directory's lock, so it refuses to run beside a server.
func Migrate(ctx context.Context, cfg Config) ([]string, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if UsesPostgres(cfg.DB) {
		s, err := postgres.OpenWith(ctx, cfg.DB, postgres.Options{SkipMigrate: true})
		if err != nil {
			return nil, fmt.Errorf("--db %s: %w", redactDSN(cfg.DB), err)
		}
		defer s.Close()
		return s.Migrate(ctx)
	}
	// Opening the SQLite store migrates it; migrating reads no secret.
	store, closeStore, err := openStore(ctx, cfg, slog.New(slog.DiscardHandler), hookline.PlainSecrets{})
	if err != nil {
		return nil, err
	}
	defer closeStore()
	return store.(*sqlite.Store).Migrated(), nil
}

// apiKeySetting keeps the SHA-256 (hex) of the admin API key in a shared
// database, where nodes without a data directory of their own find it.
const apiKeySetting = "server.api_key_sha256"

// nodeAPIKey returns the SHA-256 of the admin API key. With a database of
// its own (SQLite), or with HOOKLINE_API_KEY set, it is apiKey's. With a
// shared one (PostgreSQL, hookline.Tuning.Shared) and no
// HOOKLINE_API_KEY, the key's hash is kept in the database: the first node
// makes a key, stores its hash and prints the key once; the others use the
// stored hash.
func nodeAPIKey(ctx context.Context, cfg Config, store hookline.Store, stdout io.Writer) ([32]byte, error) {
	if !hookline.TuningOf(store).Shared || cfg.APIKey != "" {
		return apiKey(cfg, stdout)
	}
	stored := func() ([32]byte, bool, error) {
		v, err := store.Setting(ctx, apiKeySetting)
		if hookline.ErrorCode(err) == hookline.ENOTFOUND {
			return [32]byte{}, false, nil
		}
		if err != nil {
			return [32]byte{}, false, fmt.Errorf("reading the API key's hash: %w", err)
		}
		var h [32]byte
		if b, err := hex.DecodeString(v); err != nil || len(b) != len(h) {
			return h, false, fmt.Errorf("setting %s is not a SHA-256 in hex", apiKeySetting)
		} else {
			copy(h[:], b)
		}
		return h, true, nil
	}
	if h, ok, err := stored(); ok || err != nil {
		return h, err
	}
	key := NewAPIKey()
	h := sha256.Sum256([]byte(key))
	// Two nodes starting at once may both get here; the last write wins,
	// and only the node whose hash is read back prints its key.
	if err := store.SetSetting(ctx, apiKeySetting, hex.EncodeToString(h[:])); err != nil {
		return h, fmt.Errorf("storing the API key's hash: %w", err)
	}
	got, ok, err := stored()
	if err != nil {
		return got, err
	}
	if !ok {
		return got, errors.New("the API key's hash vanished as it was stored")
	}
	if got == h {
		fmt.Fprintf(stdout, "Your API key (shown once; only its hash is kept, in the database): %s\n", key)
	}
	return got, nil
}
