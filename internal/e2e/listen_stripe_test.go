package e2e

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	stripewebhook "github.com/stripe/stripe-go/v82/webhook"

	"github.com/hookline/hookline/webhook"
)

// stripeReceiver is a local app that verifies every request as a Stripe
// user's handler does: stripe-go's ConstructEvent on Stripe-Signature, or,
// for the requests it is told are not Stripe-signed, Hookline's verifier.
type stripeReceiver struct {
	URL    string
	secret string
	mu     sync.Mutex
	got    []stripeDelivery
}

type stripeDelivery struct {
	Path, ID, Type, Tenant string
	Scheme                 string // "stripe" when Stripe-Signature came, "standard" for webhook-signature
	Err                    error
}

func newStripeReceiver(t *testing.T, secret string) *stripeReceiver {
	t.Helper()
	sr := &stripeReceiver{secret: secret}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		d := stripeDelivery{Path: r.URL.Path}
		if sig := r.Header.Get("Stripe-Signature"); sig != "" {
			d.Scheme = "stripe"
			// Hookline's events carry no Stripe api_version.
			ev, err := stripewebhook.ConstructEventWithOptions(body, sig, sr.secret,
				stripewebhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
			d.Err, d.ID, d.Type = err, ev.ID, string(ev.Type)
		} else {
			d.Scheme = "standard"
			v, err := webhook.NewVerifier(sr.secret)
			if err == nil {
				err = v.Verify(r.Header, body)
			}
			d.Err = err
		}
		var env struct{ ID, Type, Tenant string }
		if err := json.Unmarshal(body, &env); err == nil {
			d.ID, d.Type, d.Tenant = env.ID, env.Type, env.Tenant
		}
		sr.mu.Lock()
		sr.got = append(sr.got, d)
		sr.mu.Unlock()
		if d.Err != nil {
			http.Error(w, d.Err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	sr.URL = "http://" + ln.Addr().String()
	return sr
}

func (sr *stripeReceiver) all() []stripeDelivery {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	return slices.Clone(sr.got)
}

// printSecret runs `listen --print-secret` with args.
func printSecret(t *testing.T, server string, args ...string) string {
	t.Helper()
	return strings.TrimSpace(runCLI(t, server, append([]string{"listen", "--print-secret"}, args...)...))
}

// TestListenSignsAsStripeAndForwardsConnectEvents checks `listen --scheme
// stripe` against stripe-go's own verification, --forward-connect-to for
// events with a tenant (with --forward routes still first), and that the
// secret is the device's either way.
func TestListenSignsAsStripeAndForwardsConnectEvents(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), "--dev")
	secret := printSecret(t, n.URL, "--name", "platform")
	if got := printSecret(t, n.URL, "--name", "platform", "--scheme", "stripe"); got != secret {
		t.Fatalf("--print-secret --scheme stripe = %s, want the device's secret %s", got, secret)
	}
	app := newStripeReceiver(t, secret)
	l := startListen(t, n.URL, "--name", "platform", "--scheme", "stripe",
		"--forward-to", app.URL+"/webhook/stripe/", "--forward-connect-to", app.URL+"/webhook/connect/",
		"--forward", "account.application.deauthorized="+strings.TrimPrefix(app.URL, "http://")+"/webhook/apps/")
	if l.Secret != secret {
		t.Fatalf("listen --scheme stripe shows secret %s, want %s", l.Secret, secret)
	}
	for _, want := range []string{
		"> Forwarding events without a tenant to " + app.URL + "/webhook/stripe/",
		"> Forwarding connect events (those with a tenant) to " + app.URL + "/webhook/connect/",
		"> Signing with Stripe-Signature",
		"is endpoint ep_", "on the Hookline server at " + n.URL + " (resend to it",
		"> Its secret stays the same on this server; another server (another data directory) gives --name platform another one",
	} {
		if !strings.Contains(l.out.String(), want) {
			t.Errorf("listen did not say %q:\n%s", want, l.out)
		}
	}

	runCLI(t, n.URL, "trigger", "payment_intent.succeeded")
	runCLI(t, n.URL, "trigger", "account.application.authorized", "--tenant", "acct_1Connected")
	runCLI(t, n.URL, "trigger", "account.application.deauthorized", "--tenant", "acct_1Connected")
	waitFor(t, 10*time.Second, "5 events", func() bool { return len(app.all()) >= 5 })

	wantPath := map[string]string{
		"payment_intent.created": "/webhook/stripe/", "charge.succeeded": "/webhook/stripe/",
		"payment_intent.succeeded": "/webhook/stripe/", "account.application.authorized": "/webhook/connect/",
		"account.application.deauthorized": "/webhook/apps/", // the --forward route wins over the tenant
	}
	for _, d := range app.all() {
		if d.Scheme != "stripe" || d.Err != nil {
			t.Errorf("%s [%s] came %s-signed; stripe-go says %v", d.Type, d.ID, d.Scheme, d.Err)
		}
		if d.Path != wantPath[d.Type] {
			t.Errorf("%s went to %s, want %s", d.Type, d.Path, wantPath[d.Type])
		}
		if strings.HasPrefix(d.Type, "account.application.") != (d.Tenant == "acct_1Connected") {
			t.Errorf("%s has tenant %q", d.Type, d.Tenant)
		}
	}
	if len(app.all()) != 5 {
		t.Errorf("got %d deliveries, want 5: %+v", len(app.all()), app.all())
	}
	waitFor(t, 5*time.Second, "listen's lines", func() bool {
		return strings.Contains(l.out.String(), "--> connect account.application.authorized [evt_")
	})
	if !strings.Contains(l.out.String(), "(tenant acct_1Connected)") || !strings.Contains(l.out.String(), "[200] POST "+app.URL+"/webhook/connect/") {
		t.Errorf("listen's lines do not show the connect event and where it went:\n%s", l.out)
	}
	l.stop()

	// Started again without --scheme, the same device signs as Standard
	// Webhooks again, with the same secret.
	std := startListen(t, n.URL, "--name", "platform", "--forward-to", app.URL+"/webhook/standard/")
	if std.Secret != secret {
		t.Fatalf("secret changed with the scheme: %s, want %s", std.Secret, secret)
	}
	runCLI(t, n.URL, "trigger", "customer.created")
	waitFor(t, 10*time.Second, "the standard-signed event", func() bool { return len(app.all()) >= 6 })
	if d := app.all()[5]; d.Scheme != "standard" || d.Err != nil || d.Path != "/webhook/standard/" {
		t.Errorf("after dropping --scheme: %+v", d)
	}
}
