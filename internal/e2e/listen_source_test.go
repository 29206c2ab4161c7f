package e2e

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82/webhook"
)

// stripeApp is a developer's local handler: it checks every request with
// stripe-go, as the production handler does, and answers 400 when the check
// fails.
type stripeApp struct {
	URL    string
	secret string
	mu     sync.Mutex
	got    []*stripeHit
}

type stripeHit struct {
	appRequest
	Err error // stripe-go's verdict
}

func newStripeApp(t *testing.T, secret string) *stripeApp {
	t.Helper()
	a := &stripeApp{secret: secret}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		hit := &stripeHit{appRequest: appRequest{Method: r.Method, URI: r.RequestURI, Header: r.Header.Clone(), Body: body}}
		if r.Header.Get("Stripe-Signature") != "" {
			_, hit.Err = webhook.ConstructEventWithOptions(body, r.Header.Get("Stripe-Signature"), a.secret,
				webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
		}
		a.mu.Lock()
		a.got = append(a.got, hit)
		a.mu.Unlock()
		if hit.Err != nil {
			http.Error(w, hit.Err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	a.URL = "http://" + ln.Addr().String()
	return a
}

func (a *stripeApp) hits() []*stripeHit {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]*stripeHit(nil), a.got...)
}

// stripeHeader signs body as Stripe would, with stripe-go.
func stripeHeader(secret string, body []byte) http.Header {
	p := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: time.Now()})
	return http.Header{"Stripe-Signature": {p.Header}, "Content-Type": {"application/json; charset=utf-8"},
		"User-Agent": {"Stripe/1.0 (+https://stripe.com/docs/webhooks)"}}
}

// checkStripeHit asserts the app got body as Stripe sent it, and verified it.
func checkStripeHit(t *testing.T, hit *stripeHit, sent http.Header, body []byte, reqID, srcID, uri string) {
	t.Helper()
	if hit.Err != nil {
		t.Fatalf("stripe-go rejects the forwarded request: %v", hit.Err)
	}
	if hit.Method != "POST" || hit.URI != uri {
		t.Errorf("forwarded as %s %s, want POST %s", hit.Method, hit.URI, uri)
	}
	if !bytes.Equal(hit.Body, body) {
		t.Errorf("forwarded body differs:\n got %q\nwant %q", hit.Body, body)
	}
	for _, k := range []string{"Stripe-Signature", "Content-Type", "User-Agent"} {
		if got := hit.Header.Values(k); len(got) != 1 || got[0] != sent.Get(k) {
			t.Errorf("header %s: got %q, want %q", k, got, sent.Get(k))
		}
	}
	if hit.Header.Get("X-Hookline-Request-Id") != reqID || hit.Header.Get("X-Hookline-Source") != srcID {
		t.Errorf("hookline headers: request %q source %q, want %s %s",
			hit.Header.Get("X-Hookline-Request-Id"), hit.Header.Get("X-Hookline-Source"), reqID, srcID)
	}
	// Not re-signed with the device's secret as an event would be.
	if hit.Header.Get("Webhook-Signature") != "" {
		t.Errorf("the request was signed again: %v", hit.Header)
	}
}

// A source's requests reach the local app through `listen --source` byte
// for byte, verified by stripe-go; one captured while listen was stopped
// arrives when it starts again, over the connection it made the first time.
func TestListenSourceForwardsStripeUnchanged(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), "--dev")
	const secret = "whsec_listen_source_e2e"
	var stripeSrc, plainSrc source
	n.must(201, "POST", "/v1/sources", map[string]any{"name": "stripe", "type": "stripe", "secret": secret}, &stripeSrc)
	n.must(201, "POST", "/v1/sources", map[string]any{"name": "plain", "type": "none"}, &plainSrc)
	local := newStripeApp(t, secret)
	args := []string{"--name", "laptop", "--source", "stripe", "--source", plainSrc.ID, "--forward-to", local.URL + "/webhook"}

	l := startListen(t, n.URL, args...)
	conRE := regexp.MustCompile(`Forwarding requests from source stripe \(` + stripeSrc.ID + `\) to ` +
		regexp.QuoteMeta(local.URL+"/webhook") + `, unchanged \(connection (con_\w+), created\)`)
	m := conRE.FindStringSubmatch(l.out.String())
	if m == nil || !strings.Contains(l.out.String(), "Forwarding requests from source plain ("+plainSrc.ID+")") {
		t.Fatalf("listen did not say which sources it forwards:\n%s", l.out)
	}
	conID := m[1]
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("first listen output:\n%s", l.out)
		}
	})

	// Spacing, key order and escapes that a JSON re-encoder would change.
	body := []byte("{\"id\":\"evt_ls_1\",  \"object\":\"event\",\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":{\"amount\":2000,\"note\":\"caf\\u00e9 <&>\"}}}\n")
	h := stripeHeader(secret, body)
	resp, raw := ingest(t, stripeSrc.IngestURL+"?delivery=1", "POST", h, body)
	if resp.StatusCode != 200 {
		t.Fatalf("ingest: %d %s", resp.StatusCode, raw)
	}
	reqID := resp.Header.Get("X-Hookline-Request-Id")
	waitFor(t, 10*time.Second, "the request at the local app", func() bool { return len(local.hits()) == 1 })
	checkStripeHit(t, local.hits()[0], h, body, reqID, stripeSrc.ID, "/webhook?delivery=1")

	// A request from the second source keeps its method, and is shown by
	// its path since it names no event type.
	form := []byte("a=1&b=%C3%A9")
	resp, _ = ingest(t, plainSrc.IngestURL+"/orders", "PUT", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, form)
	plainID := resp.Header.Get("X-Hookline-Request-Id")
	waitFor(t, 10*time.Second, "the PUT at the local app", func() bool { return len(local.hits()) == 2 })
	if hit := local.hits()[1]; hit.Method != "PUT" || !bytes.Equal(hit.Body, form) || hit.Header.Get("X-Hookline-Source") != plainSrc.ID {
		t.Errorf("forwarded %s %q from %s, want PUT %q from %s", hit.Method, hit.Body, hit.Header.Get("X-Hookline-Source"), form, plainSrc.ID)
	}

	waitFor(t, 5*time.Second, "the response lines", func() bool {
		return strings.Contains(l.out.String(), "<--  [200] PUT "+local.URL+"/webhook ["+plainID+"]")
	})
	for _, want := range []string{
		"--> POST payment_intent.succeeded [" + reqID + "] from stripe",
		"<--  [200] POST " + local.URL + "/webhook?delivery=1 [" + reqID + "]",
		"--> PUT /in/" + plainSrc.ID + "/orders [" + plainID + "] from plain",
	} {
		if !strings.Contains(l.out.String(), want) {
			t.Errorf("listen output lacks %q:\n%s", want, l.out)
		}
	}
	var attempts []attempt
	waitFor(t, 5*time.Second, "the attempt recorded", func() bool {
		attempts = n.attempts("/v1/requests/" + reqID + "/attempts")
		return len(attempts) > 0
	})
	if len(attempts) != 1 || attempts[0].ResponseStatus != 200 {
		t.Fatalf("attempts of %s: %+v, want one 200", reqID, attempts)
	}

	// Captured while listen is stopped: it waits without spending attempts.
	l.stop()
	body2 := []byte(`{"id":"evt_ls_2","object":"event","type":"customer.created","data":{"object":{"id":"cus_1"}}}`)
	h2 := stripeHeader(secret, body2)
	resp, raw = ingest(t, stripeSrc.IngestURL, "POST", h2, body2)
	if resp.StatusCode != 200 {
		t.Fatalf("ingest while stopped: %d %s", resp.StatusCode, raw)
	}
	reqID2 := resp.Header.Get("X-Hookline-Request-Id")
	time.Sleep(1500 * time.Millisecond)
	if as := n.attempts("/v1/requests/" + reqID2 + "/attempts"); len(as) != 0 {
		t.Fatalf("%s has %d attempts while listen was stopped; want none", reqID2, len(as))
	}
	if c := len(local.hits()); c != 2 {
		t.Fatalf("the app got %d requests, want 2, while listen was stopped", c)
	}

	l2 := startListen(t, n.URL, args...)
	if !strings.Contains(l2.out.String(), "(connection "+conID+", reusing)") {
		t.Errorf("listen did not reuse connection %s:\n%s", conID, l2.out)
	}
	waitFor(t, 10*time.Second, "the request captured while stopped", func() bool { return len(local.hits()) == 3 })
	checkStripeHit(t, local.hits()[2], h2, body2, reqID2, stripeSrc.ID, "/webhook")

	var cons struct {
		Data []struct {
			ID  string `json:"id"`
			URL string `json:"url"`
		} `json:"data"`
	}
	n.must(200, "GET", "/v1/connections?source_id="+stripeSrc.ID, nil, &cons)
	if len(cons.Data) != 1 || cons.Data[0].ID != conID || cons.Data[0].URL != "listen://laptop" {
		t.Errorf("connections of the source: %+v, want only %s to listen://laptop", cons.Data, conID)
	}
}
