package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/apijson"
	"github.com/hookline/hookline/internal/client"
	"github.com/hookline/hookline/internal/server"
	"github.com/hookline/hookline/internal/testutil"
)

// TestTypedMethodsAgainstARealServer drives each resource's methods
// through a real server and checks what each answer says, so that a
// method on the wrong route or a shape that drifted from the API's fails.
func TestTypedMethodsAgainstARealServer(t *testing.T) {
	const key = "hl_sk_client_test_key_0123456789"
	base, _ := testutil.Serve(t, server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Dev: true, APIKey: key,
		RetrySchedule: []time.Duration{time.Hour}}, &testutil.SyncBuffer{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := client.New(base, key)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	t.Run("endpoints", func(t *testing.T) {
		ep, err := c.CreateEndpoint(ctx, client.Fields{"url": "http://127.0.0.1:9/a", "enabled_events": []string{"invoice.*"}, "filter": nil})
		must(err)
		if !strings.HasPrefix(ep.ID, "ep_") || ep.Object != "endpoint" || !strings.HasPrefix(ep.Secret, "whsec_") || string(ep.Filter) != "null" {
			t.Fatalf("created %s: object %q, secret whsec_ %v, filter %s", ep.ID, ep.Object, strings.HasPrefix(ep.Secret, "whsec_"), ep.Filter)
		}
		up, err := c.UpdateEndpoint(ctx, ep.ID, client.Fields{"description": "d", "rate_limit": map[string]any{"per_second": 5}})
		must(err)
		if up.Description != "d" || up.RateLimit == nil || up.RateLimit.PerSecond != 5 || up.Secret != "" {
			up.Secret = "(hidden)"
			t.Fatalf("updated %+v", up)
		}
		l, err := c.ListEndpoints(ctx, client.Page{Limit: 10}, "")
		must(err)
		if len(l.Data) != 1 || l.Data[0].ID != ep.ID || l.HasMore {
			t.Fatalf("listed %+v", l)
		}
		zero := int64(0)
		sec, err := c.RotateEndpointSecret(ctx, ep.ID, &zero)
		must(err)
		if sec.Secret == ep.Secret || sec.PreviousSecret != "" { // no overlap: the old one stops at once
			t.Fatalf("rotated with no overlap: new secret differs %v, previous kept %v", sec.Secret != ep.Secret, sec.PreviousSecret != "")
		}
		sec, err = c.RotateEndpointSecret(ctx, ep.ID, nil)
		must(err)
		if got, _ := c.EndpointSecret(ctx, ep.ID); sec.PreviousSecret == "" || got.Secret != sec.Secret {
			t.Fatalf("rotated with the server's overlap: previous kept %v, read back the same secret %v", sec.PreviousSecret != "", got.Secret == sec.Secret)
		}
		evt, err := c.SendTestEvent(ctx, ep.ID)
		must(err)
		if evt.Type != "hookline.test" || !json.Valid(evt.Payload) {
			t.Fatalf("test event %+v", evt)
		}
		job, err := c.RecoverEndpoint(ctx, ep.ID, time.Now().Add(-time.Hour).Unix(), 0)
		must(err)
		for !job.Finished() {
			time.Sleep(20 * time.Millisecond)
			job, err = c.Job(ctx, job.ID)
			must(err)
		}
		if job.Kind != "recover" || job.EndpointID != ep.ID || job.Status != apijson.JobSucceeded {
			t.Fatalf("job %+v", job)
		}
		d, err := c.DeleteEndpoint(ctx, ep.ID)
		must(err)
		if d != (apijson.Deleted{Deleted: true, ID: ep.ID, Object: "endpoint"}) {
			t.Fatalf("deleted %+v", d)
		}
		var ce *client.Error
		if _, err := c.Endpoint(ctx, ep.ID); !errors.As(err, &ce) || ce.Status != http.StatusNotFound {
			t.Fatalf("getting a deleted endpoint: %v", err)
		}
	})

	t.Run("events", func(t *testing.T) {
		ep, err := c.CreateEndpoint(ctx, client.Fields{"url": "http://127.0.0.1:9/b", "enabled_events": []string{"*"}})
		must(err)
		p := client.PublishParams{Type: "invoice.paid", Data: json.RawMessage(`{"n": 1}`), Tenant: "acme", IdempotencyKey: "k1"}
		e, replayed, err := c.PublishEvent(ctx, p)
		must(err)
		again, replayedAgain, err := c.PublishEvent(ctx, p)
		must(err)
		if replayed || !replayedAgain || again.ID != e.ID || e.Tenant != "acme" || string(e.Data) != `{"n":1}` { // the request encoder compacts data
			t.Fatalf("published %s (replayed %v), then %s (replayed %v)", e.Payload, replayed, again.Payload, replayedAgain)
		}
		got, err := c.Event(ctx, e.ID)
		must(err)
		if string(got.Payload) != string(e.Payload) {
			t.Fatalf("event %s, published as %s", got.Payload, e.Payload)
		}
		l, err := c.ListEvents(ctx, client.Page{Limit: 10}, "invoice.paid", "acme")
		must(err)
		if len(l.Data) != 1 || l.Data[0].ID != e.ID {
			t.Fatalf("listed %+v", l)
		}
		if _, err := c.ListEvents(ctx, client.Page{Limit: 0}, "", ""); !isParam(err, "limit") {
			t.Fatalf("a limit of 0: %v, want an error about limit", err)
		}
		ds, err := c.ResendEvent(ctx, e.ID, ep.ID)
		must(err)
		if len(ds.Data) != 1 || ds.Data[0].EndpointID != ep.ID || ds.Data[0].EventID != e.ID {
			t.Fatalf("resent %+v", ds)
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			as, err := c.EventAttempts(ctx, e.ID, client.Page{Limit: 10}, ep.ID)
			must(err)
			if len(as.Data) > 0 {
				if a := as.Data[0]; a.EndpointID != ep.ID || a.ErrorKind == "" || a.ResponseStatus != 0 {
					t.Fatalf("attempt to a closed port: %+v", a)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no attempt")
			}
		}
	})

	t.Run("sources", func(t *testing.T) {
		src, err := c.CreateSource(ctx, client.Fields{"name": "shop", "type": "token", "secret": "t0k", "options": map[string]string{"header": "X-Token"}})
		must(err)
		if !strings.HasSuffix(src.IngestURL, "/in/"+src.ID) || src.Options.Header != "X-Token" {
			t.Fatalf("created %+v", src)
		}
		byName, err := c.Source(ctx, "shop")
		must(err)
		sec, err := c.SourceSecret(ctx, "shop")
		must(err)
		if byName.ID != src.ID || sec.Secret != "t0k" || sec.SourceID != src.ID {
			t.Fatalf("by name %s, secret of %s right %v", byName.ID, sec.SourceID, sec.Secret == "t0k")
		}
		up, err := c.UpdateSource(ctx, "shop", client.Fields{"name": "shop2"})
		must(err)
		if up.Name != "shop2" {
			t.Fatalf("updated %+v", up)
		}
		con, err := c.CreateConnection(ctx, client.ConnectionParams{SourceID: "shop2", URL: "http://127.0.0.1:9/c"})
		must(err)
		if con.SourceID != src.ID || string(con.Filter) != "null" {
			t.Fatalf("connection %+v", con)
		}
		cs, err := c.ListConnections(ctx, client.Page{Limit: 100}, src.ID)
		must(err)
		if len(cs.Data) != 1 || cs.Data[0].ID != con.ID {
			t.Fatalf("connections %+v", cs)
		}

		req, err := http.NewRequestWithContext(ctx, http.MethodPost, src.IngestURL, strings.NewReader(`{"a": 1}`))
		must(err)
		req.Header.Set("X-Token", "t0k")
		resp, err := http.DefaultClient.Do(req)
		must(err)
		resp.Body.Close()
		var captured apijson.Request
		for deadline := time.Now().Add(10 * time.Second); captured.ID == ""; time.Sleep(20 * time.Millisecond) {
			rs, err := c.ListRequests(ctx, client.Page{Limit: 10}, client.RequestFilter{SourceID: "shop2", Status: "accepted"})
			must(err)
			if len(rs.Data) > 0 {
				captured = rs.Data[0]
			} else if time.Now().After(deadline) {
				t.Fatal("no captured request")
			}
		}
		full, err := c.Request(ctx, captured.ID)
		must(err)
		body, err := c.RequestBody(ctx, captured.ID)
		must(err)
		if captured.Body != nil || full.Body == nil || *full.Body != `{"a": 1}` || string(body) != `{"a": 1}` {
			t.Fatalf("listed body %v, shown body %v, raw %q", captured.Body, full.Body, body)
		}
		edited := `{"a": 2}`
		rp, err := c.ReplayRequest(ctx, captured.ID, apijson.ReplayParams{URL: "http://127.0.0.1:9/d", Body: &edited})
		must(err)
		if rp.Request.ReplayOf != captured.ID || len(rp.Attempts) != 1 || rp.Attempts[0].URL != "http://127.0.0.1:9/d" {
			t.Fatalf("replayed %+v", rp)
		}

		if d, err := c.DeleteConnection(ctx, con.ID); err != nil || d.ID != con.ID || !d.Deleted {
			t.Fatalf("deleted connection %+v (%v)", d, err)
		}
		if d, err := c.DeleteSource(ctx, "shop2"); err != nil || d.ID != src.ID || !d.Deleted {
			t.Fatalf("deleted source %+v (%v)", d, err)
		}
	})

	t.Run("secret key", func(t *testing.T) {
		r, err := c.RotateSecretKey(ctx)
		must(err)
		if r.Object != "secret_key_rotation" || r.KeyID == "" {
			t.Fatalf("rotation %+v", r)
		}
	})
}

func isParam(err error, param string) bool {
	var ce *client.Error
	return errors.As(err, &ce) && ce.Status == http.StatusBadRequest && ce.Param == param
}
