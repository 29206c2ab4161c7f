package server_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/server"
	"github.com/hookline/hookline/internal/testutil"
)

// rawRequest writes a request's head by hand on a fresh connection, so a
// test can then send its body as slowly as it likes.
func rawRequest(t *testing.T, base, method, path, key string, length int) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ct := "application/json"
	if path == "/login" {
		ct = "application/x-www-form-urlencoded" // read by the sign-in form
	}
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		method, path, key, ct, length)
	return conn, bufio.NewReader(conn)
}

// TestSlowBodiesAreCut sends bodies too slowly, or not at all, and checks
// that each is cut when its deadline comes: answered 408 with a JSON error
// and the connection closed, not held open.
func TestSlowBodiesAreCut(t *testing.T) {
	t.Parallel()
	const key = "hl_sk_conns_conns_conns_0123"
	limits := server.BodyLimits{Short: 2 * time.Second, Long: 3 * time.Second, Grace: 500 * time.Millisecond, MinRate: 1024}
	base, _ := testutil.Serve(t, server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Dev: true, APIKey: key,
		Connections: server.Connections{Body: limits}}, io.Discard)
	var src struct{ ID string }
	if st := call(t, base, key, "POST", "/v1/sources", map[string]any{"name": "slow", "type": "none"}, nil, &src); st != 201 {
		t.Fatalf("creating a source: %d", st)
	}

	for _, tc := range []struct {
		name      string
		path      string
		length    int
		chunk     int           // bytes sent every interval
		interval  time.Duration // 0: send chunk once, then nothing
		cutAfter  time.Duration // when the deadline is due
		tolerance time.Duration
	}{
		// 100 B/s is under the 1 KiB/s minimum: cut soon after the grace.
		{"trickled API body", "/v1/events", 100_000, 10, 100 * time.Millisecond, 600 * time.Millisecond, 2 * time.Second},
		{"trickled inbound body", "/in/" + src.ID, 100_000, 10, 100 * time.Millisecond, 600 * time.Millisecond, 2 * time.Second},
		// Half a body, then silence.
		{"half-sent inbound body", "/in/" + src.ID, 1000, 500, 0, 1 * time.Second, 2 * time.Second},
		// 4 KiB/s keeps above the minimum rate, but a 1 MB body would take
		// minutes: cut at the 2 s deadline for /in/ and /v1/.
		{"steady but endless inbound body", "/in/" + src.ID, 1 << 20, 400, 100 * time.Millisecond, 2 * time.Second, 2 * time.Second},
		// Dashboard forms get the longer deadline.
		{"steady but endless form", "/login", 1 << 20, 400, 100 * time.Millisecond, 3 * time.Second, 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			conn, rd := rawRequest(t, base, "POST", tc.path, key, tc.length)
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				chunk := strings.Repeat(" ", tc.chunk)
				for sent := 0; sent+tc.chunk < tc.length; sent += tc.chunk {
					if _, err := io.WriteString(conn, chunk); err != nil || tc.interval == 0 {
						return
					}
					select {
					case <-stop:
						return
					case <-time.After(tc.interval):
					}
				}
			}()
			_ = conn.SetReadDeadline(time.Now().Add(tc.cutAfter + 5*time.Second))
			resp, err := http.ReadResponse(rd, nil)
			if err != nil {
				t.Fatalf("after %s: no answer: %v", time.Since(start), err)
			}
			var e struct {
				Error struct{ Code, Message string }
			}
			_ = json.NewDecoder(resp.Body).Decode(&e) // the sign-in page is HTML: e stays empty
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			took := time.Since(start)
			if tc.path != "/login" && (resp.StatusCode != http.StatusRequestTimeout || e.Error.Code != "request_timeout") {
				t.Fatalf("answer %s %+v, want 408 request_timeout", resp.Status, e)
			}
			if took < tc.cutAfter-100*time.Millisecond || took > tc.cutAfter+tc.tolerance {
				t.Fatalf("cut after %s, want about %s", took, tc.cutAfter)
			}
			// The server closes the connection: the next read ends.
			if _, err := rd.ReadByte(); err == nil {
				t.Fatal("the connection is still open after the cut")
			}
			t.Logf("cut after %s: %s %s", took.Round(time.Millisecond), resp.Status, e.Error.Message)
		})
	}

	t.Run("a prompt body outlives the deadline on a kept-alive connection", func(t *testing.T) {
		t.Parallel()
		body := `{"type":"conns.test","data":{"n":1}}`
		conn, rd := rawRequest(t, base, "POST", "/v1/events", key, len(body))
		io.WriteString(conn, body)
		resp, err := http.ReadResponse(rd, nil)
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("publish: %v %v", resp, err)
		}
		io.Copy(io.Discard, resp.Body)
		time.Sleep(limits.Short + 500*time.Millisecond) // past any deadline the body had
		fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err = http.ReadResponse(rd, nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("the kept-alive connection's next request: %v %v", resp, err)
		}
		resp.Body.Close()
	})
}

// TestConnectionCap holds the server's every connection open and checks
// that one more is not served until one of them closes.
func TestConnectionCap(t *testing.T) {
	t.Parallel()
	base, _ := testutil.Serve(t, server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Dev: true,
		APIKey: "hl_sk_conns_conns_conns_0123", Connections: server.Connections{MaxConnections: 3}}, io.Discard)
	addr := strings.TrimPrefix(base, "http://")
	// Wait until the start's own health probes (if any) are done: a request
	// answered on a fresh connection proves a slot is free.
	var held []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// One request each, so the server has surely accepted it.
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		held = append(held, c)
	}
	extra, err := net.Dial("tcp", addr) // the kernel's backlog accepts it
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	fmt.Fprintf(extra, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	answered := make(chan error, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(extra), nil)
		if err == nil {
			resp.Body.Close()
		}
		answered <- err
	}()
	select {
	case err := <-answered:
		t.Fatalf("a fourth connection was served past the cap of 3 (err %v)", err)
	case <-time.After(500 * time.Millisecond):
	}
	held[0].Close()
	select {
	case err := <-answered:
		if err != nil {
			t.Fatalf("the waiting connection, once a slot freed: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting connection was not served after a slot freed")
	}
}
