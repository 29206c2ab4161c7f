package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestNULRefusedOnBothStores: PostgreSQL's text refuses the NUL character
// that SQLite stores, so a string holding one must be a 400 naming the
// field on both stores (it was a 500 on PostgreSQL), whichever way it
// enters: a JSON body, a query parameter, a dashboard form. The same
// request without the NUL succeeds. An event's data and an inbound body
// are bytes and keep their NUL, byte for byte (issue 20).
func TestNULRefusedOnBothStores(t *testing.T) {
	type request struct {
		method, path string
		body         any // a JSON body; nil for none
	}
	// Each case is one request made with nul where the field goes: once
	// with "\x00" (a 400 naming param) and once with "" (a success).
	cases := []struct {
		name  string
		param string
		req   func(nul, unique string) request
		ok    int
	}{
		{"event tenant", "tenant", func(nul, _ string) request {
			return request{"POST", "/v1/events", map[string]any{"type": "a.b", "data": map[string]any{}, "tenant": "x" + nul + "y"}}
		}, 201},
		{"event type", "type", func(nul, _ string) request {
			return request{"POST", "/v1/events", map[string]any{"type": "a." + nul + "b", "data": map[string]any{}}}
		}, 201},
		{"endpoint description", "description", func(nul, _ string) request {
			return request{"POST", "/v1/endpoints", map[string]any{"url": "http://127.0.0.1:9/hook", "enabled_events": []string{"*"}, "description": "d" + nul}}
		}, 201},
		{"endpoint tenant", "tenant", func(nul, _ string) request {
			return request{"POST", "/v1/endpoints", map[string]any{"url": "http://127.0.0.1:9/hook", "enabled_events": []string{"*"}, "tenant": "t" + nul}}
		}, 201},
		{"endpoint header value", "headers[X-Foo]", func(nul, _ string) request {
			return request{"POST", "/v1/endpoints", map[string]any{"url": "http://127.0.0.1:9/hook", "enabled_events": []string{"*"}, "headers": map[string]string{"X-Foo": "a" + nul + "b"}}}
		}, 201},
		{"source name", "name", func(nul, unique string) request {
			return request{"POST", "/v1/sources", map[string]any{"name": "src" + nul + unique, "type": "none"}}
		}, 201},
		{"endpoint list tenant", "tenant", func(nul, _ string) request {
			return request{"GET", "/v1/endpoints?tenant=t" + url.QueryEscape(nul), nil}
		}, 200},
		{"event list tenant", "tenant", func(nul, _ string) request {
			return request{"GET", "/v1/events?tenant=" + url.QueryEscape(nul) + "x", nil}
		}, 200},
		{"endpoint id in the path", "path", func(nul, _ string) request {
			// Not found without the NUL: what counts is that it is no 500.
			return request{"GET", "/v1/endpoints/ep_" + url.PathEscape(nul) + "x", nil}
		}, 404},
	}
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			n := dbNodes(t, db, "--dev", "--log-level", "warn")[0]
			for i, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					for _, nul := range []string{"\x00", ""} {
						r := c.req(nul, string(rune('a'+i))+nul)
						status, raw := n.call(r.method, r.path, r.body, nil)
						if nul == "" {
							if status != c.ok {
								t.Errorf("%s %s without NUL: %d, want %d: %s", r.method, r.path, status, c.ok, raw)
							}
							continue
						}
						var e struct {
							Error struct{ Code, Message, Param string }
						}
						_ = json.Unmarshal(raw, &e)
						if status != 400 || e.Error.Param != c.param || e.Error.Code == "" || !strings.Contains(e.Error.Message, "NUL") {
							t.Errorf("%s %s with NUL: %d %s, want 400 naming %s", r.method, r.path, status, raw, c.param)
						}
					}
				})
			}

			t.Run("dashboard form field", func(t *testing.T) {
				browser := dashboardSignIn(t, n)
				for _, nul := range []string{"\x00", ""} {
					form := url.Values{"csrf": {dashboardCSRF(t, browser, n.URL+"/endpoints/new")},
						"url": {"http://127.0.0.1:9/hook"}, "events": {"*"}, "scheme": {"standard"}, "signing": {"hmac"}, "description": {"made in the dashboard" + nul}}
					resp, err := browser.PostForm(n.URL+"/endpoints", form)
					if err != nil {
						t.Fatal(err)
					}
					page, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if nul == "" {
						if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/endpoints/ep_") {
							t.Errorf("POST /endpoints without NUL: %s to %q, want 303 to the endpoint", resp.Status, resp.Header.Get("Location"))
						}
						continue
					}
					if resp.StatusCode != 400 || !strings.Contains(string(page), "description") || !strings.Contains(string(page), "NUL") {
						t.Errorf("POST /endpoints with NUL: %s, want 400 and a page naming description:\n%s", resp.Status, page)
					}
				}
			})

			t.Run("data keeps its NUL", func(t *testing.T) {
				data := []byte(`{"s":"a\u0000b","k\u0000":[1,"\u0000"]}`)
				var ev event
				n.must(201, "POST", "/v1/events", map[string]any{"type": "nul.data", "data": json.RawMessage(data)}, &ev)
				var got event
				n.must(200, "GET", "/v1/events/"+ev.ID, nil, &got)
				if !bytes.Equal(got.Data, data) {
					t.Errorf("data read back as %s, want %s", got.Data, data)
				}
				var decoded struct{ S string }
				if err := json.Unmarshal(got.Data, &decoded); err != nil || decoded.S != "a\x00b" {
					t.Errorf("data.s read back as %q (%v), want %q", decoded.S, err, "a\x00b")
				}
			})

			t.Run("inbound body keeps its NUL", func(t *testing.T) {
				var src struct{ ID string }
				n.must(201, "POST", "/v1/sources", map[string]any{"name": "nul-bytes", "type": "none"}, &src)
				body := []byte("\x00head\x00\xff\xfe not UTF-8 either \x00")
				resp, err := http.Post(n.URL+"/in/"+src.ID, "application/octet-stream", bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					t.Fatalf("POST /in/%s: %s", src.ID, resp.Status)
				}
				var reqs struct{ Data []struct{ ID string } }
				n.must(200, "GET", "/v1/requests?source_id="+src.ID, nil, &reqs)
				if len(reqs.Data) != 1 {
					t.Fatalf("requests of the source: %+v, want 1", reqs)
				}
				raw := n.must(200, "GET", "/v1/requests/"+reqs.Data[0].ID+"/raw", nil, nil)
				if !bytes.Equal(raw, body) {
					t.Errorf("inbound body read back as %q, want %q", raw, body)
				}
			})

			t.Run("inbound URL", func(t *testing.T) {
				var src struct{ ID string }
				n.must(201, "POST", "/v1/sources", map[string]any{"name": "nul-url", "type": "none"}, &src)
				// A decoded path is text: a NUL in it is refused. The
				// query is kept as sent, escaped (a provider may have
				// signed it), so %00 in it is captured.
				for _, c := range []struct {
					target string
					status int
				}{
					{"/in/" + src.ID + "/a%00b", 400},
					{"/in/" + url.PathEscape("src_\x00"), 400},
					{"/in/" + src.ID + "/ok?x=%00", 200},
				} {
					resp, err := http.Post(n.URL+c.target, "application/json", strings.NewReader("{}"))
					if err != nil {
						t.Fatal(err)
					}
					answer, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != c.status {
						t.Errorf("POST %s: %s %s, want %d", c.target, resp.Status, answer, c.status)
					}
				}
				var reqs struct {
					Data []struct{ Path, Query string }
				}
				n.must(200, "GET", "/v1/requests?source_id="+src.ID, nil, &reqs)
				if len(reqs.Data) != 1 || reqs.Data[0].Query != "x=%00" {
					t.Errorf("requests of the source: %+v, want the one with query x=%%00", reqs.Data)
				}
			})
		})
	}
}

// dashboardSignIn returns a client signed in to n's dashboard that does
// not follow redirects, so that a form's 303 is seen.
func dashboardSignIn(t *testing.T, n *node) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.PostForm(n.URL+"/login", url.Values{"key": {testAPIKey}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /login: %s", resp.Status)
	}
	return browser
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// dashboardCSRF reads the CSRF token of the form on page.
func dashboardCSRF(t *testing.T, browser *http.Client, page string) string {
	t.Helper()
	resp, err := browser.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRE.FindSubmatch(html)
	if m == nil {
		t.Fatalf("GET %s: %s, no CSRF token in:\n%s", page, resp.Status, html)
	}
	return string(m[1])
}
