package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/seal"
	"github.com/hookline/hookline/webhook"
)

// filesHolding lists the files under dir, but skip, whose bytes contain s:
// what `strings -a` would find, over the database, its WAL and journals.
func filesHolding(t *testing.T, dir, skip string, s []byte) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == skip {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil // a journal segment removed while walking
		}
		if bytes.Contains(b, s) {
			out = append(out, d.Name())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSecretsSealedAtRest: endpoint and source secrets, and endpoints'
// static header values (a receiver's credentials), never reach the data
// directory's database files in the clear; deliveries are still signed
// with them and carry the headers; the API still shows the headers; `hookline secrets rotate-key` re-seals them under a new key
// while the server runs and after a restart; a copy of the database
// without its key file reveals nothing and cannot be served.
func TestSecretsSealedAtRest(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	dir := t.TempDir()
	n := startNode(t, dir, "--dev", "--log-level", "debug")
	keyFile := filepath.Join(dir, "secret_key")
	info, err := os.Stat(keyFile)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v; want one of mode 0600", info, err)
	}
	firstKey, _ := os.ReadFile(keyFile)

	const basic = "Basic aGVhZGVyLXVzZXI6aGVhZGVyLXBhc3N3b3Jk" // header-user:header-password
	const token = "tok_static_header_token_9f3b2c"
	headers := map[string]string{"Authorization": basic, "X-Api-Token": token}
	ep := n.createEndpoint(map[string]any{"url": rc.URL, "headers": headers})
	const sourceSecret = "whsec_c291cmNlLXNlY3JldC1vZi1zdHJpcGU="
	n.must(201, "POST", "/v1/sources", map[string]any{"name": "stripe", "type": "stripe", "secret": sourceSecret}, nil)
	verifier, err := webhook.NewVerifier(ep.Secret)
	if err != nil {
		t.Fatal(err)
	}
	delivered := func(want int) {
		t.Helper()
		n.publish("secret.checked", map[string]any{"n": want})
		waitFor(t, 10*time.Second, "the delivery", func() bool { return rc.count() >= want })
		got := rc.all()[want-1]
		if err := verifier.Verify(got.Header, got.Body); err != nil {
			t.Fatalf("delivery %d does not verify with the endpoint's secret: %v", want, err)
		}
		for name, value := range headers {
			if got.Header.Get(name) != value {
				t.Fatalf("delivery %d carries %s %q, want %q", want, name, got.Header.Get(name), value)
			}
		}
		var shown struct {
			Headers map[string]string `json:"headers"`
		}
		n.must(200, "GET", "/v1/endpoints/"+ep.ID, nil, &shown)
		if !maps.Equal(shown.Headers, headers) {
			t.Fatalf("the API shows headers %v, want %v", shown.Headers, headers)
		}
		// Header values are secrets: not even debug logs show them.
		logs := n.stderr.String()
		if logs == "" {
			t.Fatal("the server logged nothing at debug level: the check below would prove nothing")
		}
		for _, v := range []string{basic, basic[len("Basic "):], token} {
			if strings.Contains(logs, v) {
				t.Fatalf("delivery %d: the server's log shows header value %q:\n%s", want, v, logs)
			}
		}
	}
	delivered(1)
	n.terminate() // checkpoints the WAL: everything is in hookline.db
	n.restart()
	delivered(2)
	readable := func(stage string) {
		t.Helper()
		for _, s := range []string{"whsec_", ep.Secret[len("whsec_"):], sourceSecret[len("whsec_"):], basic, basic[len("Basic "):], token} {
			if files := filesHolding(t, dir, "secret_key", []byte(s)); len(files) > 0 {
				t.Fatalf("%s: %q is readable in %v", stage, s, files)
			}
		}
	}
	readable("after a restart")

	cmd := exec.Command(binary, "secrets", "rotate-key", "--server", n.URL)
	cmd.Env = append(os.Environ(), "HOOKLINE_API_KEY="+testAPIKey)
	out, err := cmd.CombinedOutput()
	// The endpoint's secret, its two header values and the source's secret.
	if err != nil || !strings.Contains(string(out), "Re-sealed 4 secrets under key ") {
		t.Fatalf("rotate-key: %v\n%s", err, out)
	}
	secondKey, _ := os.ReadFile(keyFile)
	if bytes.Equal(firstKey, secondKey) || strings.Count(string(secondKey), "\n") != 1 {
		t.Fatalf("key file after rotation:\n%s\nwant one new key", secondKey)
	}
	delivered(3)
	n.kill()
	n.restart() // opens what was re-sealed with the new key alone
	delivered(4)
	n.terminate()
	readable("after rotate-key and a restart")

	// The database without its key: nothing to read, nothing to serve.
	stolen := t.TempDir()
	b, err := os.ReadFile(filepath.Join(dir, "hookline.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stolen, "hookline.db"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	serve := exec.CommandContext(ctx, binary, "serve", "--addr", "127.0.0.1:0", "--data", stolen)
	serve.Env = append(os.Environ(), "HOOKLINE_API_KEY="+testAPIKey)
	out, err = serve.CombinedOutput()
	if err == nil || ctx.Err() != nil || !strings.Contains(string(out), "does not hold") {
		t.Fatalf("serving a database without its key: %v\n%s\nwant a refusal naming the missing key", err, out)
	}
}

// TestSecretKeyFromEnvironment: with HOOKLINE_SECRET_KEY no key file is
// made, and rotate-key explains how to rotate a key it cannot change.
func TestSecretKeyFromEnvironment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	n := startNodeEnv(t, dir, []string{"HOOKLINE_SECRET_KEY=" + testSecretKey})
	if _, err := os.Stat(filepath.Join(dir, "secret_key")); err == nil {
		t.Fatal("a key file was made although HOOKLINE_SECRET_KEY is set")
	}
	n.must(409, "POST", "/v1/secrets/rotate-key", nil, nil)
}

// TestHeaderValuesSealedOnPostgres: on PostgreSQL an endpoint's static
// header values never appear in the endpoints table's text; deliveries
// and the API carry them through a restart on a new key
// (HOOKLINE_SECRET_KEY=<new>,<old>), `secrets rotate-key`, and a restart
// on the new key alone, which starts only if every value was re-sealed.
func TestHeaderValuesSealedOnPostgres(t *testing.T) {
	t.Parallel()
	dsn := postgresDSN(t)
	rc := newReceiver(t)
	n := startNode(t, t.TempDir(), "--dev", "--db", dsn)
	const basic = "Basic cGctdXNlcjpwZy1oZWFkZXItcGFzc3dvcmQ=" // pg-user:pg-header-password
	const token = "tok_pg_static_header_41d7e0"
	headers := map[string]string{"Authorization": basic, "X-Api-Token": token}
	ep := n.createEndpoint(map[string]any{"url": rc.URL, "headers": headers})

	db, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	readable := func(stage string) {
		t.Helper()
		var text string
		if err := db.QueryRow(t.Context(), `SELECT e::text FROM endpoints e WHERE id = $1`, ep.ID).Scan(&text); err != nil {
			t.Fatalf("%s: %v", stage, err)
		}
		for _, s := range []string{basic, basic[len("Basic "):], token} {
			if strings.Contains(text, s) {
				t.Fatalf("%s: %q is readable in the endpoints table: %s", stage, s, text)
			}
		}
		if !strings.Contains(text, "Authorization") {
			t.Fatalf("%s: the row lost its header names: %s", stage, text)
		}
	}
	delivered := func(want int) {
		t.Helper()
		n.publish("header.checked", map[string]any{"n": want})
		waitFor(t, 10*time.Second, "the delivery", func() bool { return rc.count() >= want })
		got := rc.all()[want-1]
		for name, value := range headers {
			if got.Header.Get(name) != value {
				t.Fatalf("delivery %d carries %s %q, want %q", want, name, got.Header.Get(name), value)
			}
		}
		var shown struct {
			Headers map[string]string `json:"headers"`
		}
		n.must(200, "GET", "/v1/endpoints/"+ep.ID, nil, &shown)
		if !maps.Equal(shown.Headers, headers) {
			t.Fatalf("the API shows headers %v, want %v", shown.Headers, headers)
		}
	}
	delivered(1)
	readable("after create")

	newKey := strings.Repeat("b2", 32)
	n.terminate()
	n.env = append(n.env, "HOOKLINE_SECRET_KEY="+newKey+","+testSecretKey)
	n.restart()
	delivered(2)
	n.must(200, "POST", "/v1/secrets/rotate-key", nil, nil)
	n.terminate()
	n.env = append(n.env, "HOOKLINE_SECRET_KEY="+newKey) // the old key is gone
	n.restart()
	delivered(3)
	readable("after rotate-key and a restart on the new key")
}

// TestLegacySealedSecretsUpgradedAtStart: a database sealed by a Hookline
// from before sealed values were bound to their column and row (hlseal1)
// starts, its values re-sealed for their place (hlseal2) at start, and
// deliveries still sign with the endpoint's secret and carry its headers;
// the source keeps its secret.
func TestLegacySealedSecretsUpgradedAtStart(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	dir := t.TempDir()
	n := startNode(t, dir, "--dev")
	headers := map[string]string{"Authorization": "Basic bGVnYWN5LXVzZXI6cGFzcw==", "X-Api-Token": "tok_legacy_sealed"}
	ep := n.createEndpoint(map[string]any{"url": rc.URL, "headers": headers})
	const sourceSecret = "whsec_bGVnYWN5LXNvdXJjZS1zZWNyZXQ="
	var src struct {
		ID string `json:"id"`
	}
	n.must(201, "POST", "/v1/sources", map[string]any{"name": "stripe", "type": "stripe", "secret": sourceSecret}, &src)
	n.terminate()

	// Rewrite the rows as the older Hookline sealed them, under the same key.
	b, err := os.ReadFile(filepath.Join(dir, "secret_key"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := seal.ParseKeys(string(b))
	if err != nil {
		t.Fatal(err)
	}
	ring, err := seal.NewKeyring(keys...)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "hookline.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	legacyHeaders := map[string]string{}
	for name, v := range headers {
		legacyHeaders[name] = ring.SealLegacy(v)
	}
	hj, _ := json.Marshal(legacyHeaders)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE endpoints SET secret = ?, headers = ? WHERE id = ?`, []any{ring.SealLegacy(ep.Secret), string(hj), ep.ID}},
		{`UPDATE sources SET secret = ? WHERE id = ?`, []any{ring.SealLegacy(sourceSecret), src.ID}},
	} {
		if res, err := db.Exec(q.sql, q.args...); err != nil {
			t.Fatal(err)
		} else if k, _ := res.RowsAffected(); k != 1 {
			t.Fatalf("%s: %d rows", q.sql, k)
		}
	}
	stored := func() string {
		t.Helper()
		var secret, hdrs, srcSecret string
		if err := db.QueryRow(`SELECT secret, headers FROM endpoints WHERE id = ?`, ep.ID).Scan(&secret, &hdrs); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`SELECT secret FROM sources WHERE id = ?`, src.ID).Scan(&srcSecret); err != nil {
			t.Fatal(err)
		}
		return secret + " " + hdrs + " " + srcSecret
	}
	if s := stored(); strings.Count(s, "hlseal1:") != 4 {
		t.Fatalf("the rows as the older Hookline wrote them: %s", s)
	}

	n.restart()
	if s := stored(); strings.Contains(s, "hlseal1:") || strings.Count(s, "hlseal2:") != 4 {
		t.Fatalf("after the start, the rows hold %s; want 4 values re-sealed as hlseal2", s)
	}
	verifier, err := webhook.NewVerifier(ep.Secret)
	if err != nil {
		t.Fatal(err)
	}
	n.publish("legacy.checked", map[string]any{"n": 1})
	waitFor(t, 10*time.Second, "the delivery", func() bool { return rc.count() >= 1 })
	got := rc.all()[0]
	if err := verifier.Verify(got.Header, got.Body); err != nil {
		t.Fatalf("the delivery does not verify with the endpoint's secret: %v", err)
	}
	for name, value := range headers {
		if got.Header.Get(name) != value {
			t.Fatalf("the delivery carries %s %q, want %q", name, got.Header.Get(name), value)
		}
	}
	var shown struct {
		Secret string `json:"secret"`
	}
	n.must(200, "GET", "/v1/sources/"+src.ID+"/secret", nil, &shown)
	if shown.Secret != sourceSecret {
		t.Fatalf("the source's secret after the start: %q, want %q", shown.Secret, sourceSecret)
	}
}
