package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/webhook"
)

// TestUnopenedSecretFailsOnlyItsEndpoint: an endpoint whose sealed secret
// does not open (here the other endpoint's, copied into its row by SQL
// while the server was stopped) stops nothing but itself. The healthy
// endpoint gets every event, signed; the bad one gets no request at all,
// not even an unsigned one, and its attempts say why; it still lists and
// reads, its secret route answers 409 naming the problem; rotating its
// secret mends it, and a recover delivers what failed.
func TestUnopenedSecretFailsOnlyItsEndpoint(t *testing.T) {
	t.Parallel()
	good, bad := newReceiver(t), newReceiver(t)
	dir := t.TempDir()
	n := startNode(t, dir, "--dev")
	healthy := n.createEndpoint(map[string]any{"url": good.URL})
	broken := n.createEndpoint(map[string]any{"url": bad.URL, "retry_schedule": []string{}})
	const sourceSecret = "It's a Secret to Everybody"
	var goodSrc, badSrc source
	n.must(201, "POST", "/v1/sources", map[string]any{"name": "gh-good", "type": "github", "secret": sourceSecret}, &goodSrc)
	n.must(201, "POST", "/v1/sources", map[string]any{"name": "gh-bad", "type": "github", "secret": sourceSecret}, &badSrc)
	n.terminate()

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "hookline.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	res, err := db.Exec(`UPDATE endpoints SET secret = (SELECT secret FROM endpoints WHERE id = ?) WHERE id = ?`, healthy.ID, broken.ID)
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := res.RowsAffected(); k != 1 {
		t.Fatalf("copied the secret into %d rows", k)
	}
	if _, err := db.Exec(`UPDATE sources SET secret = (SELECT secret FROM sources WHERE id = ?) WHERE id = ?`, goodSrc.ID, badSrc.ID); err != nil {
		t.Fatal(err)
	}
	db.Close()

	n.restart()
	const events = 5
	since := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	for i := range events {
		n.publish("order.placed", map[string]any{"n": i})
	}
	waitFor(t, 15*time.Second, "the healthy endpoint's deliveries", func() bool { return good.count() >= events })
	verifier, err := webhook.NewVerifier(healthy.Secret)
	if err != nil {
		t.Fatal(err)
	}
	for i, got := range good.all() {
		if err := verifier.Verify(got.Header, got.Body); err != nil {
			t.Fatalf("the healthy endpoint's delivery %d does not verify: %v", i+1, err)
		}
	}
	const refusal = "the endpoint's secret cannot be opened"
	waitFor(t, 15*time.Second, "the bad endpoint's failed attempts", func() bool {
		return len(n.attempts("/v1/endpoints/"+broken.ID+"/attempts")) >= events
	})
	for _, a := range n.attempts("/v1/endpoints/" + broken.ID + "/attempts") {
		if a.ResponseStatus != 0 || !strings.Contains(a.Error, refusal) || !strings.Contains(a.Error, "rotate its secret") ||
			strings.Contains(a.Error, healthy.Secret) {
			t.Fatalf("the bad endpoint's attempt: status %d, error %q; want %q and how to mend it", a.ResponseStatus, a.Error, refusal)
		}
	}
	if c := bad.count(); c != 0 {
		t.Fatalf("the bad endpoint's receiver got %d requests, want none: nothing goes out unsigned", c)
	}

	// A source holding another's secret refuses its own requests, not the
	// other's, and still lists.
	body := []byte(`{"action":"opened"}`)
	mac := hmac.New(sha256.New, []byte(sourceSecret))
	mac.Write(body)
	h := http.Header{"X-Hub-Signature-256": {"sha256=" + hex.EncodeToString(mac.Sum(nil))}, "X-Github-Event": {"ping"},
		"X-Github-Delivery": {"d-1"}, "Content-Type": {"application/json"}}
	if resp, raw := ingest(t, n.URL+"/in/"+goodSrc.ID, "POST", h, body); resp.StatusCode != 200 {
		t.Fatalf("the good source beside a bad one: %d %s", resp.StatusCode, raw)
	}
	if resp, raw := ingest(t, n.URL+"/in/"+badSrc.ID, "POST", h, body); resp.StatusCode != 500 {
		t.Fatalf("the source whose secret does not open: %d %s; want 500", resp.StatusCode, raw)
	}
	// The log comes through a pipe: it may follow the answer.
	waitFor(t, 5*time.Second, "the refusal of the bad source's request logged with its reason", func() bool {
		logs := n.stderr.String()
		return strings.Contains(logs, "source whose secret cannot be opened") && strings.Contains(logs, badSrc.ID)
	})
	var sources struct {
		Data []source `json:"data"`
	}
	n.must(200, "GET", "/v1/sources", nil, &sources)
	if len(sources.Data) != 2 {
		t.Fatalf("listed %d sources, want 2", len(sources.Data))
	}
	if status, raw := n.call("GET", "/v1/sources/"+badSrc.ID+"/secret", nil, nil); status != 409 || !strings.Contains(string(raw), "cannot be opened") {
		t.Fatalf("the bad source's secret route: %d %s; want 409 naming the problem", status, raw)
	}
	n.must(200, "PATCH", "/v1/sources/"+badSrc.ID, map[string]any{"secret": sourceSecret}, nil)
	if resp, raw := ingest(t, n.URL+"/in/"+badSrc.ID, "POST", h, body); resp.StatusCode != 200 {
		t.Fatalf("the source once its secret is set anew: %d %s", resp.StatusCode, raw)
	}

	// It lists and reads; its secret route names the problem.
	var list struct {
		Data []endpoint `json:"data"`
	}
	n.must(200, "GET", "/v1/endpoints?limit=10", nil, &list)
	if len(list.Data) != 2 {
		t.Fatalf("listed %d endpoints, want 2", len(list.Data))
	}
	var got struct {
		ID          string `json:"id"`
		SecretError string `json:"secret_error"`
	}
	n.must(200, "GET", "/v1/endpoints/"+broken.ID, nil, &got)
	if got.ID != broken.ID || !strings.Contains(got.SecretError, "cannot be opened") {
		t.Fatalf("the bad endpoint reads %+v; want secret_error naming the problem", got)
	}
	get := exec.Command(binary, "endpoints", "get", broken.ID, "--server", n.URL)
	get.Env = append(os.Environ(), "HOOKLINE_API_KEY="+testAPIKey)
	if out, err := get.CombinedOutput(); err != nil || !strings.Contains(string(out), "secret error") || !strings.Contains(string(out), "rotate its secret") {
		t.Fatalf("hookline endpoints get of the bad endpoint: %v\n%s\nwant it to show the secret error", err, out)
	}
	var e apiError
	status, raw := n.call("GET", "/v1/endpoints/"+broken.ID+"/secret", nil, nil)
	if err := json.Unmarshal(raw, &e); status != 409 || err != nil || e.Error.Code != "conflict" ||
		!strings.Contains(e.Error.Message, "cannot be opened") || !strings.Contains(e.Error.Message, "rotate") {
		t.Fatalf("the bad endpoint's secret route: %d %s; want 409 naming the problem", status, raw)
	}
	// A change that does not replace the secret is made, and keeps the
	// stored value, not the blank it reads as: the endpoint still says
	// its secret does not open (it would open, as nothing, had the blank
	// been written), and still sends nothing.
	var patched struct {
		Description string `json:"description"`
		SecretError string `json:"secret_error"`
	}
	n.must(200, "PATCH", "/v1/endpoints/"+broken.ID, map[string]any{"description": "x"}, &patched)
	if patched.Description != "x" || !strings.Contains(patched.SecretError, "cannot be opened") {
		t.Fatalf("the bad endpoint after a PATCH of its description: %+v; want it changed and its secret still unopened", patched)
	}

	// rotate-key re-seals the rest, names what it skipped, and keeps the
	// old key while a value may still need it.
	keyFile := filepath.Join(dir, "secret_key")
	rotateKey := func(skipped bool) {
		t.Helper()
		cmd := exec.Command(binary, "secrets", "rotate-key", "--server", n.URL)
		cmd.Env = append(os.Environ(), "HOOKLINE_API_KEY="+testAPIKey)
		out, err := cmd.CombinedOutput()
		keys, _ := os.ReadFile(keyFile)
		lines := strings.Count(string(keys), "\n")
		switch {
		case err != nil:
			t.Fatalf("rotate-key: %v\n%s", err, out)
		case skipped && (!strings.Contains(string(out), "endpoints.secret of "+broken.ID) || !strings.Contains(string(out), "old key is kept") || lines != 2):
			t.Fatalf("rotate-key with a value that does not open: %d keys kept\n%s\nwant it named and the old key kept", lines, out)
		case !skipped && (strings.Contains(string(out), "did not open") || lines != 1):
			t.Fatalf("rotate-key with every value opening: %d keys kept\n%s\nwant the old ones dropped", lines, out)
		}
	}
	rotateKey(true)
	if logs := n.stderr.String(); !strings.Contains(logs, "endpoints.secret of "+broken.ID) || strings.Contains(logs, healthy.Secret) {
		t.Fatalf("the server's log does not name the skipped row (or shows a secret):\n%s", logs)
	}

	var rotated struct {
		Secret         string `json:"secret"`
		PreviousSecret string `json:"previous_secret"`
	}
	n.must(200, "POST", "/v1/endpoints/"+broken.ID+"/secret/rotate", map[string]any{}, &rotated)
	if !strings.HasPrefix(rotated.Secret, "whsec_") || rotated.Secret == healthy.Secret || rotated.PreviousSecret != "" {
		t.Fatalf("rotating the bad endpoint's secret: %+v", rotated)
	}
	rotateKey(false)
	var j job
	n.must(202, "POST", "/v1/endpoints/"+broken.ID+"/recover", map[string]any{"since": since}, &j)
	waitFor(t, 15*time.Second, "the recovered deliveries", func() bool { return bad.count() >= events })
	mended, err := webhook.NewVerifier(rotated.Secret)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range bad.all() {
		if err := mended.Verify(r.Header, r.Body); err != nil {
			t.Fatalf("recovered delivery %d does not verify with the rotated secret: %v", i+1, err)
		}
	}
	if c := good.count(); c != events {
		t.Fatalf("the healthy endpoint got %d deliveries, want %d", c, events)
	}
}
