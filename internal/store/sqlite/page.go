package sqlite

import (
	"context"
	"database/sql"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlcore"
)

// pageLimit returns the page size; listPage fetches one row more to learn
// whether more follow.
func pageLimit(p hookline.Page) int {
	if p.Limit <= 0 {
		return 10
	}
	return p.Limit
}

// listPage runs q, a SELECT ending in a WHERE clause whose arguments are
// args, as one cursor page of p: it adds the cursor condition (ids are
// time-ordered, so "newest first" is "id descending") and fetches one row
// more than the page size to learn whether more follow. Errors are returned
// unwrapped for the caller to name.
func listPage[T any](ctx context.Context, db queryer, q string, args []any, p hookline.Page, scan func(scanner) (T, error)) ([]T, bool, error) {
	if p.StartingAfter != "" {
		q += ` AND id < ?`
		args = append(args, p.StartingAfter)
	}
	n := pageLimit(p)
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, n+1)
	out, err := queryAll(ctx, db, q, args, scan)
	if err != nil {
		return nil, false, err
	}
	if len(out) > n {
		return out[:n], true, nil
	}
	return out, false, nil
}

// queryAll runs a read query and scans every row with scan.
func queryAll[T any](ctx context.Context, db queryer, q string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return sqlcore.Collect(sqlRows{rows}, func(r sqlcore.Rows) (T, error) { return scan(r) })
}

// queryer runs read queries: the read pool, or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// readPool is the read-only connection pool. Each query first flushes the
// journal (Store.sync), so that a read sees every write that returned
// before it.
type readPool struct {
	db *sql.DB
	s  *Store
}

func (p *readPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := p.s.sync(ctx); err != nil {
		return nil, err
	}
	return p.db.QueryContext(ctx, query, args...)
}

// QueryRowContext is sql.DB.QueryRowContext; a failed flush is reported by
// Scan.
func (p *readPool) QueryRowContext(ctx context.Context, query string, args ...any) scanner {
	if err := p.s.sync(ctx); err != nil {
		return scanFunc(func(...any) error { return err })
	}
	return p.db.QueryRowContext(ctx, query, args...)
}
