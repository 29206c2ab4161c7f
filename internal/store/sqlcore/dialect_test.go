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
		// A ? in a string literal or a quoted identifier is text.
		{true, `SELECT '?' FROM t WHERE b = ? AND c = 'why?'`, `SELECT '?' FROM t WHERE b = $1 AND c = 'why?'`},
		{true, `SELECT "odd?col" FROM t WHERE b = ?`, `SELECT "odd?col" FROM t WHERE b = $1`},
		// A doubled quote stays inside its literal.
		{true, `SELECT 'it''s ?', ?, '?'''`, `SELECT 'it''s ?', $1, '?'''`},
		{true, `UPDATE t SET s = 'pending', a = ? WHERE id = ?`, `UPDATE t SET s = 'pending', a = $1 WHERE id = $2`},
		{false, `SELECT '?' WHERE b = ?`, `SELECT '?' WHERE b = ?`},
	} {
		if got := (Dialect{Numbered: tc.numbered}).Bind(tc.in); got != tc.want {
			t.Errorf("Bind(%q), numbered %v = %q, want %q", tc.in, tc.numbered, got, tc.want)
		}
	}
}

func TestQualified(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ alias, in, want string }{
		{"r", "id, source_id,\n\tmethod", "r.id, r.source_id, r.method"},
		{"d", "id", "d.id"},
	} {
		if got := Qualified(tc.alias, tc.in); got != tc.want {
			t.Errorf("Qualified(%q, %q) = %q, want %q", tc.alias, tc.in, got, tc.want)
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
