package storetest

import (
	"bytes"
	"testing"

	"github.com/hookline/hookline/internal/hookline"
)

// testCaptureInvalidUTF8 captures a request whose text fields carry bytes
// that are not UTF-8, as a stranger can send them (a path with %ff, a
// raw byte in a delivery id header): PostgreSQL refuses such text, so
// both stores keep U+FFFD in their place; the body stays exact (review
// of issue 20, finding 3).
func testCaptureInvalidUTF8(t *testing.T, f *fixture) {
	src := f.source("bytes")
	body := []byte("\xff\xfe not UTF-8")
	r := inboundRequest(src.ID, at(0), body)
	r.Path, r.Query, r.DedupeKey = "/in/"+src.ID+"/\xff", "a=\xc3", "id-\xed\xa0\x80"
	f.capture(r, hookline.CaptureOptions{DedupeWindow: hookline.DedupeWindow})
	got, err := f.s.Request(f.ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := "/in/" + src.ID + "/\uFFFD"; got.Path != want || got.Query != "a=\uFFFD" || got.DedupeKey != "id-\uFFFD" {
		t.Fatalf("stored path %q, query %q, dedupe key %q; want %q, %q, %q", got.Path, got.Query, got.DedupeKey,
			want, "a=\uFFFD", "id-\uFFFD")
	}
	if !bytes.Equal(got.Body, body) {
		t.Fatalf("stored body %q, want the bytes sent %q", got.Body, body)
	}
	if got.Status != hookline.RequestAccepted {
		t.Fatalf("status %s, want accepted", got.Status)
	}
}
