package api

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
)

// trickle is a request body that delivers its bytes, then fails as a
// connection dropped mid-body does.
type trickle struct {
	r   io.Reader
	end error
}

func (t *trickle) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err == io.EOF {
		return n, t.end
	}
	return n, err
}

// allocated returns the bytes fn allocates on the heap.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func inboundRequest(body io.Reader, contentLength int64) *http.Request {
	r := httptest.NewRequest("POST", "/in/src_1", body)
	r.ContentLength = contentLength
	return r
}

// TestReadInboundBody: bodies come back whole, with and without a length,
// and past the limit they are refused.
func TestReadInboundBody(t *testing.T) {
	const limit = 1 << 20
	for _, size := range []int{0, 1, firstBodyChunk - 1, firstBodyChunk, firstBodyChunk + 1, 300 << 10, limit} {
		body := bytes.Repeat([]byte{'a'}, size)
		for i := range body {
			body[i] = byte(i * 7)
		}
		for _, cl := range []int64{int64(size), -1} {
			got, err := readInboundBody(httptest.NewRecorder(), inboundRequest(bytes.NewReader(body), cl), limit)
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("%d bytes (Content-Length %d): %d bytes back, %v", size, cl, len(got), err)
			}
			if cap(got) > max(len(got), firstBodyChunk) {
				t.Errorf("%d bytes (Content-Length %d) keep a buffer of %d", size, cl, cap(got))
			}
		}
	}
	_, err := readInboundBody(httptest.NewRecorder(), inboundRequest(bytes.NewReader(make([]byte, limit+1)), -1), limit)
	if !errors.As(err, new(*http.MaxBytesError)) {
		t.Fatalf("a chunked body one byte past the limit: %v, want *http.MaxBytesError", err)
	}
	short := &trickle{r: bytes.NewReader(make([]byte, 100)), end: io.ErrUnexpectedEOF}
	if _, err := readInboundBody(httptest.NewRecorder(), inboundRequest(short, 1000), limit); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("a body shorter than announced: %v", err)
	}
}

// TestReadInboundBodyMemory: what reading a body allocates follows the
// bytes that arrive. A request that announces 10 MiB and sends 1 KiB
// before its connection drops allocates far under 10 MiB (before: the
// whole announced length at once); a whole body with a length allocates
// at most 1.1 times its size, a chunked one about what io.ReadAll
// allocates (measured here too; over twice its size).
//
// Not parallel: it measures the process's allocations.
func TestReadInboundBodyMemory(t *testing.T) {
	const mib = 1 << 20
	const limit = 10 * mib
	dropped := allocated(func() {
		body := &trickle{r: bytes.NewReader(make([]byte, 1<<10)), end: io.ErrUnexpectedEOF}
		_, _ = readInboundBody(httptest.NewRecorder(), inboundRequest(body, limit), limit)
	})
	if dropped > mib {
		t.Errorf("a request announcing 10 MiB and sending 1 KiB allocated %d bytes", dropped)
	}
	body := bytes.Repeat([]byte("0123456789abcdef"), limit/16)
	for _, tc := range []struct {
		size  int
		cl    int64
		bound float64 // allocated bytes per body byte
	}{
		{limit, limit, 1.1}, {6 * mib, 6 * mib, 1.1}, {mib + 1, mib + 1, 1.1},
		{100 << 10, 100 << 10, 1.2}, // a small body: the request's own allocations count
		{limit, -1, 2.3}, {6 * mib, -1, 2.3}, {5*mib + 1, -1, 2.3},
		{100 << 10, -1, 3.1}, // a small chunked body: its last piece's spare room counts
	} {
		b := body[:tc.size]
		var got []byte
		n := allocated(func() {
			got, _ = readInboundBody(httptest.NewRecorder(), inboundRequest(bytes.NewReader(b), tc.cl), limit)
		})
		if !bytes.Equal(got, b) {
			t.Fatalf("%d bytes, Content-Length %d: the body came back altered", tc.size, tc.cl)
		}
		readAll := allocated(func() { _, _ = io.ReadAll(struct{ io.Reader }{bytes.NewReader(b)}) })
		t.Logf("%.0f MiB, Content-Length %d: %.2f bytes allocated a body byte (io.ReadAll: %.2f)",
			float64(tc.size)/mib, tc.cl, float64(n)/float64(tc.size), float64(readAll)/float64(tc.size))
		if ratio := float64(n) / float64(tc.size); ratio > tc.bound {
			t.Errorf("%d bytes, Content-Length %d: %.2f bytes allocated a body byte, over %.2f", tc.size, tc.cl, ratio, tc.bound)
		}
	}
}
