package webhook_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/webhook"
)

func TestMiddleware(t *testing.T) {
	t.Parallel()
	secret := webhook.NewSecret()
	v, err := webhook.NewVerifier(secret)
	if err != nil {
		t.Fatal(err)
	}
	v.MaxBodyBytes = 1 << 10
	signer, err := webhook.NewSigner(secret)
	if err != nil {
		t.Fatal(err)
	}

	// called records the message ids next saw, so each subtest can check
	// that next ran exactly when the request was accepted.
	var called sync.Map
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, dup := called.LoadOrStore(r.Header.Get(webhook.HeaderID), true); dup {
			t.Errorf("next called twice for %s", r.Header.Get(webhook.HeaderID))
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("X-Content-Length", strconv.FormatInt(r.ContentLength, 10))
		w.Write(body)
	})
	srv := httptest.NewServer(v.Middleware(next)) // listens on 127.0.0.1
	t.Cleanup(srv.Close)

	signed := func(id string, ts time.Time, body string) http.Header {
		h := http.Header{}
		h.Set(webhook.HeaderID, id)
		h.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
		h.Set(webhook.HeaderSignature, signer.Sign(id, ts, []byte(body)))
		return h
	}
	now := time.Now()
	body := `{"type":"order.created","id":42}`
	big := strings.Repeat("x", 1<<10+1)

	tests := []struct {
		name     string
		h        http.Header
		body     string
		chunked  bool
		status   int
		wantText string // substring of the response
	}{
		{name: "valid", h: signed("msg_1", now, body), body: body, status: http.StatusOK, wantText: body},
		{name: "valid, chunked", h: signed("msg_2", now, body), body: body, chunked: true, status: http.StatusOK, wantText: body},
		{name: "valid, empty body", h: signed("msg_3", now, ""), body: "", status: http.StatusOK},
		{name: "body at the cap", h: signed("msg_4", now, big[1:]), body: big[1:], status: http.StatusOK},
		{name: "tampered body", h: signed("msg_5", now, body), body: body + " ", status: http.StatusUnauthorized, wantText: "no matching webhook signature"},
		{name: "missing headers", h: http.Header{"Webhook-Id": {"msg_10"}}, body: body, status: http.StatusBadRequest, wantText: "missing webhook headers"},
		{name: "bad timestamp", h: func() http.Header {
			h := signed("msg_6", now, body)
			h.Set(webhook.HeaderTimestamp, "soon")
			return h
		}(), body: body, status: http.StatusBadRequest, wantText: "invalid webhook headers"},
		{name: "too old", h: signed("msg_7", now.Add(-time.Hour), body), body: body, status: http.StatusUnauthorized, wantText: "too old"},
		{name: "body over the cap", h: signed("msg_8", now, big), body: big, status: http.StatusRequestEntityTooLarge},
		{name: "body over the cap, chunked", h: signed("msg_9", now, big), body: big, chunked: true, status: http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var rd io.Reader = strings.NewReader(tt.body)
			if tt.chunked {
				// Hiding the length makes the client send it chunked.
				rd = io.MultiReader(rd)
			}
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/hook", rd)
			if err != nil {
				t.Fatal(err)
			}
			req.Header = tt.h
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d (%q), want %d", resp.StatusCode, got, tt.status)
			}
			if !strings.Contains(string(got), tt.wantText) {
				t.Errorf("response = %q, want it to contain %q", got, tt.wantText)
			}
			if tt.status == http.StatusOK {
				if string(got) != tt.body {
					t.Errorf("next read body %q, want %q", got, tt.body)
				}
				if cl := resp.Header.Get("X-Content-Length"); cl != strconv.Itoa(len(tt.body)) {
					t.Errorf("next saw ContentLength %s, want %d", cl, len(tt.body))
				}
			} else if strings.Contains(string(got), "v1,") {
				t.Errorf("error response %q leaks a signature", got)
			}
			if _, ran := called.Load(tt.h.Get(webhook.HeaderID)); ran != (tt.status == http.StatusOK) {
				t.Errorf("next ran = %v for a %d response", ran, tt.status)
			}
		})
	}
}

// TestMiddlewareUnreadableBody covers a body that fails mid-read, which a
// real client cannot easily produce, so it calls the handler directly.
func TestMiddlewareUnreadableBody(t *testing.T) {
	t.Parallel()
	v, err := webhook.NewVerifier(webhook.NewSecret())
	if err != nil {
		t.Fatal(err)
	}
	h := v.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("next called for an unreadable body")
	}))
	req := httptest.NewRequest(http.MethodPost, "/", io.MultiReader(strings.NewReader("{"), errReader{}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("status = %d, want 400", rec.Code)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

// TestUnsetSecret follows the README's snippet with WEBHOOK_SECRET unset:
// NewVerifier says so, and a receiver that ignored the error gets a nil
// Verifier whose methods reject every request instead of panicking.
func TestUnsetSecret(t *testing.T) {
	t.Parallel()
	for _, secrets := range [][]string{{""}, {" "}, {}, {webhook.NewSecret(), ""}} {
		v, err := webhook.NewVerifier(secrets...)
		if err == nil || v != nil {
			t.Errorf("NewVerifier(%q) = %v, %v; want nil and an error", secrets, v, err)
		}
	}
	if err := webhook.VerifyStripe("t=1,v1=00", []byte("{}"), 0, time.Time{}, ""); !errors.Is(err, webhook.ErrNoSecret) {
		t.Errorf("VerifyStripe with an empty secret = %v, want ErrNoSecret", err)
	}

	secret := webhook.NewSecret()
	signer, err := webhook.NewSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	body := []byte(`{"type":"order.created"}`)
	h := http.Header{}
	h.Set(webhook.HeaderID, "msg_1")
	h.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(webhook.HeaderSignature, signer.Sign("msg_1", now, body))

	for name, v := range map[string]*webhook.Verifier{"nil": nil, "zero": {}} {
		if err := v.Verify(h, body); !errors.Is(err, webhook.ErrNoSecret) {
			t.Errorf("%s Verifier: Verify = %v, want ErrNoSecret", name, err)
		}
		if in := v.Inspect(h, body); !errors.Is(in.Err, webhook.ErrNoSecret) || in.Matched != -1 {
			t.Errorf("%s Verifier: Inspect = %+v, want ErrNoSecret and no match", name, in)
		}
		var called bool
		srv := httptest.NewServer(v.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })))
		req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header = h.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(msg), "no secret") || called {
			t.Errorf("%s Verifier: Middleware answered %d %q (next called: %v), want 500 naming the missing secret and next not called",
				name, resp.StatusCode, msg, called)
		}
	}
}
