package store_test

import (
	"context"
	"database/sql"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"

	"github.com/hookline/hookline/internal/pgtest"
	"github.com/hookline/hookline/internal/store/postgres"
	"github.com/hookline/hookline/internal/store/sqlite"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// deliberate lists the differences between the two migration histories
// that are meant, as "table" or "table.column", each with why. Anything
// else one store has and the other lacks is drift, and fails
// TestMigrationsAgree; so does an entry here that is no longer a
// difference.
var deliberate = map[string]string{
	// Each store keeps its own record of what it applied (PostgreSQL
	// names each migration and stamps it; SQLite keeps the version only).
	"schema_migrations": "each store's own bookkeeping of the migrations it applied",
	// Run-once jobs (the retention purge, samples) are claimed among the
	// nodes sharing a PostgreSQL database; a SQLite node is the whole
	// cluster and runs them itself.
	"cluster_jobs": "PostgreSQL only: nodes sharing the database take turns at run-once jobs",
	// PostgreSQL's claim scans a partial index of ready deliveries and
	// skips a disabled endpoint's backlog through this copy of the
	// endpoint's status, kept in step by every write that changes it.
	// SQLite's claim joins endpoints instead (p.status = 'enabled'):
	// the same rule, with nothing to keep in step, so the column would be
	// one nobody reads.
	"deliveries.paused": "PostgreSQL only: the claim's denormalized copy of the endpoint's status",
	// Completions on several nodes would queue behind the lock of one
	// stats row (the total of the current minute); PostgreSQL spreads
	// each row over a few shards that reads sum. SQLite has one writer.
	"attempt_stats.shard": "PostgreSQL only: rows split so that nodes do not contend for one",
	// PostgreSQL's text refuses NUL and invalid UTF-8, which a receiver's
	// answer may hold; SQLite's TEXT keeps the bytes it is given.
	"attempts.response_body": "bytea in PostgreSQL, TEXT in SQLite: both keep the bytes as received",
	// A FIFO endpoint's order is publish order across nodes: creation
	// times from two nodes can tie within a millisecond. A SQLite node is
	// the only process, and its ids sort in the order it made them
	// (hookline.NewID), so created then id is publish order already.
	"deliveries.seq": "PostgreSQL only: publish order across nodes, for FIFO endpoints",
}

// compatible maps a PostgreSQL column type (information_schema's
// data_type) to the SQLite declared type that stores the same values:
// times are Unix milliseconds in SQLite, JSON and arrays are text.
var compatible = map[string]string{
	"text":                     "TEXT",
	"integer":                  "INTEGER",
	"bigint":                   "INTEGER",
	"smallint":                 "INTEGER",
	"boolean":                  "INTEGER",
	"timestamp with time zone": "INTEGER",
	"bytea":                    "BLOB",
	"jsonb":                    "TEXT",
	"ARRAY":                    "TEXT",
	"double precision":         "REAL",
}

// schema is table → column → type, as a database reports it after every
// migration.
type schema map[string]map[string]string

func (s schema) add(table, column, typ string) {
	if s[table] == nil {
		s[table] = map[string]string{}
	}
	s[table][column] = typ
}

// TestMigrationsAgree migrates an empty SQLite and an empty PostgreSQL
// database with each store's migrations and checks that they have the
// same tables, the same columns, and types that hold the same values,
// but for the deliberate differences.
func TestMigrationsAgree(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	lite, pg := sqliteSchema(ctx, t), postgresSchema(ctx, t)

	seen := map[string]bool{}
	differ := func(key, format string, args ...any) {
		t.Helper()
		table, _, _ := strings.Cut(key, ".")
		for _, k := range []string{key, table} { // a table's entry covers its columns
			if _, ok := deliberate[k]; ok {
				seen[k] = true
				return
			}
		}
		t.Errorf(key+": "+format, args...)
	}
	for _, table := range slices.Sorted(maps.Keys(pg)) {
		if lite[table] == nil {
			differ(table, "a PostgreSQL table with no SQLite counterpart")
			continue
		}
		for _, col := range slices.Sorted(maps.Keys(pg[table])) {
			pgType := pg[table][col]
			liteType, ok := lite[table][col]
			switch {
			case !ok:
				differ(table+"."+col, "a PostgreSQL column (%s) with no SQLite counterpart", pgType)
			case compatible[pgType] == "":
				t.Errorf("%s.%s: PostgreSQL type %q has no SQLite counterpart listed in compatible", table, col, pgType)
			case compatible[pgType] != liteType:
				differ(table+"."+col, "PostgreSQL %s but SQLite %s; want SQLite %s", pgType, liteType, compatible[pgType])
			}
		}
	}
	for _, table := range slices.Sorted(maps.Keys(lite)) {
		if pg[table] == nil {
			differ(table, "a SQLite table with no PostgreSQL counterpart")
			continue
		}
		for _, col := range slices.Sorted(maps.Keys(lite[table])) {
			if _, ok := pg[table][col]; !ok {
				differ(table+"."+col, "a SQLite column (%s) with no PostgreSQL counterpart", lite[table][col])
			}
		}
	}
	for key := range deliberate {
		if !seen[key] {
			t.Errorf("%s is listed as a deliberate difference but the two schemas agree on it: take it off the list", key)
		}
	}
}

func sqliteSchema(ctx context.Context, t *testing.T) schema {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hookline.db")
	st, err := sqlite.Open(ctx, path) // applies the migrations
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT m.name, c.name, upper(c.type)
		FROM sqlite_schema m, pragma_table_info(m.name) c
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	return readSchema(t, "SQLite", rows)
}

func postgresSchema(ctx context.Context, t *testing.T) schema {
	t.Helper()
	dsn := pgtest.DSN(t)
	st, err := postgres.Open(ctx, dsn) // applies the migrations
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT table_name, column_name, data_type
		FROM information_schema.columns WHERE table_schema = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	return readSchema(t, "PostgreSQL", rows)
}

// readSchema reads rows of (table, column, type) into a schema.
func readSchema(t *testing.T, db string, rows interface {
	Next() bool
	Scan(...any) error
	Err() error
}) schema {
	t.Helper()
	s := schema{}
	for rows.Next() {
		var table, col, typ string
		if err := rows.Scan(&table, &col, &typ); err != nil {
			t.Fatal(err)
		}
		s.add(table, col, strings.TrimSpace(typ))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(s) == 0 {
		t.Fatalf("the migrated %s database has no tables", db)
	}
	return s
}
