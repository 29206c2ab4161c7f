package httpclient_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/httpclient"
)

// ---- helpers ----

// countingServer starts an httptest server (TLS if tlsOn) that counts the
// connections it accepts.
func countingServer(t *testing.T, h http.Handler, tlsOn bool) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	var conns atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tlsOn {
		// The server prefers h2: only a client that offers http/1.1
		// alone gets http/1.1.
		srv.EnableHTTP2 = true
		srv.TLS = &tls.Config{NextProtos: []string{"h2", "http/1.1"}}
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv, &conns
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// rawServer is a listener on 127.0.0.1 whose connections are served by a
// test's own function, for servers that misbehave on purpose.
type rawServer struct {
	ln    net.Listener
	conns atomic.Int32
	wg    sync.WaitGroup
	mu    sync.Mutex
	open  []net.Conn
}

// newRawServer runs serve(n, c, br) for the n-th (from 0) connection it
// accepts, each on its own goroutine. Cleanup closes the listener and every
// connection and waits for the goroutines.
func newRawServer(t *testing.T, serve func(n int, c net.Conn, br *bufio.Reader)) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n := int(s.conns.Add(1)) - 1
			s.mu.Lock()
			s.open = append(s.open, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				serve(n, c, bufio.NewReader(c))
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for _, c := range s.open {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *rawServer) URL() string { return "http://" + s.ln.Addr().String() }

// rawRequest is a request as it came over the wire.
type rawRequest struct {
	line  string   // request line
	lines []string // header lines, "Name: value", in order
	body  []byte
}

// values returns the values of every header line named name
// (case-insensitive).
func (r *rawRequest) values(name string) []string {
	var vs []string
	for _, l := range r.lines {
		k, v, _ := strings.Cut(l, ":")
		if strings.EqualFold(k, name) {
			vs = append(vs, strings.TrimSpace(v))
		}
	}
	return vs
}

// readRawRequest reads one request; the body by its Content-Length (the
// client never sends a chunked one).
func readRawRequest(br *bufio.Reader) (*rawRequest, error) {
	r := &rawRequest{}
	line, err := br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	r.line = strings.TrimSuffix(line, "\r\n")
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if l == "\r\n" {
			break
		}
		r.lines = append(r.lines, strings.TrimSuffix(l, "\r\n"))
	}
	if cl := r.values("Content-Length"); len(cl) > 0 {
		n, err := strconv.Atoi(cl[0])
		if err != nil {
			return nil, err
		}
		r.body = make([]byte, n)
		if _, err := io.ReadFull(br, r.body); err != nil {
			return nil, err
		}
	}
	return r, nil
}

const okResponse = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

// ---- 1. the request ----

func TestRequestArrivesAsSent(t *testing.T) {
	type seen struct {
		method, uri, host, proto string
		header                   http.Header
		body                     []byte
	}
	got := make(chan seen, 1)
	srv, conns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("reading body: %v", err)
		}
		got <- seen{r.Method, r.RequestURI, r.Host, r.Proto, r.Header.Clone(), body}
	}), false)
	host := srv.Listener.Addr().String()
	c := httpclient.New(httpclient.Options{})

	tests := []struct {
		name       string
		method     string
		target     string // path and query
		header     http.Header
		body       []byte
		wantMethod string
		wantCL     []string // Content-Length header values; nil: none
	}{
		{
			name:   "default POST with headers and query",
			target: "/hooks/in?a=1&b=x%20y&c=%2F",
			header: http.Header{
				"Content-Type":         {"application/json"},
				"X-Hookline-Signature": {"v1=3q2+7w=="},
				"X-Multi":              {"one", "two"},
				"User-Agent":           {"hookline/1.0"},
				"X-Tab":                {"a\tb"},
			},
			body:       []byte(`{"id":1,"ok":true}`),
			wantMethod: "POST",
			wantCL:     []string{"18"},
		},
		{
			name:       "PUT with an empty body sends Content-Length 0",
			method:     "PUT",
			target:     "/put",
			wantMethod: "PUT",
			wantCL:     []string{"0"},
		},
		{
			name:       "PATCH with an empty body sends Content-Length 0",
			method:     "PATCH",
			target:     "/patch",
			wantMethod: "PATCH",
			wantCL:     []string{"0"},
		},
		{
			name:       "GET without a body sends no Content-Length",
			method:     "GET",
			target:     "/get?x=1",
			header:     http.Header{"Accept": {"*/*"}},
			wantMethod: "GET",
		},
		{
			name:       "DELETE with a body sends its length",
			method:     "DELETE",
			target:     "/del",
			body:       []byte("bye"),
			wantMethod: "DELETE",
			wantCL:     []string{"3"},
		},
		{
			name:       "binary body arrives byte for byte",
			target:     "/bin",
			body:       []byte{0, 1, 2, '\r', '\n', 0xff, 0xfe, '\r', '\n', '\r', '\n'},
			wantMethod: "POST",
			wantCL:     []string{"11"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := c.Do(ctxTimeout(t, 2*time.Second), &httpclient.Request{
				Method: tt.method,
				URL:    mustURL(t, srv.URL+tt.target),
				Header: tt.header,
				Body:   tt.body,
			}, 1024)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != 200 {
				t.Fatalf("status %d, want 200", resp.Status)
			}
			s := <-got
			if s.method != tt.wantMethod {
				t.Errorf("method %q, want %q", s.method, tt.wantMethod)
			}
			if s.uri != tt.target {
				t.Errorf("RequestURI %q, want %q", s.uri, tt.target)
			}
			if s.host != host {
				t.Errorf("Host %q, want %q", s.host, host)
			}
			if s.proto != "HTTP/1.1" {
				t.Errorf("proto %q, want HTTP/1.1", s.proto)
			}
			if !bytes.Equal(s.body, tt.body) {
				t.Errorf("body %q, want %q", s.body, tt.body)
			}
			for name, want := range tt.header {
				if g := s.header[name]; !slices.Equal(g, want) {
					t.Errorf("header %s = %q, want %q", name, g, want)
				}
			}
			if g := s.header["Content-Length"]; !slices.Equal(g, tt.wantCL) {
				t.Errorf("Content-Length %q, want %q", g, tt.wantCL)
			}
			// Nothing is added: the headers that arrived are those given
			// and Content-Length (net/http moves Host out of Header).
			for name := range s.header {
				if _, given := tt.header[name]; !given && name != "Content-Length" {
					t.Errorf("header %s: %q was added", name, s.header[name])
				}
			}
		})
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for %d sequential requests, want 1", n, len(tests))
	}
}

func TestClientWrittenHeadersNotDuplicated(t *testing.T) {
	got := make(chan *rawRequest, 1)
	srv := newRawServer(t, func(_ int, c net.Conn, br *bufio.Reader) {
		for {
			r, err := readRawRequest(br)
			if err != nil {
				return
			}
			got <- r
			if _, err := io.WriteString(c, okResponse); err != nil {
				return
			}
		}
	})
	host := srv.ln.Addr().String()
	c := httpclient.New(httpclient.Options{})

	tests := []struct {
		name   string
		header http.Header
		body   string
	}{
		{
			name: "canonical names",
			header: http.Header{
				"Host":              {"evil.example"},
				"Content-Length":    {"999"},
				"Transfer-Encoding": {"chunked"},
				"Connection":        {"close"},
				"User-Agent":        {""},
				"X-Kept":            {"yes"},
			},
			body: "payload",
		},
		{
			name: "lower-case names",
			header: http.Header{
				"host":              {"evil.example"},
				"content-length":    {"1"},
				"transfer-encoding": {"gzip, chunked"},
				"connection":        {"Upgrade"},
				"user-agent":        {""},
				"x-kept":            {"yes"},
			},
			body: "another payload",
		},
		{
			name:   "empty User-Agent, no other header",
			header: http.Header{"User-Agent": {""}},
			body:   "x",
		},
		{
			name:   "nil header",
			header: nil,
			body:   "x",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := c.Do(ctxTimeout(t, 2*time.Second), &httpclient.Request{
				URL:    mustURL(t, srv.URL()+"/in"),
				Header: tt.header,
				Body:   []byte(tt.body),
			}, 16)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != 200 || string(resp.Body) != "ok" {
				t.Fatalf("answer %d %q, want 200 \"ok\"", resp.Status, resp.Body)
			}
			r := <-got
			if r.line != "POST /in HTTP/1.1" {
				t.Errorf("request line %q", r.line)
			}
			if g := r.values("Host"); !slices.Equal(g, []string{host}) {
				t.Errorf("Host lines %q, want [%q]", g, host)
			}
			if g, want := r.values("Content-Length"), []string{strconv.Itoa(len(tt.body))}; !slices.Equal(g, want) {
				t.Errorf("Content-Length lines %q, want %q", g, want)
			}
			for _, name := range []string{"Transfer-Encoding", "Connection", "User-Agent", "Accept-Encoding"} {
				if g := r.values(name); g != nil {
					t.Errorf("%s lines %q, want none", name, g)
				}
			}
			if len(tt.header["X-Kept"])+len(tt.header["x-kept"]) > 0 {
				if g := r.values("X-Kept"); !slices.Equal(g, []string{"yes"}) {
					t.Errorf("X-Kept lines %q, want [yes]", g)
				}
			}
			if string(r.body) != tt.body {
				t.Errorf("body %q, want %q", r.body, tt.body)
			}
		})
	}
	// "Connection: close" in Request.Header was not sent, so the server
	// kept the one connection.
	if n := srv.conns.Load(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

// ---- 2. the answer ----

func TestResponse(t *testing.T) {
	srv, conns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/busy":
			w.Header().Set("Retry-After", "120")
			w.Header().Add("X-Multi", "a")
			w.Header().Add("X-Multi", "b")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "busy, try later")
		case "/digits":
			w.Header().Set("Content-Length", "10")
			io.WriteString(w, "0123456789")
		case "/nocontent":
			w.WriteHeader(http.StatusNoContent)
		case "/head":
			w.Header().Set("Content-Length", "100")
		default:
			t.Errorf("unexpected path %q", r.URL.Path)
		}
	}), false)
	c := httpclient.New(httpclient.Options{})

	tests := []struct {
		name       string
		method     string
		path       string
		limit      int
		wantStatus int
		wantBody   string
		wantHeader http.Header
	}{
		{"HEAD answer has no body whatever its Content-Length", "HEAD", "/head", 100, 200, "", http.Header{"Content-Length": {"100"}}},
		{"status and headers", "", "/busy", 1024, 503, "busy, try later",
			http.Header{"Retry-After": {"120"}, "X-Multi": {"a", "b"}, "Content-Type": {"text/plain; charset=utf-8"}}},
		{"body cut at the limit", "", "/digits", 4, 200, "0123", http.Header{"Content-Length": {"10"}}},
		{"limit equal to the body", "", "/digits", 10, 200, "0123456789", nil},
		{"limit past the body", "", "/digits", 1 << 20, 200, "0123456789", nil},
		{"limit 0 keeps no body", "", "/digits", 0, 200, "", nil},
		{"negative limit keeps no body", "", "/digits", -1, 200, "", nil},
		{"204 has no body", "", "/nocontent", 100, 204, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := c.Do(ctxTimeout(t, 2*time.Second), &httpclient.Request{
				Method: tt.method,
				URL:    mustURL(t, srv.URL+tt.path),
			}, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tt.wantStatus {
				t.Errorf("status %d, want %d", resp.Status, tt.wantStatus)
			}
			if string(resp.Body) != tt.wantBody {
				t.Errorf("body %q, want %q", resp.Body, tt.wantBody)
			}
			if tt.limit > 0 && len(resp.Body) > tt.limit {
				t.Errorf("body of %d bytes past the limit %d", len(resp.Body), tt.limit)
			}
			for name, want := range tt.wantHeader {
				if g := resp.Header[name]; !slices.Equal(g, want) {
					t.Errorf("header %s = %q, want %q", name, g, want)
				}
			}
		})
	}
	// Every body was read or drained (and none waited for): one connection
	// served all.
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

func TestChunkedResponse(t *testing.T) {
	const chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Kind: chunked\r\n\r\n" +
		"5\r\nhello\r\n7\r\n, world\r\n1\r\n!\r\n0\r\nX-Trailer: t\r\n\r\n"
	srv := newRawServer(t, func(_ int, c net.Conn, br *bufio.Reader) {
		for {
			if _, err := readRawRequest(br); err != nil {
				return
			}
			if _, err := io.WriteString(c, chunked); err != nil {
				return
			}
		}
	})
	c := httpclient.New(httpclient.Options{})
	for _, tt := range []struct {
		limit int
		want  string
	}{
		{100, "hello, world!"},
		{7, "hello, "},
		{5, "hello"},
		{13, "hello, world!"},
		{0, ""},
	} {
		t.Run(strconv.Itoa(tt.limit), func(t *testing.T) {
			resp, err := c.Do(ctxTimeout(t, 2*time.Second), &httpclient.Request{URL: mustURL(t, srv.URL())}, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != 200 || string(resp.Body) != tt.want {
				t.Errorf("answer %d %q, want 200 %q", resp.Status, resp.Body, tt.want)
			}
			if g := resp.Header.Get("X-Kind"); g != "chunked" {
				t.Errorf("X-Kind %q", g)
			}
		})
	}
	// The chunked bodies were drained to their end, trailer included.
	if n := srv.conns.Load(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

// ---- 3. connection reuse ----

func TestConnectionReuse(t *testing.T) {
	const limit = 100
	const drain = 64 << 10
	big := func(n int, chunked bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if !chunked {
				w.Header().Set("Content-Length", strconv.Itoa(n))
			}
			b := bytes.Repeat([]byte("x"), n)
			copy(b, "start")
			w.Write(b)
		}
	}
	tests := []struct {
		name      string
		h         http.HandlerFunc
		wantBody  string // prefix of the kept body
		wantConns int32
	}{
		{"keep-alive answer is reused", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "fine") }, "fine", 1},
		{"Connection: close is not reused", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Connection", "close")
			io.WriteString(w, "bye")
		}, "bye", 2},
		{"body of limit+64KiB is drained and reused", big(limit+drain, false), "start", 1},
		{"body of limit+64KiB+1 closes the connection", big(limit+drain+1, false), "start", 2},
		{"chunked body of limit+64KiB is drained and reused", big(limit+drain, true), "start", 1},
		{"chunked body of 1 MiB closes the connection", big(1<<20, true), "start", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, conns := countingServer(t, tt.h, false)
			c := httpclient.New(httpclient.Options{})
			for i := range 2 {
				resp, err := c.Do(ctxTimeout(t, 2*time.Second), &httpclient.Request{URL: mustURL(t, srv.URL)}, limit)
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				if resp.Status != 200 || !strings.HasPrefix(string(resp.Body), tt.wantBody) || len(resp.Body) > limit {
					t.Fatalf("request %d: answer %d %.20q (%d bytes)", i, resp.Status, resp.Body, len(resp.Body))
				}
			}
			if n := conns.Load(); n != tt.wantConns {
				t.Errorf("%d connections, want %d", n, tt.wantConns)
			}
		})
	}
}

// A connection whose previous request had a context deadline, long past by
// the next request, is still reused.
func TestReuseAfterEarlierDeadlinePassed(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", tlsOn), func(t *testing.T) {
			t.Parallel()
			srv, conns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), tlsOn)
			c := httpclient.New(httpclient.Options{TLS: clientTLS(srv)})
			u := mustURL(t, srv.URL)
			// Connect (and shake hands) without a deadline, then make a
			// request with one on the pooled connection.
			if _, err := c.Do(context.Background(), &httpclient.Request{URL: u}, 0); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
			if _, err := c.Do(ctx, &httpclient.Request{URL: u}, 0); err != nil {
				t.Fatal(err)
			}
			cancel()
			dl, _ := ctx.Deadline()
			time.Sleep(time.Until(dl) + 10*time.Millisecond)
			if _, err := c.Do(context.Background(), &httpclient.Request{URL: u}, 0); err != nil {
				t.Fatal(err)
			}
			// The same with the Request's deadline, which the connection
			// keeps while it is idle.
			dl = time.Now().Add(150 * time.Millisecond)
			if _, err := c.Do(context.Background(), &httpclient.Request{URL: u, Deadline: dl}, 0); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Until(dl) + 10*time.Millisecond)
			if _, err := c.Do(context.Background(), &httpclient.Request{URL: u}, 0); err != nil {
				t.Fatal(err)
			}
			if n := conns.Load(); n != 1 {
				t.Errorf("%d connections, want 1", n)
			}
		})
	}
}

func TestIdleTimeout(t *testing.T) {
	srv, conns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), false)
	c := httpclient.New(httpclient.Options{IdleTimeout: 100 * time.Millisecond})
	u := mustURL(t, srv.URL)
	do := func() {
		t.Helper()
		if _, err := c.Do(ctxTimeout(t, time.Second), &httpclient.Request{URL: u}, 0); err != nil {
			t.Fatal(err)
		}
	}
	do()
	do()
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections before the idle timeout, want 1", n)
	}
	time.Sleep(130 * time.Millisecond)
	do()
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections after the idle timeout, want 2", n)
	}
}

func TestCloseIdle(t *testing.T) {
	var closed atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	var conns atomic.Int32
	closedCh := make(chan struct{}, 10)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			conns.Add(1)
		case http.StateClosed:
			closed.Add(1)
			closedCh <- struct{}{}
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := httpclient.New(httpclient.Options{})
	u := mustURL(t, srv.URL)
	if _, err := c.Do(ctxTimeout(t, time.Second), &httpclient.Request{URL: u}, 0); err != nil {
		t.Fatal(err)
	}
	c.CloseIdle()
	select {
	case <-closedCh:
	case <-time.After(time.Second):
		t.Fatal("the server did not see the idle connection closed")
	}
	if _, err := c.Do(ctxTimeout(t, time.Second), &httpclient.Request{URL: u}, 0); err != nil {
		t.Fatal(err)
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

func TestMaxIdlePerHost(t *testing.T) {
	const parallel = 4
	var inFlight atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/wait" && inFlight.Add(1) == parallel {
			close(release)
		}
		if r.URL.Path == "/wait" {
			<-release
		}
	}))
	var conns, closed atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			conns.Add(1)
		case http.StateClosed:
			closed.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := httpclient.New(httpclient.Options{MaxIdlePerHost: 1})

	var wg sync.WaitGroup
	errs := make(chan error, parallel)
	for range parallel {
		wg.Go(func() {
			_, err := c.Do(ctxTimeout(t, 2*time.Second), &httpclient.Request{URL: mustURL(t, srv.URL+"/wait")}, 0)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n != parallel {
		t.Fatalf("%d connections for %d requests in flight together, want %d", n, parallel, parallel)
	}
	// Only one of them stays idle: the server sees the others closed.
	deadline := time.Now().Add(time.Second)
	for closed.Load() < parallel-1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := closed.Load(); n != parallel-1 {
		t.Errorf("%d connections closed, want %d", n, parallel-1)
	}
	for range 3 {
		if _, err := c.Do(ctxTimeout(t, time.Second), &httpclient.Request{URL: mustURL(t, srv.URL+"/now")}, 0); err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n != parallel {
		t.Errorf("%d connections after sequential requests, want %d (the idle one reused)", n, parallel)
	}
}

func TestConcurrentRequests(t *testing.T) {
	var served atomic.Int32
	srv, conns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	}), false)
	c := httpclient.New(httpclient.Options{})
	const workers, each = 8, 20
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				body := fmt.Sprintf("worker %d request %d", w, i)
				resp, err := c.Do(ctxTimeout(t, 2*time.Second), &httpclient.Request{URL: mustURL(t, srv.URL), Body: []byte(body)}, 100)
				if err != nil {
					t.Error(err)
					return
				}
				if string(resp.Body) != body {
					t.Errorf("answer %q to %q", resp.Body, body)
				}
			}
		})
	}
	wg.Wait()
	if n := served.Load(); n != workers*each {
		t.Errorf("server served %d requests, want %d", n, workers*each)
	}
	if n := conns.Load(); n > workers {
		t.Errorf("%d connections for %d workers", n, workers)
	}
}

// A connection with bytes past the answer is not reused: they would be
// taken for the next answer.
func TestExtraBytesAfterAnswer(t *testing.T) {
	srv := newRawServer(t, func(n int, c net.Conn, br *bufio.Reader) {
		for {
			if _, err := readRawRequest(br); err != nil {
				return
			}
			answer := okResponse
			if n == 0 {
				answer += "HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0\r\n\r\n"
			}
			if _, err := io.WriteString(c, answer); err != nil {
				return
			}
		}
	})
	c := httpclient.New(httpclient.Options{})
	for i := range 2 {
		resp, err := c.Do(ctxTimeout(t, time.Second), &httpclient.Request{URL: mustURL(t, srv.URL())}, 10)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if resp.Status != 200 || string(resp.Body) != "ok" {
			t.Errorf("request %d: answer %d %q, want 200 \"ok\"", i, resp.Status, resp.Body)
		}
	}
	if n := srv.conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

// ---- 4. stale idle connections ----

func TestServerClosedIdleConnection(t *testing.T) {
	var served atomic.Int32
	srv, conns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
	}), false)
	c := httpclient.New(httpclient.Options{})
	u := mustURL(t, srv.URL)
	if _, err := c.Do(ctxTimeout(t, time.Second), &httpclient.Request{URL: u, Body: []byte("1")}, 0); err != nil {
		t.Fatal(err)
	}
	srv.CloseClientConnections()
	resp, err := c.Do(ctxTimeout(t, time.Second), &httpclient.Request{URL: u, Body: []byte("2")}, 0)
	if err != nil {
		t.Fatalf("request after the server closed the idle connection: %v", err)
	}
	if resp.Status != 200 {
		t.Errorf("status %d", resp.Status)
	}
	if n := served.Load(); n != 2 {
		t.Errorf("server served %d requests, want 2", n)
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

// staleServer answers the first request of its first connection with
// keep-alive and then closes that connection in the way close says; every
// later connection is answered normally. It records the bodies it read.
func staleServer(t *testing.T, close func(c net.Conn, br *bufio.Reader)) (*rawServer, func() []string) {
	var mu sync.Mutex
	var bodies []string
	srv := newRawServer(t, func(n int, c net.Conn, br *bufio.Reader) {
		for i := 0; ; i++ {
			if n == 0 && i == 1 {
				close(c, br)
				return
			}
			r, err := readRawRequest(br)
			if err != nil {
				return
			}
			mu.Lock()
			bodies = append(bodies, string(r.body))
			mu.Unlock()
			if _, err := io.WriteString(c, okResponse); err != nil {
				return
			}
		}
	})
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(bodies)
	}
}

func TestStalePooledConnection(t *testing.T) {
	tests := []struct {
		name       string
		close      func(c net.Conn, br *bufio.Reader)
		waitIdle   bool          // send the second request once the connection is closed
		checkAfter time.Duration // the client's CheckIdleAfter
	}{
		{
			// The liveness check sees the end of file.
			name:       "closed while idle",
			close:      func(c net.Conn, br *bufio.Reader) {},
			waitIdle:   true,
			checkAfter: -1,
		},
		{
			// Idle too briefly to be checked: the request goes out on the
			// closed connection, fails unanswered and goes again.
			name:     "closed while idle, not checked",
			close:    func(c net.Conn, br *bufio.Reader) {},
			waitIdle: true,
		},
		{
			// The request goes out on the pooled connection; the server
			// closes it without reading it (a reset).
			name: "closed as the request arrives",
			close: func(c net.Conn, br *bufio.Reader) {
				br.Peek(1)
			},
		},
		{
			name: "reset as the request arrives",
			close: func(c net.Conn, br *bufio.Reader) {
				br.Peek(1)
				c.(*net.TCPConn).SetLinger(0)
			},
		},
		{
			name: "half-closed as the request arrives",
			close: func(c net.Conn, br *bufio.Reader) {
				br.Peek(1)
				c.(*net.TCPConn).CloseWrite()
				time.Sleep(20 * time.Millisecond)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			closedIdle := make(chan struct{})
			srv, bodies := staleServer(t, func(c net.Conn, br *bufio.Reader) {
				tt.close(c, br)
				close(closedIdle)
			})
			c := httpclient.New(httpclient.Options{CheckIdleAfter: tt.checkAfter})
			u := mustURL(t, srv.URL())
			if _, err := c.Do(ctxTimeout(t, time.Second), &httpclient.Request{URL: u, Body: []byte("first")}, 10); err != nil {
				t.Fatal(err)
			}
			if tt.waitIdle {
				<-closedIdle
				time.Sleep(10 * time.Millisecond) // for the FIN to arrive
			}
			resp, err := c.Do(ctxTimeout(t, time.Second), &httpclient.Request{URL: u, Body: []byte("second")}, 10)
			if err != nil {
				t.Fatalf("request over a stale connection: %v", err)
			}
			if resp.Status != 200 || string(resp.Body) != "ok" {
				t.Errorf("answer %d %q", resp.Status, resp.Body)
			}
			if g, want := bodies(), []string{"first", "second"}; !slices.Equal(g, want) {
				t.Errorf("server read requests %q, want %q", g, want)
			}
			if n := srv.conns.Load(); n != 2 {
				t.Errorf("%d connections, want 2", n)
			}
		})
	}
}

// On unix an idle connection the server has closed is found out before a
// request is written on it, once it has been idle for CheckIdleAfter: a
// server that only shut its side down sees no second request on it. Sooner
// the request is written, and sent again on a new connection.
func TestIdleConnectionCheckedBeforeUse(t *testing.T) {
	switch runtime.GOOS {
	case "windows", "plan9", "js", "wasip1":
		t.Skip("no liveness check on", runtime.GOOS)
	}
	for _, tt := range []struct {
		checkAfter time.Duration
		checked    bool
	}{
		{-1, true},
		{50 * time.Millisecond, true},
		{0, false}, // the default, 1 s
	} {
		t.Run(fmt.Sprint(tt.checkAfter), func(t *testing.T) {
			t.Parallel()
			n := idleConnectionWrites(t, tt.checkAfter)
			if tt.checked && n != 0 {
				t.Errorf("%d bytes written on the connection the server had closed", n)
			}
			if !tt.checked && n == 0 {
				t.Errorf("the connection was checked after %s idle", 60*time.Millisecond)
			}
		})
	}
}

// idleConnectionWrites makes two requests, 60 ms apart, with a client that
// checks connections idle for checkAfter; the server half-closes the first
// connection in between. It returns how many bytes were written on that
// connection after the close.
func idleConnectionWrites(t *testing.T, checkAfter time.Duration) int {
	halfClosed := make(chan struct{})
	readAfter := make(chan int, 1)
	srv := newRawServer(t, func(n int, c net.Conn, br *bufio.Reader) {
		for i := 0; ; i++ {
			if n == 0 && i == 1 {
				c.(*net.TCPConn).CloseWrite()
				close(halfClosed)
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				b, _ := io.ReadAll(br)
				readAfter <- len(b)
				return
			}
			if _, err := readRawRequest(br); err != nil {
				return
			}
			if _, err := io.WriteString(c, okResponse); err != nil {
				return
			}
		}
	})
	c := httpclient.New(httpclient.Options{CheckIdleAfter: checkAfter})
	u := mustURL(t, srv.URL())
	if _, err := c.Do(ctxTimeout(t, time.Second), &httpclient.Request{URL: u}, 0); err != nil {
		t.Fatal(err)
	}
	<-halfClosed
	time.Sleep(60 * time.Millisecond) // for the FIN to arrive, and past a checkAfter of 50 ms
	if _, err := c.Do(ctxTimeout(t, time.Second), &httpclient.Request{URL: u}, 0); err != nil {
		t.Fatal(err)
	}
	if n := srv.conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
	return <-readAfter
}

// A request is sent once more only on a pooled connection that failed
// before any answer came: not on a new connection, nor after part of an
// answer.
func TestNoRetry(t *testing.T) {
	t.Run("new connection closed without an answer", func(t *testing.T) {
		var reqs atomic.Int32
		srv := newRawServer(t, func(_ int, c net.Conn, br *bufio.Reader) {
			if _, err := readRawRequest(br); err == nil {
				reqs.Add(1)
			}
		})
		_, err := httpclient.New(httpclient.Options{}).Do(ctxTimeout(t, time.Second), &httpclient.Request{URL: mustURL(t, srv.URL())}, 0)
		if err == nil {
			t.Fatal("no error from a server that closed without answering")
		}
		if n := srv.conns.Load(); n != 1 {
			t.Errorf("%d connections, want 1", n)
		}
		if n := reqs.Load(); n != 1 {
			t.Errorf("server read %d requests, want 1", n)
		}
	})
	t.Run("pooled connection closed after part of an answer", func(t *testing.T) {
		var reqs atomic.Int32
		srv := newRawServer(t, func(_ int, c net.Conn, br *bufio.Reader) {
			for i := 0; ; i++ {
				if _, err := readRawRequest(br); err != nil {
					return
				}
				reqs.Add(1)
				if i == 1 {
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Le")
					return
				}
				if _, err := io.WriteString(c, okResponse); err != nil {
					return
				}
			}
		})
		c := httpclient.New(httpclient.Options{})
		u := mustURL(t, srv.URL())
		if _, err := c.Do(ctxTimeout(t, time.Second), &httpclient.Request{URL: u}, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Do(ctxTimeout(t, time.Second), &httpclient.Request{URL: u}, 0); err == nil {
			t.Fatal("no error from a broken answer")
		}
		if n := srv.conns.Load(); n != 1 {
			t.Errorf("%d connections, want 1", n)
		}
		if n := reqs.Load(); n != 2 {
			t.Errorf("server read %d requests, want 2", n)
		}
	})
}

// An answer whose body breaks off stands; its connection is not reused.
func TestBrokenBodyAnswerStands(t *testing.T) {
	srv := newRawServer(t, func(n int, c net.Conn, br *bufio.Reader) {
		if _, err := readRawRequest(br); err != nil {
			return
		}
		if n == 0 {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
			return
		}
		io.WriteString(c, okResponse)
		io.Copy(io.Discard, br)
	})
	c := httpclient.New(httpclient.Options{})
	u := mustURL(t, srv.URL())
	resp, err := c.Do(ctxTimeout(t, time.Second), &httpclient.Request{URL: u}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || string(resp.Body) != "abc" {
		t.Errorf("answer %d %q, want 200 \"abc\"", resp.Status, resp.Body)
	}
	resp, err = c.Do(ctxTimeout(t, time.Second), &httpclient.Request{URL: u}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Body) != "ok" {
		t.Errorf("second answer %q", resp.Body)
	}
	if n := srv.conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

// ---- 5. timeouts and cancellation ----

func TestTimeoutAndCancel(t *testing.T) {
	const deadline = 200 * time.Millisecond
	const slack = 300 * time.Millisecond
	for _, tt := range []struct {
		name        string
		cancel      bool // cancel once the server has the request, else a deadline
		reqDeadline bool // the deadline is the Request's, not the context's
		pooled      bool // the stalled request goes over a pooled connection
	}{
		{"deadline, new connection", false, false, false},
		{"deadline, pooled connection", false, false, true},
		{"request deadline, new connection", false, true, false},
		{"request deadline, pooled connection", false, true, true},
		{"cancel, new connection", true, false, false},
		{"cancel, pooled connection", true, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var paths []string
			stalled := make(chan struct{}, 1)
			hungUp := make(chan struct{}, 1)
			srv := newRawServer(t, func(_ int, c net.Conn, br *bufio.Reader) {
				for {
					r, err := readRawRequest(br)
					if err != nil {
						return
					}
					mu.Lock()
					paths = append(paths, strings.Fields(r.line)[1])
					mu.Unlock()
					if strings.Contains(r.line, "/stall") {
						stalled <- struct{}{}
						io.Copy(io.Discard, br) // never answer; wait for the client to hang up
						hungUp <- struct{}{}
						return
					}
					if _, err := io.WriteString(c, okResponse); err != nil {
						return
					}
				}
			})
			c := httpclient.New(httpclient.Options{})
			if tt.pooled {
				if _, err := c.Do(ctxTimeout(t, time.Second), &httpclient.Request{URL: mustURL(t, srv.URL()+"/warm")}, 0); err != nil {
					t.Fatal(err)
				}
			}

			ctx := context.Background()
			req := &httpclient.Request{URL: mustURL(t, srv.URL()+"/stall")}
			canceledAt := make(chan time.Time, 1)
			switch {
			case tt.cancel:
				var cancel context.CancelFunc
				// The timeout only bounds the test should cancelling not work.
				ctx, cancel = context.WithTimeout(context.Background(), 2*time.Second)
				t.Cleanup(cancel)
				go func() {
					<-stalled
					canceledAt <- time.Now()
					cancel()
				}()
			case tt.reqDeadline:
				req.Deadline = time.Now().Add(deadline)
			default:
				ctx = ctxTimeout(t, deadline)
			}
			start := time.Now()
			_, err := c.Do(ctx, req, 0)
			end := time.Now()
			if err == nil {
				t.Fatal("no error from a server that never answers")
			}
			if tt.cancel {
				if !errors.Is(err, context.Canceled) {
					t.Errorf("error %v, want context.Canceled", err)
				}
				if d := end.Sub(<-canceledAt); d > slack {
					t.Errorf("Do returned %v after the cancel", d)
				}
			} else {
				var ne net.Error
				if !errors.Is(err, context.DeadlineExceeded) && !(errors.As(err, &ne) && ne.Timeout()) {
					t.Errorf("error %v, want a deadline error", err)
				}
				if d := end.Sub(start); d < deadline-10*time.Millisecond || d > deadline+slack {
					t.Errorf("Do returned after %v, want about %v", d, deadline)
				}
			}
			// The connection was closed, not pooled.
			select {
			case <-hungUp:
			case <-time.After(time.Second):
				t.Fatal("the client did not close the connection of the stalled request")
			}

			// The client still works.
			resp, err := c.Do(ctxTimeout(t, time.Second), &httpclient.Request{URL: mustURL(t, srv.URL()+"/after")}, 10)
			if err != nil {
				t.Fatalf("request after: %v", err)
			}
			if resp.Status != 200 || string(resp.Body) != "ok" {
				t.Errorf("answer after %d %q", resp.Status, resp.Body)
			}
			mu.Lock()
			defer mu.Unlock()
			want := []string{"/stall", "/after"}
			if tt.pooled {
				want = append([]string{"/warm"}, want...)
			}
			if !slices.Equal(paths, want) {
				t.Errorf("server read %q, want %q (the stalled request exactly once)", paths, want)
			}
		})
	}
}

func TestCanceledBeforeDo(t *testing.T) {
	srv, conns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("a request arrived")
	}), false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := httpclient.New(httpclient.Options{}).Do(ctx, &httpclient.Request{URL: mustURL(t, srv.URL)}, 0)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("%d connections", n)
	}
}

// ---- 6. informational answers ----

func TestInformationalResponses(t *testing.T) {
	final := "HTTP/1.1 200 OK\r\nX-Final: yes\r\nContent-Length: 2\r\n\r\nok"
	for _, tt := range []struct {
		name    string
		answers string
	}{
		{"103 Early Hints", "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" + final},
		{"100 Continue then 103", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.js>\r\n\r\n" + final},
		{"102 Processing twice", "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n" + final},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newRawServer(t, func(_ int, c net.Conn, br *bufio.Reader) {
				for {
					if _, err := readRawRequest(br); err != nil {
						return
					}
					if _, err := io.WriteString(c, tt.answers); err != nil {
						return
					}
				}
			})
			c := httpclient.New(httpclient.Options{})
			for range 2 {
				resp, err := c.Do(ctxTimeout(t, time.Second), &httpclient.Request{URL: mustURL(t, srv.URL()), Body: []byte("x")}, 10)
				if err != nil {
					t.Fatal(err)
				}
				if resp.Status != 200 || string(resp.Body) != "ok" {
					t.Errorf("answer %d %q, want 200 \"ok\"", resp.Status, resp.Body)
				}
				if resp.Header.Get("X-Final") != "yes" || resp.Header.Get("Link") != "" {
					t.Errorf("headers %v, want the final answer's", resp.Header)
				}
			}
			if n := srv.conns.Load(); n != 1 {
				t.Errorf("%d connections, want 1", n)
			}
		})
	}
}

// ---- 7. invalid input ----

func TestInvalidRequestRefused(t *testing.T) {
	var served atomic.Int32
	srv, conns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
	}), false)
	c := httpclient.New(httpclient.Options{})
	good := srv.URL + "/in"
	tests := []struct {
		name   string
		method string
		url    *url.URL
		header http.Header
	}{
		{name: "CR LF in a value", header: http.Header{"X-A": {"a\r\nX-Injected: 1"}}},
		{name: "LF in a value", header: http.Header{"X-A": {"a\nb"}}},
		{name: "CR in a value", header: http.Header{"X-A": {"a\rb"}}},
		{name: "NUL in a value", header: http.Header{"X-A": {"a\x00b"}}},
		{name: "DEL in a value", header: http.Header{"X-A": {"a\x7fb"}}},
		{name: "CR LF in the second value", header: http.Header{"X-A": {"fine", "bad\r\n"}}},
		{name: "CR LF in a User-Agent", header: http.Header{"User-Agent": {"ua\r\nX: y"}}},
		{name: "space in a name", header: http.Header{"Bad Name": {"v"}}},
		{name: "colon in a name", header: http.Header{"X-A:B": {"v"}}},
		{name: "CR LF in a name", header: http.Header{"X-A\r\nX-B": {"v"}}},
		{name: "empty name", header: http.Header{"": {"v"}}},
		{name: "non-ASCII name", header: http.Header{"X-Ä": {"v"}}},
		{name: "space in the method", method: "GE T"},
		{name: "CR LF in the method", method: "POST\r\n"},
		{name: "ftp URL", url: &url.URL{Scheme: "ftp", Host: srv.Listener.Addr().String(), Path: "/"}},
		{name: "file URL", url: &url.URL{Scheme: "file", Path: "/etc/passwd"}},
		{name: "no scheme", url: &url.URL{Host: srv.Listener.Addr().String(), Path: "/"}},
		{name: "no host", url: &url.URL{Scheme: "http", Path: "/in"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := tt.url
			if u == nil {
				u = mustURL(t, good)
			}
			resp, err := c.Do(ctxTimeout(t, time.Second), &httpclient.Request{Method: tt.method, URL: u, Header: tt.header, Body: []byte("b")}, 0)
			if err == nil {
				t.Fatalf("sent, answer %d", resp.Status)
			}
			if resp != nil {
				t.Errorf("a response with the error %v", err)
			}
		})
	}
	t.Run("nil URL", func(t *testing.T) {
		if _, err := c.Do(ctxTimeout(t, time.Second), &httpclient.Request{}, 0); err == nil {
			t.Fatal("no error")
		}
	})
	// A good request afterwards is the first and only one the server sees.
	if _, err := c.Do(ctxTimeout(t, time.Second), &httpclient.Request{URL: mustURL(t, good)}, 0); err != nil {
		t.Fatal(err)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections, want 1 (the valid request's)", n)
	}
	if n := served.Load(); n != 1 {
		t.Errorf("server served %d requests, want 1", n)
	}
}

// ---- 8. TLS ----

func clientTLS(srv *httptest.Server) *tls.Config {
	if srv.TLS == nil {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return &tls.Config{RootCAs: pool, NextProtos: []string{"h2", "http/1.1"}}
}

func TestTLS(t *testing.T) {
	type seen struct {
		proto, alpn, body string
		major             int
	}
	got := make(chan seen, 2)
	srv, conns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Proto, r.TLS.NegotiatedProtocol, string(b), r.ProtoMajor}
		w.Header().Set("X-Secure", "yes")
		io.WriteString(w, "secret answer")
	}), true)
	cfg := clientTLS(srv)
	c := httpclient.New(httpclient.Options{TLS: cfg})
	if !slices.Equal(cfg.NextProtos, []string{"h2", "http/1.1"}) {
		t.Errorf("New changed the caller's config: NextProtos %q", cfg.NextProtos)
	}
	for i := range 2 {
		body := fmt.Sprintf("payload %d", i)
		resp, err := c.Do(ctxTimeout(t, 2*time.Second), &httpclient.Request{URL: mustURL(t, srv.URL+"/tls"), Body: []byte(body)}, 6)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != 200 || string(resp.Body) != "secret" || resp.Header.Get("X-Secure") != "yes" {
			t.Errorf("answer %d %q %v", resp.Status, resp.Body, resp.Header)
		}
		s := <-got
		if s.proto != "HTTP/1.1" || s.major != 1 || s.alpn != "http/1.1" {
			t.Errorf("request over %s (ALPN %q), want HTTP/1.1 (http/1.1)", s.proto, s.alpn)
		}
		if s.body != body {
			t.Errorf("body %q, want %q", s.body, body)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

func TestTLSUntrustedCertificate(t *testing.T) {
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("a request arrived")
	}), true)
	_, err := httpclient.New(httpclient.Options{}).Do(ctxTimeout(t, 2*time.Second), &httpclient.Request{URL: mustURL(t, srv.URL)}, 0)
	var ve *tls.CertificateVerificationError
	if !errors.As(err, &ve) {
		t.Errorf("error %v, want a certificate verification error", err)
	}
}

// ---- 9. Dial ----

func TestDialOption(t *testing.T) {
	srv, conns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Host)
	}), false)

	t.Run("used and reused", func(t *testing.T) {
		var mu sync.Mutex
		var dials []string
		c := httpclient.New(httpclient.Options{Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			mu.Lock()
			dials = append(dials, network+" "+addr)
			mu.Unlock()
			// Wherever the URL points, connect to the test server.
			return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
		}})
		for range 2 {
			resp, err := c.Do(ctxTimeout(t, time.Second), &httpclient.Request{URL: mustURL(t, "http://hooks.example/x")}, 100)
			if err != nil {
				t.Fatal(err)
			}
			if string(resp.Body) != "hooks.example" {
				t.Errorf("server saw Host %q, want hooks.example", resp.Body)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if want := []string{"tcp hooks.example:80"}; !slices.Equal(dials, want) {
			t.Errorf("dials %q, want %q", dials, want)
		}
		if n := conns.Load(); n != 1 {
			t.Errorf("%d connections, want 1", n)
		}
	})

	t.Run("bounded by the request's deadline", func(t *testing.T) {
		c := httpclient.New(httpclient.Options{Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			<-ctx.Done() // a connect that never completes
			return nil, ctx.Err()
		}})
		start := time.Now()
		_, err := c.Do(context.Background(), &httpclient.Request{URL: mustURL(t, "http://hooks.example/x"), Deadline: start.Add(100 * time.Millisecond)}, 0)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("Do returned after %v, want about 100ms", d)
		}
	})

	errRefused := errors.New("refused: private address")
	for _, tt := range []struct {
		name, url, addr string
	}{
		{"test server", srv.URL + "/x", srv.Listener.Addr().String()},
		{"http default port", "http://hooks.example/x", "hooks.example:80"},
		{"https default port", "https://hooks.example/x", "hooks.example:443"},
		{"explicit port", "https://hooks.example:8443/x", "hooks.example:8443"},
		{"IPv6 literal", "http://[::1]/x", "[::1]:80"},
	} {
		t.Run("refused/"+tt.name, func(t *testing.T) {
			var got []string
			c := httpclient.New(httpclient.Options{Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
				got = append(got, addr)
				return nil, errRefused
			}})
			before := conns.Load()
			_, err := c.Do(ctxTimeout(t, time.Second), &httpclient.Request{URL: mustURL(t, tt.url)}, 0)
			if !errors.Is(err, errRefused) {
				t.Errorf("error %v, want the Dial's", err)
			}
			if !slices.Equal(got, []string{tt.addr}) {
				t.Errorf("dialed %q, want [%q]", got, tt.addr)
			}
			if n := conns.Load(); n != before {
				t.Errorf("the server saw a connection")
			}
		})
	}
}

// ---- limits an endpoint cannot get around ----

func TestAnswerLimits(t *testing.T) {
	for _, tt := range []struct {
		name   string
		answer func(w *bufio.Writer)
		want   string
	}{
		{"endless header line", func(w *bufio.Writer) {
			w.WriteString("HTTP/1.1 200 OK\r\nX-A: ")
			chunk := strings.Repeat("a", 64<<10)
			for range 40 { // 2.5 MB, never ending the line
				w.WriteString(chunk)
			}
		}, "headers are longer than"},
		{"many headers", func(w *bufio.Writer) {
			w.WriteString("HTTP/1.1 200 OK\r\n")
			for i := range 100000 {
				fmt.Fprintf(w, "X-H%d: %s\r\n", i, strings.Repeat("b", 20))
			}
		}, "headers are longer than"},
		{"endless 1xx answers", func(w *bufio.Writer) {
			for range 50 {
				w.WriteString("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n")
			}
		}, "informational"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newRawServer(t, func(_ int, c net.Conn, br *bufio.Reader) {
				if _, err := readRawRequest(br); err != nil {
					return
				}
				w := bufio.NewWriter(c)
				tt.answer(w)
				w.Flush()
				io.Copy(io.Discard, br) // hold the connection open
			})
			c := httpclient.New(httpclient.Options{})
			start := time.Now()
			_, err := c.Do(ctxTimeout(t, 5*time.Second), &httpclient.Request{URL: mustURL(t, srv.URL()+"/x")}, 100)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one saying %q", err, tt.want)
			}
			if d := time.Since(start); d > 4*time.Second {
				t.Errorf("took %s: the limit did not stop it before the timeout", d)
			}
		})
	}
}

// TestResentAtMostOnce: a server that reads each request and closes the
// connection without answering gets one request on a pooled connection and
// one more on a new one, however many connections are pooled.
func TestResentAtMostOnce(t *testing.T) {
	var broken atomic.Bool
	var mu sync.Mutex
	var bodies []string
	srv := newRawServer(t, func(_ int, c net.Conn, br *bufio.Reader) {
		for {
			req, err := readRawRequest(br)
			if err != nil {
				return
			}
			if broken.Load() {
				mu.Lock()
				bodies = append(bodies, string(req.body))
				mu.Unlock()
				return // close without an answer
			}
			time.Sleep(20 * time.Millisecond) // so the warm-up requests need a connection each
			if _, err := io.WriteString(c, okResponse); err != nil {
				return
			}
		}
	})
	c := httpclient.New(httpclient.Options{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Do(ctxTimeout(t, 2*time.Second), &httpclient.Request{URL: mustURL(t, srv.URL()+"/x"), Body: []byte("warm")}, 10); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := srv.conns.Load(); n < 4 {
		t.Fatalf("only %d connections pooled by the warm-up", n)
	}
	broken.Store(true)
	if _, err := c.Do(ctxTimeout(t, 2*time.Second), &httpclient.Request{URL: mustURL(t, srv.URL()+"/x"), Body: []byte("once")}, 10); err == nil {
		t.Fatal("Do succeeded against a server that never answers")
	}
	time.Sleep(50 * time.Millisecond) // let the server goroutines record
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 2 {
		t.Fatalf("the server read the request %d times, want 2 (once pooled, once new)", len(bodies))
	}
}

// TestHostForms: host names go out in ASCII, the Host header without an
// empty port, and the dial address with the scheme's port.
func TestHostForms(t *testing.T) {
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Host)
	}), false)
	for _, tt := range []struct{ url, host, addr string }{
		{"http://bücher.example/x", "xn--bcher-kva.example", "xn--bcher-kva.example:80"},
		{"http://BÜCHER.example:8080/x", "xn--bcher-kva.example:8080", "xn--bcher-kva.example:8080"},
		{"http://hooks.example:/x", "hooks.example", "hooks.example:80"},
		{"http://[fe80::1%25eth0]:81/x", "[fe80::1]:81", "[fe80::1%eth0]:81"},
	} {
		t.Run(tt.url, func(t *testing.T) {
			var dialed string
			c := httpclient.New(httpclient.Options{Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
				dialed = addr
				return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
			}})
			resp, err := c.Do(ctxTimeout(t, time.Second), &httpclient.Request{URL: mustURL(t, tt.url)}, 100)
			if err != nil {
				t.Fatal(err)
			}
			if string(resp.Body) != tt.host || dialed != tt.addr {
				t.Errorf("Host %q dialed %q, want %q and %q", resp.Body, dialed, tt.host, tt.addr)
			}
		})
	}
}

// TestMaxIdleInAll: past the total, the connection idle longest, of any
// host, is closed.
func TestMaxIdleInAll(t *testing.T) {
	var servers []*httptest.Server
	closed := make([]atomic.Int32, 3)
	for i := range 3 {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateClosed {
				closed[i].Add(1)
			}
		}
		srv.Start()
		t.Cleanup(srv.Close)
		servers = append(servers, srv)
	}
	c := httpclient.New(httpclient.Options{MaxIdle: 2})
	for _, srv := range servers {
		if _, err := c.Do(ctxTimeout(t, time.Second), &httpclient.Request{URL: mustURL(t, srv.URL+"/x")}, 0); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for closed[0].Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if closed[0].Load() != 1 || closed[1].Load() != 0 || closed[2].Load() != 0 {
		t.Fatalf("closed %d, %d, %d connections of the three servers, want only the first one's", closed[0].Load(), closed[1].Load(), closed[2].Load())
	}
}

// TestResendCannotConnect: when the pooled connection fails and the new
// one cannot be made, Do says why instead of returning nothing.
func TestResendCannotConnect(t *testing.T) {
	var srv *rawServer
	srv = newRawServer(t, func(n int, c net.Conn, br *bufio.Reader) {
		if _, err := readRawRequest(br); err != nil {
			return
		}
		io.WriteString(c, okResponse)
		if _, err := readRawRequest(br); err != nil {
			return
		}
		srv.ln.Close() // nobody answers the resend's connection
	})
	c := httpclient.New(httpclient.Options{})
	u := mustURL(t, srv.URL()+"/x")
	if _, err := c.Do(ctxTimeout(t, time.Second), &httpclient.Request{URL: u}, 10); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(ctxTimeout(t, time.Second), &httpclient.Request{URL: u}, 10)
	if err == nil || resp != nil {
		t.Fatalf("Do = %v, %v; want no answer and the connection's error", resp, err)
	}
}

// TestSlowPathDoesNotDelayHost: requests held by one path of a host (a
// tenant's slow endpoint on a shared SaaS host) leave another path of the
// same host:port unhurt: a request never waits for a pooled connection, so
// its deadline measures its own attempt (issue 18).
func TestSlowPathDoesNotDelayHost(t *testing.T) {
	release := make(chan struct{})
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/hang" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		w.WriteHeader(204)
	}), false)
	defer close(release)
	c := httpclient.New(httpclient.Options{})
	const hanging = 64
	var started sync.WaitGroup
	for range hanging {
		started.Add(1)
		go func() {
			started.Done()
			c.Do(context.Background(), &httpclient.Request{URL: mustURL(t, srv.URL+"/hang"), Deadline: time.Now().Add(10 * time.Second)}, 100)
		}()
	}
	started.Wait()
	time.Sleep(100 * time.Millisecond) // the hanging requests hold their connections
	for i := range 20 {
		start := time.Now()
		resp, err := c.Do(context.Background(), &httpclient.Request{URL: mustURL(t, srv.URL+"/ok"), Deadline: start.Add(2 * time.Second)}, 100)
		if err != nil || resp.Status != 204 {
			t.Fatalf("request %d to the fast path beside %d hanging ones: %v, %+v", i, hanging, err, resp)
		}
	}
}
