package postgres

import (
	"context"
	"testing"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/pgtest"
	"github.com/hookline/hookline/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// open returns a store on a fresh database, closed when t ends.
func open(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := OpenWith(context.Background(), pgtest.DSN(t), opts)
	if err != nil {
		t.Fatalf("OpenWith: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) hookline.Store { return open(t, Options{Sealer: storetest.NewTestSealer(t)}) })
	storetest.RunSecrets(t, func(t *testing.T, s hookline.SecretSealer) hookline.Store { return open(t, Options{Sealer: s}) }, endpointsAsText, storetest.RawRows{
		Value: func(t *testing.T, s hookline.Store, table, column, id string) string {
			var v string
			if err := s.(*Store).pool.QueryRow(t.Context(), `SELECT `+column+`::text FROM `+table+` WHERE id = $1`, id).Scan(&v); err != nil {
				t.Fatalf("reading %s.%s of %s: %v", table, column, id, err)
			}
			return v
		},
		SetValue: func(t *testing.T, s hookline.Store, table, column, id, value string) {
			// The text is cast to the column's type (jsonb for headers).
			q := `UPDATE ` + table + ` SET ` + column + ` = $1 WHERE id = $2`
			if column == "headers" {
				q = `UPDATE ` + table + ` SET ` + column + ` = $1::jsonb WHERE id = $2`
			}
			if _, err := s.(*Store).pool.Exec(t.Context(), q, value, id); err != nil {
				t.Fatalf("writing %s.%s of %s: %v", table, column, id, err)
			}
		},
	})
}

// endpointsAsText is the endpoints table as PostgreSQL writes its rows as
// text: what a dump of the database shows.
func endpointsAsText(t *testing.T, s hookline.Store) []byte {
	t.Helper()
	var text string
	err := s.(*Store).pool.QueryRow(t.Context(), `SELECT coalesce(string_agg(e::text, E'\n'), '') FROM endpoints e`).Scan(&text)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(text)
}

// TestDurability: what a call made durable is visible to a new store on the
// same database, as after a crash of the first one's process.
func TestDurability(t *testing.T) {
	t.Parallel()
	storetest.RunDurability(t, func(t *testing.T) (hookline.Store, func(t *testing.T) hookline.Store) {
		dsn := pgtest.DSN(t)
		openDSN := func(t *testing.T) hookline.Store {
			s, err := OpenWith(context.Background(), dsn, Options{})
			if err != nil {
				t.Fatalf("OpenWith: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
		return openDSN(t), openDSN
	})
}
