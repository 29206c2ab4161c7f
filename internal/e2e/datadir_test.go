package e2e

import (
	"database/sql"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver, to lock the node's database from outside
)

// A data directory open to others is narrowed to 0700 at start, with a
// log line; the database files in it are 0600.
func TestDataDirModes(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // past the umask
		t.Fatal(err)
	}
	n := startNode(t, dir, "--dev")
	n.createEndpoint(map[string]any{"url": "http://127.0.0.1:9/hook"})
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Errorf("data directory mode %04o, want 0700", st.Mode().Perm())
	}
	if !strings.Contains(n.stderr.String(), "its mode is now 0700") {
		t.Errorf("no log line about the narrowed mode:\n%s", n.stderr)
	}
	for _, name := range []string{"hookline.db", "hookline.db-wal", "hookline.db-shm", "api_key"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if os.IsNotExist(err) && name == "api_key" {
			continue // HOOKLINE_API_KEY is set
		}
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", name, st.Mode().Perm())
		}
	}
}

// While the journal cannot be flushed into SQLite, /healthz answers 503
// with the reason, /metrics counts the failures and the log says so; once
// the database can be written again, all is well and nothing was lost.
func TestFlushFailuresShow(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), "--dev")
	rc := newReceiver(t)
	n.createEndpoint(map[string]any{"url": rc.URL})

	// Another process's write lock makes every write wait out the busy
	// timeout (5 s) and fail.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(n.DataDir, "hookline.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	lock, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.Exec(`INSERT INTO settings (name, value) VALUES ('test.lock', 'held')`); err != nil {
		t.Fatal(err)
	}
	ev := n.publish("flush.blocked", map[string]any{"n": 1}) // the journal takes it
	var body string
	waitFor(t, 30*time.Second, "/healthz to answer 503", func() bool {
		resp, err := http.Get(n.URL + "/healthz")
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		return resp.StatusCode == 503
	})
	if !strings.Contains(body, `"status":"failing"`) || !strings.Contains(body, "background writes fail") {
		t.Errorf("/healthz body %s, want the reason", body)
	}
	if !strings.Contains(n.stderr.String(), "flushing the journal into SQLite failed") {
		t.Errorf("the failure was not logged:\n%s", n.stderr)
	}
	resp, err := http.Get(n.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(metrics), "hookline_store_flush_errors_total 0") || !strings.Contains(string(metrics), "hookline_store_flush_errors_total ") {
		t.Errorf("/metrics does not count the failed flushes:\n%s", grepLines(string(metrics), "flush"))
	}

	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "/healthz to answer 200 again", func() bool {
		resp, err := http.Get(n.URL + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	waitFor(t, 30*time.Second, "the event published meanwhile to be delivered and on record", func() bool {
		as := n.attempts("/v1/events/" + ev.ID + "/attempts")
		return len(as) > 0 && as[0].ResponseStatus == 200
	})
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
