package api

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/hookline/hookline/internal/inbound"
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
// in pieces no larger than maxBodyPiece with no more spare room than the
// last piece's; past the limit they are refused.
func TestReadInboundBody(t *testing.T) {
	const limit = 1 << 20
	for _, size := range []int{0, 1, firstBodyChunk - 1, firstBodyChunk, firstBodyChunk + 1, 300 << 10, limit} {
		body := bytes.Repeat([]byte{'a'}, size)
		for i := range body {
			body[i] = byte(i * 7)
		}
		for _, cl := range []int64{int64(size), -1} {
			got, err := readInboundBody(httptest.NewRecorder(), inboundRequest(bytes.NewReader(body), cl), limit)
			if err != nil || !bytes.Equal(got.Bytes(), body) || got.Len() != int64(size) {
				t.Fatalf("%d bytes (Content-Length %d): %d bytes back, %v", size, cl, got.Len(), err)
			}
			spare := 0
			for i, p := range got {
				if len(p) == 0 || cap(p) > maxBodyPiece {
					t.Errorf("%d bytes (Content-Length %d): piece %d holds %d bytes in %d", size, cl, i, len(p), cap(p))
				}
				spare += cap(p) - len(p)
			}
			if spare > 0 && (cl >= 0 || spare >= cap(got[len(got)-1])) {
				t.Errorf("%d bytes (Content-Length %d) keep %d bytes of spare room", size, cl, spare)
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
// bytes that arrive, never the length announced, and is never a second
// copy of them. A request that announces 10 MiB and drops after 1 KiB, or
// after a sixteenth of it and a byte, allocates under twice what it sent
// (before: at a sixteenth, the whole 10 MiB at once); a whole body,
// with a length or chunked, allocates at most 1.1 times its size (before:
// a chunked one over twice, pieces then joined).
//
// Not parallel: it measures the process's allocations.
func TestReadInboundBodyMemory(t *testing.T) {
	const mib = 1 << 20
	const limit = 10 * mib
	for _, sent := range []int{1 << 10, limit/16 + 1} {
		body := &trickle{r: bytes.NewReader(make([]byte, sent)), end: io.ErrUnexpectedEOF}
		dropped := allocated(func() {
			_, _ = readInboundBody(httptest.NewRecorder(), inboundRequest(body, limit), limit)
		})
		if dropped > uint64(max(2*sent, firstBodyChunk+16<<10)) {
			t.Errorf("a request announcing 10 MiB and sending %d bytes allocated %d bytes", sent, dropped)
		}
	}
	body := bytes.Repeat([]byte("0123456789abcdef"), limit/16)
	for _, tc := range []struct {
		size  int
		cl    int64
		bound float64 // allocated bytes per body byte
	}{
		{limit, limit, 1.1}, {6 * mib, 6 * mib, 1.1}, {mib + 1, mib + 1, 1.1},
		{100 << 10, 100 << 10, 1.2}, // a small body: the request's own allocations count
		{limit, -1, 1.1}, {6 * mib, -1, 1.1}, {5*mib + 1, -1, 1.1},
		{100 << 10, -1, 1.4}, // a small chunked body: its last piece's spare room counts
	} {
		b := body[:tc.size]
		var got inbound.Body
		n := allocated(func() {
			got, _ = readInboundBody(httptest.NewRecorder(), inboundRequest(bytes.NewReader(b), tc.cl), limit)
		})
		if !bytes.Equal(got.Bytes(), b) {
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
