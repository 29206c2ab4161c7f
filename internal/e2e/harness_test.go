package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the hookline binary built once for the whole package.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hookline-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "hookline")
	out, err := exec.Command("go", "build", "-o", binary, "github.com/hookline/hookline/cmd/hookline").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building hookline: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const testAPIKey = "hl_sk_test_key_0123456789abcdef"

// testSecretKey seals secrets in the databases that nodes share.
const testSecretKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// node is a running `hookline serve`.
type node struct {
	t       testing.TB
	cmd     *exec.Cmd
	URL     string
	DataDir string
	args    []string
	env     []string // added to the environment
	stderr  *syncBuffer
	stdout  *syncBuffer // every line printed so far
	exited  chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listenRE = regexp.MustCompile(`listening on (http://\S+)`)

// startNode runs hookline serve on port 0 in dataDir with extra args.
func startNode(t testing.TB, dataDir string, args ...string) *node {
	t.Helper()
	return startNodeEnv(t, dataDir, nil, args...)
}

// startNodeEnv is startNode with env (NAME=value) added to its environment.
func startNodeEnv(t testing.TB, dataDir string, env []string, args ...string) *node {
	t.Helper()
	n := &node{t: t, DataDir: dataDir, args: args, env: env}
	n.start()
	t.Cleanup(func() { n.kill() })
	return n
}

func (n *node) start() {
	t := n.t
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", n.DataDir}, n.args...)
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "HOOKLINE_API_KEY="+testAPIKey)
	if slices.Contains(n.args, "--db") {
		// Nodes sharing a database share the key sealing its secrets; a
		// node on its own makes one in its data directory.
		cmd.Env = append(cmd.Env, "HOOKLINE_SECRET_KEY="+testSecretKey)
	}
	cmd.Env = append(cmd.Env, n.env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	n.stderr = &syncBuffer{}
	cmd.Stderr = n.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting hookline: %v", err)
	}
	n.cmd = cmd
	n.exited = make(chan struct{})
	go func() { cmd.Wait(); close(n.exited) }()

	found := make(chan string, 1)
	n.stdout = &syncBuffer{}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			n.stdout.Write(append(sc.Bytes(), '\n'))
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case n.URL = <-found:
	case <-n.exited:
		t.Fatalf("hookline exited at start:\n%s", n.stderr)
	case <-time.After(20 * time.Second):
		t.Fatalf("hookline did not start:\n%s", n.stderr)
	}
	waitFor(t, 10*time.Second, "healthz", func() bool {
		resp, err := http.Get(n.URL + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

// kill stops the node with SIGKILL, as a crash would.
func (n *node) kill() {
	if n.cmd != nil && n.cmd.Process != nil {
		_ = n.cmd.Process.Kill()
		<-n.exited
	}
}

// terminate stops the node with SIGTERM and returns how long it took.
func (n *node) terminate() time.Duration {
	start := time.Now()
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(20 * time.Second):
		n.t.Fatalf("hookline did not exit 20 s after SIGTERM")
	}
	return time.Since(start)
}

// restart starts the node again on the same data directory.
func (n *node) restart() {
	n.start()
}

// call makes an API request and decodes a 2xx answer into out.
func (n *node) call(method, path string, body, out any) (int, []byte) {
	n.t.Helper()
	return n.callKey(testAPIKey, method, path, body, out, nil)
}

func (n *node) callKey(key, method, path string, body, out any, header http.Header) (int, []byte) {
	n.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			n.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, n.URL+path, rd)
	if err != nil {
		n.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(raw, out); err != nil {
			n.t.Fatalf("%s %s: decoding %s: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode, raw
}

// must is call that fails the test unless the status is want.
func (n *node) must(want int, method, path string, body, out any) []byte {
	n.t.Helper()
	status, raw := n.call(method, path, body, out)
	if status != want {
		n.t.Fatalf("%s %s: status %d, want %d: %s", method, path, status, want, raw)
	}
	return raw
}

type endpoint struct {
	ID              string   `json:"id"`
	URL             string   `json:"url"`
	Secret          string   `json:"secret"`
	Status          string   `json:"status"`
	DisabledReason  string   `json:"disabled_reason"`
	EnabledEvents   []string `json:"enabled_events"`
	SignatureScheme string   `json:"signature_scheme"`
	MaxConcurrency  int      `json:"max_concurrency"`
	TimeoutSeconds  float64  `json:"timeout_seconds"`
}

type event struct {
	ID      string          `json:"id"`
	Object  string          `json:"object"`
	Type    string          `json:"type"`
	Created int64           `json:"created"`
	Data    json.RawMessage `json:"data"`
	Tenant  string          `json:"tenant"`
}

type attempt struct {
	ID             string `json:"id"`
	EventID        string `json:"event_id"`
	EndpointID     string `json:"endpoint_id"`
	Attempt        int    `json:"attempt"`
	ResponseStatus int    `json:"response_status"`
	Error          string `json:"error"`
	ResponseBody   string `json:"response_body"`
	NextRetry      *int64 `json:"next_retry"`
	DurationMS     int64  `json:"duration_ms"`
}

func (n *node) createEndpoint(params map[string]any) endpoint {
	n.t.Helper()
	var e endpoint
	n.must(201, "POST", "/v1/endpoints", params, &e)
	return e
}

func (n *node) publish(typ string, data any) event {
	n.t.Helper()
	var e event
	n.must(201, "POST", "/v1/events", map[string]any{"type": typ, "data": data}, &e)
	return e
}

func (n *node) attempts(path string) []attempt {
	n.t.Helper()
	var l struct {
		Data []attempt `json:"data"`
	}
	n.must(200, "GET", path+"?limit=100", nil, &l)
	return l.Data
}

func waitFor(t testing.TB, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// receiver is a real HTTP server on loopback that records what it gets.
type receiver struct {
	URL string
	mu  sync.Mutex
	got []received
	// respond decides the answer to the n-th request (from 1); nil answers 200.
	respond func(n int, r *http.Request) (int, http.Header)
}

type received struct {
	Header http.Header
	Body   []byte
	At     time.Time
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	rc := &receiver{}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{Header: r.Header.Clone(), Body: body, At: time.Now()})
		n := len(rc.got)
		respond := rc.respond
		rc.mu.Unlock()
		status := 200
		if respond != nil {
			var h http.Header
			status, h = respond(n, r)
			for k, v := range h {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"n":%d}`, n)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	rc.URL = "http://" + ln.Addr().String()
	return rc
}

func (rc *receiver) all() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

// dbNode starts one node with args on db ("sqlite", or "postgres": a
// fresh database of its own).
func dbNode(t *testing.T, db string, args ...string) *node {
	t.Helper()
	return startNode(t, t.TempDir(), withDB(t, db, args)...)
}

// dbNodes starts the nodes of a test run on each store: one on SQLite,
// or two sharing a PostgreSQL database, each started with args.
func dbNodes(t *testing.T, db string, args ...string) []*node {
	t.Helper()
	nodes := 1
	if db == "postgres" {
		nodes = 2
	}
	args = withDB(t, db, args)
	var ns []*node
	for range nodes {
		ns = append(ns, startNode(t, t.TempDir(), args...))
	}
	return ns
}

// withDB is args for a node on db: on "postgres", a fresh database.
func withDB(t *testing.T, db string, args []string) []string {
	if db == "postgres" {
		return append(slices.Clip(args), "--db", postgresDSN(t))
	}
	return args
}
