package pgtest

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

// TestDSNGivesFreshDatabases checks that parallel callers each get their own
// empty, writable database.
func TestDSNGivesFreshDatabases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const n = 4
	dsns := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { dsns[i] = DSN(t) })
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, dsn := range dsns {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatalf("connecting to %s: %v", dsn, err)
		}
		var db string
		var tables int
		if err := conn.QueryRow(ctx, "SELECT current_database(), (SELECT count(*) FROM pg_tables WHERE schemaname = 'public')").Scan(&db, &tables); err != nil {
			t.Fatal(err)
		}
		if seen[db] {
			t.Errorf("database %s handed out twice", db)
		}
		seen[db] = true
		if tables != 0 {
			t.Errorf("database %s has %d tables, want an empty one", db, tables)
		}
		if _, err := conn.Exec(ctx, "CREATE TABLE t (x int)"); err != nil {
			t.Errorf("creating a table in %s: %v", db, err)
		}
		conn.Close(ctx)
	}
}

func TestWithDatabase(t *testing.T) {
	t.Parallel()
	tests := []struct{ dsn, db, want string }{
		{"postgres://u:p@127.0.0.1:5432/app?sslmode=disable", "x", "postgres://u:p@127.0.0.1:5432/x?sslmode=disable"},
		{"postgresql://127.0.0.1/", "x", "postgresql://127.0.0.1/x"},
		{"host=/tmp port=5432 dbname=app", "x", "host=/tmp port=5432 dbname=app dbname=x"},
	}
	for _, tt := range tests {
		got, err := withDatabase(tt.dsn, tt.db)
		if err != nil || got != tt.want {
			t.Errorf("withDatabase(%q, %q) = %q, %v; want %q", tt.dsn, tt.db, got, err, tt.want)
		}
		cfg, err := pgx.ParseConfig(got)
		if err != nil || cfg.Database != tt.db {
			t.Errorf("%q parses to database %q (%v), want %q", got, cfg.Database, err, tt.db)
		}
	}
}

func BenchmarkCreateDatabase(b *testing.B) {
	srv, err := sharedServer()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		dsn, err := srv.CreateDatabase(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := srv.DropDatabase(ctx, dsn); err != nil {
			b.Fatal(err)
		}
	}
}
