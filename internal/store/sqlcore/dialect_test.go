package sqlcore

import (
	"strings"
	"testing"
)

func TestBind(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		numbered bool
		in, want string
	}{
		{false, `SELECT a FROM t WHERE b = ? AND c < ?`, `SELECT a FROM t WHERE b = ? AND c < ?`},
		{true, `SELECT a FROM t WHERE b = ? AND c < ?`, `SELECT a FROM t WHERE b = $1 AND c < $2`},
		{true, `SELECT 1`, `SELECT 1`},
		{true, `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, `($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`},
	} {
		if got := (Dialect{Numbered: tc.numbered}).Bind(tc.in); got != tc.want {
			t.Errorf("Bind(%q), numbered %v = %q, want %q", tc.in, tc.numbered, got, tc.want)
		}
	}
}

// TestBlobs: n pieces make n placeholders, in order, nested log2(n) deep.
func TestBlobs(t *testing.T) {
	t.Parallel()
	d := Dialect{BlobParam: "?::bytea", Blob: func(c string) string { return "B" + c }}
	for _, tc := range []struct {
		n    int
		want string
	}{
		{0, "?"}, {1, "?"},
		{2, "B(?::bytea || ?::bytea)"},
		{3, "B(?::bytea || (?::bytea || ?::bytea))"},
	} {
		if got := d.Blobs(tc.n); got != tc.want {
			t.Errorf("Blobs(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
	got := d.Blobs(1500)
	depth, deepest := 0, 0
	for _, c := range got {
		switch c {
		case '(':
			depth++
			deepest = max(deepest, depth)
		case ')':
			depth--
		}
	}
	if n := strings.Count(got, "?"); n != 1500 || deepest > 11 {
		t.Errorf("Blobs(1500): %d placeholders nested %d deep, want 1500 at most 11 deep", n, deepest)
	}
}
