package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// dirSize is the bytes of every file under dir.
func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return nil // a journal segment removed while walking
		}
		n += info.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// requests lists the first page of captured requests matching query.
func (n *node) requests(query string) []capturedRequest {
	n.t.Helper()
	var list struct {
		Data []capturedRequest `json:"data"`
	}
	n.must(200, "GET", "/v1/requests?"+query, nil, &list)
	return list.Data
}

// wantRefusal checks an answer is status with the error code and, when
// retry, a positive Retry-After.
func wantRefusal(t *testing.T, resp *http.Response, body []byte, status int, code string, retry bool) {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string }
	}
	if resp.StatusCode != status || json.Unmarshal(body, &e) != nil || e.Error.Code != code || e.Error.Message == "" {
		t.Fatalf("got %d %s, want %d with code %s", resp.StatusCode, body, status, code)
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); retry && (err != nil || s < 1) {
		t.Fatalf("Retry-After %q, want whole seconds > 0", resp.Header.Get("Retry-After"))
	}
}

// TestInboundQuotaBoundsDisk: parallel 10 MiB uploads past a source's
// daily quota are refused with 429 before their bodies are stored, so the
// data directory grows by about the quota and not by what was sent; 10 MiB
// bodies that fail verification keep 64 KiB and their hash, and do not
// spend the quota.
func TestInboundQuotaBoundsDisk(t *testing.T) {
	t.Parallel()
	const mib = 1 << 20
	n := startNode(t, t.TempDir(), "--inbound-daily-quota", "30MiB", "--max-inbound-concurrent", "4")
	var src source
	n.must(201, "POST", "/v1/sources", map[string]any{"name": "bulk", "type": "token", "secret": "tok_0123456789",
		"options": map[string]any{"header": "X-Token"}}, &src)
	body := bytes.Repeat([]byte("0123456789abcdef"), 10*mib/16)
	sum := sha256.Sum256(body)

	// Rejected first: each costs 64 KiB of disk and of the quota.
	for range 3 {
		resp, raw := ingest(t, src.IngestURL, "POST", http.Header{"X-Token": {"wrong"}}, body)
		if resp.StatusCode != 401 {
			t.Fatalf("bad token: %d %s", resp.StatusCode, raw)
		}
		var got capturedRequest
		var meta struct {
			Truncated  bool   `json:"truncated"`
			BodySHA256 string `json:"body_sha256"`
		}
		raw = n.must(200, "GET", "/v1/requests/"+resp.Header.Get("X-Hookline-Request-Id"), nil, &got)
		if err := json.Unmarshal(raw, &meta); err != nil {
			t.Fatal(err)
		}
		if got.Status != "rejected" || got.Size != len(body) || len(got.Body) != 64<<10 || !meta.Truncated ||
			meta.BodySHA256 != hex.EncodeToString(sum[:]) || got.Body != string(body[:64<<10]) {
			t.Fatalf("rejected request kept as status %s size %d body %d bytes truncated %v sha %s",
				got.Status, got.Size, len(got.Body), meta.Truncated, meta.BodySHA256)
		}
	}

	before := dirSize(t, n.DataDir)
	const uploads = 16
	statuses := make([]int, uploads)
	var wg sync.WaitGroup
	for i := range uploads {
		wg.Go(func() {
			resp, raw := ingest(t, src.IngestURL, "POST", http.Header{"X-Token": {"tok_0123456789"}}, body)
			statuses[i] = resp.StatusCode
			if resp.StatusCode != 200 {
				wantRefusal(t, resp, raw, 429, "rate_limited", true)
			}
		})
	}
	wg.Wait()
	accepted := 0
	for _, s := range statuses {
		if s == 200 {
			accepted++
		}
	}
	// 30 MiB less the three rejected beginnings leaves room for two whole
	// bodies: the rejected requests spent 192 KiB, not 30 MiB.
	if accepted != 2 {
		t.Fatalf("accepted %d uploads of 10 MiB under a 30 MiB quota after 3 rejected ones, want 2 (statuses %v)", accepted, statuses)
	}
	grew := dirSize(t, n.DataDir) - before
	t.Logf("%d uploads of 10 MiB: %d accepted, data directory grew %.1f MiB", uploads, accepted, float64(grew)/mib)
	// SQLite writes each body to its WAL and then the database: twice the
	// accepted bytes, plus pages. All 16 stored would be over 160 MiB.
	if limit := int64(2*accepted*10*mib + 16*mib); grew > limit {
		t.Fatalf("data directory grew %d bytes, over %d", grew, limit)
	}
}

// TestInboundRateLimitAndAllowlist: a source's rate limit answers 429 with
// Retry-After and an address outside its allowed_ips 403; neither is
// stored.
func TestInboundRateLimitAndAllowlist(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir())
	var src source
	n.must(201, "POST", "/v1/sources", map[string]any{"name": "limited", "type": "none",
		"limits": map[string]any{"requests_per_minute": 6, "allowed_ips": []string{"192.0.2.0/24", "2001:db8::/32"}}}, &src)
	n.must(400, "PATCH", "/v1/sources/"+src.ID, map[string]any{"limits": map[string]any{"allowed_ips": []string{"127.0.0.1/99"}}}, nil)

	resp, raw := ingest(t, src.IngestURL, "POST", nil, []byte(`{"a":1}`))
	wantRefusal(t, resp, raw, 403, "forbidden", false)

	n.must(200, "PATCH", "/v1/sources/"+src.ID, map[string]any{"limits": map[string]any{"requests_per_minute": 6,
		"allowed_ips": []string{"192.0.2.0/24", "127.0.0.1"}}}, nil)
	// A burst of one at six a minute: the first passes, the next waits ~10 s.
	resp, raw = ingest(t, src.IngestURL, "POST", nil, []byte(`{"a":1}`))
	if resp.StatusCode != 200 {
		t.Fatalf("first request: %d %s", resp.StatusCode, raw)
	}
	resp, raw = ingest(t, src.IngestURL, "POST", nil, []byte(`{"a":2}`))
	wantRefusal(t, resp, raw, 429, "rate_limited", true)
	if s, _ := strconv.Atoi(resp.Header.Get("Retry-After")); s > 10 {
		t.Fatalf("Retry-After %d s, want at most 10 at six a minute", s)
	}
	if got := n.requests("source_id=" + src.ID); len(got) != 1 {
		t.Fatalf("stored %d requests, want only the one admitted", len(got))
	}
}

// TestInboundConcurrencyCap: with every slot held by a body still
// arriving, the next request waits, then is answered 503 with Retry-After.
func TestInboundConcurrencyCap(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), "--max-inbound-concurrent", "1")
	var src source
	n.must(201, "POST", "/v1/sources", map[string]any{"name": "slots", "type": "none"}, &src)

	conn, err := net.Dial("tcp", n.URL[len("http://"):])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /in/%s HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhalf", src.ID)
	time.Sleep(300 * time.Millisecond) // the server reads the headers and takes the slot

	start := time.Now()
	resp, raw := ingest(t, src.IngestURL, "POST", nil, []byte(`{}`))
	wantRefusal(t, resp, raw, 503, "unavailable", true)
	if waited := time.Since(start); waited < time.Second {
		t.Fatalf("refused after %s; a request waits for a slot first", waited)
	}
	fmt.Fprint(conn, string(bytes.Repeat([]byte("x"), 96)))
	resp, raw = ingest(t, src.IngestURL, "POST", nil, []byte(`{}`))
	if resp.StatusCode != 200 {
		t.Fatalf("after the slot is free: %d %s", resp.StatusCode, raw)
	}
}

// TestInboundDiskFloor: below --min-free-disk, /in/ answers 507 and stores
// nothing while events are still published and delivered.
func TestInboundDiskFloor(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	// No test machine has a pebibyte free: the floor is always crossed.
	n := startNode(t, t.TempDir(), "--dev", "--min-free-disk", "1PiB")
	var src source
	n.must(201, "POST", "/v1/sources", map[string]any{"name": "full", "type": "none"}, &src)
	resp, raw := ingest(t, src.IngestURL, "POST", nil, []byte(`{}`))
	wantRefusal(t, resp, raw, 507, "insufficient_storage", true)

	n.createEndpoint(map[string]any{"url": rc.URL})
	n.publish("disk.full", map[string]any{"still": "delivered"})
	waitFor(t, 10*time.Second, "the event delivered", func() bool { return rc.count() == 1 })
	if got := n.requests(""); len(got) != 0 {
		t.Fatalf("stored %d requests while the disk was full", len(got))
	}
}
