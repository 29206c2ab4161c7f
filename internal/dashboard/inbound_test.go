package dashboard

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// captured stores a request as the ingest handler would.
func captured(t *testing.T, d *Dashboard, status string, headers map[string][]string, body []byte) *hookline.InboundRequest {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	src := &hookline.Source{ID: hookline.NewID("src"), Name: "s" + strings.ToLower(hookline.NewID("x")), Type: hookline.SourceNone,
		Response: hookline.SourceResponse{Status: 200}, Created: now, Updated: now}
	if err := d.store.CreateSource(ctx, src); err != nil {
		t.Fatal(err)
	}
	req := &hookline.InboundRequest{ID: hookline.NewID("req"), SourceID: src.ID, Method: "POST", Path: "/in/" + src.ID,
		Headers: headers, Body: body, RemoteAddr: "127.0.0.1:1", Received: now, Status: status}
	if status == hookline.RequestRejected {
		req.Reason = "signature_mismatch: no signature matches"
	}
	if _, err := d.store.CaptureRequest(ctx, req, hookline.CaptureOptions{Now: now, DedupeWindow: hookline.DedupeWindow}); err != nil {
		t.Fatal(err)
	}
	return req
}

func get(t *testing.T, c *http.Client, url string, cookie *http.Cookie) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if cookie != nil {
		req.AddCookie(cookie)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// TestRawView checks that the raw body downloads byte for byte and can
// never render on the dashboard's origin, and that the request page shows
// a hostile body as text.
func TestRawView(t *testing.T) {
	t.Parallel()
	d, srv := newTestDashboard(t)
	cookie := signIn(t, d)
	c := noRedirects()
	body := []byte("<html><script>document.title='pwned'</script>\x00\xff</html>")
	req := captured(t, d, hookline.RequestRejected, map[string][]string{"Content-Type": {"text/html"}}, body)

	resp, got := get(t, c, srv.URL+"/requests/"+req.ID+"/raw", nil)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("raw view without a session: %s %q", resp.Status, resp.Header.Get("Location"))
	}

	resp, got = get(t, c, srv.URL+"/requests/"+req.ID+"/raw", cookie)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) {
		t.Fatalf("raw view: %s %q, want the body as received", resp.Status, got)
	}
	for name, want := range map[string]string{
		"Content-Type":            "application/octet-stream",
		"Content-Disposition":     `attachment; filename="` + req.ID + `.bin"`,
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "sandbox; default-src 'none'",
		"Cache-Control":           "no-store",
	} {
		if v := resp.Header.Get(name); v != want {
			t.Errorf("%s: %q, want %q", name, v, want)
		}
	}

	// A text HTML body on the request page is escaped, never markup.
	html := []byte(`<img src=x onerror="alert(1)"><script>alert(2)</script>`)
	req2 := captured(t, d, hookline.RequestAccepted, map[string][]string{"Content-Type": {"text/html"}, "X-Evil": {"<b>bold</b>"}}, html)
	resp, page := get(t, c, srv.URL+"/requests/"+req2.ID, cookie)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("request page: %s", resp.Status)
	}
	for _, bad := range []string{"<script>alert(2)", "<img src=x", "<b>bold</b>"} {
		if bytes.Contains(page, []byte(bad)) {
			t.Errorf("the request page carries %q unescaped", bad)
		}
	}
	if !bytes.Contains(page, []byte("&lt;script&gt;alert(2)&lt;/script&gt;")) {
		t.Error("the request page does not show the body as text")
	}

	// The binary body is a hex dump; the rejection reason is shown.
	_, page = get(t, c, srv.URL+"/requests/"+req.ID, cookie)
	if !bytes.Contains(page, []byte("Binary body")) || !bytes.Contains(page, []byte("signature_mismatch")) {
		t.Error("the rejected binary request's page lacks the hex note or the reason")
	}

	// Unknown ids and statuses are pages a person can read.
	if resp, _ := get(t, c, srv.URL+"/requests/req_nope/raw", cookie); resp.StatusCode != http.StatusNotFound {
		t.Errorf("raw view of an unknown request: %s", resp.Status)
	}
	if resp, _ := get(t, c, srv.URL+"/requests?status=lost", cookie); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("requests?status=lost: %s", resp.Status)
	}
	resp, page = get(t, c, srv.URL+"/requests?status=rejected", cookie)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(page, []byte(req.ID)) || bytes.Contains(page, []byte(req2.ID)) {
		t.Errorf("requests?status=rejected: %s, lists the rejected request %v, the accepted one %v",
			resp.Status, bytes.Contains(page, []byte(req.ID)), bytes.Contains(page, []byte(req2.ID)))
	}
}

func TestReadReplayForm(t *testing.T) {
	t.Parallel()
	lf := &hookline.InboundRequest{Method: "POST", Body: []byte("{\n  \"a\": 1\n}\n")}
	crlf := &hookline.InboundRequest{Method: "POST", Body: []byte("a=1\r\nb=2")}
	cases := []struct {
		name     string
		orig     *hookline.InboundRequest
		form     replayForm
		wantBody string
		wantHdr  map[string][]string
		wantErr  string // the invalid param
	}{
		{"textarea CRLF back to the body's LF", lf, replayForm{Method: "post", Body: "{\r\n  \"a\": 1\r\n}\r\n", Headers: "Content-Type: application/json\r\nX-A: 1\r\nX-A: 2\r\n"},
			"{\n  \"a\": 1\n}\n", map[string][]string{"Content-Type": {"application/json"}, "X-A": {"1", "2"}}, ""},
		{"a body with CRLF keeps it", crlf, replayForm{Method: "PUT", Body: "a=1\r\nb=2"}, "a=1\r\nb=2", map[string][]string{}, ""},
		{"base64 across lines", lf, replayForm{Method: "POST", Encoding: "base64", Body: "AP8B\r\nAg=="}, "\x00\xff\x01\x02", map[string][]string{}, ""},
		{"bad base64", lf, replayForm{Method: "POST", Encoding: "base64", Body: "***"}, "", nil, "body"},
		{"header without a colon", lf, replayForm{Method: "POST", Headers: "X-A 1"}, "", nil, "headers"},
		{"header name with a space", lf, replayForm{Method: "POST", Headers: "X A: 1"}, "", nil, "headers"},
		{"method that is not a token", lf, replayForm{Method: "PO ST"}, "", nil, "method"},
		{"unknown encoding", lf, replayForm{Method: "POST", Encoding: "rot13"}, "", nil, "encoding"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cp := *tc.orig
			f := tc.form
			err := readReplayForm(&f, tc.orig, &cp)
			if tc.wantErr != "" {
				var e *hookline.Error
				if err == nil || !errors.As(err, &e) || e.Param != tc.wantErr {
					t.Fatalf("error %v, want one about %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(cp.Body) != tc.wantBody {
				t.Errorf("body %q, want %q", cp.Body, tc.wantBody)
			}
			if cp.Method != strings.ToUpper(f.Method) {
				t.Errorf("method %q", cp.Method)
			}
			if len(cp.Headers) != len(tc.wantHdr) {
				t.Errorf("headers %v, want %v", cp.Headers, tc.wantHdr)
			}
			for k, v := range tc.wantHdr {
				if strings.Join(cp.Headers[k], ",") != strings.Join(v, ",") {
					t.Errorf("header %s: %q, want %q", k, cp.Headers[k], v)
				}
			}
		})
	}
}

func TestViewBody(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte("é"), maxShownBody) // 2 bytes a rune: cut mid-rune
	cases := []struct {
		name string
		in   []byte
		want func(body) bool
	}{
		{"JSON is indented, keys in order", []byte(`{"z":1,"a":[true]}`), func(b body) bool {
			return b.JSON && b.Text == "{\n  \"z\": 1,\n  \"a\": [\n    true\n  ]\n}"
		}},
		{"form text stays as is", []byte("a=1&b=2"), func(b body) bool { return !b.JSON && !b.Binary && b.Text == "a=1&b=2" }},
		{"binary is a hex dump", []byte{0, 1, 2, 0xff}, func(b body) bool {
			return b.Binary && strings.Contains(b.Hex, "00 01 02 ff") && !b.Truncated
		}},
		{"long binary dumps its start", bytes.Repeat([]byte{0}, 5000), func(b body) bool { return b.Binary && b.Truncated && b.Size == 5000 }},
		{"long text is cut on a rune", big, func(b body) bool {
			return b.Truncated && len(b.Text) <= maxShownBody && isText([]byte(b.Text))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := viewBody(tc.in); !tc.want(got) {
				t.Errorf("viewBody: %+v", got)
			}
		})
	}
}
