package app_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"runtime"
	"testing"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/inbound"
)

// TestIngestBodyPieces: a body arrives in pieces. One that fails
// verification is stored as its first 64 KiB with the size and SHA-256 of
// the whole, taken from the pieces without joining them: capturing a
// 10 MiB one allocates far less than 10 MiB (before: its pieces were
// joined, then truncated). One that passes is stored whole, as sent, the
// database joining its pieces: with no engine to hand it to, capturing it
// allocates no copy of it either.
//
// Not parallel: it measures the process's allocations.
func TestIngestBodyPieces(t *testing.T) {
	a, _, _ := newApp(t)
	ctx := t.Context()
	name, typ, secret := "pieces", hookline.SourceToken, "tok_0123456789"
	src, err := a.CreateSource(ctx, app.SourceParams{Name: &name, Type: &typ, Secret: &secret,
		Options: &hookline.SourceOptions{Header: "X-Token"}}, app.ByAPI)
	if err != nil {
		t.Fatal(err)
	}
	whole := make([]byte, 10<<20)
	for i := range whole {
		whole[i] = byte(i * 31)
	}
	var pieces inbound.Body
	for rest := whole; len(rest) > 0; {
		n := min(len(rest), 256<<10-len(pieces)) // pieces of uneven sizes
		pieces, rest = append(pieces, rest[:n]), rest[n:]
	}
	received := func(token string) app.Received {
		return app.Received{Method: "POST", Path: "/in/" + src.ID, Header: http.Header{"X-Token": {token}}, Body: pieces,
			URL: "http://127.0.0.1/in/" + src.ID, RemoteAddr: "127.0.0.1:1"}
	}

	var rejected *hookline.InboundRequest
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rejected, err = a.Ingest(ctx, src, received("wrong"))
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 2<<20 {
		t.Errorf("capturing a rejected 10 MiB body allocated %d bytes: its pieces were copied", n)
	}
	sum := sha256.Sum256(whole)
	stored, err := a.Request(ctx, rejected.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Status != hookline.RequestRejected || stored.Size != int64(len(whole)) ||
		stored.BodySHA256 != hex.EncodeToString(sum[:]) || !bytes.Equal(stored.Body, whole[:hookline.MaxRejectedBody]) {
		t.Fatalf("rejected: status %s, size %d, sha256 %s, %d bytes kept; want rejected, %d, %x, the first %d",
			stored.Status, stored.Size, stored.BodySHA256, len(stored.Body), len(whole), sum, hookline.MaxRejectedBody)
	}

	runtime.GC()
	runtime.ReadMemStats(&before)
	accepted, err := a.Ingest(ctx, src, received(secret))
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 2<<20 {
		t.Errorf("capturing an accepted 10 MiB body allocated %d bytes: its pieces were joined", n)
	}
	if stored, err = a.Request(ctx, accepted.ID); err != nil {
		t.Fatal(err)
	}
	if stored.Status != hookline.RequestAccepted || stored.Size != int64(len(whole)) || !bytes.Equal(stored.Body, whole) {
		t.Fatalf("accepted: status %s (%s), size %d, body of %d bytes; want the whole body", stored.Status, stored.Reason,
			stored.Size, len(stored.Body))
	}
}
