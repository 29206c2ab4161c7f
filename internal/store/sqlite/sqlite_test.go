package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlite"
	"github.com/hookline/hookline/internal/store/storetest"
)

// open returns a store on a new file in tb's temporary directory, closed
// when tb ends.
func open(tb testing.TB, opts sqlite.Options) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.OpenWith(tb.Context(), filepath.Join(tb.TempDir(), "hookline.db"), opts)
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
	storetest.RunSecrets(t, func(t *testing.T, s hookline.SecretSealer) hookline.Store { return open(t, sqlite.Options{Sealer: s}) })
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
