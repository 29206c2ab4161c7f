package e2e

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v75/github"
	"github.com/stripe/stripe-go/v82/webhook"
)

// app is a destination that records each request fully: what a
// provider's own verification library would see.
type app struct {
	URL string
	mu  sync.Mutex
	got []*appRequest
}

type appRequest struct {
	Method string
	URI    string
	Header http.Header
	Body   []byte
}

func newApp(t *testing.T) *app {
	t.Helper()
	a := &app{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.got = append(a.got, &appRequest{Method: r.Method, URI: r.RequestURI, Header: r.Header.Clone(), Body: body})
		a.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "ok")
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	a.URL = "http://" + ln.Addr().String()
	return a
}

func (a *app) requests() []*appRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]*appRequest(nil), a.got...)
}

type source struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	IngestURL string `json:"ingest_url"`
}

type capturedRequest struct {
	ID           string              `json:"id"`
	Method       string              `json:"method"`
	Headers      map[string][]string `json:"headers"`
	Body         string              `json:"body"`
	BodyEncoding string              `json:"body_encoding"`
	Size         int                 `json:"size"`
	Status       string              `json:"status"`
	Reason       string              `json:"reason"`
	ReplayOf     string              `json:"replay_of"`
}

// ingest sends a provider's request to a source's ingest URL.
func ingest(t *testing.T, url, method string, header http.Header, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, raw
}

func TestInboundGitHubForwardedByteForByte(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), "--dev")
	dest := newApp(t)
	const secret = "It's a Secret to Everybody"
	var src source
	n.must(201, "POST", "/v1/sources", map[string]any{"name": "gh", "type": "github", "secret": secret}, &src)
	if src.IngestURL != n.URL+"/in/"+src.ID {
		t.Fatalf("ingest_url %q, want %q", src.IngestURL, n.URL+"/in/"+src.ID)
	}
	n.must(201, "POST", "/v1/connections", map[string]any{"source_id": src.ID, "url": dest.URL + "/hooks/github"}, nil)

	// Key order, spacing and escapes a JSON re-encoder would change.
	body := []byte("{\"zeta\":1,  \"action\":\"opened\",\"html\":\"<b>&amp;\\u00e9</b>\",\"n\":1.50}\n")
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	sig := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	h := http.Header{"X-Hub-Signature-256": {sig}, "X-Github-Event": {"pull_request"}, "X-Github-Delivery": {"d-1"},
		"Content-Type": {"application/json"}, "User-Agent": {"GitHub-Hookshot/abc"}}
	resp, raw := ingest(t, src.IngestURL, "POST", h, body)
	if resp.StatusCode != 200 || !strings.Contains(string(raw), `"received": true`) {
		t.Fatalf("ingest: %d %s", resp.StatusCode, raw)
	}
	reqID := resp.Header.Get("X-Hookline-Request-Id")

	waitFor(t, 10*time.Second, "the forwarded request", func() bool { return len(dest.requests()) == 1 })
	got := dest.requests()[0]
	if got.Method != "POST" || got.URI != "/hooks/github" {
		t.Fatalf("forwarded %s %s", got.Method, got.URI)
	}
	if !bytes.Equal(got.Body, body) {
		t.Fatalf("forwarded body differs:\n got %q\nwant %q", got.Body, body)
	}
	for k, v := range h {
		if fmt.Sprint(got.Header[k]) != fmt.Sprint(v) {
			t.Errorf("header %s: got %v, want %v", k, got.Header[k], v)
		}
	}
	if got.Header.Get("X-Hookline-Request-Id") != reqID || got.Header.Get("X-Hookline-Source") != src.ID {
		t.Errorf("hookline headers: %v", got.Header)
	}
	// The app verifies GitHub's signature with GitHub's own library.
	if err := github.ValidateSignature(got.Header.Get("X-Hub-Signature-256"), got.Body, []byte(secret)); err != nil {
		t.Fatalf("go-github rejects the forwarded request: %v", err)
	}
	var attempts []attempt
	waitFor(t, 10*time.Second, "the attempt recorded", func() bool {
		attempts = n.attempts("/v1/requests/" + reqID + "/attempts")
		return len(attempts) > 0
	})
	if len(attempts) != 1 || attempts[0].ResponseStatus != 202 {
		t.Fatalf("attempts: %+v", attempts)
	}

	// GitHub redelivers the same delivery id: stored, not forwarded again.
	resp, _ = ingest(t, src.IngestURL, "POST", h, body)
	if resp.StatusCode != 200 {
		t.Fatalf("duplicate answered %d", resp.StatusCode)
	}
	var dup capturedRequest
	n.must(200, "GET", "/v1/requests/"+resp.Header.Get("X-Hookline-Request-Id"), nil, &dup)
	if dup.Status != "duplicate" || !strings.Contains(dup.Reason, reqID) {
		t.Fatalf("duplicate stored as %s (%s)", dup.Status, dup.Reason)
	}
	time.Sleep(300 * time.Millisecond)
	if c := len(dest.requests()); c != 1 {
		t.Fatalf("duplicate forwarded: %d requests", c)
	}
}

func TestInboundStripeRejections(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), "--dev")
	dest := newApp(t)
	const secret = "whsec_stripe_e2e_secret"
	var src source
	n.must(201, "POST", "/v1/sources", map[string]any{"name": "stripe", "type": "stripe", "secret": secret,
		"response": map[string]any{"status": 202, "body": "thanks"}}, &src)
	// Only payment_intent events reach this connection.
	n.must(201, "POST", "/v1/connections", map[string]any{"source_id": src.ID, "url": dest.URL,
		"filter": map[string]any{"body.type": map[string]any{"in": []string{"payment_intent.*"}}}}, nil)

	now := time.Now()
	body := []byte(`{"id":"evt_1","object":"event","type":"payment_intent.succeeded"}`)
	signed := func(secret string, at time.Time) http.Header {
		p := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: at})
		return http.Header{"Stripe-Signature": {p.Header}, "Content-Type": {"application/json"}}
	}
	cases := []struct {
		name   string
		h      http.Header
		body   []byte
		status int
		reason string
	}{
		{"tampered body", signed(secret, now), []byte(strings.Replace(string(body), "succeeded", "canceled", 1)), 401, "signature_mismatch"},
		{"expired timestamp", signed(secret, now.Add(-10*time.Minute)), body, 401, "timestamp_expired"},
		{"wrong secret", signed("whsec_someone_else", now), body, 401, "signature_mismatch"},
		{"no signature", http.Header{}, body, 401, "missing_signature"},
		{"valid", signed(secret, now), body, 202, ""},
	}
	for _, c := range cases {
		resp, raw := ingest(t, src.IngestURL, "POST", c.h, c.body)
		if resp.StatusCode != c.status {
			t.Fatalf("%s: status %d, want %d: %s", c.name, resp.StatusCode, c.status, raw)
		}
		var r capturedRequest
		n.must(200, "GET", "/v1/requests/"+resp.Header.Get("X-Hookline-Request-Id"), nil, &r)
		if c.reason == "" {
			if r.Status != "accepted" || string(raw) != "thanks" {
				t.Fatalf("%s: stored %s, answered %q", c.name, r.Status, raw)
			}
			continue
		}
		if r.Status != "rejected" || !strings.HasPrefix(r.Reason, c.reason) || r.Body != string(c.body) {
			t.Fatalf("%s: stored %s %q (body %q), want rejected %s", c.name, r.Status, r.Reason, r.Body, c.reason)
		}
	}
	// A charge event passes verification but not the filter.
	other := []byte(`{"id":"evt_2","object":"event","type":"charge.succeeded"}`)
	p := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: other, Secret: secret, Timestamp: now})
	if resp, _ := ingest(t, src.IngestURL, "POST", http.Header{"Stripe-Signature": {p.Header}}, other); resp.StatusCode != 202 {
		t.Fatalf("charge event: %d", resp.StatusCode)
	}
	waitFor(t, 10*time.Second, "the valid request forwarded", func() bool { return len(dest.requests()) >= 1 })
	time.Sleep(300 * time.Millisecond)
	reqs := dest.requests()
	if len(reqs) != 1 || !bytes.Equal(reqs[0].Body, body) {
		t.Fatalf("forwarded %d requests, want only the valid payment_intent one", len(reqs))
	}
	// The app checks Stripe's signature with stripe-go on what arrived.
	if _, err := webhook.ConstructEventWithOptions(reqs[0].Body, reqs[0].Header.Get("Stripe-Signature"), secret,
		webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true}); err != nil {
		t.Fatalf("stripe-go rejects the forwarded request: %v", err)
	}
	var rejected struct {
		Data []capturedRequest `json:"data"`
	}
	n.must(200, "GET", "/v1/requests?status=rejected&source_id="+src.Name, nil, &rejected)
	if len(rejected.Data) != 4 {
		t.Fatalf("listed %d rejected requests, want 4", len(rejected.Data))
	}
}

func TestInboundBodiesAndReplay(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), "--dev", "--max-inbound-body", "3145728")
	dest := newApp(t)
	other := newApp(t)
	var src source
	n.must(201, "POST", "/v1/sources", map[string]any{"name": "raw", "type": "none"}, &src)
	n.must(201, "POST", "/v1/connections", map[string]any{"source_id": src.ID, "url": dest.URL}, nil)

	// Binary (not UTF-8, with NULs), 2 MiB, sent with PUT and a query.
	big := make([]byte, 2<<20)
	rand.Read(big)
	resp, raw := ingest(t, src.IngestURL+"?x=1", "PUT", http.Header{"Content-Type": {"application/octet-stream"}}, big)
	if resp.StatusCode != 200 {
		t.Fatalf("binary ingest: %d %s", resp.StatusCode, raw)
	}
	binID := resp.Header.Get("X-Hookline-Request-Id")
	// XML.
	xml := []byte(`<?xml version="1.0"?><note><to>Tove</to></note>`)
	resp, _ = ingest(t, src.IngestURL, "POST", http.Header{"Content-Type": {"text/xml; charset=utf-8"}}, xml)
	xmlID := resp.Header.Get("X-Hookline-Request-Id")
	// Over the cap.
	resp, raw = ingest(t, src.IngestURL, "POST", nil, make([]byte, 3<<20+1))
	if resp.StatusCode != 413 || !strings.Contains(string(raw), "--max-inbound-body") {
		t.Fatalf("oversized: %d %s", resp.StatusCode, raw)
	}

	waitFor(t, 10*time.Second, "two forwarded requests", func() bool { return len(dest.requests()) == 2 })
	for _, r := range dest.requests() {
		switch r.Header.Get("X-Hookline-Request-Id") {
		case binID:
			if r.Method != "PUT" || r.URI != "/?x=1" || !bytes.Equal(r.Body, big) {
				t.Fatalf("binary forwarded as %s %s, %d bytes equal=%v", r.Method, r.URI, len(r.Body), bytes.Equal(r.Body, big))
			}
		case xmlID:
			if !bytes.Equal(r.Body, xml) || r.Header.Get("Content-Type") != "text/xml; charset=utf-8" {
				t.Fatalf("xml forwarded as %q %q", r.Body, r.Header.Get("Content-Type"))
			}
		default:
			t.Fatalf("unexpected forwarded request %v", r.Header)
		}
	}
	// The raw body comes back exactly; the JSON view base64s binary.
	status, rawBody := n.call("GET", "/v1/requests/"+binID+"/raw", nil, nil)
	if status != 200 || !bytes.Equal(rawBody, big) {
		t.Fatalf("raw: %d, %d bytes, equal=%v", status, len(rawBody), bytes.Equal(rawBody, big))
	}
	var shown capturedRequest
	n.must(200, "GET", "/v1/requests/"+binID, nil, &shown)
	if shown.BodyEncoding != "base64" || shown.Size != len(big) || shown.Method != "PUT" {
		t.Fatalf("shown: %s %d %s", shown.BodyEncoding, shown.Size, shown.Method)
	}

	// Replay the XML, edited, to another URL: recorded as an attempt.
	var rep struct {
		Request  capturedRequest `json:"request"`
		Attempts []attempt       `json:"attempts"`
	}
	n.must(200, "POST", "/v1/requests/"+xmlID+"/replay", map[string]any{
		"url": other.URL + "/edited", "headers": map[string]string{"Content-Type": "text/xml", "X-Edited": "yes"},
		"body": "<note><to>Jani</to></note>"}, &rep)
	if len(rep.Attempts) != 1 || rep.Attempts[0].ResponseStatus != 202 || rep.Request.ReplayOf != xmlID {
		t.Fatalf("replay: %+v", rep)
	}
	reqs := other.requests()
	if len(reqs) != 1 || string(reqs[0].Body) != "<note><to>Jani</to></note>" || reqs[0].Header.Get("X-Edited") != "yes" {
		t.Fatalf("replayed request: %+v", reqs)
	}
	recorded := n.attempts("/v1/requests/" + rep.Request.ID + "/attempts")
	if len(recorded) != 1 || recorded[0].ID != rep.Attempts[0].ID || recorded[0].ResponseStatus != 202 {
		t.Fatalf("recorded attempts: %+v", recorded)
	}
	// Replay unedited to its connections, and resend on the engine.
	n.must(200, "POST", "/v1/requests/"+xmlID+"/replay", nil, &rep)
	n.must(200, "POST", "/v1/requests/"+xmlID+"/resend", nil, nil)
	waitFor(t, 10*time.Second, "replay and resend at the destination", func() bool { return len(dest.requests()) == 4 })
	for _, r := range dest.requests()[2:] {
		if !bytes.Equal(r.Body, xml) {
			t.Fatalf("replayed body %q", r.Body)
		}
	}
	waitFor(t, 10*time.Second, "the resend recorded as a second attempt", func() bool {
		return len(n.attempts("/v1/requests/"+xmlID+"/attempts")) == 2
	})
}

func TestInboundCLI(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), "--dev")
	dest := newApp(t)
	hl := func(env []string, args ...string) string {
		t.Helper()
		cmd := exec.Command(binary, append(args, "--server", n.URL)...)
		cmd.Env = append(append(os.Environ(), "HOOKLINE_API_KEY="+testAPIKey), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("hookline %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	out := hl(nil, "sources", "create", "--name", "gitlab", "--type", "token", "--secret", "t0k", "--options", `{"header":"X-Gitlab-Token"}`)
	if !strings.Contains(out, n.URL+"/in/src_") {
		t.Fatalf("sources create printed no ingest URL:\n%s", out)
	}
	var src source
	n.must(200, "GET", "/v1/sources/gitlab", nil, &src)
	hl(nil, "connections", "create", "--source", "gitlab", "--url", dest.URL, "--filter", `{"headers.x-gitlab-event":"Push Hook"}`)
	if out := hl(nil, "sources", "list"); !strings.Contains(out, "gitlab") || !strings.Contains(out, "token") {
		t.Fatalf("sources list:\n%s", out)
	}

	body := []byte(`{"object_kind":"push","ref":"refs/heads/main"}`)
	resp, _ := ingest(t, src.IngestURL, "POST", http.Header{"X-Gitlab-Token": {"wrong"}, "X-Gitlab-Event": {"Push Hook"}}, body)
	if resp.StatusCode != 401 {
		t.Fatalf("wrong token answered %d", resp.StatusCode)
	}
	resp, _ = ingest(t, src.IngestURL, "POST", http.Header{"X-Gitlab-Token": {"t0k"}, "X-Gitlab-Event": {"Push Hook"}}, body)
	id := resp.Header.Get("X-Hookline-Request-Id")
	waitFor(t, 10*time.Second, "the forwarded push", func() bool { return len(dest.requests()) == 1 })

	out = hl(nil, "requests", "list", "--source", "gitlab", "--status", "rejected")
	if !strings.Contains(out, "rejected") || !strings.Contains(out, "signature_mismatch") || strings.Contains(out, id) {
		t.Fatalf("requests list --status rejected:\n%s", out)
	}
	if out := hl(nil, "requests", "show", id); !strings.Contains(out, "X-Gitlab-Event: Push Hook") || !strings.Contains(out, string(body)) {
		t.Fatalf("requests show:\n%s", out)
	}
	if out := hl(nil, "requests", "show", id, "--raw"); out != string(body) {
		t.Fatalf("requests show --raw = %q", out)
	}

	// --edit: the "editor" rewrites the branch in the body.
	editor := filepath.Join(t.TempDir(), "editor.sh")
	if err := os.WriteFile(editor, []byte("#!/bin/sh\nsed -i 's/refs\\/heads\\/main/refs\\/heads\\/dev/' \"$1\"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	out = hl([]string{"EDITOR=" + editor}, "requests", "replay", id, "--edit")
	if !strings.Contains(out, "Replayed "+id) || !strings.Contains(out, "202") {
		t.Fatalf("requests replay --edit:\n%s", out)
	}
	reqs := dest.requests()
	if len(reqs) != 2 || string(reqs[1].Body) != `{"object_kind":"push","ref":"refs/heads/dev"}` || reqs[1].Header.Get("X-Gitlab-Token") != "t0k" {
		t.Fatalf("edited replay arrived as %d requests, last %q", len(reqs), reqs[len(reqs)-1].Body)
	}
}
