package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/webhook"
)

// debianPython is Debian's interpreter, for which python3-django and
// python3-stripe are installed (scripts/ensure-django.sh); a python3 found
// first on PATH (pyenv, a virtualenv) may have neither.
const debianPython = "/usr/bin/python3"

// envSkipDjango, set to 1, skips the Django test where Django is missing
// instead of failing it.
const envSkipDjango = "HOOKLINE_SKIP_DJANGO"

// startDjango runs the minimal Django project in testdata/django (its view
// written as Stripe's tutorials write it) with Django's development server
// on a free loopback port, verifying with secret, and returns the view's
// URL and the server's output.
func startDjango(t *testing.T, secret string) (string, *syncBuffer) {
	t.Helper()
	if err := exec.Command(debianPython, "-c", "import django, stripe").Run(); err != nil {
		if os.Getenv(envSkipDjango) == "1" {
			t.Skipf("skipping: %s cannot import django and stripe: %v", debianPython, err)
		}
		t.Fatalf("%s cannot import django and stripe (%v): run scripts/ensure-django.sh, or set %s=1 to skip this test",
			debianPython, err, envSkipDjango)
	}
	dir, err := filepath.Abs("testdata/django")
	if err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	cmd := exec.Command(debianPython, "manage.py", "runserver", addr, "--noreload")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "STRIPE_WEBHOOK_SECRET="+secret,
		"PYTHONDONTWRITEBYTECODE=1", // keep __pycache__ out of the source tree
		"PYTHONUNBUFFERED=1")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting Django: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	view := "http://" + addr + "/webhook/stripe/"
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(view)
		if err == nil {
			resp.Body.Close()
			return view, out
		}
		select {
		case <-exited:
			t.Fatalf("Django exited at start:\n%s", out)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("Django not serving after 30 s:\n%s", out)
		}
	}
}

var deviceEndpointRE = regexp.MustCompile(`> Device \S+ is endpoint (ep_\w+)`)

// TestDjangoStripeViewVerifiesListenAndEndpoint runs the tutorials' Django
// view, unchanged, behind `hookline listen --scheme stripe` and behind a
// registered endpoint with signature_scheme stripe, and checks that every
// event of `trigger payment_intent.succeeded` is answered 200 through both.
func TestDjangoStripeViewVerifiesListenAndEndpoint(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), "--dev")
	secret := printSecret(t, n.URL, "--name", "django")
	view, django := startDjango(t, secret)

	// The view really verifies: a wrong secret is refused, and a request
	// without Stripe-Signature fails as the tutorial's code does (500).
	for _, tc := range []struct {
		name   string
		header http.Header
		want   int
	}{
		{"wrong secret", http.Header{"Stripe-Signature": {webhook.StripeSignature(time.Now(), []byte(`{}`), webhook.NewSecret())}}, 400},
		{"no Stripe-Signature", http.Header{}, 500},
		{"right secret", http.Header{"Stripe-Signature": {webhook.StripeSignature(time.Now(), []byte(`{"id":"evt_x","object":"event","type":"test.ping"}`), secret)}}, 200},
	} {
		body := `{}`
		if tc.want == 200 {
			body = `{"id":"evt_x","object":"event","type":"test.ping"}`
		}
		req, _ := http.NewRequest(http.MethodPost, view, strings.NewReader(body))
		req.Header = tc.header
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Fatalf("%s: the view answered %d, want %d:\n%s", tc.name, resp.StatusCode, tc.want, django)
		}
	}

	ep := n.createEndpoint(map[string]any{"url": view, "signature_scheme": "stripe", "secret": secret,
		"enabled_events": []string{"payment_intent.*", "charge.*"}})
	l := startListen(t, n.URL, "--name", "django", "--scheme", "stripe", "--forward-to", view)
	m := deviceEndpointRE.FindStringSubmatch(l.out.String())
	if m == nil {
		t.Fatalf("listen did not name its endpoint:\n%s", l.out)
	}
	device := m[1]

	out := runCLI(t, n.URL, "trigger", "payment_intent.succeeded")
	published := publishedRE.FindAllStringSubmatch(out, -1)
	if len(published) != 3 {
		t.Fatalf("trigger published %d events, want 3:\n%s", len(published), out)
	}
	for _, p := range published {
		typ, id := p[1], p[2]
		for _, endpointID := range []string{device, ep.ID} {
			waitFor(t, 15*time.Second, fmt.Sprintf("%s [%s] at %s", typ, id, endpointID), func() bool {
				for _, a := range n.attempts("/v1/events/" + id + "/attempts") {
					if a.EndpointID == endpointID && a.ResponseStatus != 0 {
						if a.ResponseStatus != 200 {
							t.Fatalf("%s [%s] at %s: the view answered %d (%s)\nDjango:\n%s", typ, id, endpointID, a.ResponseStatus, a.ResponseBody, django)
						}
						return true
					}
				}
				return false
			})
		}
		if got := strings.Count(django.String(), "Received event "+id+" "+typ); got != 2 {
			t.Errorf("Django handled %s [%s] %d times, want 2 (listen and the endpoint):\n%s", typ, id, got, django)
		}
	}
	if got := strings.Count(l.out.String(), "<--  [200] POST "+view); got != 3 {
		t.Errorf("listen shows %d 200s, want 3:\n%s", got, l.out)
	}
}
