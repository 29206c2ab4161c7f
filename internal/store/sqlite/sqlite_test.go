package sqlite_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlite"
	"github.com/hookline/hookline/internal/store/storetest"
)

// open returns a store on a new file in tb's temporary directory, closed
// when tb ends.
func open(tb testing.TB, opts sqlite.Options) *sqlite.Store {
	tb.Helper()
	return openAt(tb, filepath.Join(tb.TempDir(), "hookline.db"), opts)
}

// openAt returns a store on the file at path, closed when tb ends.
func openAt(tb testing.TB, path string, opts sqlite.Options) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.OpenWith(tb.Context(), path, opts)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) hookline.Store { return open(t, sqlite.Options{Sealer: storetest.NewTestSealer(t)}) })
	var paths sync.Map // each store's database file
	storetest.RunSecrets(t, func(t *testing.T, sealer hookline.SecretSealer) hookline.Store {
		path := filepath.Join(t.TempDir(), "hookline.db")
		s := openAt(t, path, sqlite.Options{Sealer: sealer})
		paths.Store(s, path)
		return s
	}, func(t *testing.T, s hookline.Store) []byte {
		path, _ := paths.Load(s)
		return filesAtRest(t, path.(string))
	}, storetest.RawRows{
		Value: func(t *testing.T, s hookline.Store, table, column, id string) string {
			v, err := sqlite.QueryBehindBack(s.(*sqlite.Store), `SELECT CAST(`+column+` AS TEXT) FROM `+table+` WHERE id = ?`, id)
			if err != nil {
				t.Fatalf("reading %s.%s of %s: %v", table, column, id, err)
			}
			return v
		},
		SetValue: func(t *testing.T, s hookline.Store, table, column, id, value string) {
			if err := sqlite.ExecBehindBack(s.(*sqlite.Store), `UPDATE `+table+` SET `+column+` = ? WHERE id = ?`, value, id); err != nil {
				t.Fatalf("writing %s.%s of %s: %v", table, column, id, err)
			}
		},
	})
}

// filesAtRest is every file of the database at path (the database, its
// WAL, the journal): what `strings hookline.db*` reads.
func filesAtRest(t *testing.T, path string) []byte {
	t.Helper()
	paths, err := filepath.Glob(path + "*")
	if err != nil || len(paths) == 0 {
		t.Fatalf("the database files: %v, %v", paths, err)
	}
	var out []byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}

// TestDurability runs the contract's crash checks with the background
// flushes paused, so that what the crash copy holds is in the journal
// alone, and without the journal.
func TestDurability(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts sqlite.Options
	}{{"journal", sqlite.Options{}}, {"no journal", sqlite.Options{NoJournal: true}}} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.RunDurability(t, func(t *testing.T) (hookline.Store, func(t *testing.T) hookline.Store) {
				dir := t.TempDir()
				s, err := sqlite.OpenWith(t.Context(), filepath.Join(dir, "hookline.db"), tc.opts)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				if !tc.opts.NoJournal {
					sqlite.PauseFlushes(s)
				}
				return s, func(t *testing.T) hookline.Store {
					r, err := sqlite.OpenWith(t.Context(), filepath.Join(crashCopy(t, dir), "hookline.db"), tc.opts)
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { r.Close() })
					return r
				}
			})
		})
	}
}

// TestConformanceWithoutJournal keeps Options.NoJournal, the baseline of
// BenchmarkRelayJournal, a store that works.
func TestConformanceWithoutJournal(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) hookline.Store { return open(t, sqlite.Options{NoJournal: true}) })
}

func BenchmarkStore(b *testing.B) {
	b.Run("sync=FULL", func(b *testing.B) {
		storetest.Bench(b, func(b *testing.B) hookline.Store { return open(b, sqlite.Options{}) })
	})
	b.Run("sync=NORMAL", func(b *testing.B) {
		storetest.Bench(b, func(b *testing.B) hookline.Store { return open(b, sqlite.Options{Synchronous: sqlite.SyncNormal}) })
	})
}
