package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/server"
	"github.com/hookline/hookline/internal/testutil"
)

// serve runs a dev node with key and a one-hour retry schedule, logging
// into logs, until the returned stop is called (or the test ends).
func serve(t *testing.T, key string, logs io.Writer) (base string, stop func()) {
	t.Helper()
	return testutil.Serve(t, server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Dev: true, APIKey: key,
		RetrySchedule: []time.Duration{time.Hour}}, logs)
}

func call(t *testing.T, base, key, method, path string, body any, hdr map[string]string, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %q: %v", method, path, b, err)
		}
	}
	return resp.StatusCode
}

// scrape reads /metrics (no credentials) into series → value.
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// TestMetricsAfterKnownTraffic sends traffic of known outcomes and checks
// every counter /metrics reports for it.
func TestMetricsAfterKnownTraffic(t *testing.T) {
	const key = "hl_sk_metrics_test_key_0123456789"
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.WriteHeader(200)
		case "/fail":
			w.WriteHeader(503)
		case "/gone":
			w.WriteHeader(410)
		}
	}))
	defer recv.Close()
	started := time.Now()
	base, _ := serve(t, key, io.Discard)
	for _, ep := range []struct{ path, events string }{{"/ok", "ok.*"}, {"/fail", "fail.*"}, {"/gone", "gone.*"}} {
		if code := call(t, base, key, "POST", "/v1/endpoints", map[string]any{"url": recv.URL + ep.path, "enabled_events": []string{ep.events}}, nil, nil); code != 201 {
			t.Fatalf("creating endpoint: %d", code)
		}
	}
	publish := func(typ string, hdr map[string]string) {
		if code := call(t, base, key, "POST", "/v1/events", map[string]any{"type": typ, "data": map[string]int{"n": 1}}, hdr, nil); code != 201 {
			t.Fatalf("publishing %s: %d", typ, code)
		}
	}
	for range 3 {
		publish("ok.x", nil)
	}
	publish("fail.x", nil)
	publish("fail.x", nil)
	publish("gone.x", map[string]string{"Idempotency-Key": "k1"})
	publish("gone.x", map[string]string{"Idempotency-Key": "k1"}) // a replay: not a new event
	// Inbound traffic through a real source: one accepted, two rejected.
	// The counter is process-wide, so the source's name is this run's own.
	source := fmt.Sprintf("metrics-%d", time.Now().UnixNano())
	var src struct {
		IngestURL string `json:"ingest_url"`
	}
	if code := call(t, base, key, "POST", "/v1/sources", map[string]any{"name": source, "type": "token", "secret": "s3cret-token-value", "options": map[string]any{"header": "X-Hookline-Token"}}, nil, &src); code != 201 {
		t.Fatalf("creating source: %d", code)
	}
	for _, token := range []string{"s3cret-token-value", "wrong", ""} {
		req, _ := http.NewRequest("POST", src.IngestURL, strings.NewReader(`{"a":1}`))
		if token != "" {
			req.Header.Set("X-Hookline-Token", token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	want := map[string]float64{
		`hookline_deliveries_total{outcome="succeeded",status_class="2xx"}`: 3,
		`hookline_deliveries_total{outcome="retrying",status_class="5xx"}`:  2,
		`hookline_deliveries_total{outcome="failed",status_class="4xx"}`:    1,
		`hookline_delivery_duration_seconds_count`:                          6,
		`hookline_events_published_total`:                                   6,
		`hookline_retries_scheduled_total`:                                  2,
		`hookline_endpoints_disabled_total`:                                 1,
		`hookline_backlog_deliveries`:                                       2, // the two waiting for a retry
		`hookline_endpoints{status="disabled"}`:                             1,
		`hookline_endpoints{status="enabled"}`:                              2,
	}
	want[`hookline_inbound_requests_total{source="`+source+`",verdict="accepted"}`] = 1
	want[`hookline_inbound_requests_total{source="`+source+`",verdict="rejected"}`] = 2
	// Attempts land asynchronously and the store gauges are cached for 5 s.
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := scrape(t, base)
		var diffs []string
		for k, v := range want {
			if got[k] != v {
				diffs = append(diffs, k+" = "+strconv.FormatFloat(got[k], 'g', -1, 64)+", want "+strconv.FormatFloat(v, 'g', -1, 64))
			}
		}
		if len(diffs) == 0 {
			// Waiting for a retry an hour away is still waiting.
			if age := got[`hookline_backlog_oldest_age_seconds`]; age <= 0 || age > time.Since(started).Seconds() {
				t.Errorf("oldest pending age %v, want more than 0 and at most the test's %v", age, time.Since(started))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics after known traffic:\n%s", strings.Join(diffs, "\n"))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestOldestPendingAgrees builds a backlog of deliveries waiting for a
// retry an hour away, restarts the server (which samples the backlog for
// the chart as it starts) and checks that the overview's card, its chart
// and /metrics give the same, non-zero age of the oldest pending delivery.
func TestOldestPendingAgrees(t *testing.T) {
	const key = "hl_sk_oldest_pending_test_key_0123"
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer recv.Close()
	cfg := server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Dev: true, APIKey: key,
		RetrySchedule: []time.Duration{time.Hour}}
	base, stop := testutil.Serve(t, cfg, io.Discard)
	if code := call(t, base, key, "POST", "/v1/endpoints", map[string]any{"url": recv.URL}, nil, nil); code != 201 {
		t.Fatalf("creating endpoint: %d", code)
	}
	published := time.Now()
	for range 3 {
		if code := call(t, base, key, "POST", "/v1/events", map[string]any{"type": "a.b", "data": map[string]int{}}, nil, nil); code != 201 {
			t.Fatalf("publishing: %d", code)
		}
	}
	// Every delivery failed once and waits for its retry, an hour away.
	deadline := time.Now().Add(20 * time.Second)
	for scrape(t, base)[`hookline_deliveries_total{outcome="retrying",status_class="5xx"}`] != 3 {
		if time.Now().After(deadline) {
			t.Fatal("the three deliveries were not attempted")
		}
		time.Sleep(100 * time.Millisecond)
	}
	const waited = 2 * time.Second
	time.Sleep(waited)
	stop()

	base, _ = testutil.Serve(t, cfg, io.Discard)
	browser := signIn(t, base, key)
	card := regexp.MustCompile(`<dt>Oldest pending</dt><dd>([^<]*)</dd>`)
	chart := regexp.MustCompile(`<title>Oldest pending \(seconds waiting\): latest oldest pending ([0-9.]+) s</title>`)
	var page []byte
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, err := browser.Get(base + "/")
		if err != nil {
			t.Fatalf("GET /: %v", err)
		}
		page, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET /: %s", resp.Status)
		}
		// The first start sampled an empty backlog; the restart's sample
		// replaces it (same minute) or follows it.
		if bytes.Contains(page, []byte(`<title>Backlog (pending deliveries): latest pending 3</title>`)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the overview's charts have no sample of the backlog of 3:\n%s", page)
		}
		time.Sleep(100 * time.Millisecond)
	}
	elapsed := time.Since(published)
	m := card.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no Oldest pending card on the overview:\n%s", page)
	}
	cardAge, err := time.ParseDuration(string(m[1]))
	if err != nil {
		t.Fatalf("the Oldest pending card says %q, want an age: %v", m[1], err)
	}
	mc := chart.FindSubmatch(page)
	if mc == nil {
		t.Fatalf("no Oldest pending chart on the overview:\n%s", page)
	}
	chartAge, _ := strconv.ParseFloat(string(mc[1]), 64)
	metricAge := scrape(t, base)[`hookline_backlog_oldest_age_seconds`]
	t.Logf("oldest pending: card %v, chart %v s, /metrics %v s, %v since publishing", cardAge, chartAge, metricAge, elapsed)

	for _, c := range []struct {
		name string
		age  float64 // seconds
	}{{"card", cardAge.Seconds()}, {"chart", chartAge}, {"/metrics", metricAge}} {
		if c.age < waited.Seconds() || c.age > elapsed.Seconds()+1 {
			t.Errorf("%s: oldest pending %v s, want between %v and %v (the backlog waited that long)", c.name, c.age, waited.Seconds(), elapsed.Seconds())
		}
	}
	// The card truncates to whole seconds; the chart was sampled at start.
	if d := metricAge - cardAge.Seconds(); d < 0 || d > 2 {
		t.Errorf("/metrics says %v s, the card %v: they disagree", metricAge, cardAge)
	}
	if chartAge > metricAge+0.5 {
		t.Errorf("the chart's sample %v s is older than /metrics' %v s, though taken before it", chartAge, metricAge)
	}
}

// signIn returns a client signed in to the dashboard with key.
func signIn(t *testing.T, base, key string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.PostForm(base+"/login", url.Values{"key": {key}})
	if err != nil {
		t.Fatalf("POST /login: %v", err)
	}
	resp.Body.Close()
	if len(jar.Cookies(resp.Request.URL)) == 0 {
		t.Fatalf("POST /login: %s and no session cookie", resp.Status)
	}
	return browser
}

// TestAttemptErrorKindAgrees delivers to a port that refuses connections
// and checks that the API and the dashboard say "refused" (the CLI's
// table reads the API's field: testdata/script/output.txtar).
func TestAttemptErrorKindAgrees(t *testing.T) {
	const key = "hl_sk_error_kind_test_key_012345"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String() + "/hook"
	l.Close()
	base, _ := serve(t, key, io.Discard)
	if code := call(t, base, key, "POST", "/v1/endpoints", map[string]any{"url": refused}, nil, nil); code != 201 {
		t.Fatalf("creating endpoint: %d", code)
	}
	var ev struct {
		ID string `json:"id"`
	}
	if code := call(t, base, key, "POST", "/v1/events", map[string]any{"type": "a.b", "data": map[string]int{}}, nil, &ev); code != 201 {
		t.Fatalf("publishing: %d", code)
	}
	var attempts struct {
		Data []struct {
			ResponseStatus int    `json:"response_status"`
			Error          string `json:"error"`
			ErrorKind      string `json:"error_kind"`
		} `json:"data"`
	}
	for deadline := time.Now().Add(20 * time.Second); len(attempts.Data) == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no attempt recorded")
		}
		call(t, base, key, "GET", "/v1/events/"+ev.ID+"/attempts", nil, nil, &attempts)
	}
	if a := attempts.Data[0]; a.ResponseStatus != 0 || a.ErrorKind != "refused" || !strings.Contains(a.Error, "refused") {
		t.Fatalf("API attempt %+v, want status 0, error_kind refused", a)
	}
	resp, err := signIn(t, base, key).Get(base + "/events/" + ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(page, []byte("no response: refused")) {
		t.Fatalf("the event page does not say the attempt was refused:\n%s", page)
	}
}

// TestLogsHoldNoSecrets runs a server through endpoint creation, secret
// reads and rotations, dashboard sign-ins (right and wrong key) and
// deliveries, with debug logging, then greps the logs for every secret
// and key it saw.
func TestLogsHoldNoSecrets(t *testing.T) {
	const key = "hl_sk_log_test_key_abcdefghijklmnop"
	const wrongKey = "hl_sk_wrong_but_secret_zyxwvutsrq"
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
	defer recv.Close()
	logs := &testutil.SyncBuffer{}
	base, stop := serve(t, key, logs)

	var secrets []string
	var ep struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	if code := call(t, base, key, "POST", "/v1/endpoints", map[string]any{"url": recv.URL}, nil, &ep); code != 201 {
		t.Fatalf("creating: %d", code)
	}
	secrets = append(secrets, ep.Secret)
	// A secret set by the caller, then rotated twice.
	custom := "whsec_" + strings.Repeat("QUJD", 8)
	var rot struct {
		Secret string `json:"secret"`
	}
	if code := call(t, base, key, "POST", "/v1/endpoints/"+ep.ID+"/secret/rotate", map[string]any{"secret": custom}, nil, &rot); code != 200 {
		t.Fatalf("rotating: %d", code)
	}
	secrets = append(secrets, custom)
	call(t, base, key, "POST", "/v1/endpoints/"+ep.ID+"/secret/rotate", nil, nil, &rot)
	secrets = append(secrets, rot.Secret)
	// A bad secret is refused: the error must not echo it either.
	bad := "whsec_tooshort"
	call(t, base, key, "POST", "/v1/endpoints/"+ep.ID+"/secret/rotate", map[string]any{"secret": bad}, nil, nil)
	secrets = append(secrets, bad)
	call(t, base, wrongKey, "GET", "/v1/endpoints", nil, nil, nil)
	call(t, base, key, "POST", "/v1/events", map[string]any{"type": "a.b", "data": map[string]int{}}, nil, nil)

	// Dashboard sign-in, wrong and right.
	for _, k := range []string{wrongKey, key} {
		resp, err := http.PostForm(base+"/login", url.Values{"key": {k}})
		if err != nil {
			t.Fatalf("POST /login: %v", err)
		}
		resp.Body.Close()
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "a.b") && !strings.Contains(logs.String(), "HTTP 500") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		var list struct {
			Data []any `json:"data"`
		}
		call(t, base, key, "GET", "/v1/endpoints/"+ep.ID+"/attempts", nil, nil, &list)
		if len(list.Data) > 0 {
			break
		}
	}
	stop()

	out := logs.String()
	if !strings.Contains(out, "dashboard sign-in") {
		t.Fatalf("the logs do not show the sign-ins; the test would prove nothing:\n%s", out)
	}
	for _, s := range append(secrets, key, wrongKey) {
		if s == "" {
			t.Fatal("an empty secret: the test would prove nothing")
		}
		// The secret, and its key material without the prefix.
		for _, needle := range []string{s, strings.TrimPrefix(strings.TrimPrefix(s, "whsec_"), "hl_sk_")} {
			if strings.Contains(out, needle) {
				t.Errorf("the logs contain a secret (%.12s…):\n%s", needle, out)
			}
		}
	}
}

// TestChangedAdminKeyEndsSessions signs in to a server, restarts it on the
// same data with the same key (the session survives: sessions are kept in
// the store), then with a new key: the cookie leads to the sign-in page.
func TestChangedAdminKeyEndsSessions(t *testing.T) {
	const oldKey, newKey = "hl_sk_session_old_key_0123456789", "hl_sk_session_new_key_0123456789"
	dir := t.TempDir()
	start := func(key string) (string, func()) {
		return testutil.Serve(t, server.Config{Addr: "127.0.0.1:0", DataDir: dir, Dev: true, APIKey: key}, io.Discard)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// overview answers GET / with cookie: 200, or a redirect to where.
	overview := func(base string, cookie *http.Cookie) (int, string) {
		req, _ := http.NewRequest("GET", base+"/", nil)
		req.AddCookie(cookie)
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location")
	}

	base, stop := start(oldKey)
	resp, err := noFollow.PostForm(base+"/login", url.Values{"key": {oldKey}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "hookline_session" {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatalf("sign-in: %s without a session cookie", resp.Status)
	}
	if code, loc := overview(base, cookie); code != http.StatusOK {
		t.Fatalf("signed in: %d to %q", code, loc)
	}
	stop()

	base, stop = start(oldKey)
	if code, loc := overview(base, cookie); code != http.StatusOK {
		t.Fatalf("after a restart with the same key: %d to %q; the test would prove nothing", code, loc)
	}
	stop()

	logs := &testutil.SyncBuffer{}
	base, _ = testutil.Serve(t, server.Config{Addr: "127.0.0.1:0", DataDir: dir, Dev: true, APIKey: newKey}, logs)
	if code, loc := overview(base, cookie); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
		t.Fatalf("after the key changed: %d to %q, want the sign-in page", code, loc)
	}
	// Housekeeping removes the old key's session from the store at start.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), `"msg":"purged dashboard sessions expired or signed in with another admin key","sessions":1`) {
		if time.Now().After(deadline) {
			t.Fatalf("the old key's session was not purged:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
