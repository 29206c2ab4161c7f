package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/pgtest"
)

// postgresDSN returns a fresh database for t: on the server named by
// HOOKLINE_TEST_PG when set, else on a throwaway server started for t alone
// (this package's TestMain does not run pgtest.Main).
func postgresDSN(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	var (
		srv *pgtest.Server
		err error
	)
	if dsn := os.Getenv(pgtest.EnvDSN); dsn != "" {
		srv, err = pgtest.Connect(ctx, dsn)
	} else {
		srv, err = pgtest.Start(ctx)
	}
	if err != nil {
		if os.Getenv(pgtest.EnvSkip) == "1" {
			t.Skipf("skipping: %v", err)
		}
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() { srv.Stop() })
	dsn, err := srv.CreateDatabase(ctx)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return dsn
}

// clusterReceiver is an endpoint that records every delivery by webhook-id
// (the event id) and notices when two requests for the same event overlap,
// which would mean two nodes held the same delivery at once.
type clusterReceiver struct {
	URL      string
	delay    time.Duration
	mu       sync.Mutex
	inflight map[string]bool
	got      map[string]int // event id → 2xx answers
	requests atomic.Int64
	overlaps atomic.Int64
}

func newClusterReceiver(t *testing.T, delay time.Duration) *clusterReceiver {
	t.Helper()
	rc := &clusterReceiver{delay: delay, inflight: map[string]bool{}, got: map[string]int{}}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		id := r.Header.Get("webhook-id")
		rc.requests.Add(1)
		rc.mu.Lock()
		if rc.inflight[id] {
			rc.overlaps.Add(1)
		}
		rc.inflight[id] = true
		rc.mu.Unlock()
		// A little work, so that overlapping requests would be seen.
		work := time.NewTimer(rc.delay + time.Duration(rand.Int64N(int64(rc.delay)+1)))
		defer work.Stop()
		delivered := true
		select {
		case <-work.C:
		case <-r.Context().Done():
			// The sender died mid-request: it never learned of a success,
			// so this is no delivery, and it must be made again.
			delivered = false
		}
		rc.mu.Lock()
		delete(rc.inflight, id)
		if delivered {
			rc.got[id]++
		}
		rc.mu.Unlock()
		w.WriteHeader(200)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	rc.URL = "http://" + ln.Addr().String() + "/hook"
	return rc
}

// missing returns how many of ids the receiver has not had a 2xx for.
func (rc *clusterReceiver) missing(ids []string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := 0
	for _, id := range ids {
		if rc.got[id] == 0 {
			n++
		}
	}
	return n
}

func (rc *clusterReceiver) duplicates() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := 0
	for _, c := range rc.got {
		n += c - 1
	}
	return n
}

// clusterArgs are the flags of a node in these tests: a short lease, so
// that a dead node's work is picked up within seconds.
func clusterArgs(dsn string) []string {
	return []string{"--db", dsn, "--dev", "--timeout", "2s", "--lease", "4s", "--log-level", "warn",
		"--retry-schedule", "300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms"}
}

// publishTo publishes one event through base and returns its id, or ""
// when the node did not accept it.
func publishTo(c *http.Client, base, typ string, i int) string {
	body := fmt.Sprintf(`{"type":%q,"data":{"i":%d}}`, typ, i)
	req, _ := http.NewRequest("POST", base+"/v1/events", bytes.NewBufferString(body))
	req.Header.Set("Authorization", "Bearer "+testAPIKey)
	resp, err := c.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var e event
	if resp.StatusCode != 201 || json.NewDecoder(resp.Body).Decode(&e) != nil {
		return ""
	}
	return e.ID
}

// Two nodes on one database: events published through either reach every
// matching endpoint, and no delivery is in flight from both at once.
func TestClusterSharesWork(t *testing.T) {
	t.Parallel()
	dsn := postgresDSN(t)
	a := startNode(t, t.TempDir(), clusterArgs(dsn)...)
	b := startNode(t, t.TempDir(), clusterArgs(dsn)...)
	all := newClusterReceiver(t, 2*time.Millisecond)
	orders := newClusterReceiver(t, 2*time.Millisecond)
	a.createEndpoint(map[string]any{"url": all.URL})
	// Created through the other node: endpoints are shared too.
	b.createEndpoint(map[string]any{"url": orders.URL, "enabled_events": []string{"order.*"}})

	const perWorker = 60
	var (
		mu              sync.Mutex
		allIDs, ordered []string
		wg              sync.WaitGroup
	)
	c := &http.Client{Timeout: 10 * time.Second}
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			node := []*node{a, b}[w%2]
			for i := range perWorker {
				typ := []string{"order.created", "user.created"}[i%2]
				id := publishTo(c, node.URL, typ, i)
				if id == "" {
					t.Errorf("publishing through node %d failed", w%2)
					return
				}
				mu.Lock()
				allIDs = append(allIDs, id)
				if typ == "order.created" {
					ordered = append(ordered, id)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// Either node serves any event, whichever took it.
	a.must(200, "GET", "/v1/events/"+allIDs[1], nil, nil)
	b.must(200, "GET", "/v1/events/"+allIDs[0], nil, nil)

	waitFor(t, 60*time.Second, "every event at every matching endpoint", func() bool {
		return all.missing(allIDs) == 0 && orders.missing(ordered) == 0
	})
	t.Logf("%d events; %d and %d requests; %d and %d duplicates", len(allIDs),
		all.requests.Load(), orders.requests.Load(), all.duplicates(), orders.duplicates())
	if n := all.overlaps.Load() + orders.overlaps.Load(); n != 0 {
		t.Errorf("%d requests overlapped another for the same event: two nodes held one delivery", n)
	}
	if got := orders.requests.Load(); got < int64(len(ordered)) {
		t.Errorf("order endpoint got %d requests for %d order events", got, len(ordered))
	}
	// The order endpoint got no user.created event: fan-out matched.
	orders.mu.Lock()
	extra := len(orders.got) - len(ordered)
	orders.mu.Unlock()
	if extra != 0 {
		t.Errorf("order endpoint got %d events it does not subscribe to", extra)
	}
}

// One of two nodes is killed with SIGKILL in the middle of the load: the
// survivor delivers everything either node accepted, once its leases lapse.
func TestClusterSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	dsn := postgresDSN(t)
	a := startNode(t, t.TempDir(), clusterArgs(dsn)...)
	b := startNode(t, t.TempDir(), clusterArgs(dsn)...)
	// A slow endpoint with room for many deliveries at once, so that the
	// victim holds many leased deliveries when it dies (the default cap of
	// the endpoint's concurrency, over both nodes, would leave it few).
	rc := newClusterReceiver(t, 100*time.Millisecond)
	a.createEndpoint(map[string]any{"url": rc.URL, "max_concurrency": 200})

	var (
		mu       sync.Mutex
		accepted []string
		viaA     atomic.Int64
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	c := &http.Client{Timeout: 10 * time.Second}
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				n := []*node{a, b}[w%2]
				if id := publishTo(c, n.URL, "load.test", i); id != "" {
					if n == a {
						viaA.Add(1)
					}
					mu.Lock()
					accepted = append(accepted, id)
					mu.Unlock()
				} else {
					time.Sleep(5 * time.Millisecond) // a dead node: not accepted
				}
			}
		}()
	}
	waitFor(t, 30*time.Second, "load on both nodes", func() bool { return viaA.Load() > 300 })
	// Either node may claim what either accepted, so load through the
	// victim is no proof that it holds work: wait until both nodes hold
	// leases, then kill at once (each attempt lasts 100 ms).
	db, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	waitFor(t, 30*time.Second, "both nodes to hold leased deliveries", func() bool {
		var owners int
		err := db.QueryRow(context.Background(), `SELECT count(DISTINCT lease_owner) FROM deliveries
			WHERE lease_owner <> '' AND lease_expires > now()`).Scan(&owners)
		return err == nil && owners == 2
	})
	a.kill()
	killedAt := viaA.Load()
	mu.Lock()
	pendingAtKill := rc.missing(accepted)
	mu.Unlock()
	time.Sleep(time.Second) // the survivor keeps taking events
	stop.Store(true)
	wg.Wait()

	mu.Lock()
	ids := append([]string(nil), accepted...)
	mu.Unlock()
	t.Logf("%d events accepted, %d through the killed node; %d not yet delivered at the kill", len(ids), killedAt, pendingAtKill)
	waitFor(t, 60*time.Second, "the survivor to deliver every accepted event", func() bool { return rc.missing(ids) == 0 })
	if n := rc.overlaps.Load(); n != 0 {
		t.Errorf("%d requests overlapped another for the same event", n)
	}
	// The survivor still answers, and saw what the dead node published.
	b.must(200, "GET", "/v1/events/"+ids[0], nil, nil)
	// The dead node's attempts in flight were never recorded: the survivor
	// made them again once their leases lapsed (at least once, not lost).
	t.Logf("%d requests for %d events (%d answered twice)", rc.requests.Load(), len(ids), rc.duplicates())
	if rc.requests.Load() <= int64(len(ids)) {
		t.Error("nothing was redelivered: the killed node held no work, so the test proved nothing")
	}
}

// runHookline runs the binary to completion and returns its output.
func runHookline(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "HOOKLINE_API_KEY="+testAPIKey)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// hookline migrate brings an empty database up to date, and running it
// again (or starting a node) changes nothing; a node told not to migrate
// serves the migrated database.
func TestMigrateCommand(t *testing.T) {
	t.Parallel()
	dsn := postgresDSN(t)
	// The first run says what it applied; the second that there was nothing.
	for i, want := range []string{"Applied ", "up to date; nothing to apply"} {
		out, err := runHookline(t, "migrate", "--db", dsn)
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("migrate run %d: %v\n%s\nwant %q", i+1, err, out, want)
		}
		if i == 0 && (!strings.Contains(out, "to the PostgreSQL database: 0001_") || strings.Contains(out, "nothing to apply")) {
			t.Fatalf("first migrate does not list what it applied:\n%s", out)
		}
	}
	// A node on PostgreSQL names its database, not a data directory it
	// never creates.
	unused := filepath.Join(t.TempDir(), "never-created")
	n := startNode(t, unused, "--db", dsn, "--no-migrate", "--dev")
	if out := n.stdout.String(); strings.Contains(out, unused) || strings.Contains(out, "data in") || !strings.Contains(out, "(PostgreSQL database test_") {
		t.Errorf("a node on PostgreSQL printed:\n%s\nwant its database named and no data directory", out)
	}
	if logs := n.stderr.String(); strings.Contains(logs, unused) {
		t.Errorf("a node on PostgreSQL logged the data directory %s:\n%s", unused, logs)
	}
	if _, err := os.Stat(unused); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a node on PostgreSQL created %s (%v)", unused, err)
	}
	rc := newReceiver(t)
	n.createEndpoint(map[string]any{"url": rc.URL})
	n.publish("migrated.ok", map[string]any{})
	waitFor(t, 10*time.Second, "a delivery", func() bool { return rc.count() == 1 })
	n.terminate()
	// With HOOKLINE_DB instead of the flag.
	cmd := exec.Command(binary, "migrate")
	cmd.Env = append(os.Environ(), "HOOKLINE_DB="+dsn)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "PostgreSQL") {
		t.Fatalf("migrate with HOOKLINE_DB: %v\n%s", err, out)
	}
	// SQLite too, in a data directory.
	dir := t.TempDir()
	for i, want := range []string{"Applied ", "up to date; nothing to apply"} {
		if out, err := runHookline(t, "migrate", "--data", dir); err != nil || !strings.Contains(out, "SQLite") || !strings.Contains(out, want) {
			t.Fatalf("sqlite migrate run %d: %v\n%s\nwant %q", i+1, err, out, want)
		}
	}
	if out, err := runHookline(t, "migrate", "--db", "mysql://x"); err == nil {
		t.Fatalf("migrate --db mysql://x succeeded:\n%s", out)
	}
}

// With a short retention, delivered events are purged by the node, on
// SQLite and on PostgreSQL.
func TestRetentionPurges(t *testing.T) {
	t.Parallel()
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			n := dbNode(t, store, "--dev", "--retention", "4s")
			rc := newReceiver(t)
			ep := n.createEndpoint(map[string]any{"url": rc.URL})
			ev := n.publish("old.news", map[string]any{})
			waitFor(t, 3*time.Second, "the attempt to be recorded", func() bool {
				return len(n.attempts("/v1/endpoints/"+ep.ID+"/attempts")) == 1
			})
			waitFor(t, 15*time.Second, "the event to be purged", func() bool {
				status, _ := n.call("GET", "/v1/events/"+ev.ID, nil, nil)
				return status == 404
			})
			if got := n.attempts("/v1/endpoints/" + ep.ID + "/attempts"); len(got) != 0 {
				t.Errorf("%d attempts left after the purge, want 0", len(got))
			}
			n.must(200, "GET", "/v1/endpoints/"+ep.ID, nil, nil) // endpoints are never purged
		})
	}
}

// A listen session connected to one node receives events published through
// another: the node that takes the delivery without the session gives it
// back, and the node with the session picks it up.
func TestClusterListenAcrossNodes(t *testing.T) {
	t.Parallel()
	dsn := postgresDSN(t)
	a := startNode(t, t.TempDir(), clusterArgs(dsn)...)
	b := startNode(t, t.TempDir(), clusterArgs(dsn)...)
	app := newVerifyingReceiver(t)
	l := startListen(t, a.URL, "--name", "cluster-laptop", "--forward-to", app.URL+"/webhook")
	app.setSecret(l.Secret)

	start := time.Now()
	var ids []string
	for i := range 10 {
		ids = append(ids, b.publish("order.created", map[string]any{"i": i}).ID)
	}
	waitFor(t, 30*time.Second, "every event published through the other node", func() bool {
		got := app.distinct()
		for _, id := range ids {
			if !slices.Contains(got, id) {
				return false
			}
		}
		return true
	})
	t.Logf("10 events published through node B reached the listen session on node A in %s", time.Since(start).Round(time.Millisecond))
	for _, d := range app.all() {
		if d.Err != nil {
			t.Errorf("a delivery failed verification: %v", d.Err)
		}
	}
}
