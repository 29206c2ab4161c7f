package dashboard

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/store/sqlite"
)

// TestTailEndsWithSession opens the live tail and ends its session while
// the stream is open: a sign-out is noticed at the next recheck, an
// expiry when it comes, even when no recheck falls before it (review of
// issue 20, finding 1).
func TestTailEndsWithSession(t *testing.T) {
	t.Parallel()
	const expiresIn = 400 * time.Millisecond
	for _, tc := range []struct {
		name    string
		recheck time.Duration
		// clock is the application's clock: a session started on it
		// expires app.SessionTTL later.
		clock func() time.Time
		end   func(d *Dashboard, token string) error
	}{
		{name: "signed out", recheck: 50 * time.Millisecond, clock: time.Now,
			end: func(d *Dashboard, token string) error { return d.app.EndSession(context.Background(), token) }},
		{name: "expired", recheck: time.Hour,
			clock: func() time.Time { return time.Now().Add(-app.SessionTTL + expiresIn) },
			end:   func(*Dashboard, string) error { return nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			d := New(Config{App: app.New(app.Config{Store: st, Now: tc.clock, AdminKeyID: "test-key"}),
				CheckKey: func(string) bool { return false }, TailRecheck: tc.recheck})
			mux := http.NewServeMux()
			mux.Handle("GET /tail/stream", d.RequireSession(http.HandlerFunc(d.TailStream)))
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)

			cookie := signIn(t, &testDashboard{Dashboard: d, store: st})
			req, _ := http.NewRequest("GET", srv.URL+"/tail/stream", nil)
			req.AddCookie(cookie)
			resp, err := noRedirects().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
				t.Fatalf("stream: %s %q, want 200 text/event-stream", resp.Status, resp.Header.Get("Content-Type"))
			}
			if err := tc.end(d, cookie.Value); err != nil {
				t.Fatal(err)
			}
			// The stream must end by itself: read it to its end, and fail if
			// it is still open long after the session ended.
			ended := make(chan struct{})
			go func() {
				defer close(ended)
				sc := bufio.NewScanner(resp.Body)
				for sc.Scan() {
				}
			}()
			select {
			case <-ended:
			case <-time.After(10 * time.Second):
				t.Fatal("the live tail still streams 10 s after its session ended")
			}
		})
	}
}
