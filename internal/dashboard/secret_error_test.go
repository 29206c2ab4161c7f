package dashboard

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/seal"
	"github.com/hookline/hookline/internal/store/sqlite"
)

// An endpoint whose sealed secret does not open (here: sealed under a key
// the store no longer holds) still lists, and its page says what is wrong
// and how to mend it instead of failing.
func TestEndpointWhoseSecretDoesNotOpen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "db")
	ctx := context.Background()
	ring := func() *seal.Keyring {
		kr, err := seal.NewKeyring(seal.NewKey())
		if err != nil {
			t.Fatal(err)
		}
		return kr
	}
	st, err := sqlite.OpenWith(ctx, path, sqlite.Options{Sealer: ring()})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ep := &hookline.Endpoint{ID: hookline.NewID("ep"), URL: "https://127.0.0.1/sealed-hook", EnabledEvents: []string{"*"},
		Status: hookline.EndpointEnabled, SignatureScheme: hookline.SchemeStandard, Secret: "whsec_dGhlLW9sZC1zZWNyZXQ=", Created: now, Updated: now}
	if err := st.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = sqlite.OpenWith(ctx, path, sqlite.Options{Sealer: ring()}) // another key: nothing opens
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	d := &testDashboard{Dashboard: New(Config{App: app.New(app.Config{Store: st, AdminKeyID: "test-key"}),
		CheckKey: func(k string) bool { return k == "right-key-0123456789" }}), store: st}
	mux := http.NewServeMux()
	mux.Handle("GET /endpoints", d.RequireSession(d.Handle(d.Endpoints)))
	mux.Handle("GET /endpoints/{id}", d.RequireSession(d.Handle(d.Endpoint)))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cookie := signIn(t, d)
	page := func(path string) string {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.AddCookie(cookie)
		resp, err := noRedirects().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, b)
		}
		return html.UnescapeString(string(b))
	}
	if list := page("/endpoints"); !strings.Contains(list, ep.ID) {
		t.Fatal("the endpoints page does not list the endpoint whose secret does not open")
	}
	got := page("/endpoints/" + ep.ID)
	if !strings.Contains(got, `id="secret-error"`) || !strings.Contains(got, "cannot be opened") || !strings.Contains(got, "rotate its secret") {
		t.Fatalf("the endpoint's page does not say its secret cannot be opened and how to mend it:\n%s", got)
	}
	if strings.Contains(got, "hlseal2:") || strings.Contains(got, ep.Secret) {
		t.Fatal("the endpoint's page shows the sealed or plain secret")
	}
}
