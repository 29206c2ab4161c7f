package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hookline/hookline/internal/hookline"
)

// pageLimit returns the page size; listPage fetches one row more to learn
// whether more follow.
func pageLimit(p hookline.Page) int {
	if p.Limit <= 0 {
		return 10
	}
	return p.Limit
}

// listPage runs q, a newest-first list whose last placeholder is its LIMIT,
// with args followed by one more than p's page size, and returns the page
// and whether more follow. q keeps its own cursor condition, an empty
// cursor matching every id, so that each list is one fixed query text, one
// prepared statement. Errors are returned unwrapped for the caller to name.
func listPage[T any](ctx context.Context, pool *pgxpool.Pool, p hookline.Page, scan func(pgx.Row) (T, error), q string, args ...any) ([]T, bool, error) {
	n := pageLimit(p)
	rows, err := pool.Query(ctx, q, append(args, n+1)...)
	if err != nil {
		return nil, false, err
	}
	list, err := collect(rows, scan)
	if err != nil {
		return nil, false, err
	}
	if len(list) > n {
		return list[:n], true, nil
	}
	return list, false, nil
}
