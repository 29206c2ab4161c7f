package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/client"
	"github.com/hookline/hookline/internal/server"
	"github.com/hookline/hookline/internal/testutil"
)

// TestJSONOutputIsTheServersAnswer checks that --format json prints each
// answer byte for byte as the server wrote it, indented: the commands
// decode typed answers (internal/apijson) and encode them again, which
// must neither drop, reorder nor re-escape anything. The inputs carry
// the characters encoding/json escapes (<, >, &) and a publisher's own
// spacing, which an event keeps.
func TestJSONOutputIsTheServersAnswer(t *testing.T) {
	const key = "hl_sk_output_test_key_0123456789"
	base, _ := testutil.Serve(t, server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Dev: true, APIKey: key,
		RetrySchedule: []time.Duration{time.Hour}}, &testutil.SyncBuffer{})
	ctx := context.Background()
	hookline := func(args ...string) []byte {
		t.Helper()
		var out, errOut bytes.Buffer
		env := Env{Getenv: func(k string) string {
			return map[string]string{"HOOKLINE_URL": base, "HOOKLINE_API_KEY": key}[k]
		}, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
			UserConfigDir: func() (string, error) { return t.TempDir(), nil }, Hostname: func() (string, error) { return "test", nil }}
		if err := Run(ctx, append(args, "--format", "json"), env); err != nil {
			t.Fatalf("hookline %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
		}
		return out.Bytes()
	}
	id := func(out []byte) string {
		t.Helper()
		var v struct{ ID string }
		if err := json.Unmarshal(out, &v); err != nil || v.ID == "" {
			t.Fatalf("no id in %s (%v)", out, err)
		}
		return v.ID
	}
	c := client.New(base, key)
	server := func(method, path string, query url.Values) []byte {
		t.Helper()
		raw, _, err := c.Do(ctx, method, path, query, nil, nil)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		var b bytes.Buffer
		if err := json.Indent(&b, bytes.TrimSpace(raw), "", "  "); err != nil {
			t.Fatal(err)
		}
		return append(b.Bytes(), '\n')
	}

	ep := id(hookline("endpoints", "create", "--url", "http://127.0.0.1:9/in?a=1&b=<2>", "--events", "invoice.*",
		"--metadata", "note=<b>&amp;</b>", "--filter", `{"data.amount": {"in": [1, 2.5]}}`, "--rate-limit", "50/100",
		"--header", "X-Tag: a&b", "--retry-schedule", "0s,1h"))
	// Published as another client would, not through the CLI (whose
	// encoder escapes < and &): the event keeps these bytes.
	post := func(path, body string) []byte {
		t.Helper()
		r, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Authorization", "Bearer "+key)
		r.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		if _, err := b.ReadFrom(resp.Body); err != nil || resp.StatusCode/100 != 2 {
			t.Fatalf("POST %s: %s %s (%v)", path, resp.Status, b.Bytes(), err)
		}
		return b.Bytes()
	}
	evt := id(post("/v1/events", `{"type": "invoice.paid", "tenant": "t<1>", "data": { "amount" : 1, "note": "<b>&</b>\u2028" }}`))
	src := id(hookline("sources", "create", "--name", "shop<&>", "--type", "none", "--response", `{"status": 202, "body": "<ok/>"}`))
	hookline("connections", "create", "--source", src, "--url", "http://127.0.0.1:9/orders?x=<1>&y=2", "--filter", `{"body.status": "paid"}`)
	post("/in/"+src, `{"status": "paid", "html": "<p>&amp;</p>"}`)
	var req string
	for deadline := time.Now().Add(10 * time.Second); req == ""; time.Sleep(20 * time.Millisecond) {
		var l struct{ Data []struct{ ID string } }
		if err := json.Unmarshal(hookline("requests", "list"), &l); err != nil {
			t.Fatal(err)
		}
		if len(l.Data) > 0 {
			req = l.Data[0].ID
		} else if time.Now().After(deadline) {
			t.Fatal("the request to the source was not captured")
		}
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var l struct{ Data []json.RawMessage }
		if err := json.Unmarshal(hookline("events", "attempts", evt), &l); err != nil {
			t.Fatal(err)
		}
		if len(l.Data) > 0 {
			break // the next attempt is an hour away: the list holds still
		}
		if time.Now().After(deadline) {
			t.Fatal("no attempt of the event")
		}
	}

	limit := func(n string) url.Values { return url.Values{"limit": {n}} }
	for _, tc := range []struct {
		args         []string
		method, path string
		query        url.Values
	}{
		{[]string{"endpoints", "get", ep}, http.MethodGet, "/v1/endpoints/" + ep, nil},
		{[]string{"endpoints", "list"}, http.MethodGet, "/v1/endpoints", limit("20")},
		{[]string{"endpoints", "secret", ep}, http.MethodGet, "/v1/endpoints/" + ep + "/secret", nil},
		{[]string{"events", "get", evt}, http.MethodGet, "/v1/events/" + evt, nil},
		{[]string{"events", "list"}, http.MethodGet, "/v1/events", limit("20")},
		{[]string{"events", "attempts", evt}, http.MethodGet, "/v1/events/" + evt + "/attempts", limit("20")},
		{[]string{"sources", "get", src}, http.MethodGet, "/v1/sources/" + src, nil},
		{[]string{"sources", "list"}, http.MethodGet, "/v1/sources", limit("100")},
		{[]string{"sources", "secret", src}, http.MethodGet, "/v1/sources/" + src + "/secret", nil},
		{[]string{"connections", "list"}, http.MethodGet, "/v1/connections", limit("100")},
		{[]string{"requests", "list"}, http.MethodGet, "/v1/requests", limit("20")},
		{[]string{"requests", "show", req}, http.MethodGet, "/v1/requests/" + req, nil},
	} {
		t.Run(strings.Join(tc.args[:2], "_"), func(t *testing.T) {
			got, want := hookline(tc.args...), server(tc.method, tc.path, tc.query)
			if !bytes.Equal(got, want) {
				t.Errorf("hookline %s --format json printed\n%s\nthe server answered\n%s", strings.Join(tc.args, " "), got, want)
			}
		})
	}

	got := string(hookline("endpoints", "delete", ep))
	if want := "{\n  \"deleted\": true,\n  \"id\": \"" + ep + "\",\n  \"object\": \"endpoint\"\n}\n"; got != want {
		t.Errorf("endpoints delete --format json printed\n%s\nwant\n%s", got, want)
	}
}
