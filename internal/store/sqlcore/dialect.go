package sqlcore

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// Dialect is what the shared SQL needs to know of a database.
type Dialect struct {
	// Numbered is true for $1, $2, … placeholders (PostgreSQL); the
	// shared SQL is written with ? (SQLite's) and Bind rewrites it.
	Numbered bool
	// Time is a time as a query argument: Unix milliseconds in SQLite, a
	// timestamptz in PostgreSQL.
	Time func(time.Time) any
	// SumCast is appended to sum(…) so that a sum of integer columns
	// scans into an int64: PostgreSQL sums bigints as numeric.
	SumCast string
	// In returns the condition "col is one of ids", the list bound as one
	// argument (a JSON array for SQLite's json_each, an array for
	// PostgreSQL's ANY), and that argument.
	In func(col string, ids []string) (cond string, arg any)
	// RowsIn returns the condition "the row is one of those sub selects",
	// sub selecting the physical row id (RowID): rowid IN (…) for SQLite,
	// ctid = ANY(ARRAY(…)) for PostgreSQL, which plans it as a TID scan.
	RowsIn func(sub string) string
	// RowID names a row physically: rowid, ctid.
	RowID string
	// DeliveryPaused is true where deliveries have PostgreSQL's paused
	// column, a copy of the endpoint's status its claim reads.
	DeliveryPaused bool
	// SkipLocked ends a SELECT that picks rows to delete, where other
	// transactions may hold them: PostgreSQL leaves them for the next
	// round rather than waiting. Empty for SQLite's single writer.
	SkipLocked string
	// BlobParam is a placeholder for a piece of a blob that Blob
	// concatenates ("?", "?::bytea"), and Blob makes the concatenation
	// of such pieces a blob again (SQLite's || makes text of them).
	BlobParam string
	Blob      func(concat string) string
	// JSONParam is a placeholder for JSON text stored in a JSON column
	// ("?", "?::jsonb").
	JSONParam string
	// ForUpdate ends a SELECT whose rows the transaction rewrites, locking
	// them (PostgreSQL's " FOR UPDATE"); empty for SQLite's single writer.
	ForUpdate string
}

// Blobs is the SQL of n blob pieces, each a placeholder, concatenated in
// order into one blob: a body is bound in the pieces it was read in, and
// the database copies them into its row, so the caller never joins them.
// The pieces pair up in a balanced tree, so a long body nests log2(n)
// deep, not n (SQLite refuses expressions over 1000 deep).
func (d Dialect) Blobs(n int) string {
	if n <= 1 {
		return "?"
	}
	var tree func(n int) string
	tree = func(n int) string {
		if n == 1 {
			return d.BlobParam
		}
		return "(" + tree(n/2) + " || " + tree(n-n/2) + ")"
	}
	return d.Blob(tree(n))
}

// Bind rewrites q's ? placeholders as the dialect writes them. A ? inside
// a string literal ('…') or a quoted identifier ("…") is text, not a
// placeholder, and is kept; a doubled quote inside either closes and
// reopens it, which leaves the scan in the right state.
func (d Dialect) Bind(q string) string {
	if !d.Numbered {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	var quote byte // the quote of the span the scan is in; 0 outside any
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Qualified is columns, a comma-separated list such as RequestColumns,
// with each column qualified by the table alias.
func Qualified(alias, columns string) string {
	parts := strings.Split(columns, ",")
	for i, c := range parts {
		parts[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// Sum is sum(col), read back as an int64.
func (d Dialect) Sum(col string) string { return "sum(" + col + ")" + d.SumCast }

// Rows are the rows of a query, as both drivers give them.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Querier runs a read query: a pool or a transaction.
type Querier interface {
	Query(ctx context.Context, q string, args ...any) (Rows, error)
}

// Execer runs queries and statements inside one transaction.
type Execer interface {
	Querier
	// Exec runs a statement and returns how many rows it changed.
	Exec(ctx context.Context, q string, args ...any) (int64, error)
}

// Shared is the part of a store that is the same SQL on both databases.
// A store embeds it; its methods are the store's.
type Shared struct {
	cfg Config
}

// Config is what Shared needs of a store.
type Config struct {
	Dialect Dialect
	// Read runs the reads, which must see every write that returned
	// before.
	Read Querier
	// ReadCommitted, when set, runs the reads of rows that only committed
	// transactions write (the operational events), which need not wait for
	// writes a store keeps elsewhere first: SQLite's journal, whose flush
	// Read forces. Default Read.
	ReadCommitted Querier
	// Write runs fn in one write transaction, committed when fn returns
	// nil (SQLite's single writer, a PostgreSQL transaction).
	Write func(ctx context.Context, fn func(ctx context.Context, tx Execer) error) error
	// Translate maps the driver's errors to hookline errors (a unique
	// violation to ECONFLICT).
	Translate func(error) error
	// Now is the store's clock, for writes whose caller gives no time.
	Now func() time.Time
	// Sealer seals the secrets ResealSecrets rewrites; default
	// hookline.PlainSecrets.
	Sealer hookline.SecretSealer
	// EndpointsRewritten, when set, is called inside a write that changed
	// endpoint rows behind the store's back (SQLite's endpoint cache).
	EndpointsRewritten func()
}

// New returns the shared part of a store.
func New(cfg Config) *Shared {
	if cfg.Sealer == nil {
		cfg.Sealer = hookline.PlainSecrets{}
	}
	return &Shared{cfg: cfg}
}

// query runs q, written with ?, on the read side.
func (s *Shared) query(ctx context.Context, q string, args ...any) (Rows, error) {
	return s.cfg.Read.Query(ctx, s.cfg.Dialect.Bind(q), args...)
}

// exec runs q, written with ?, in tx.
func (s *Shared) exec(ctx context.Context, tx Execer, q string, args ...any) (int64, error) {
	return tx.Exec(ctx, s.cfg.Dialect.Bind(q), args...)
}

// Collect scans every row of rows with scan and closes them.
func Collect[T any](rows Rows, scan func(Rows) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Translate maps a driver's error to a hookline error at a store's
// boundary: a hookline error passes as it is, the driver's noRows becomes
// ENOTFOUND (callers that know the object's kind and id make their own),
// and a unique violation, as conflict recognizes it (returning the
// driver's detail), becomes ECONFLICT.
func Translate(err, noRows error, conflict func(error) (detail string, ok bool)) error {
	if err == nil {
		return nil
	}
	var he *hookline.Error
	if errors.As(err, &he) {
		return err
	}
	if errors.Is(err, noRows) {
		return hookline.Errorf(hookline.ENOTFOUND, "not found")
	}
	if detail, ok := conflict(err); ok {
		return &hookline.Error{Code: hookline.ECONFLICT, Message: "already exists: " + detail}
	}
	return err
}
