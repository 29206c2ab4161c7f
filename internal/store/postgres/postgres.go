package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlcore"
)

var _ hookline.Store = (*Store)(nil)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrateLockKey is the advisory lock Migrate holds, so that nodes starting
// at once apply the migrations one after the other. Any constant does; this
// one spells "hookline" in ASCII.
const migrateLockKey int64 = 0x686f6f6b6c696e65

// Options tune OpenWith. The zero value is the recommended setting.
type Options struct {
	// SkipMigrate leaves the schema alone; call Migrate separately (for
	// example from a deploy step, or from one node only).
	SkipMigrate bool
	// MaxConns caps the connection pool. Default DefaultMaxConns, unless
	// the DSN sets pool_max_conns.
	MaxConns int32
	// Now stamps the Updated times of writes whose caller gives no time.
	// Default time.Now.
	Now func() time.Time
	// Sealer seals endpoint and source secrets, and endpoints' static
	// header values, at rest. Default hookline.PlainSecrets (none).
	Sealer hookline.SecretSealer
}

// DefaultMaxConns is the pool's size unless the DSN or Options say: the
// store's own tuning, as its Committers are. pgxpool's default (4
// connections on a small machine) is too few for several committers, the
// claimer and the completer; the connections are opened as they are
// needed.
const DefaultMaxConns = 24

// Store is a hookline.Store on a PostgreSQL database. It is safe for
// concurrent use, and several Stores (in one process or on several nodes)
// may share one database.
type Store struct {
	// Shared is the SQL both stores share (internal/store/sqlcore, wired
	// in shared.go): retention (PurgeBefore), the statistics
	// (AttemptStats, EndpointStats, RecordBacklog, BacklogStats,
	// PruneStats) and inbound capture (CaptureRequest).
	*sqlcore.Shared

	pool *pgxpool.Pool
	now  func() time.Time
	seal hookline.SecretSealer
}

// Open connects to the database at dsn (a URL or keyword/value string, as
// libpq takes) and brings its schema up to date.
func Open(ctx context.Context, dsn string) (*Store, error) {
	return OpenWith(ctx, dsn, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("opening postgres store: parsing DSN: %w", err)
	}
	switch {
	case opts.MaxConns > 0:
		cfg.MaxConns = opts.MaxConns
	case !strings.Contains(dsn, "pool_max_conns"):
		cfg.MaxConns = DefaultMaxConns
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("opening postgres store: %w", err)
	}
	if opts.Sealer == nil {
		opts.Sealer = hookline.PlainSecrets{}
	}
	s := &Store{Shared: shared(pool, opts.Now, opts.Sealer), pool: pool, now: opts.Now, seal: opts.Sealer}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("opening postgres store: connecting: %w", err)
	}
	if !opts.SkipMigrate {
		if _, err := s.Migrate(ctx); err != nil {
			pool.Close()
			return nil, fmt.Errorf("opening postgres store: %w", err)
		}
	}
	return s, nil
}

// Close closes the pool, waiting for connections in use to be returned.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// migration is one embedded schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order. Their files
// are named NNNN_name.sql.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("listing migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a version number and _", e.Name())
		}
		b, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("reading migration %s: %w", e.Name(), err)
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s share a version", out[i-1].name, out[i].name)
		}
	}
	return out, nil
}

// Migrate applies the migrations the database has not had yet, each in its
// own transaction, and records them in schema_migrations. It holds an
// advisory lock meanwhile, so concurrent calls (two nodes starting at once)
// apply each migration once; on an up-to-date database it changes nothing.
// It returns the names of the migrations it applied, in order.
func (s *Store) Migrate(ctx context.Context) ([]string, error) {
	ms, err := migrations()
	if err != nil {
		return nil, err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrating: acquiring a connection: %w", err)
	}
	defer conn.Release()
	// A session lock, not a transaction one: each migration commits on its
	// own, and the lock must span them all.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrateLockKey); err != nil {
		return nil, fmt.Errorf("migrating: taking the migration lock: %w", err)
	}
	defer func() {
		// With a dead connection the lock went with the session anyway.
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrateLockKey)
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY,
		name    text NOT NULL,
		applied timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return nil, fmt.Errorf("migrating: creating schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	rows, err := conn.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("migrating: reading schema_migrations: %w", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("migrating: reading schema_migrations: %w", err)
	}
	for _, v := range versions {
		applied[v] = true
	}
	var done []string
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			// No arguments: pgx sends it with the simple protocol, which
			// takes several statements at once.
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("migrating: applying %s: %w", m.name, err)
		}
		done = append(done, strings.TrimSuffix(m.name, ".sql"))
	}
	return done, nil
}

// translate maps driver errors to hookline errors at the boundary
// (sqlcore.Translate): pgx.ErrNoRows becomes ENOTFOUND, a unique violation
// ECONFLICT, and text PostgreSQL cannot store (NUL, bytes that are not
// UTF-8: SQLite stores both) EINVALID, a backstop to the checks where
// input enters.
func translate(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "22021" || pe.Code == "22P05") { // character_not_in_repertoire, untranslatable_character
		return hookline.Invalid("", "a value holds text PostgreSQL cannot store: %s", pe.Message)
	}
	return sqlcore.Translate(err, pgx.ErrNoRows, func(err error) (string, bool) {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" { // unique_violation
			return pe.Detail, true
		}
		return "", false
	})
}

// ts returns a time as a query argument: NULL for the zero time, otherwise
// truncated to the millisecond, the precision the SQLite store keeps, so
// that both stores give back the same times.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Truncate(time.Millisecond)
}

// msTime truncates a time for an array argument (see ts).
func msTime(t time.Time) time.Time { return t.Truncate(time.Millisecond) }

// fromTS is the inverse of ts, in UTC.
func fromTS(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// collect reads every row with scan and closes rows (pgx.AppendRows; nil
// for no rows, as the SQLite store gives).
func collect[T any](rows pgx.Rows, scan func(pgx.Row) (T, error)) ([]T, error) {
	return pgx.AppendRows([]T(nil), rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
}

// Describe names the database a DSN points at, for a server's start-up
// line: "PostgreSQL database <name> on <host>:<port> as <user>". It never
// includes the password, whichever form (URL or key=value) the DSN has.
func Describe(dsn string) string {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return "a PostgreSQL database"
	}
	host := cfg.Host
	if strings.HasPrefix(host, "/") {
		host = "socket " + host // a Unix socket directory
	}
	return fmt.Sprintf("PostgreSQL database %s on %s:%d as %s", cfg.Database, host, cfg.Port, cfg.User)
}

var _ hookline.Tuned = (*Store)(nil)

// Tuning declares how to drive the store: a few publish transactions at
// once (PostgreSQL takes concurrent writers), without lingering, on a
// database other nodes may share. Its pool size is DefaultMaxConns.
func (s *Store) Tuning() hookline.Tuning {
	return hookline.Tuning{Committers: 4, Shared: true}
}
