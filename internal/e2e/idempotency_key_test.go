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
	status, _, raw := publishRawHeader(t, n, key)
	return status, raw
}

// publishRawHeader is publishRaw with the answer's header.
func publishRawHeader(t *testing.T, n *node, key string) (int, http.Header, []byte) {
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
	return resp.StatusCode, resp.Header, raw
}

// TestIdempotencyKeyChecked: an Idempotency-Key is UTF-8 without control
// characters, of at most 255 bytes. Anything else (bytes that are not
// UTF-8, which PostgreSQL refuses in a text column, C0 and C1 control
// characters, an over-long key) is answered 400 naming the header, never
// 500, on both stores; a key at the bounds is taken, and one with letters
// beyond ASCII is taken and replayed on both stores as it was before keys
// were checked.
func TestIdempotencyKeyChecked(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			n := dbNode(t, db, "--dev")
			for name, key := range map[string]string{
				"not UTF-8":        "order-\xff\xfe-1",
				"a lone high byte": "\xc3",
				"a tab":            "order\t42",
				"a C1 control":     "order\u0085-42",
				"a C1 CSI":         "order\u009b31m",
				"256 bytes":        strings.Repeat("k", 256),
				"128 é, 256 bytes": strings.Repeat("é", 128),
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
				"127 é, 254 bytes":  strings.Repeat("é", 127),
				"CJK and emoji":     "注文-42-🧾",
			} {
				if status, raw := publishRaw(t, n, key); status != 201 {
					t.Errorf("%s: key %q answered %d %s; want 201", name, key, status, raw)
				}
			}
			// A key beyond ASCII is a key like any other: the same request
			// again gets the original event back.
			var first, again struct{ ID string }
			status, _, raw := publishRawHeader(t, n, "clé-42")
			if err := json.Unmarshal(raw, &first); status != 201 || err != nil || first.ID == "" {
				t.Fatalf("key %q answered %d %s; want 201 with the event", "clé-42", status, raw)
			}
			status, h, raw := publishRawHeader(t, n, "clé-42")
			if err := json.Unmarshal(raw, &again); status/100 != 2 || err != nil || again.ID != first.ID || h.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("key %q again answered %d (Idempotent-Replayed %q) %s; want the original event %s replayed",
					"clé-42", status, h.Get("Idempotent-Replayed"), raw, first.ID)
			}
		})
	}
}
