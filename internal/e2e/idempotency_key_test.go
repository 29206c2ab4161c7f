package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// publishRaw posts an event with an Idempotency-Key header written byte for
// byte on the wire: Go's client refuses to send some of the values a
// stranger's client would.
func publishRaw(t *testing.T, n *node, key string) (int, []byte) {
	t.Helper()
	u, err := url.Parse(n.URL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	const body = `{"type":"key.checked","data":{}}`
	req := "POST /v1/events HTTP/1.1\r\nHost: " + u.Host + "\r\nAuthorization: Bearer " + testAPIKey +
		"\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) +
		"\r\nIdempotency-Key: " + key + "\r\nConnection: close\r\n\r\n" + body
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, raw
}

// TestIdempotencyKeyChecked: an Idempotency-Key is printable ASCII of at
// most 255 bytes, as Stripe's are. Anything else (bytes that are not UTF-8,
// which PostgreSQL refuses in a text column, letters beyond ASCII, control
// characters, an over-long key) is answered 400 naming the header, never
// 500, on both stores; a key at the bounds is taken.
func TestIdempotencyKeyChecked(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			args := []string{"--dev"}
			if db == "postgres" {
				args = append(args, "--db", postgresDSN(t))
			}
			n := startNode(t, t.TempDir(), args...)
			for name, key := range map[string]string{
				"not UTF-8":        "order-\xff\xfe-1",
				"a lone high byte": "\xc3",
				"beyond ASCII":     "clé-42",
				"a tab":            "order\t42",
				"256 bytes":        strings.Repeat("k", 256),
			} {
				status, raw := publishRaw(t, n, key)
				var e struct {
					Error struct{ Code, Message, Param string } `json:"error"`
				}
				_ = json.Unmarshal(raw, &e)
				if status != 400 || e.Error.Param != "Idempotency-Key" || e.Error.Code == "" || e.Error.Message == "" {
					t.Errorf("%s: key %q answered %d %s; want 400 with an error naming Idempotency-Key", name, key, status, raw)
				}
			}
			// Other control characters are refused by net/http itself, before
			// any handler, with a plain 400 of its own.
			for name, key := range map[string]string{"an escape": "order\x1b[31m", "delete": "order\x7f", "NUL": "order\x00"} {
				if status, raw := publishRaw(t, n, key); status != 400 {
					t.Errorf("%s: key %q answered %d %s; want 400", name, key, status, raw)
				}
			}
			for name, key := range map[string]string{
				"255 bytes":         strings.Repeat("k", 255),
				"all of printable":  " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~x",
				"a uuid":            "5f0c6a52-3c1b-4c7e-9a43-1f6d7c2b8e90",
				"spaces inside one": "order 42 retry",
			} {
				if status, raw := publishRaw(t, n, key); status != 201 {
					t.Errorf("%s: key %q answered %d %s; want 201", name, key, status, raw)
				}
			}
		})
	}
}
