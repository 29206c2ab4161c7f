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
