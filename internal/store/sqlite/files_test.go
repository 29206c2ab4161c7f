package sqlite_test

import (
	"bytes"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlite"
	"github.com/hookline/hookline/internal/testutil"
)

// The database and its -wal and -shm files are 0600 whether Open creates
// them or finds them wider (and then says so).
func TestFileModes(t *testing.T) {
	t.Parallel()
	for _, existing := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "hookline.db")
		if existing {
			if err := os.WriteFile(path, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, 0o644); err != nil { // past the umask
				t.Fatal(err)
			}
		}
		var logs bytes.Buffer
		s, err := sqlite.OpenWith(t.Context(), path, sqlite.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetSetting(t.Context(), "k", "v"); err != nil { // the WAL exists
			t.Fatal(err)
		}
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("existing=%v: %s has mode %04o, want 0600", existing, filepath.Base(p), st.Mode().Perm())
			}
		}
		if said := strings.Contains(logs.String(), "mode is now 0600"); said != existing {
			t.Errorf("existing=%v: logged a narrowed mode: %v; log:\n%s", existing, said, logs.String())
		}
		s.Close()
	}
}

// A deleted endpoint's secret does not linger in the file's free pages
// (PRAGMA secure_delete).
func TestDeletedSecretIsGone(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookline.db")
	now := time.Now()
	s, ep := openWithEndpoint(t, path, now)
	secret := "whsec_" + strings.Repeat("S3cr3tM4rk", 8)
	ep.Secret = secret
	if err := s.UpdateEndpoint(t.Context(), ep); err != nil {
		t.Fatal(err)
	}
	// Checkpointed, so that the main file held the secret before it is
	// deleted.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); !bytes.Contains(data, []byte(secret)) {
		t.Fatal("the secret is not in the file before it is deleted: the test checks nothing")
	}
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteEndpoint(t.Context(), ep.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal"} {
		data, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("%s still holds the deleted endpoint's secret", filepath.Base(p))
		}
	}
}

// Background flushes that fail are counted and reported until one
// succeeds; the events wait in the journal meanwhile and reach SQLite
// once the database can be written again.
func TestFlushFailures(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "hookline.db")
	var logs testutil.SyncBuffer
	s, err := sqlite.OpenWith(ctx, path, sqlite.Options{BusyTimeout: 20 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	ep := &hookline.Endpoint{ID: hookline.NewID("ep"), URL: "https://example.test/", EnabledEvents: []string{"*"},
		Status: hookline.EndpointEnabled, SignatureScheme: hookline.SchemeStandard, Secret: "whsec_x", Created: now, Updated: now}
	if err := s.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}

	// Another connection holds the write lock longer than the store waits.
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.SetMaxOpenConns(1)
	lock, err := other.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ('lock', 'held')`); err != nil {
		t.Fatal(err)
	}
	ev := &hookline.Event{ID: hookline.NewID("evt"), Type: "a.b", Created: now, Payload: []byte(`{}`)}
	if _, err := s.PublishEvents(ctx, []*hookline.Event{ev}, hookline.PublishOptions{Now: now}); err != nil {
		t.Fatalf("publishing while the database is locked (the journal takes it): %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := s.BackgroundHealth()
		if n > 0 && err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed flush reported: %d, %v", n, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "flushing the journal into SQLite failed") {
		t.Errorf("the failure was not logged:\n%s", logs.String())
	}

	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := s.BackgroundHealth(); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("flushes still reported failing once the lock was released")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Its delivery, leased by nobody, waits in memory for a claim until
	// the event settles (settleAfter), then goes to SQLite.
	for {
		var n int
		err := other.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE id = ?`, ev.ID).Scan(&n)
		if err == nil && n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the event published during the failures is not in SQLite: %d, %v", n, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
