package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlcore"
)

// The SQL both stores share (retention, statistics, capturing inbound
// requests) is written once in
// internal/store/sqlcore; this is what it needs of PostgreSQL.

var (
	_ hookline.Retention  = (*Store)(nil)
	_ hookline.StatsStore = (*Store)(nil)
)

// dialect is PostgreSQL's: $n placeholders, timestamptz times, a list
// bound as one array, rows named by ctid, and rows that other nodes'
// transactions hold skipped rather than waited for.
func dialect() sqlcore.Dialect {
	return sqlcore.Dialect{
		Numbered: true,
		Time:     ts,
		SumCast:  "::bigint", // sum(bigint) is numeric
		In: func(col string, ids []string) (string, any) {
			return col + ` = ANY(?)`, ids
		},
		RowID:          "ctid",
		DeliveryPaused: true,
		RowsIn:         func(sub string) string { return `ctid = ANY(ARRAY(` + sub + `))` },
		SkipLocked:     "FOR UPDATE SKIP LOCKED",
		BlobParam:      "?::bytea",
		JSONParam:      "?::jsonb",
		ForUpdate:      " FOR UPDATE",
		Blob:           func(concat string) string { return concat },
	}
}

// shared is the store's sqlcore.Shared, on its pool.
func shared(pool *pgxpool.Pool, now func() time.Time, sealer hookline.SecretSealer) *sqlcore.Shared {
	return sqlcore.New(sqlcore.Config{
		Dialect: dialect(),
		Read:    pgQuerier{pool},
		Write: func(ctx context.Context, fn func(context.Context, sqlcore.Execer) error) error {
			return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return fn(ctx, pgTx{tx}) })
		},
		Translate: translate,
		Now:       now,
		Sealer:    sealer,
	})
}

type pgQuerier struct{ pool *pgxpool.Pool }

func (p pgQuerier) Query(ctx context.Context, q string, args ...any) (sqlcore.Rows, error) {
	return p.pool.Query(ctx, q, args...)
}

type pgTx struct{ tx pgx.Tx }

func (t pgTx) Query(ctx context.Context, q string, args ...any) (sqlcore.Rows, error) {
	return t.tx.Query(ctx, q, args...)
}

func (t pgTx) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := t.tx.Exec(ctx, q, args...)
	return tag.RowsAffected(), err
}
