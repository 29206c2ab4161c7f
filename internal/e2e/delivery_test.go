package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stripe/stripe-go/v82/webhook"
)

// Every endpoint receives exactly the events it subscribed to, each body
// the event as published, each signature accepted by the scheme's own
// library.
func TestFanOutAndPeerVerification(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), "--dev")

	all, invoices, stripeRc := newReceiver(t), newReceiver(t), newReceiver(t)
	epAll := n.createEndpoint(map[string]any{"url": all.URL + "/all"})
	epInv := n.createEndpoint(map[string]any{"url": invoices.URL + "/inv", "enabled_events": []string{"invoice.*"}})
	epStripe := n.createEndpoint(map[string]any{"url": stripeRc.URL + "/stripe", "enabled_events": []string{"charge.succeeded", "invoice.paid"}, "signature_scheme": "stripe"})
	if epAll.Secret == "" || !strings.HasPrefix(epAll.Secret, "whsec_") || epStripe.SignatureScheme != "stripe" {
		t.Fatalf("endpoints created as %+v and %+v", epAll, epStripe)
	}

	types := []string{"invoice.paid", "invoice.payment_failed", "charge.succeeded", "customer.created", "invoice.paid"}
	var published []event
	for i, typ := range types {
		// Stripe-shaped data (stripe-go requires data.object).
		published = append(published, n.publish(typ, map[string]any{"object": map[string]any{"seq": i, "note": "spaces  and \u00e9"}}))
	}
	want := func(match func(string) bool) []string {
		var ids []string
		for _, e := range published {
			if match(e.Type) {
				ids = append(ids, e.ID)
			}
		}
		sort.Strings(ids)
		return ids
	}
	wantAll := want(func(string) bool { return true })
	wantInv := want(func(s string) bool { return strings.HasPrefix(s, "invoice.") })
	wantStripe := want(func(s string) bool { return s == "charge.succeeded" || s == "invoice.paid" })

	waitFor(t, 10*time.Second, "deliveries", func() bool {
		return all.count() >= len(wantAll) && invoices.count() >= len(wantInv) && stripeRc.count() >= len(wantStripe)
	})
	time.Sleep(200 * time.Millisecond) // nothing more should arrive

	swh, err := standardwebhooks.NewWebhook(epAll.Secret)
	if err != nil {
		t.Fatal(err)
	}
	swhInv, _ := standardwebhooks.NewWebhook(epInv.Secret)
	byID := map[string]event{}
	for _, e := range published {
		byID[e.ID] = e
	}
	check := func(name string, rc *receiver, verify func(received) error, wantIDs []string) {
		var ids []string
		for _, r := range rc.all() {
			if err := verify(r); err != nil {
				t.Errorf("%s: the peer library rejects a delivery: %v\nheaders %v", name, err, r.Header)
			}
			var e event
			if err := json.Unmarshal(r.Body, &e); err != nil {
				t.Fatalf("%s: body is not JSON: %s", name, r.Body)
			}
			pub := byID[e.ID]
			if e.Object != "event" || e.Type != pub.Type || e.Created != pub.Created || string(e.Data) != string(pub.Data) {
				t.Errorf("%s: delivered %s, published %+v", name, r.Body, pub)
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("%s: Content-Type %q", name, ct)
			}
			if ua := r.Header.Get("User-Agent"); !strings.HasPrefix(ua, "Hookline/") {
				t.Errorf("%s: User-Agent %q does not name Hookline", name, ua)
			}
			ids = append(ids, e.ID)
		}
		sort.Strings(ids)
		if !slices.Equal(ids, wantIDs) {
			t.Errorf("%s received %v, want exactly %v", name, ids, wantIDs)
		}
	}
	check("all", all, func(r received) error { return swh.Verify(r.Body, r.Header) }, wantAll)
	check("invoice.*", invoices, func(r received) error { return swhInv.Verify(r.Body, r.Header) }, wantInv)
	check("stripe", stripeRc, func(r received) error {
		_, err := webhook.ConstructEventWithOptions(r.Body, r.Header.Get("Stripe-Signature"), epStripe.Secret,
			webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
		return err
	}, wantStripe)

	// Every delivery is on record as a successful first attempt (attempts
	// are recorded in batches, a moment after the receiver answered).
	waitFor(t, 5*time.Second, "every attempt on record", func() bool {
		return len(n.attempts("/v1/endpoints/"+epAll.ID+"/attempts")) >= len(wantAll) &&
			len(n.attempts("/v1/endpoints/"+epInv.ID+"/attempts")) >= len(wantInv) &&
			len(n.attempts("/v1/endpoints/"+epStripe.ID+"/attempts")) >= len(wantStripe)
	})
	for _, e := range published {
		for _, a := range n.attempts("/v1/events/" + e.ID + "/attempts") {
			if a.ResponseStatus != 200 || a.Attempt != 1 || a.NextRetry != nil || a.Error != "" {
				t.Errorf("attempt %+v, want one successful first attempt", a)
			}
		}
	}
	if got := n.attempts("/v1/endpoints/" + epInv.ID + "/attempts"); len(got) != len(wantInv) {
		t.Errorf("endpoint %s has %d attempts on record, want %d", epInv.ID, len(got), len(wantInv))
	}
}

// Failures are retried on the schedule, every attempt is recorded, and
// the body stays byte-identical across retries.
func TestRetriesUntilSuccess(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), "--dev", "--retry-schedule", "100ms,200ms,300ms")
	rc := newReceiver(t)
	rc.respond = func(i int, _ *http.Request) (int, http.Header) {
		switch i {
		case 1:
			return 500, nil
		case 2:
			return 302, http.Header{"Location": {"http://127.0.0.1:1/elsewhere"}}
		case 3:
			return 429, http.Header{"Retry-After": {"1"}}
		}
		return 200, nil
	}
	ep := n.createEndpoint(map[string]any{"url": rc.URL})
	ev := n.publish("order.created", map[string]any{"id": "ord_1"})

	waitFor(t, 10*time.Second, "the fourth attempt", func() bool { return rc.count() >= 4 })
	waitFor(t, 5*time.Second, "four attempts on record", func() bool {
		return len(n.attempts("/v1/events/"+ev.ID+"/attempts")) == 4
	})
	got := rc.all()
	for i := 1; i < len(got); i++ {
		if string(got[i].Body) != string(got[0].Body) {
			t.Fatalf("retry %d body differs:\n%s\n%s", i, got[i].Body, got[0].Body)
		}
		if got[i].Header.Get("webhook-id") != ev.ID {
			t.Fatalf("webhook-id %q, want %s", got[i].Header.Get("webhook-id"), ev.ID)
		}
	}
	if gap := got[3].At.Sub(got[2].At); gap < 900*time.Millisecond {
		t.Errorf("Retry-After: 1 was not honoured: retried after %s", gap)
	}
	atts := n.attempts("/v1/events/" + ev.ID + "/attempts") // newest first
	wantStatus := []int{200, 429, 302, 500}
	for i, a := range atts {
		if a.ResponseStatus != wantStatus[i] || a.Attempt != 4-i || a.EndpointID != ep.ID {
			t.Errorf("attempt %d: %+v, want status %d", 4-i, a, wantStatus[i])
		}
		if (a.NextRetry == nil) != (i == 0) {
			t.Errorf("attempt %d: next_retry %v", a.Attempt, a.NextRetry)
		}
		if i > 0 && a.Error == "" {
			t.Errorf("attempt %d failed but has no error", a.Attempt)
		}
	}
	if !strings.Contains(atts[2].Error, "redirect") {
		t.Errorf("a 302 attempt says %q, want it to say redirects are not followed", atts[2].Error)
	}
}

// After the schedule runs out the delivery is failed; 410 Gone disables the
// endpoint at once; a timeout is a failed attempt.
func TestGiveUpGoneAndTimeout(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), "--dev", "--retry-schedule", "50ms,50ms", "--timeout", "300ms")

	failing := newReceiver(t)
	failing.respond = func(int, *http.Request) (int, http.Header) { return 503, nil }
	gone := newReceiver(t)
	gone.respond = func(int, *http.Request) (int, http.Header) { return 410, nil }
	slow := newReceiver(t)
	slow.respond = func(i int, r *http.Request) (int, http.Header) {
		if i == 1 {
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
		}
		return 200, nil
	}
	epFail := n.createEndpoint(map[string]any{"url": failing.URL, "enabled_events": []string{"a.fail"}})
	epGone := n.createEndpoint(map[string]any{"url": gone.URL, "enabled_events": []string{"a.gone"}})
	n.createEndpoint(map[string]any{"url": slow.URL, "enabled_events": []string{"a.slow"}})
	evFail := n.publish("a.fail", nil)
	n.publish("a.gone", nil)
	evSlow := n.publish("a.slow", nil)

	waitFor(t, 10*time.Second, "three attempts, then giving up", func() bool {
		var ds struct {
			Data []struct{ Status string } `json:"data"`
		}
		n.must(200, "GET", "/v1/events/"+evFail.ID+"/deliveries", nil, &ds)
		return len(ds.Data) == 1 && ds.Data[0].Status == "failed"
	})
	if c := failing.count(); c != 3 {
		t.Errorf("failing endpoint got %d attempts, want 3 (1 + 2 retries)", c)
	}
	var ep endpoint
	waitFor(t, 5*time.Second, "the 410 endpoint to be disabled", func() bool {
		n.must(200, "GET", "/v1/endpoints/"+epGone.ID, nil, &ep)
		return ep.Status == "disabled"
	})
	if !strings.Contains(ep.DisabledReason, "410") {
		t.Errorf("disabled_reason %q does not mention 410", ep.DisabledReason)
	}
	if gone.count() != 1 {
		t.Errorf("410 endpoint got %d attempts, want 1", gone.count())
	}
	n.publish("a.gone", nil)
	time.Sleep(300 * time.Millisecond)
	if gone.count() != 1 {
		t.Errorf("a disabled endpoint got a new event")
	}
	waitFor(t, 10*time.Second, "the slow endpoint's retry", func() bool { return slow.count() >= 2 })
	waitFor(t, 5*time.Second, "two attempts recorded for the slow endpoint", func() bool {
		return len(n.attempts("/v1/events/"+evSlow.ID+"/attempts")) == 2
	})
	atts := n.attempts("/v1/events/" + evSlow.ID + "/attempts")
	if atts[1].ResponseStatus != 0 || !strings.Contains(atts[1].Error, "timed out") || atts[0].ResponseStatus != 200 {
		t.Errorf("slow endpoint attempts %+v, want a timeout then a 200", atts)
	}
	_ = epFail
}

// A slow endpoint does not delay the others.
func TestSlowEndpointDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), "--dev", "--timeout", "5s")
	slow := newReceiver(t)
	slow.respond = func(_ int, r *http.Request) (int, http.Header) {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
		return 200, nil
	}
	fast := newReceiver(t)
	n.createEndpoint(map[string]any{"url": slow.URL})
	n.createEndpoint(map[string]any{"url": fast.URL})
	start := time.Now()
	for i := range 20 {
		n.publish("tick.tock", map[string]int{"i": i})
	}
	waitFor(t, 10*time.Second, "the fast endpoint to get all 20", func() bool { return fast.count() == 20 })
	if d := time.Since(start); d > 2500*time.Millisecond {
		t.Errorf("fast endpoint took %s to get 20 events while another endpoint hung", d)
	}
}

// Idempotency-Key: the same key with the same request returns the original
// event and delivers once; with another request it answers 409
// idempotency_key_reused, as Stripe does, and changes nothing. Both stores,
// and on SQLite both before and after a restart (the key is then read from
// the database, not from the events still in memory).
func TestIdempotentPublish(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			n := dbNode(t, db, "--dev")
			rc := newReceiver(t)
			n.createEndpoint(map[string]any{"url": rc.URL})
			h := http.Header{"Idempotency-Key": {"order-42"}}
			publish := func(body string) (int, []byte, event, http.Header) {
				t.Helper()
				req, err := http.NewRequest("POST", n.URL+"/v1/events", strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Authorization", "Bearer "+testAPIKey)
				req.Header["Idempotency-Key"] = h["Idempotency-Key"]
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				raw, _ := io.ReadAll(resp.Body)
				var e event
				if resp.StatusCode == 201 {
					if err := json.Unmarshal(raw, &e); err != nil {
						t.Fatalf("decoding %s: %v", raw, err)
					}
				}
				return resp.StatusCode, raw, e, resp.Header
			}
			const body = `{"type": "order.paid", "tenant": "acme", "data": {"order": 42, "items": [1, 2]}}`
			status, raw, first, _ := publish(body)
			if status != 201 {
				t.Fatalf("first publish: %d %s", status, raw)
			}
			retries := func(when string) {
				// The same request, however it is spaced, is a retry.
				for _, again := range []string{body, `{"type":"order.paid","tenant":"acme","data":{"order":42,"items":[1,2]}}`} {
					status, raw, e, hdr := publish(again)
					if status != 201 || e.ID != first.ID || hdr.Get("Idempotent-Replayed") != "true" {
						t.Errorf("%s: retry %s = %d %s (Idempotent-Replayed %q), want 201 with %s replayed", when, again, status, raw, hdr.Get("Idempotent-Replayed"), first.ID)
					}
				}
				for _, other := range []string{
					`{"type": "order.paid", "tenant": "acme", "data": {"order": 43, "items": [1, 2]}}`,
					`{"type": "order.refunded", "tenant": "acme", "data": {"order": 42, "items": [1, 2]}}`,
					`{"type": "order.paid", "data": {"order": 42, "items": [1, 2]}}`,
				} {
					status, raw, _, _ := publish(other)
					var e struct {
						Error struct{ Code, Message, Param string } `json:"error"`
					}
					_ = json.Unmarshal(raw, &e)
					if status != 409 || e.Error.Code != "idempotency_key_reused" || e.Error.Param != "Idempotency-Key" || !strings.Contains(e.Error.Message, first.ID) {
						t.Errorf("%s: publish %s under a used key = %d %s, want 409 idempotency_key_reused naming %s", when, other, status, raw, first.ID)
					}
				}
			}
			retries("before a restart")
			waitFor(t, 5*time.Second, "delivery", func() bool { return rc.count() == 1 })
			if db == "sqlite" {
				n.terminate()
				n.restart()
				retries("after a restart")
			}
			time.Sleep(300 * time.Millisecond)
			if rc.count() != 1 {
				t.Fatalf("delivered %d times, want once", rc.count())
			}
			var list struct {
				Data []event `json:"data"`
			}
			n.must(200, "GET", "/v1/events", nil, &list)
			if len(list.Data) != 1 || list.Data[0].ID != first.ID || string(list.Data[0].Data) != `{"order":42,"items":[1,2]}` {
				t.Fatalf("events after the retries: %+v, want only %s as first published", list.Data, first.ID)
			}
		})
	}
}

// Resend delivers an event again; rotation signs with both secrets.
func TestResendAndRotation(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), "--dev")
	rc := newReceiver(t)
	ep := n.createEndpoint(map[string]any{"url": rc.URL})
	ev := n.publish("user.created", map[string]string{"id": "u1"})
	waitFor(t, 5*time.Second, "first delivery", func() bool { return rc.count() == 1 })
	// Received is not yet recorded: a resend before the attempt is on record
	// would race it for the delivery.
	waitFor(t, 5*time.Second, "the first attempt on record", func() bool {
		return len(n.attempts("/v1/events/"+ev.ID+"/attempts")) == 1
	})

	var rot struct {
		Secret         string `json:"secret"`
		PreviousSecret string `json:"previous_secret"`
	}
	n.must(200, "POST", "/v1/endpoints/"+ep.ID+"/secret/rotate", nil, &rot)
	if rot.Secret == ep.Secret || rot.PreviousSecret != ep.Secret {
		t.Fatalf("rotate answered %+v; old secret %s", rot, ep.Secret)
	}
	n.must(202, "POST", "/v1/events/"+ev.ID+"/resend", map[string]string{"endpoint_id": ep.ID}, nil)
	waitFor(t, 5*time.Second, "resent delivery", func() bool { return rc.count() == 2 })
	got := rc.all()[1]
	if sigs := strings.Fields(got.Header.Get("webhook-signature")); len(sigs) != 2 {
		t.Fatalf("during a rotation the signature header holds %d signatures, want 2: %q", len(sigs), sigs)
	}
	for _, secret := range []string{ep.Secret, rot.Secret} {
		wh, _ := standardwebhooks.NewWebhook(secret)
		if err := wh.Verify(got.Body, got.Header); err != nil {
			t.Errorf("secret %s… does not verify during the overlap: %v", secret[:10], err)
		}
	}
	waitFor(t, 5*time.Second, "the resend on record", func() bool {
		return len(n.attempts("/v1/events/"+ev.ID+"/attempts")) >= 2
	})
	atts := n.attempts("/v1/events/" + ev.ID + "/attempts")
	if len(atts) != 2 || atts[0].Attempt != 2 {
		t.Errorf("after a resend the attempts are %+v, want 2", atts)
	}
	n.must(404, "POST", "/v1/events/evt_nope/resend", nil, nil)
	n.must(404, "POST", "/v1/events/"+ev.ID+"/resend", map[string]string{"endpoint_id": "ep_nope"}, nil)
}

// SIGTERM stops the node within 10 s, and what was accepted is still
// delivered after a restart.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), "--dev", "--timeout", "30s")
	rc := newReceiver(t)
	hang := make(chan struct{})
	rc.respond = func(i int, r *http.Request) (int, http.Header) {
		if i == 1 {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
			return 503, nil
		}
		return 200, nil
	}
	n.createEndpoint(map[string]any{"url": rc.URL})
	ev := n.publish("job.done", nil)
	waitFor(t, 5*time.Second, "the hanging attempt", func() bool { return rc.count() == 1 })
	if d := n.terminate(); d > 10*time.Second {
		t.Errorf("SIGTERM took %s, want under 10 s", d)
	}
	close(hang)
	n.restart()
	waitFor(t, 10*time.Second, "delivery after restart", func() bool { return rc.count() >= 2 })
	if got := rc.all()[1]; got.Header.Get("webhook-id") != ev.ID {
		t.Errorf("after restart delivered %s, want %s", got.Header.Get("webhook-id"), ev.ID)
	}
	_ = fmt.Sprint()
}
