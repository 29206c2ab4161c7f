package storetest

import (
	"bytes"
	"testing"
	"time"

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

// testCaptureBodyPieces captures accepted requests whose bodies come in
// the pieces they were read in (CaptureOptions.BodyPieces): the database
// joins them, in order and byte for byte, however many there are; a
// request whose deliveries come back leased carries the joined body for
// the engine, one without leaves it to the database.
func testCaptureBodyPieces(t *testing.T, f *fixture) {
	src := f.source("pieces")
	c := f.connection(src.ID, "https://one.test/", "")
	whole := bytes.Repeat([]byte("0123456789\x00\xff"), 50_000)
	many := make([][]byte, 0, 1500) // deeper than SQLite's 1000 levels of expression, were they chained
	for i := 0; i < len(whole); i += 400 {
		many = append(many, whole[i:min(i+400, len(whole))])
	}
	for _, tc := range []struct {
		name   string
		pieces [][]byte
		leased bool
	}{
		{"leased", [][]byte{whole[:1], whole[1:70_000], nil, whole[70_000:]}, true},
		{"not leased", [][]byte{whole[:70_000], {}, whole[70_000:]}, false},
		{"many pieces", many, false},
		{"empty pieces", [][]byte{nil, {}}, false},
	} {
		want := bytes.Join(tc.pieces, nil)
		r := inboundRequest(src.ID, at(0), nil)
		r.Size = int64(len(want))
		opts := hookline.CaptureOptions{ConnectionIDs: []string{c.ID}, BodyPieces: tc.pieces}
		if tc.leased {
			opts.LeaseOwner, opts.LeaseExpires = "n1", at(time.Minute)
		}
		res := f.capture(r, opts)
		if tc.leased && (!bytes.Equal(r.Body, want) || len(res.Tasks) != 1 || !bytes.Equal(res.Tasks[0].Request.Body, want) ||
			!bytes.Equal(res.Tasks[0].Event.Payload, want)) {
			t.Fatalf("%s: captured body of %d bytes, %d tasks; want the %d bytes joined", tc.name, len(r.Body), len(res.Tasks), len(want))
		}
		got, err := f.s.Request(f.ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Body, want) || got.Size != int64(len(want)) {
			t.Fatalf("%s: stored body of %d bytes (size %d), want the %d bytes joined", tc.name, len(got.Body), got.Size, len(want))
		}
	}
}
