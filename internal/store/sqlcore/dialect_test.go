package sqlcore

import "testing"

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
